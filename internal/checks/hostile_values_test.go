package checks

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
)

// hostileResult is what one result of a hostile-value case must be.
type hostileResult struct {
	subject string
	labels  string // FormatLabels of the result's labels
	status  Status
	note    string // a substring of the note; "" for none expected
}

// TestHostileNonFiniteValues feeds NaN, +Inf and -Inf from the source to
// every budget type whose value comes from a source, and pins the verdict
// (issue 7, item 1): NaN is an error that says the source returned NaN,
// never a pass, whatever on_missing or severity say; -Inf is below any
// min, +Inf above any max.
func TestHostileNonFiniteValues(t *testing.T) {
	inf, ninf := math.Inf(1), math.Inf(-1)
	const (
		metricQ   = `sum(rate(x_total[1h]))`
		cardQ     = `count({job="api"})`
		cardTopQ  = `topk(5, count by (__name__) ({job="api"}))`
		volQ      = `sum by (service) (bytes_over_time({env="prod"}[1h]))`
		levelsQ   = `sum by (service, level) (count_over_time({env="prod"}[1h]))`
		awsQ      = "sum(count_over_time({env=\"prod\"} |~ `AKIA[0-9A-Z]{16}` [1h]))"
		redTotalQ = `sum(count_over_time({env="prod"}[1h]))`
		presentQ  = `count by (__name__) ({__name__=~"(a_total)(_bucket|_count|_sum)?"})`
	)
	metric := func(limits string) string {
		return "- name: m\n  type: metric\n  expr: " + metricQ + "\n" + indentBy(limits, "  ")
	}
	levels := "- name: levels\n  type: log_levels\n  selector: '{env=\"prod\"}'\n  max_share: {ERROR: 10%}\n  min_share: {INFO: 50%}\n"
	redaction := "- name: secrets\n  type: log_redaction\n  selector: '{env=\"prod\"}'\n  presets: [aws_access_key]\n"
	card := "- name: card\n  type: cardinality\n  selector: '{job=\"api\"}'\n  max: 1000\n"
	vol := "- name: vol\n  type: log_volume\n  selector: '{env=\"prod\"}'\n  max: 100MB\n"
	nanNote := "the source returned NaN"

	tests := []struct {
		name        string
		budget      string
		answers     map[string]model.Vector
		wantStatus  Status
		wantMessage string
		want        []hostileResult
	}{
		{
			name: "metric NaN against max", budget: metric("max: 10"),
			answers:    map[string]model.Vector{metricQ: {sample(nan())}},
			wantStatus: Error, wantMessage: "the source returned NaN (not a number; a division by zero, e.g. no events in the window?): it cannot be judged against a limit",
			want: []hostileResult{{"m", "", Error, nanNote}},
		},
		{
			name: "metric NaN against min", budget: metric("min: 5"),
			answers:    map[string]model.Vector{metricQ: {sample(nan(), "job", "a")}},
			wantStatus: Error, wantMessage: `{job="a"}: the source returned NaN (not a number; a division by zero, e.g. no events in the window?): it cannot be judged against a limit`,
			want: []hostileResult{{"m", `{job="a"}`, Error, nanNote}},
		},
		{
			name: "metric NaN against warn_max only", budget: metric("warn_max: 10"),
			answers:    map[string]model.Vector{metricQ: {sample(nan())}},
			wantStatus: Error,
			want:       []hostileResult{{"m", "", Error, nanNote}},
		},
		{
			name: "metric NaN is not missing data: on_missing pass does not pass it", budget: metric("max: 10\non_missing: pass"),
			answers:    map[string]model.Vector{metricQ: {sample(nan())}},
			wantStatus: Error,
			want:       []hostileResult{{"m", "", Error, nanNote}},
		},
		{
			name: "metric NaN is not a violation: severity warning does not soften it", budget: metric("max: 10\nseverity: warning"),
			answers:    map[string]model.Vector{metricQ: {sample(nan())}},
			wantStatus: Error,
			want:       []hostileResult{{"m", "", Error, nanNote}},
		},
		{
			name: "metric NaN beside a passing series", budget: metric("max: 10"),
			answers:    map[string]model.Vector{metricQ: {sample(3, "job", "a"), sample(nan(), "job", "b")}},
			wantStatus: Error, wantMessage: `{job="b"}: the source returned NaN (not a number; a division by zero, e.g. no events in the window?): it cannot be judged against a limit`,
			want: []hostileResult{{"m", `{job="a"}`, Pass, ""}, {"m", `{job="b"}`, Error, nanNote}},
		},
		{
			name: "metric +Inf is above any max", budget: metric("max: 10"),
			answers:    map[string]model.Vector{metricQ: {sample(inf)}},
			wantStatus: Fail, wantMessage: "+Inf > 10",
			want: []hostileResult{{"m", "", Fail, ""}},
		},
		{
			name: "metric +Inf is above any warn_max", budget: metric("warn_max: 10"),
			answers:    map[string]model.Vector{metricQ: {sample(inf)}},
			wantStatus: Warn, wantMessage: "+Inf > warn 10",
			want: []hostileResult{{"m", "", Warn, ""}},
		},
		{
			name: "metric -Inf is below any min", budget: metric("min: 5\nmax: 10"),
			answers:    map[string]model.Vector{metricQ: {sample(ninf)}},
			wantStatus: Fail, wantMessage: "-Inf < 5",
			want: []hostileResult{{"m", "", Fail, ""}},
		},
		{
			name: "metric -Inf is honestly within a max", budget: metric("max: 10"),
			answers:    map[string]model.Vector{metricQ: {sample(ninf)}},
			wantStatus: Pass, wantMessage: "-Inf <= 10",
			want: []hostileResult{{"m", "", Pass, ""}},
		},
		{
			name: "metric +Inf is honestly within a min", budget: metric("min: 5"),
			answers:    map[string]model.Vector{metricQ: {sample(inf)}},
			wantStatus: Pass, wantMessage: "+Inf >= 5",
			want: []hostileResult{{"m", "", Pass, ""}},
		},
		{
			name: "cardinality NaN, and no top offenders asked for", budget: card,
			answers:    map[string]model.Vector{cardQ: {sample(nan())}},
			wantStatus: Error, wantMessage: "series: " + NaNNote,
			want: []hostileResult{{"series", "", Error, nanNote}},
		},
		{
			name: "cardinality +Inf", budget: card,
			answers:    map[string]model.Vector{cardQ: {sample(inf)}, cardTopQ: {sample(3, "__name__", "up")}},
			wantStatus: Fail, wantMessage: "series +Inf > 1,000",
			want: []hostileResult{{"series", "", Fail, ""}},
		},
		{
			name: "log_volume NaN", budget: vol,
			answers:    map[string]model.Vector{volQ: {sample(nan(), "service", "api"), sample(1e6, "service", "worker")}},
			wantStatus: Error, wantMessage: `bytes_per_1h{service="api"}: ` + NaNNote,
			want: []hostileResult{{"bytes_per_1h", `{service="api"}`, Error, nanNote}, {"bytes_per_1h", `{service="worker"}`, Pass, ""}},
		},
		{
			name: "log_volume +Inf", budget: vol,
			answers:    map[string]model.Vector{volQ: {sample(inf, "service", "api")}},
			wantStatus: Fail, wantMessage: `bytes_per_1h{service="api"} +Inf > 100 MB`,
			want: []hostileResult{{"bytes_per_1h", `{service="api"}`, Fail, ""}},
		},
		{
			name: "log_levels NaN count: every share of the group is unknown", budget: levels,
			answers: map[string]model.Vector{levelsQ: {
				sample(80, "service", "api", "level", "info"),
				sample(nan(), "service", "api", "level", "error"),
			}},
			wantStatus: Error,
			want: []hostileResult{
				{"INFO", `{service="api"}`, Error, "the source returned 80 of NaN lines: no share can be computed"},
				{"ERROR", `{service="api"}`, Error, "the source returned NaN of NaN lines: no share can be computed"},
			},
		},
		{
			// error/+Inf would be NaN, info/+Inf 0: neither may pass.
			name: "log_levels +Inf count: no share is 0", budget: levels,
			answers: map[string]model.Vector{levelsQ: {
				sample(80, "service", "api", "level", "info"),
				sample(5, "service", "api", "level", "error"),
				sample(inf, "service", "api", "level", "debug"),
			}},
			wantStatus: Error,
			want: []hostileResult{
				{"DEBUG", `{service="api"}`, Error, "the source returned +Inf of +Inf lines"},
				{"INFO", `{service="api"}`, Error, "the source returned 80 of +Inf lines"},
				{"ERROR", `{service="api"}`, Error, "the source returned 5 of +Inf lines"},
			},
		},
		{
			name: "log_redaction NaN", budget: redaction,
			answers:    map[string]model.Vector{awsQ: {sample(nan())}},
			wantStatus: Error, wantMessage: "the source returned NaN as the count of matching lines of aws_access_key: it cannot be judged",
			want: []hostileResult{{"aws_access_key", "", Error, nanNote}},
		},
		{
			name: "log_redaction +Inf", budget: redaction,
			answers:    map[string]model.Vector{awsQ: {sample(inf)}},
			wantStatus: Fail, wantMessage: "lines matching secret patterns: aws_access_key: +Inf (matched text is never shown)",
			want: []hostileResult{{"aws_access_key", "", Fail, ""}},
		},
		{
			name: "metrics_present NaN count", budget: "- name: p\n  type: metrics_present\n  metrics: [a_total]\n",
			answers:    map[string]model.Vector{presentQ: {sample(nan(), "__name__", "a_total")}},
			wantStatus: Error, wantMessage: "0/1 metrics present; the source returned NaN as the number of series of a_total",
			want: []hostileResult{{"a_total", "", Error, nanNote}},
		},
		{
			name: "latency NaN percentile and NaN observation count", budget: latBudget,
			answers: map[string]model.Vector{
				qBucket: buckets([]string{"60", "300", "+Inf"}, []float64{nan(), nan(), nan()}),
				q95:     {sample(nan())}, q99: {sample(nan())},
			},
			wantStatus: Error,
			want: []hostileResult{
				{"p95", "", Error, "the source returned NaN for the percentile and for the number of observations"},
				{"p99", "", Error, "the source returned NaN for the percentile and for the number of observations"},
			},
		},
		{
			name: "latency +Inf percentile", budget: latBudget,
			answers: map[string]model.Vector{
				qBucket: buckets([]string{"60", "300", "+Inf"}, []float64{10, 20, 100}),
				q95:     {sample(inf)}, q99: {sample(inf)},
			},
			wantStatus: Fail, wantMessage: "p95 +Inf > 300s (and 1 more fail)",
			want: []hostileResult{{"p95", "", Fail, ""}, {"p99", "", Fail, ""}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan := loadOne(t, tt.budget)
			f := &fakeProm{t: t, answers: tt.answers}
			out, _ := Run(context.Background(), plan, Env{Prometheus: f, Loki: f, At: time.Unix(1795694407, 0)}, 1, time.Now)
			o := out[0]
			if o.Status != tt.wantStatus {
				t.Errorf("status = %s, want %s (message %q)", o.Status, tt.wantStatus, o.Message)
			}
			if tt.wantMessage != "" && o.Message != tt.wantMessage {
				t.Errorf("message = %q, want %q", o.Message, tt.wantMessage)
			}
			checkHostileResults(t, o.Results, tt.want)
		})
	}
}

