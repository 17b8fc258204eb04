package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	"github.com/secflow/secflow-budget/internal/atomicfile"
	"github.com/secflow/secflow-budget/internal/checks"
	"github.com/secflow/secflow-budget/internal/config"
	"github.com/secflow/secflow-budget/internal/secret"
	"github.com/secflow/secflow-budget/internal/sources"
	"github.com/secflow/secflow-budget/internal/sources/snapshot"
	"github.com/secflow/secflow-budget/internal/starter"
)

type initOptions struct {
	io IO

	output       string
	configPath   string
	prefix       string
	force        bool
	offline      string
	sources      sourceFlags
	at           string
	headroom     float64
	serviceLabel string
	window       time.Duration
	timeout      time.Duration

	atTime time.Time
}

func newInitCmd(io IO) *cobra.Command {
	opts := &initOptions{io: io}
	c := &cobra.Command{
		Use:   "init",
		Short: "Write a starter budgets.yaml from what live sources (or --offline DIR) hold now",
		Long: `init asks Prometheus and Loki (or reads a snapshot) and writes a starter
budgets file: metrics_present for the metrics there are (--prefix, default
every scrape job's metrics), cardinality at today's series count, latency for
each histogram at today's p95/p99 up to a bucket bound, log_volume and
log_levels per service, the redaction presets, alert_rules requiring the
loaded alerts, scrape for the targets, and retention at today's settings.
Every limit is today's value with --headroom, and every budget carries a
comment saying what was observed. The file validates, and check passes on
the data it came from: a budget that would not is left out, with a comment.

An existing file is not overwritten without --force.`,
		Example: `  secflow-budget init --prometheus http://prometheus:9090 --loki http://loki:3100
  secflow-budget init --offline snap -o - --prefix secflow_`,
		Args: noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := opts.resolve(); err != nil {
				return usageError(err)
			}
			return runInit(c.Context(), opts)
		},
	}
	f := c.Flags()
	f.StringVarP(&opts.output, "output", "o", "budgets.yaml", "write the budgets to `FILE` (- for stdout)")
	f.StringVar(&opts.prefix, "prefix", "", "budget the metrics whose names start with `P` (default: every scrape job's metrics)")
	f.BoolVar(&opts.force, "force", false, "overwrite an existing file")
	f.StringVarP(&opts.configPath, "config", "c", "", "read the sources (URLs, auth, tenant, TLS) from this budgets `FILE`, as check does, and write them into the new file")
	f.StringVar(&opts.offline, "offline", "", "observe the snapshot directory `DIR` instead of live sources")
	opts.sources.register(c)
	f.StringVar(&opts.at, "at", "", "observe at `TIME`, RFC3339 or unix seconds (default: now live, the snapshot's evaluated_at offline)")
	f.Float64Var(&opts.headroom, "headroom", 1.25, "each limit is the observed value times `FACTOR`, rounded up")
	f.StringVar(&opts.serviceLabel, "service-label", "service", "the Loki stream `LABEL` that names a service")
	f.DurationVar(&opts.window, "window", time.Hour, "the evaluation window of the budgets (`DURATION`)")
	f.DurationVar(&opts.timeout, "timeout", DefaultRunTimeout, "time limit for the whole run (`DURATION`, 0 for none)")
	return c
}

func (o *initOptions) resolve() error {
	t, err := atFlag(o.at, o.io.Now())
	if err != nil {
		return err
	}
	o.atTime = t
	switch {
	case o.headroom < 1 || o.headroom > 100:
		return fmt.Errorf("--headroom: want a factor between 1 and 100 (1.25: 25%% above today), got %g", o.headroom)
	case o.window < time.Minute:
		return fmt.Errorf("--window: want at least 1m, got %s", o.window)
	case o.timeout < 0:
		return errors.New("--timeout: must not be negative")
	case !labelNameRE(o.serviceLabel):
		return fmt.Errorf("--service-label: invalid label name %q", o.serviceLabel)
	}
	if o.offline != "" && (o.sources.prometheus != "" || o.sources.loki != "" || o.configPath != "") {
		return errors.New("--offline: observe a snapshot or live sources (--prometheus, --loki, -c), not both")
	}
	return o.sources.validate()
}

