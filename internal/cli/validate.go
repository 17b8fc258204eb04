package cli

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/secflow/secflow-budget/internal/checks"
)

type validateOptions struct {
	io         IO
	configPath string
}

func newValidateCmd(io IO) *cobra.Command {
	opts := &validateOptions{io: io}
	c := &cobra.Command{
		Use:   "validate",
		Short: "Load and validate budgets.yaml without any network access",
		Args:  noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return runValidate(c.Context(), opts)
		},
	}
	configFlag(c, &opts.configPath)
	return c
}

func runValidate(_ context.Context, o *validateOptions) error {
	cfg, plan, err := checks.Load(o.configPath)
	if err != nil {
		return usageError(err)
	}
	// The credential files a live check would read: validate refuses
	// what check would refuse.
	if err := cfg.SourceFileErrors().Err(); err != nil {
		return usageError(err)
	}
	byType := map[string]int{}
	for _, p := range plan {
		byType[p.Budget.Type]++
	}
	var parts []string
	for t, n := range byType {
		parts = append(parts, fmt.Sprintf("%d %s", n, t))
	}
	sort.Strings(parts)
	fmt.Fprintf(o.io.Out, "%s: OK, %d budgets (%s)\n", cfg.File, len(plan), strings.Join(parts, ", "))
	return nil
}
