package cli

import (
	"fmt"
	"time"

	"github.com/secflow/secflow-budget/internal/checks"
	"github.com/secflow/secflow-budget/internal/config"
	"github.com/secflow/secflow-budget/internal/report"
)

// readBaseline reads --baseline before any budget runs: a file that is no
// report of ours stops the run with exit 2.
func (o *checkOptions) readBaseline() (*checks.Baseline, error) {
	if o.baseline == "" {
		return nil, nil
	}
	b, err := report.ReadBaseline(o.baseline)
	if err != nil {
		return nil, usageError(fmt.Errorf("--baseline: %w", err))
	}
	return b, nil
}

// judgeBeyondLimits applies what budgets.yaml says beyond each budget's
// limits: the regression limits against the baseline (when given), then
// the waivers, at the evaluation time at so that an offline run waives the
// same on any day. Run-level notes go to the reports and to stderr.
func (o *checkOptions) judgeBeyondLimits(cfg *config.Config, plan []*checks.Planned, outcomes []checks.Outcome, base *checks.Baseline, at time.Time, run *report.Run) {
	if base != nil {
		regs := map[string]*config.Regression{}
		for _, p := range plan {
			regs[p.Budget.Name] = p.Budget.Regression
		}
		checks.ApplyBaseline(outcomes, regs, base)
	}
	run.Notes = checks.ApplyWaivers(outcomes, cfg.Waivers, at)
	for _, n := range run.Notes {
		fmt.Fprintln(o.io.Err, "warning: "+n)
	}
}
