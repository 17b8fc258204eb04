package checks

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"

	"github.com/secflow/secflow-budget/internal/config"
	"github.com/secflow/secflow-budget/internal/sources"
)

// fakeProm answers the exact queries it was given and fails on any other,
// so a test also pins the PromQL a check generates.
type fakeProm struct {
	t       testing.TB
	answers map[string]model.Vector
	errs    map[string]error
	asked   []string
}

func (f *fakeProm) Query(_ context.Context, q string, _ time.Time) (model.Vector, error) {
	f.asked = append(f.asked, q)
	if err, ok := f.errs[q]; ok {
		return nil, err
	}
	v, ok := f.answers[q]
	if !ok {
		f.t.Errorf("unexpected query %q", q)
		return nil, sources.Errorf(sources.BadQuery, "fake", "unexpected query")
	}
	return v, nil
}

func sample(v float64, lbls ...string) *model.Sample {
	m := model.Metric{}
	for i := 0; i+1 < len(lbls); i += 2 {
		m[model.LabelName(lbls[i])] = model.LabelValue(lbls[i+1])
	}
	return &model.Sample{Metric: m, Value: model.SampleValue(v)}
}

// loadOne loads a budgets file holding the given budget entries.
func loadOne(t *testing.T, budgetYAML string) []*Planned {
	t.Helper()
	path := filepath.Join(t.TempDir(), "budgets.yaml")
	text := "version: 1\nbudgets:\n" + indent(budgetYAML)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	_, plan, err := Load(path)
	if err != nil {
		t.Fatalf("loading budgets:\n%s\nerror: %v", text, err)
	}
	return plan
}

func indent(s string) string {
	var b strings.Builder
	for _, l := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		b.WriteString("  " + l + "\n")
	}
	return b.String()
}

// runOne evaluates a single planned budget against the fake.
func runOne(t *testing.T, p *Planned, f *fakeProm) Outcome {
	t.Helper()
	out, _ := Run(context.Background(), []*Planned{p}, Env{Prometheus: f, At: time.Unix(1795694407, 0)}, 1, time.Now)
	return out[0]
}

// loadText loads a whole budgets file given as text.
func loadText(t *testing.T, text string) (*config.Config, []*Planned, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "budgets.yaml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return Load(path)
}
