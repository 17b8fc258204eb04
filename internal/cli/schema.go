package cli

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/secflow/secflow-budget/internal/schema"
)

type schemaOptions struct {
	io IO
}

func newSchemaCmd(io IO) *cobra.Command {
	opts := &schemaOptions{io: io}
	return &cobra.Command{
		Use:   "schema",
		Short: "Print the JSON Schema of budgets.yaml, generated from the budget types",
		Long: `schema prints a JSON Schema (draft 2020-12) for budgets.yaml, generated from
the declarations the loader reads budgets by, so that editors (the YAML
extension of VS Code, any yaml-language-server client) complete and check
budgets as you type. Start budgets.yaml with

  # yaml-language-server: $schema=./schema/budgets.schema.json

The schema checks keys, types and units; validate checks the rest (PromQL
and LogQL, limits that contradict each other, rule files).`,
		Example: `  secflow-budget schema > schema/budgets.schema.json`,
		Args:    noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return runSchema(c.Context(), opts)
		},
	}
}

func runSchema(_ context.Context, o *schemaOptions) error {
	_, err := o.io.Out.Write(schema.Generate())
	return err
}