func checkHostileResults(t *testing.T, got []Result, want []hostileResult) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d results, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		r := got[i]
		if r.Subject != w.subject || FormatLabels(r.Labels) != w.labels || r.Status != w.status {
			t.Errorf("result %d = %s%s %s, want %s%s %s", i, r.Subject, FormatLabels(r.Labels), r.Status, w.subject, w.labels, w.status)
		}
		if w.note != "" && !strings.Contains(r.Note, w.note) {
			t.Errorf("result %d note = %q, want it to contain %q", i, r.Note, w.note)
		}
		if w.status == Error && (r.Value == nil || !math.IsNaN(*r.Value) || r.Missing) {
			t.Errorf("result %d value = %v (missing %v), want NaN and not missing", i, r.Value, r.Missing)
		}
	}
}

// TestHostileScrapeNaN: a NaN scrape_samples_scraped is an error of that
// target, with a message that compares nothing.
func TestHostileScrapeNaN(t *testing.T) {
	plan := loadOne(t, secflowScrapeBudget)
	o := runScrape(t, plan[0], &scrapeTargetsFake{result: v1.TargetsResult{Active: secflowTargets()}}, &fakeProm{t: t, answers: samplesAnswer(nan(), 40, 25)})
	if o.Status != Error {
		t.Errorf("status = %s, want error (%s)", o.Status, o.Message)
	}
	if want := "api:8080 samples: " + NaNNote; o.Message != want {
		t.Errorf("message = %q, want %q", o.Message, want)
	}
	for _, r := range o.Results {
		if r.Subject == "samples" && r.Labels["instance"] == "api:8080" && r.Status != Error {
			t.Errorf("api samples = %s, want error", r.Status)
		}
	}
}

