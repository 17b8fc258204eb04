package cli

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/secflow/secflow-budget/internal/checks"
	"github.com/secflow/secflow-budget/internal/secret"
)

type listOptions struct {
	io         IO
	configPath string
}

func newListCmd(io IO) *cobra.Command {
	opts := &listOptions{io: io}
	c := &cobra.Command{
		Use:   "list",
		Short: "List the budgets, their types and the exact queries each will run",
		Args:  noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return runList(c.Context(), opts)
		},
	}
	configFlag(c, &opts.configPath)
	return c
}

func runList(_ context.Context, o *listOptions) error {
	_, plan, err := checks.Load(o.configPath)
	if err != nil {
		return usageError(err)
	}
	w := o.io.Out
	for i, p := range plan {
		if i > 0 {
			fmt.Fprintln(w)
		}
		b := p.Budget
		tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', 0)
		fmt.Fprintf(tw, "%s\t%s, %s", b.Name, b.Type, p.Category)
		if b.Severity.String() != "error" {
			fmt.Fprintf(tw, ", severity %s", b.Severity)
		}
		if len(b.Tags) > 0 {
			fmt.Fprintf(tw, ", tags %s", strings.Join(b.Tags, ","))
		}
		fmt.Fprintln(tw)
		tw.Flush()
		if b.Description != "" {
			fmt.Fprintf(w, "  %s\n", b.Description)
		}
		for _, q := range p.Check.Queries() {
			note := ""
			if q.Note != "" {
				note = "  # " + q.Note
			}
			fmt.Fprintf(w, "  %s: %s%s\n", q.Lang, secret.URLs(q.Text), note)
		}
	}
	return nil
}
