package cli

import (
	"context"
	"fmt"
	"maps"
	"slices"
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
	for _, t := range slices.Sorted(maps.Keys(byType)) {
		parts = append(parts, fmt.Sprintf("%d %s", byType[t], t))
	}
	noun := "budgets"
	if len(plan) == 1 {
		noun = "budget"
	}
	fmt.Fprintf(o.io.Out, "%s: OK, %d %s (%s)\n", cfg.File, len(plan), noun, strings.Join(parts, ", "))
	return nil
}
