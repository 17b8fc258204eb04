package cli

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/secflow/secflow-budget/internal/config"
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
	if u := firstNonEmpty(flagURL, io.Getenv(envVar)); u != "" {
		src.URL = u
	}
	if src.URL == "" {
		return nil, usageError(fmt.Errorf("no %s to ask: set --%s URL, %s or sources.%s.url in %s, or run offline with --offline DIR", name, lower, envVar, lower, cfg.File))
	}
	if err := config.CheckURL(src.URL); err != nil {
		return nil, usageError(fmt.Errorf("%s URL: %w", name, err))
	}
	return src, nil
}

// atFlag reads --at: the zero time when it is not given.
func atFlag(at string) (time.Time, error) {
	if at == "" {
		return time.Time{}, nil
	}
	t, err := parseTime(at)
	if err != nil {
		return time.Time{}, fmt.Errorf("--at: %w", err)
	}
	return t, nil
}

// withRunTimeout bounds the whole run by --timeout; 0 is no limit.
func withRunTimeout(ctx context.Context, timeout time.Duration) (context.Context, context.CancelFunc) {
	if timeout > 0 {
		return context.WithTimeout(ctx, timeout)
	}
	return ctx, func() {}
}