func labelNameRE(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

func runInit(ctx context.Context, o *initOptions) error {
	toStdout := o.output == "-" || o.output == "/dev/stdout"
	if !toStdout && !o.force {
		if _, err := os.Lstat(o.output); err == nil {
			return usageError(fmt.Errorf("%s already exists: pass --force to overwrite it, or -o another file (- for stdout)", o.output))
		} else if !errors.Is(err, fs.ErrNotExist) {
			return usageError(fmt.Errorf("-o %s: %w", o.output, err))
		}
	}
	ctx, cancel := withRunTimeout(ctx, o.timeout)
	defer cancel()

	src := starter.Sources{At: o.atTime}
	opts := starter.Options{Prefix: o.prefix, Headroom: o.headroom, ServiceLabel: o.serviceLabel, Window: o.window}
	if o.offline != "" {
		snap, err := snapshot.Open(o.offline)
		if err != nil {
			return usageError(fmt.Errorf("--offline: reading snapshot: %w", err))
		}
		defer snap.Close()
		if o.at == "" {
			src.At = snap.EvaluatedAt()
		}
		if snap.HasMetrics() {
			q, err := snap.PromQL(ctx)
			if err != nil {
				return initSourceError(ctx, o, fmt.Errorf("--offline: reading snapshot: %w", err))
			}
			src.Prometheus = q
		}
		st, err := snap.State()
		if err != nil {
			return usageError(fmt.Errorf("--offline: reading snapshot: %w", err))
		}
		src.PromAPI = st
		if snap.HasLogs() {
			src.LokiAPI = st
			src.LogQL = func(ctx context.Context, queries []string) (sources.LogQL, error) {
				return snap.LogQL(ctx, src.At, queries)
			}
		}
		opts.Header = []string{fmt.Sprintf("Observed in the snapshot %s at %s.", o.offline, src.At.UTC().Format(time.RFC3339))}
	} else {
		if src.At.IsZero() {
			src.At = o.io.Now().UTC().Round(time.Millisecond)
		}
		cfg := &config.Config{File: "(no -c)"}
		if o.configPath != "" {
			var err error
			if cfg, _, err = checks.Load(o.configPath); err != nil {
				return usageError(err)
			}
			if opts.SourcesYAML, err = sourcesSection(o.configPath); err != nil {
				return usageError(err)
			}
		}
		fileURL := func(s *config.Source) string {
			if s == nil {
				return ""
			}
			return s.URL
		}
		promURL := firstNonEmpty(o.sources.prometheus, o.io.Getenv("SECFLOW_PROMETHEUS_URL"), fileURL(cfg.Sources.Prometheus))
		lokiURL := firstNonEmpty(o.sources.loki, o.io.Getenv("SECFLOW_LOKI_URL"), fileURL(cfg.Sources.Loki))
		if promURL == "" && lokiURL == "" {
			return usageError(errors.New("nothing to observe: give --prometheus URL and/or --loki URL (or SECFLOW_PROMETHEUS_URL, SECFLOW_LOKI_URL, or -c FILE with sources), or --offline DIR"))
		}
		var from []string
		if promURL != "" {
			s, err := o.sources.prometheusSource(o.io, cfg)
			if err != nil {
				return err
			}
			client, err := newPrometheusClient(s)
			if err != nil {
				return err
			}
			src.Prometheus, src.PromAPI = client, client
			opts.PrometheusURL = plainURL(s.URL)
			from = append(from, "Prometheus "+secret.URL(s.URL))
		}
		if lokiURL != "" {
			s, err := o.sources.lokiSource(o.io, cfg)
			if err != nil {
				return err
			}
			client, err := newLokiClient(s)
			if err != nil {
				return err
			}
			src.LokiAPI = client
			src.LogQL = func(context.Context, []string) (sources.LogQL, error) { return client, nil }
			opts.LokiURL = plainURL(s.URL)
			from = append(from, "Loki "+secret.URL(s.URL))
		}
		opts.Header = []string{fmt.Sprintf("Observed from %s at %s.", strings.Join(from, " and "), src.At.UTC().Format(time.RFC3339))}
		if opts.SourcesYAML != "" {
			opts.Header = append(opts.Header, "The sources are those of "+o.configPath+".")
		}
	}

	text, err := starter.Generate(ctx, src, opts)
	if err != nil {
		return initSourceError(ctx, o, err)
	}
	if toStdout {
		_, err := o.io.Out.Write(text)
		return err
	}
	if err := atomicfile.WriteBytes(o.output, text); err != nil {
		return usageError(fmt.Errorf("writing %s: %w", o.output, err))
	}
	fmt.Fprintf(o.io.Err, "wrote %s: %d budgets; check it with: secflow-budget validate -c %s\n", o.output, strings.Count(string(text), "\n  - name: "), o.output)
	return nil
}

// initSourceError sorts an error of observing: the run's timeout (4), a
// corrupt snapshot (2), else a source that failed (3).
func initSourceError(ctx context.Context, o *initOptions, err error) error {
	var corrupt *snapshot.CorruptError
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return &exitError{code: ExitTimeout, err: fmt.Errorf("the run's --timeout (%s) expired: %w", o.timeout, err)}
	case errors.As(err, &corrupt):
		return usageError(err)
	}
	return &exitError{code: ExitSource, err: err}
}

// plainURL is a source URL for budgets.yaml: no userinfo, query or
// fragment, which may carry credentials (those belong in the source's
// *_file or *_env settings).
func plainURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	u.User, u.RawQuery, u.Fragment = nil, "", ""
	return u.String()
}

// sourcesSection is the sources mapping of the budgets file at path, as
// YAML text (comments kept), or "" when it has none.
func sourcesSection(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil || len(doc.Content) == 0 {
		return "", fmt.Errorf("%s: %v", path, err)
	}
	root := doc.Content[0]
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value != "sources" {
			continue
		}
		var b strings.Builder
		enc := yaml.NewEncoder(&b)
		enc.SetIndent(2)
		m := &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{root.Content[i], root.Content[i+1]}}
		if err := enc.Encode(m); err != nil {
			return "", fmt.Errorf("%s: sources: %w", path, err)
		}
		return b.String(), nil
	}
	return "", nil
}