// TestHostileJudgeNonFinite pins Limits.Judge itself for every limit
// shape: NaN is an error whatever the limits, infinities compare.
func TestHostileJudgeNonFinite(t *testing.T) {
	inf := math.Inf(1)
	for _, tt := range []struct {
		name   string
		limits Limits
		v      float64
		want   Status
	}{
		{"NaN max", Limits{Max: F(1)}, nan(), Error},
		{"NaN min", Limits{Min: F(1)}, nan(), Error},
		{"NaN min and max", Limits{Min: F(0), Max: F(1)}, nan(), Error},
		{"NaN warn_max", Limits{WarnMax: F(1)}, nan(), Error},
		{"NaN warn_min", Limits{WarnMin: F(1)}, nan(), Error},
		{"NaN every limit", Limits{Min: F(0), Max: F(10), WarnMin: F(1), WarnMax: F(9)}, nan(), Error},
		{"+Inf max", Limits{Max: F(1e300)}, inf, Fail},
		{"+Inf warn_max", Limits{Max: F(10), WarnMax: F(5)}, inf, Fail},
		{"+Inf warn_max only", Limits{WarnMax: F(5)}, inf, Warn},
		{"+Inf min", Limits{Min: F(1e300)}, inf, Pass},
		{"-Inf min", Limits{Min: F(-1e300)}, -inf, Fail},
		{"-Inf warn_min only", Limits{WarnMin: F(-1e300)}, -inf, Warn},
		{"-Inf max", Limits{Max: F(-1e300)}, -inf, Pass},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var r Result
			tt.limits.Judge(&r, tt.v)
			if r.Status != tt.want {
				t.Errorf("status = %s, want %s", r.Status, tt.want)
			}
			if tt.want == Error && r.Note != NaNNote {
				t.Errorf("note = %q, want %q", r.Note, NaNNote)
			}
		})
	}
}

