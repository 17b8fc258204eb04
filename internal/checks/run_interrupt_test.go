package checks

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/secflow/secflow-budget/internal/config"
)

// stubbornCheck ignores ctx: it answers after delay whatever happens.
type stubbornCheck struct{ delay time.Duration }

func (stubbornCheck) Queries() []Query { return []Query{{Lang: "promql", Text: "up"}} }

func (c stubbornCheck) Evaluate(context.Context, Env) (Evaluation, error) {
	time.Sleep(c.delay)
	return Evaluation{Message: "decided late"}, nil
}

type quickCheck struct{}

func (quickCheck) Queries() []Query { return nil }

func (quickCheck) Evaluate(context.Context, Env) (Evaluation, error) {
	return Evaluation{Message: "decided"}, nil
}

// TestHostileRunReturnsWhenCutShort: a check that ignores ctx cannot hold
// an interrupted or timed-out run back; the budgets decided before stay
// decided, the others are marked with why they were not.
func TestHostileRunReturnsWhenCutShort(t *testing.T) {
	plan := func() []*Planned {
		return []*Planned{
			{Budget: &config.Budget{Name: "quick"}, Check: quickCheck{}},
			{Budget: &config.Budget{Name: "stubborn"}, Check: stubbornCheck{delay: 10 * time.Second}},
		}
	}
	tests := []struct {
		name         string
		ctx          func() (context.Context, context.CancelFunc)
		wantKind     string
		wantTimedOut bool
	}{
		{"interrupt", func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancelCause(context.Background())
			time.AfterFunc(300*time.Millisecond, func() { cancel(errors.New("SIGINT")) })
			return ctx, func() { cancel(nil) }
		}, "interrupted", false},
		{"timeout", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 300*time.Millisecond)
		}, "timeout", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := tt.ctx()
			defer cancel()
			start := time.Now()
			out, timedOut := Run(ctx, plan(), Env{}, 2, time.Now)
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("Run took %s: a check that ignores ctx held it back", d)
			}
			if timedOut != tt.wantTimedOut {
				t.Errorf("timedOut = %v, want %v", timedOut, tt.wantTimedOut)
			}
			if out[0].Name != "quick" || out[0].Status != Pass || out[0].Message != "decided" {
				t.Errorf("quick = %s %s %q, want it decided and passing", out[0].Name, out[0].Status, out[0].Message)
			}
			if out[1].Name != "stubborn" || out[1].Status != Error || out[1].Err == nil || out[1].Err.Kind != tt.wantKind {
				t.Fatalf("stubborn = %s %s %+v, want error of kind %s", out[1].Name, out[1].Status, out[1].Err, tt.wantKind)
			}
		})
	}
}
