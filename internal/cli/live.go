package cli

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/secflow/secflow-budget/internal/config"
	"github.com/secflow/secflow-budget/internal/sources/loki"
	"github.com/secflow/secflow-budget/internal/sources/prometheus"
)

// sourceFlags are --prometheus and --loki, which check and snapshot
// resolve the same way.
type sourceFlags struct {
	prometheus, loki string
}

func (s *sourceFlags) register(c *cobra.Command) {
	f := c.Flags()
	f.StringVar(&s.prometheus, "prometheus", "", "Prometheus `URL` (overrides budgets.yaml; env SECFLOW_PROMETHEUS_URL)")
	f.StringVar(&s.loki, "loki", "", "Loki `URL` (overrides budgets.yaml; env SECFLOW_LOKI_URL)")
}

// validate checks the URLs given, before any file is read.
func (s *sourceFlags) validate() error {
	for _, u := range []struct{ flag, val string }{{"--prometheus", s.prometheus}, {"--loki", s.loki}} {
		if u.val != "" {
			if err := config.CheckURL(u.val); err != nil {
				return fmt.Errorf("%s: %w", u.flag, err)
			}
		}
	}
	return nil
}

func (s *sourceFlags) prometheusSource(io IO, cfg *config.Config) (*config.Source, error) {
	return liveSource(io, cfg, "Prometheus", cfg.Sources.Prometheus, s.prometheus)
}

func (s *sourceFlags) lokiSource(io IO, cfg *config.Config) (*config.Source, error) {
	return liveSource(io, cfg, "Loki", cfg.Sources.Loki, s.loki)
}

// newPrometheusClient checks the credential files of a resolved source
// and returns a client for it; what is wrong is a usage error.
func newPrometheusClient(src *config.Source) (*prometheus.Client, error) {
	if err := src.CheckFiles().Err(); err != nil {
		return nil, usageError(err)
	}
	client, err := prometheus.New(src)
	if err != nil {
		return nil, usageError(fmt.Errorf("configuring the Prometheus source: %w", err))
	}
	return client, nil
}

// newLokiClient is newPrometheusClient for Loki.
func newLokiClient(src *config.Source) (*loki.Client, error) {
	if err := src.CheckFiles().Err(); err != nil {
		return nil, usageError(err)
	}
	client, err := loki.New(src)
	if err != nil {
		return nil, usageError(fmt.Errorf("configuring the Loki source: %w", err))
	}
	return client, nil
}

// liveSource resolves a live source: the flag's URL wins over the
// environment's (SECFLOW_<NAME>_URL), which wins over the file's; the other
// settings come from the file.
func liveSource(io IO, cfg *config.Config, name string, fromFile *config.Source, flagURL string) (*config.Source, error) {
	lower := strings.ToLower(name)
	envVar := "SECFLOW_" + strings.ToUpper(name) + "_URL"
	src := &config.Source{Timeout: config.DefaultSourceTimeout}
	if fromFile != nil {
		cp := *fromFile
		src = &cp
	}
	from := name + " URL" // where src.URL comes from, for an error
	if u := firstNonEmpty(flagURL, io.Getenv(envVar)); u != "" {
		src.URL = u
		from = "--" + lower
		if flagURL == "" {
			from = envVar
		}
	}
	if src.URL == "" {
		return nil, usageError(fmt.Errorf("no %s to ask: set --%s URL, %s or sources.%s.url in %s, or run offline with --offline DIR", name, lower, envVar, lower, cfg.File))
	}
	if err := config.CheckURL(src.URL); err != nil {
		return nil, usageError(fmt.Errorf("%s: %w", from, err))
	}
	return src, nil
}

// atFlag reads --at: the zero time when it is not given. A number that is
// unix milliseconds, microseconds or nanoseconds rather than seconds, and
// a time more than a day after now, are refused: either would evaluate
// every budget at a time no source has data for.
func atFlag(at string, now time.Time) (time.Time, error) {
	if at == "" {
		return time.Time{}, nil
	}
	if unit, scale, ok := unixUnitOf(at); ok {
		f, _ := strconv.ParseFloat(at, 64)
		sec := f / scale
		return time.Time{}, fmt.Errorf("--at: %s looks like unix %s (%s), not seconds: give --at %s or an RFC3339 time",
			at, unit, time.Unix(int64(sec), 0).UTC().Format(time.RFC3339), strconv.FormatInt(int64(sec), 10))
	}
	t, err := parseTime(at)
	if err != nil {
		return time.Time{}, fmt.Errorf("--at: %w", err)
	}
	if t.Before(minAt) {
		return time.Time{}, fmt.Errorf("--at: %s is %s, before %s: give the evaluation time in unix seconds (e.g. %d) or RFC3339",
			at, t.Format(time.RFC3339), minAt.Format("2006-01-02"), now.Unix())
	}
	if ahead := t.Sub(now); ahead > maxAtAhead {
		return time.Time{}, fmt.Errorf("--at: %s is %s in the future (now %s): the evaluation time can be at most a day ahead",
			t.Format(time.RFC3339), roughDuration(ahead), now.UTC().Format(time.RFC3339))
	}
	return t, nil
}

// minAt is the earliest --at: before it, no source holds data for a
// budget (and 0 or -1 is an unset or mangled value, not a time).
var minAt = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// maxAtAhead is how far in the future --at may be: clocks differ, a day
// does not.
const maxAtAhead = 24 * time.Hour

// unixUnitOf tells a unix time in a finer unit than seconds by its size:
// seconds reach 1e11 only in the year 5138.
func unixUnitOf(s string) (unit string, scale float64, ok bool) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return "", 0, false
	}
	switch f = math.Abs(f); {
	case f >= 1e17:
		return "nanoseconds", 1e9, true
	case f >= 1e14:
		return "microseconds", 1e6, true
	case f >= 1e11:
		return "milliseconds", 1e3, true
	}
	return "", 0, false
}

// roughDuration is "3 days" or "26h0m0s".
func roughDuration(d time.Duration) string {
	if days := d / (24 * time.Hour); days >= 2 {
		return fmt.Sprintf("%d days", days)
	}
	return d.Round(time.Minute).String()
}

// withRunTimeout bounds the whole run by --timeout; 0 is no limit.
func withRunTimeout(ctx context.Context, timeout time.Duration) (context.Context, context.CancelFunc) {
	if timeout > 0 {
		return context.WithTimeout(ctx, timeout)
	}
	return ctx, func() {}
}