// TestHostileSeverityWarningTrueOperator: a budget with severity: warning
// that breaks a hard limit says so with the true operator, then that its
// severity makes it a warning (issue 7, item 4).
func TestHostileSeverityWarningTrueOperator(t *testing.T) {
	const cardQ = `count({job="api"})`
	const cardTopQ = `topk(5, count by (__name__) ({job="api"}))`
	tests := []struct {
		name        string
		budget      string
		answers     map[string]model.Vector
		wantMessage string
		wantStatus  []Status
	}{
		{
			name:   "latency p99 over its limit",
			budget: strings.Replace(latBudget, "  warn: {p95: 240s}\n", "  severity: warning\n", 1),
			answers: map[string]model.Vector{
				qBucket: buckets([]string{"60", "300", "600", "+Inf"}, []float64{10, 900, 980, 1000}),
				q95:     {sample(212)}, q99: {sample(769.7)},
			},
			wantMessage: "p99 769.7s > 600s (severity: warning)",
			wantStatus:  []Status{Pass, Warn},
		},
		{
			name:   "latency p95 in its warn band and p99 over: the hard limit is the headline",
			budget: strings.Replace(latBudget, "  warn: {p95: 240s}\n", "  warn: {p95: 240s}\n  severity: warning\n", 1),
			answers: map[string]model.Vector{
				qBucket: buckets([]string{"60", "300", "600", "+Inf"}, []float64{10, 900, 980, 1000}),
				q95:     {sample(250)}, q99: {sample(769.7)},
			},
			wantMessage: "p99 769.7s > 600s (and 1 more warn) (severity: warning)",
			wantStatus:  []Status{Warn, Warn},
		},
		{
			name:        "cardinality over max",
			budget:      "- name: card\n  type: cardinality\n  selector: '{job=\"api\"}'\n  max: 10000\n  severity: warning\n",
			answers:     map[string]model.Vector{cardQ: {sample(10388)}, cardTopQ: {sample(10388, "__name__", "up")}},
			wantMessage: "series 10,388 > 10,000 (severity: warning)",
			wantStatus:  []Status{Warn},
		},
		{
			name:        "metric under min",
			budget:      "- name: m\n  type: metric\n  expr: up\n  min: 5\n  unit: tasks/min\n  severity: warning\n",
			answers:     map[string]model.Vector{"up": {sample(4.5)}},
			wantMessage: "4.5 tasks/min < 5 tasks/min (severity: warning)",
			wantStatus:  []Status{Warn},
		},
		{
			name:        "a warn limit alone is no severity downgrade",
			budget:      "- name: m\n  type: metric\n  expr: up\n  max: 10\n  warn_max: 5\n  severity: warning\n",
			answers:     map[string]model.Vector{"up": {sample(7)}},
			wantMessage: "7 > warn 5",
			wantStatus:  []Status{Warn},
		},
		{
			name:        "within the limit",
			budget:      "- name: m\n  type: metric\n  expr: up\n  max: 10\n  severity: warning\n",
			answers:     map[string]model.Vector{"up": {sample(7)}},
			wantMessage: "7 <= 10",
			wantStatus:  []Status{Pass},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan := loadOne(t, tt.budget)
			o := runOne(t, plan[0], &fakeProm{t: t, answers: tt.answers})
			if o.Message != tt.wantMessage {
				t.Errorf("message = %q, want %q", o.Message, tt.wantMessage)
			}
			if len(o.Results) != len(tt.wantStatus) {
				t.Fatalf("%d results, want %d", len(o.Results), len(tt.wantStatus))
			}
			for i, r := range o.Results {
				if r.Status != tt.wantStatus[i] {
					t.Errorf("result %d status = %s, want %s", i, r.Status, tt.wantStatus[i])
				}
				wantBy := r.Status == Warn && r.Value != nil && r.Limit != nil && !holdsLimit(*r.Value, r.Op, *r.Limit)
				if r.BySeverity != wantBy {
					t.Errorf("result %d BySeverity = %v, want %v", i, r.BySeverity, wantBy)
				}
				if r.BySeverity {
					if got := DescribeResult(r, "fail"); !strings.Contains(got, " > ") && !strings.Contains(got, " < ") {
						t.Errorf("result %d described as %q: a broken limit needs the true operator", i, got)
					}
				}
			}
		})
	}
}

