package checks

import (
	"math"
	"testing"
	"time"

	"github.com/secflow/secflow-budget/internal/config"
)

// Absolute regression limits are read in the unit the budget's type
// writes its values in; relative ones may exceed 100%.
func TestRegressionLimitsParsedInTheTypesUnit(t *testing.T) {
	_, plan, err := loadText(t, `version: 1
defaults:
  regression: {max_increase: 150%, severity: warning}
budgets:
  - name: lat
    type: latency
    histogram: h
    percentiles: {p95: 1s}
    regression: {max_increase_abs: 250ms}
  - name: vol
    type: log_volume
    selector: '{a="b"}'
    max: 1GB
    regression: {max_increase_abs: 5MB, max_increase: 0.2}
  - name: lvl
    type: log_levels
    selector: '{a="b"}'
    max_share: {ERROR: 10%}
    regression: {max_increase_abs: 2%}
  - name: m
    type: metric
    expr: up
    min: 1
    regression: {max_decrease_abs: 3, max_decrease: 5%}
  - name: plain
    type: metric
    expr: up
    max: 1
`)
	if err != nil {
		t.Fatal(err)
	}
	regs := map[string]*config.Regression{}
	for _, p := range plan {
		regs[p.Budget.Name] = p.Budget.Regression
	}
	eq := func(name string, got *float64, want float64) {
		t.Helper()
		if got == nil || math.Abs(*got-want) > 1e-12 {
			t.Errorf("%s: %v, want %v", name, got, want)
		}
	}
	eq("lat max_increase_abs", regs["lat"].MaxIncreaseAbs, 0.25)
	eq("vol max_increase_abs", regs["vol"].MaxIncreaseAbs, 5e6)
	eq("vol max_increase", regs["vol"].MaxIncrease, 0.2)
	eq("lvl max_increase_abs", regs["lvl"].MaxIncreaseAbs, 0.02)
	eq("m max_decrease_abs", regs["m"].MaxDecreaseAbs, 3)
	eq("m max_decrease", regs["m"].MaxDecrease, 0.05)
	if r := regs["plain"]; r == nil || !r.FromDefaults || r.Severity != config.SeverityWarning {
		t.Errorf("plain: %+v, want defaults.regression", r)
	} else {
		eq("plain max_increase (defaults)", r.MaxIncrease, 1.5)
	}
	if regs["lat"].FromDefaults || regs["lat"].MaxIncrease != nil {
		t.Errorf("lat: its own regression replaces the defaults': %+v", regs["lat"])
	}
}

func TestBrokenLimits(t *testing.T) {
	p := func(x float64) *float64 { return &x }
	for _, tc := range []struct {
		v, b float64
		reg  config.Regression
		want string
	}{
		{212, 180, config.Regression{MaxIncrease: p(0.10)}, "max_increase 10%"},
		{198, 180, config.Regression{MaxIncrease: p(0.10)}, ""},                        // exactly +10%: not past it
		{205, 180, config.Regression{MaxIncrease: p(0.10), MaxIncreaseAbs: p(30)}, ""}, // +13.9% but only +25s
		{211, 180, config.Regression{MaxIncreaseAbs: p(30)}, "max_increase_abs 30s"},
		{250, 180, config.Regression{MaxIncrease: p(0.10), MaxIncreaseAbs: p(30)}, "max_increase 10% and max_increase_abs 30s"},
		{100, 180, config.Regression{MaxIncrease: p(0.10)}, ""}, // a decrease
		{100, 180, config.Regression{MaxDecrease: p(0.25)}, "max_decrease 25%"},
		{150, 180, config.Regression{MaxDecrease: p(0.25)}, ""},
		// A negative baseline: relative to its size.
		{-8, -10, config.Regression{MaxIncrease: p(0.10)}, "max_increase 10%"},
		{-9.5, -10, config.Regression{MaxIncrease: p(0.10)}, ""},
		// From 0 any increase is past a relative limit.
		{1, 0, config.Regression{MaxIncrease: p(5)}, "max_increase 500%"},
		{math.Inf(1), 10, config.Regression{MaxIncrease: p(5)}, "max_increase 500%"},
	} {
		if got := brokenLimits(tc.v, tc.b, &tc.reg, "seconds"); got != tc.want {
			t.Errorf("%v from %v: %q, want %q", tc.v, tc.b, got, tc.want)
		}
	}
}

