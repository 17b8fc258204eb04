package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/secflow/secflow-budget/internal/checks"
	"github.com/secflow/secflow-budget/internal/recorder"
	"github.com/secflow/secflow-budget/internal/secret"
	"github.com/secflow/secflow-budget/internal/sources"
	"github.com/secflow/secflow-budget/internal/sources/endpoint"
	"github.com/secflow/secflow-budget/internal/sources/snapshot"
)

type snapshotOptions struct {
	io IO

	configPath  string
	out         string
	sources     sourceFlags
	at          string
	only, skip  []string
	logs        string
	timeout     time.Duration
	description string
	// allowPartial: a budget whose data could not be recorded is a
	// warning, not exit 3.
	allowPartial bool

	atTime time.Time // resolved from --at
}

func newSnapshotCmd(io IO) *cobra.Command {
	opts := &snapshotOptions{io: io}
	c := &cobra.Command{
		Use:   "snapshot --out DIR",
		Short: "Record from live sources what check --offline needs to give the same verdicts",
		Long: `snapshot asks the live Prometheus and Loki for exactly the data the selected
budgets read at the evaluation time, and writes it as a snapshot directory:
metrics.om (the raw samples every PromQL query reads, over its ranges and
lookback, backfillable with promtool), logs.jsonl (the log entries each log
budget's selector matches in its window) or, with --logs aggregate,
logs.aggregate.json (only Loki's answers to the budgets' queries), and
manifest.yaml (evaluated_at, where and when it was captured, the config's
hash and the queries recorded).

'check --offline DIR' then gives the verdicts and values the live check gives
at the same time, without network access. A budget whose query changed since
the recording is reported as an error (exit 3), not as "no data". A budget
whose data could not be recorded (its check failed live) makes snapshot exit
3, the snapshot written all the same, unless --allow-partial. The manifest
records each source's engine; offline evaluation runs Prometheus' engine, so
a snapshot from VictoriaMetrics (MetricsQL) says that live values may differ.

DIR is replaced as a whole when it already holds a snapshot; the new one is
written next to it and moved into place only when complete.`,
		Example: `  secflow-budget snapshot --out snap --prometheus http://prometheus:9090 --loki http://loki:3100
  secflow-budget snapshot --out snap --at 2026-11-26T12:00:07Z --logs aggregate
  secflow-budget check --offline snap`,
		Args: noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := opts.resolve(); err != nil {
				return usageError(err)
			}
			return runSnapshot(c.Context(), opts)
		},
	}
	f := c.Flags()
	configFlag(c, &opts.configPath)
	f.StringVar(&opts.out, "out", "", "write the snapshot to directory `DIR` (required)")
	opts.sources.register(c)
	f.StringVar(&opts.at, "at", "", "evaluation `TIME` to record for, RFC3339 or unix seconds (default now)")
	f.StringSliceVar(&opts.only, "only", nil, "record only for these budgets or tags (`NAME|TAG,...`)")
	f.StringSliceVar(&opts.skip, "skip", nil, "leave out these budgets or tags (`NAME|TAG,...`)")
	f.StringVar(&opts.logs, "logs", recorder.LogsRaw, "how to record log budgets: `raw|aggregate` (raw: the entries; aggregate: only Loki's answers)")
	f.DurationVar(&opts.timeout, "timeout", DefaultRunTimeout, "time limit for the whole recording (`DURATION`, 0 for none)")
	f.StringVar(&opts.description, "description", "", "what the snapshot shows, for the manifest (`TEXT`)")
	_ = f.SetAnnotation("description", mayBeEmpty, []string{"true"})
	f.BoolVar(&opts.allowPartial, "allow-partial", false, "exit 0 even when the data of some budgets could not be recorded (check --offline reports them as errors)")
	return c
}

func (o *snapshotOptions) resolve() error {
	if o.out == "" {
		return errors.New("--out: required: the directory to write the snapshot to")
	}
	t, err := atFlag(o.at, o.io.Now())
	if err != nil {
		return err
	}
	o.atTime = t
	if o.logs != recorder.LogsRaw && o.logs != recorder.LogsAggregate {
		return fmt.Errorf("--logs: invalid value %q: want %s or %s", o.logs, recorder.LogsRaw, recorder.LogsAggregate)
	}
	if o.timeout < 0 {
		return errors.New("--timeout: must not be negative")
	}
	return o.sources.validate()
}