func holdsLimit(v float64, op string, l float64) bool {
	if op == ">=" {
		return v >= l
	}
	return v <= l
}

// TestHostileLevelAliasTable pins SPEC.md's level table, spelling by
// spelling and in every case form, both as logged (normalizeLevel) and as
// a limit's key in budgets.yaml (issue 7, item 22; the binary's test,
// TestHostileLevelAliases, runs it through log_levels offline and live).
func TestHostileLevelAliasTable(t *testing.T) {
	table := map[string][]string{
		"DEBUG":    {"debug", "dbug", "trace"},
		"INFO":     {"info", "information", "informational", "notice"},
		"WARNING":  {"warn", "warning"},
		"ERROR":    {"err", "error", "eror"},
		"CRITICAL": {"crit", "critical", "fatal", "panic", "alert", "emerg", "emergency"},
	}
	forms := []func(string) string{strings.ToLower, strings.ToUpper, func(s string) string { return strings.ToUpper(s[:1]) + s[1:] }}
	for level, spellings := range table {
		for _, s := range spellings {
			for _, form := range forms {
				logged := form(s)
				if got := normalizeLevel(logged); got != level {
					t.Errorf("normalizeLevel(%q) = %s, want %s", logged, got, level)
				}
				plan := loadOne(t, "- name: l\n  type: log_levels\n  selector: '{env=\"prod\"}'\n  max_share: {"+logged+": 10%}\n")
				lim, ok := plan[0].Check.(*LogLevelsCheck).limits[level]
				if !ok || lim.Max == nil || *lim.Max != 0.1 {
					t.Errorf("max_share key %q: limits %v, want %s at 10%%", logged, plan[0].Check.(*LogLevelsCheck).limits, level)
				}
			}
		}
	}
	for _, s := range []string{"", "verbose", "warnings", "information!", "inf", "err0r"} {
		if got := normalizeLevel(s); got != "UNKNOWN" {
			t.Errorf("normalizeLevel(%q) = %s, want UNKNOWN", s, got)
		}
	}
}

