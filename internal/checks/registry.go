package checks

import (
	"context"
	"errors"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/secflow/secflow-budget/internal/config"
	"github.com/secflow/secflow-budget/internal/logql"
	"github.com/secflow/secflow-budget/internal/sources"
)

// Check is one budget ready to run.
type Check interface {
	// Queries lists exactly what the check will ask its source, for `list`
	// and the reports.
	Queries() []Query
	// Evaluate asks the source and judges the answers. A source failure is
	// returned as the error; no data is an Evaluation with Missing set.
	Evaluate(ctx context.Context, env Env) (Evaluation, error)
}

// Query is one query of a check, in its source's language.
type Query struct {
	Lang string // "promql" or "logql"
	Text string
	Note string // when it runs, if not always, e.g. "only when the budget fails"
}

// Env is what checks read from: the sources and the evaluation time.
type Env struct {
	Prometheus sources.PromQL
	PromAPI    sources.PromAPI
	Loki       sources.LogQL
	LokiAPI    sources.LokiAPI
	Endpoints  sources.Endpoints
	At         time.Time
}

// builder reads a budget's type-specific fields and returns its check.
// Errors go through f; the returned check is used only when there were none.
type builder func(b *config.Budget, f *config.Fields) Check

type budgetType struct {
	build    builder
	category string         // the report area when the budget sets none
	fields   []config.Field // the type's own keys, beyond config.CommonFields
	needs    string         // the source it reads: "prometheus", "loki" or "endpoint"
	// valueKind is how the type writes its values (config.KindDuration,
	// ...): absolute regression limits are read with it.
	valueKind config.Kind
}

// types is the registry of budget types. Adding a type means a file with
// its builder and check, an entry here, docs and tests.
func types() map[string]budgetType {
	return map[string]budgetType{
		"metric":          {build: buildMetric, category: "metrics", fields: metricFields, needs: "prometheus"},
		"metrics_present": {build: buildPresent, category: "metrics", fields: presentFields, needs: "prometheus"},
		"cardinality":     {build: buildCardinality, category: "metrics", fields: cardinalityFields, needs: "prometheus"},
		"latency":         {build: buildLatency, category: "performance", fields: latencyFields, needs: "prometheus", valueKind: config.KindDuration},
		"log_volume":      {build: buildLogVolume, category: "logs", fields: logVolumeFields, needs: "loki", valueKind: config.KindSize},
		"log_levels":      {build: buildLogLevels, category: "logs", fields: logLevelsFields, needs: "loki", valueKind: config.KindShare},
		"log_redaction":   {build: buildLogRedaction, category: "logs", fields: logRedactionFields, needs: "loki"},
		"log_structure":   {build: buildLogStructure, category: "logs", fields: logStructureFields, needs: "loki", valueKind: config.KindShare},
		"scrape":          {build: buildScrape, category: "metrics", fields: scrapeFields, needs: "prometheus"},
		"endpoint":        {build: buildEndpoint, category: "metrics", fields: endpointFields, needs: "endpoint"},
		"alert_rules":     {build: buildAlertRules, category: "alerting", fields: alertRulesFields, needs: "prometheus"},
		"retention":       {build: buildRetention, category: "retention", fields: retentionFields, needs: "prometheus", valueKind: config.KindDuration},
	}
}

// TypeNames lists the known budget types, sorted.
func TypeNames() []string {
	var names []string
	for n := range types() {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Planned is a budget with its check, ready for Run.
type Planned struct {
	Budget   *config.Budget
	Check    Check
	Category string
	Needs    string // the source the check reads
}

// Load reads and validates a budgets file, type-specific fields included,
// and returns the checks in file order. The error is a config.Errors naming
// every problem, each with file, line, column and field path.
func Load(path string) (*config.Config, []*Planned, error) {
	var planned []*Planned
	cfg, err := config.Load(path, planner(&planned))
	if err != nil {
		return nil, nil, err
	}
	return cfg, planned, nil
}

// Parse is Load on bytes already read; path names the file in errors.
func Parse(path string, data []byte) (*config.Config, []*Planned, error) {
	var planned []*Planned
	cfg, err := config.Parse(path, data, planner(&planned))
	if err != nil {
		return nil, nil, err
	}
	return cfg, planned, nil
}

// planner reads each budget's type-specific fields and appends its check
// to planned.
func planner(planned *[]*Planned) config.TypeReader {
	reg := types()
	return func(b *config.Budget) []string {
		t, ok := reg[b.Type]
		if !ok {
			if s := config.NearMiss(b.Type, TypeNames()); s != "" {
				b.Fields.Errorf("type", "unknown budget type %q (did you mean %q?)", b.Type, s)
			} else {
				b.Fields.Errorf("type", "unknown budget type %q (known: %s)", b.Type, strings.Join(TypeNames(), ", "))
			}
			return allTypeFields(reg) // only the type is wrong; don't also flag its fields
		}
		b.ValueKind = t.valueKind
		before := len(b.Fields.Errs())
		c := t.build(b, b.Fields)
		if len(b.Fields.Errs()) == before {
			checkQueries(b, c)
		}
		cat := b.Category
		if cat == "" {
			cat = t.category
		}
		needs := t.needs
		if n, ok := c.(interface{ Needs() string }); ok {
			needs = n.Needs() // e.g. retention: the source the budget names
		}
		*planned = append(*planned, &Planned{Budget: b, Check: c, Category: cat, Needs: needs})
		return config.FieldNames(t.fields)
	}
}

// checkQueries parses every query the check will send, so that what
// check would refuse (a Loki regexp past its bounds, a selector the
// engine rejects) is refused by validate already. It runs only on a budget
// whose fields were read without error, and reports at the budget.
func checkQueries(b *config.Budget, c Check) {
	for _, q := range c.Queries() {
		var err error
		switch q.Lang {
		case "promql":
			if _, msg := promqlBounds(q.Text); msg != "" {
				err = errors.New(msg)
			} else {
				_, err = newParser().ParseExpr(q.Text)
			}
		case "logql":
			_, err = logql.Parse(q.Text)
		default:
			continue
		}
		if err != nil {
			lang := map[string]string{"promql": "PromQL", "logql": "LogQL"}[q.Lang]
			b.Fields.Errorf("type", "the %s query this budget makes is invalid: %s", lang, cutQuoted(err.Error()))
			return
		}
	}
}

func allTypeFields(reg map[string]budgetType) []string {
	var all []string
	for _, t := range reg {
		for _, f := range config.FieldNames(t.fields) {
			if !slices.Contains(all, f) {
				all = append(all, f)
			}
		}
	}
	return all
}