func TestFormatChange(t *testing.T) {
	for c, want := range map[float64]string{0.18: "+18%", 0.0766: "+7.7%", -0.0633: "-6.3%", 0: "+0%", -0.5: "-50%", 1.15: "+115%", 0.00004: "+0%"} {
		if got := FormatChange(c); got != want {
			t.Errorf("FormatChange(%v) = %q, want %q", c, got, want)
		}
	}
}

// The first live waiver that matches waives; an expired one that matches
// too still says it expired (once per budget), so it gets cleaned up.
func TestApplyWaiversFirstLiveMatch(t *testing.T) {
	at := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	exp := func(s string) time.Time {
		x, err := config.ParseExpiry(s)
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	ws := []*config.Waiver{
		{Index: 0, Budget: "b", Subject: "p99", Reason: "old", Owner: "@a", Expires: exp("2026-11-01"), ExpiresText: "2026-11-01"},
		{Index: 1, Budget: "b", Labels: map[string]string{"job": "x"}, Reason: "new", Owner: "@b", Expires: exp("2027-01-31"), ExpiresText: "2027-01-31"},
	}
	o := []Outcome{{Name: "b", Status: Fail, Results: []Result{
		{Subject: "p99", Labels: map[string]string{"job": "x"}, Value: F(700), Limit: F(600), Op: "<=", Unit: "seconds", Status: Fail},
		{Subject: "p99", Labels: map[string]string{"job": "y"}, Value: F(800), Limit: F(600), Op: "<=", Unit: "seconds", Status: Fail},
	}}}
	notes := ApplyWaivers(o, ws, at)
	if len(notes) != 0 {
		t.Errorf("run notes %q", notes)
	}
	r := o[0].Results
	if r[0].Status != Waived || r[0].Waiver.Owner != "@b" || r[1].Status != Fail || r[1].Waiver != nil {
		t.Errorf("results %+v", r)
	}
	if o[0].Status != Fail || o[0].Message != `p99{job="y"} 800s > 600s` {
		t.Errorf("budget %s %q", o[0].Status, o[0].Message)
	}
	want := []string{
		"the waiver of @a expired on 2026-11-01 and waives nothing (waivers[0]: old)",
	}
	if len(o[0].Notes) != 1 || o[0].Notes[0] != want[0] {
		t.Errorf("notes %q, want %q", o[0].Notes, want)
	}
}

// TestDefaultRegression: defaults.regression judges a result only on the
// side where it gets worse (its limit's direction) and never a verdict
// (alert_rules, dashboards: 1 holds, 0 does not); a budget's own
// regression is not narrowed.
func TestDefaultRegression(t *testing.T) {
	inc, dec := 0.2, 0.1
	both := &config.Regression{MaxIncrease: &inc, MaxDecrease: &dec, FromDefaults: true}
	for _, tc := range []struct {
		typ, op  string
		inc, dec bool // which limits are left; neither: nil
	}{
		{"latency", "<=", true, false},
		{"log_structure", ">=", false, true},
		{"retention", ">=", false, true},
		{"metrics_present", "", true, true},
		{"dashboards", "", false, false},
		{"alert_rules", "", false, false},
	} {
		got := defaultRegression(tc.typ, &Result{Op: tc.op}, both)
		if !tc.inc && !tc.dec {
			if got != nil {
				t.Errorf("%s %q: %+v, want not judged", tc.typ, tc.op, got)
			}
			continue
		}
		if got == nil || (got.MaxIncrease != nil) != tc.inc || (got.MaxDecrease != nil) != tc.dec {
			t.Errorf("%s %q: %+v, want increase %v, decrease %v", tc.typ, tc.op, got, tc.inc, tc.dec)
		}
	}
	onlyInc := &config.Regression{MaxIncrease: &inc, FromDefaults: true}
	if got := defaultRegression("log_structure", &Result{Op: ">="}, onlyInc); got != nil {
		t.Errorf("max_increase on a >= result: %+v, want not judged", got)
	}
	if both.MaxDecrease == nil || both.MaxIncrease == nil {
		t.Error("defaultRegression changed the defaults it was given")
	}
}