// TestHostileLatencyBucketBounds pins the bucket a percentile is reported
// in when it lands exactly on a bucket bound, and when it falls in the
// +Inf bucket (issue 7, item 23). histogram_quantile's rule: the rank
// q×total falls in the first bucket whose cumulative count reaches it, so
// a percentile equal to a bound belongs to the bucket that bound closes;
// only a rank above the highest finite bucket's count is in +Inf, and then
// the reported value is that bound and the true value may be larger.
func TestHostileLatencyBucketBounds(t *testing.T) {
	les := []string{"60", "120", "240", "300", "600", "+Inf"}
	const infNote = "the percentile falls in the +Inf bucket: histogram_quantile reports the highest finite bound, the true value may be larger"
	type pct struct {
		value        float64
		status       Status
		lower, upper any
		note         string
	}
	tests := []struct {
		name     string
		counts   []float64
		p95, p99 pct
	}{
		{
			// 95% of 1,000 observations at le=240: p95 = 240 exactly,
			// in the bucket (120, 240], not (240, 300].
			name:   "p95 exactly on the bound 240",
			counts: []float64{100, 500, 950, 1000, 1000, 1000},
			p95:    pct{240, Pass, 120.0, 240.0, ""},
			p99:    pct{288, Pass, 240.0, 300.0, ""},
		},
		{
			// 99% at le=600, the highest finite bound: the rank is
			// reached there, so p99 = 600 is in (300, 600] and not in
			// +Inf, with no "may be larger" note; 600s <= 600s passes.
			name:   "p99 exactly on the highest finite bound",
			counts: []float64{100, 500, 900, 960, 990, 1000},
			p95:    pct{290, Warn, 240.0, 300.0, ""},
			p99:    pct{600, Pass, 300.0, 600.0, ""},
		},
		{
			// Only 98% at le=600: the 99th percentile is in +Inf.
			name:   "p99 in the +Inf bucket",
			counts: []float64{100, 500, 900, 960, 980, 1000},
			p95:    pct{290, Warn, 240.0, 300.0, ""},
			p99:    pct{600, Pass, 600.0, "+Inf", infNote},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan := loadOne(t, latBudget)
			f := &fakeProm{t: t, answers: map[string]model.Vector{
				qBucket: buckets(les, tt.counts),
				q95:     {sample(tt.p95.value)},
				q99:     {sample(tt.p99.value)},
			}}
			o := runOne(t, plan[0], f)
			if len(o.Results) != 2 {
				t.Fatalf("%d results, want 2", len(o.Results))
			}
			for i, w := range []pct{tt.p95, tt.p99} {
				r := o.Results[i]
				if r.Value == nil || *r.Value != w.value || r.Status != w.status {
					t.Errorf("%s = %v %s, want %v %s", r.Subject, ptrVal(r.Value), r.Status, w.value, w.status)
				}
				if lo, hi := extra(r, "bucket_lower"), extra(r, "bucket_upper"); lo != w.lower || hi != w.upper {
					t.Errorf("%s bucket = %v–%v, want %v–%v", r.Subject, lo, hi, w.lower, w.upper)
				}
				if r.Note != w.note {
					t.Errorf("%s note = %q, want %q", r.Subject, r.Note, w.note)
				}
				if got := extra(r, "observations"); got != 1000.0 {
					t.Errorf("%s observations = %v, want 1000", r.Subject, got)
				}
			}
		})
	}
}