func runSnapshot(ctx context.Context, o *snapshotOptions) error {
	cfg, plan, err := checks.Load(o.configPath)
	if err != nil {
		return usageError(err)
	}
	plan, err = selectBudgets(plan, o.only, o.skip)
	if err != nil {
		return usageError(err)
	}
	if err := recorder.CheckOut(o.out); err != nil {
		return usageError(fmt.Errorf("--out: %w", err))
	}
	configBytes, err := os.ReadFile(o.configPath)
	if err != nil {
		return usageError(fmt.Errorf("reading %s: %w", o.configPath, err))
	}
	sum := sha256.Sum256(configBytes)

	// Prometheus reads times to the millisecond; recording for a time it
	// cannot express would shift every window by a fraction.
	at := o.atTime
	if o.at == "" {
		at = o.io.Now()
	}
	at = at.UTC().Round(time.Millisecond)

	opts := recorder.Options{
		At:     at,
		PromQL: queriesOf(plan, "promql"),
		LogQL:  queriesOf(plan, "logql"),
		Logs:   o.logs,
		Warn:   func(msg string) { fmt.Fprintln(o.io.Err, "warning: "+secret.Text(msg)) },
		Manifest: snapshot.Manifest{
			ConfigSHA256: hex.EncodeToString(sum[:]),
			ToolVersion:  toolVersion(),
			Description:  o.description,
		},
	}
	for _, p := range plan {
		if recorder.NeedsState(p) {
			opts.StateBudgets = append(opts.StateBudgets, p)
		}
	}
	var engineSources []namedEngineSource
	// The sources resolve as for check: flag, then environment, then file.
	promSrc := cfg.Sources.Prometheus
	if len(opts.PromQL) > 0 || needs(opts.StateBudgets, "prometheus") {
		src, err := o.sources.prometheusSource(o.io, cfg)
		if err != nil {
			return err
		}
		client, err := newPrometheusClient(src)
		if err != nil {
			return err
		}
		opts.Prometheus, opts.State.Prometheus = client, client
		engineSources = append(engineSources, namedEngineSource{"prometheus", client})
		promSrc = src
		opts.From = append(opts.From, recorder.SourceURL{Name: "prometheus", URL: src.URL})
	}
	// A budget that reads Loki's state (retention with source: loki) may
	// be planned as a Prometheus one: when there are such budgets, a Loki
	// that is configured is used, and one that is not is no error.
	wantLoki := len(opts.LogQL) > 0 || needs(opts.StateBudgets, "loki")
	if wantLoki || len(opts.StateBudgets) > 0 {
		src, err := o.sources.lokiSource(o.io, cfg)
		switch {
		case err != nil && wantLoki:
			return err
		case err == nil:
			client, err := newLokiClient(src)
			if err != nil {
				return err
			}
			opts.Loki, opts.State.LokiAPI = client, client
			engineSources = append(engineSources, namedEngineSource{"loki", client})
			opts.From = append(opts.From, recorder.SourceURL{Name: "loki", URL: src.URL})
		}
	}
	if needs(opts.StateBudgets, "endpoint") {
		// Endpoint budgets GET their own URLs with the Prometheus
		// source's credentials, as check does.
		if promSrc != nil {
			if err := promSrc.CheckFiles().Err(); err != nil {
				return usageError(err)
			}
		}
		client, err := endpoint.New(promSrc, endpoint.Options{})
		if err != nil {
			return usageError(err)
		}
		opts.State.Endpoints = client
	}
	if o.logs == recorder.LogsRaw && slices.ContainsFunc(plan, func(p *checks.Planned) bool { return p.Budget.Type == "log_redaction" }) {
		fmt.Fprintf(o.io.Err, "note: %s will hold the raw log lines, with any secret a log_redaction budget finds in them: share the snapshot as you would the logs, or record with --logs aggregate\n", recorder.LogsFile)
	}

	ctx, cancel := withRunTimeout(ctx, o.timeout)
	defer cancel()
	opts.Manifest.CapturedAt = o.io.Now().UTC()
	opts.Engines = detectEngines(engineSources)
	res, err := recorder.Record(ctx, o.out, opts)
	if err != nil {
		return snapshotError(ctx, o, err)
	}
	o.printSummary(res, len(plan), at)
	return o.partial(res)
}

// snapshotError maps a failed recording to its exit code: a signal 130 or
// 143, the run's --timeout 4, a source's failure 3, anything else (the
// directory) 2.
func snapshotError(ctx context.Context, o *snapshotOptions, err error) error {
	err = fmt.Errorf("recording snapshot %s: %w", o.out, err)
	if in := interruptOf(ctx); in != nil {
		return &exitError{code: in.code(), interrupt: true, err: fmt.Errorf("%s before the snapshot was complete; %s was left as it was", in, o.out)}
	}
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return &exitError{code: ExitTimeout, err: fmt.Errorf("the run's --timeout (%s) expired before the snapshot was complete; %s was left as it was", o.timeout, o.out)}
	case sources.KindOf(err) != 0:
		return &exitError{code: ExitSource, err: err}
	}
	return usageError(err)
}

func (o *snapshotOptions) printSummary(s *recorder.Summary, budgets int, at time.Time) {
	w := o.io.Out
	fmt.Fprintf(w, "recorded %s for %s, evaluated at %s\n", s.Dir, countOf(budgets, "budget"), at.Format(time.RFC3339Nano))
	if m := s.Metrics; m != nil {
		fmt.Fprintf(w, "  %s: %s series, %s samples (%s, %s)\n", recorder.MetricsFile,
			checks.FormatValue(float64(m.Series), "series"), checks.FormatValue(float64(m.Samples), "series"),
			countOf(m.Selectors, "selector"), countOf(m.Requests, "request"))
	}
	if l := s.Logs; l != nil {
		fmt.Fprintf(w, "  %s: %s entries, %s of lines (%s, %s)\n", recorder.LogsFile,
			checks.FormatValue(float64(l.Entries), "lines"), checks.FormatValue(float64(l.Bytes), "bytes"),
			countOf(l.Selectors, "selector"), countOf(l.Requests, "request"))
	}
	if s.LogAggregates > 0 {
		fmt.Fprintf(w, "  %s: Loki's answers to %d queries\n", snapshot.LogAggregatesFile, s.LogAggregates)
	}
	if len(s.StateFiles) > 0 {
		fmt.Fprintf(w, "  %s\n", strings.Join(s.StateFiles, ", "))
	}
	cfg := ""
	if o.configPath != "budgets.yaml" {
		cfg = " -c " + o.configPath
	}
	fmt.Fprintf(w, "check it with: secflow-budget check%s --offline %s\n", cfg, s.Dir)
}

// countOf is "1 selector", "3 selectors".
func countOf(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
