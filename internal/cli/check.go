package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/spf13/cobra"

	"github.com/secflow/secflow-budget/internal/atomicfile"
	"github.com/secflow/secflow-budget/internal/checks"
	"github.com/secflow/secflow-budget/internal/config"
	"github.com/secflow/secflow-budget/internal/report"
	"github.com/secflow/secflow-budget/internal/secret"
	"github.com/secflow/secflow-budget/internal/sources"
	"github.com/secflow/secflow-budget/internal/sources/endpoint"
	"github.com/secflow/secflow-budget/internal/sources/snapshot"
)

// DefaultRunTimeout bounds a whole run when --timeout is not given, so that
// a hung source can never hang a pipeline.
const DefaultRunTimeout = 5 * time.Minute

type checkOptions struct {
	io IO

	configPath  string
	offline     string
	sources     sourceFlags
	at          string
	only, skip  []string
	format      string
	output      string
	reports     []string
	failOn      string
	timeout     time.Duration
	concurrency int
	maxSamples  int
	noColor     bool
	noEmoji     bool
	quiet       bool
	baseline    string
	// noStepSummary: no Markdown report appended to $GITHUB_STEP_SUMMARY.
	noStepSummary bool
	push          pushOptions

	// resolved from the flags
	atTime  time.Time
	failAt  checks.Status
	targets []reportTarget
	// reported: the run's reports were written (or tried), so an error
	// after that needs no JSON report of its own.
	reported bool
}

// reportTarget is one report to write: stdout when path is empty.
type reportTarget struct {
	format string
	path   string
	flag   string // the flag that asked for it, for messages
}

// stdoutPath maps the names of standard output ("-", /dev/stdout) to ""
// (stdout), so that such a report goes to this process's stdout and is
// never renamed over.
func stdoutPath(path string) string {
	if path == "-" || path == "/dev/stdout" {
		return ""
	}
	return path
}

func newCheckCmd(io IO) *cobra.Command {
	opts := &checkOptions{io: io}
	c := &cobra.Command{
		Use:   "check",
		Short: "Evaluate budgets, write reports, exit with the gate's code",
		Example: `  secflow-budget check --offline testdata/snapshots/healthy
  secflow-budget check --prometheus http://localhost:9090 --only performance
  secflow-budget check --format json -o report.json --report junit=junit.xml`,
		Args: noArgs,
		// An empty flag (root's check) is refused after the flags are
		// parsed, so a JSON report can say so.
		PersistentPreRunE: func(c *cobra.Command, args []string) error {
			if pre := c.Root().PersistentPreRunE; pre != nil {
				if err := pre(c, args); err != nil {
					opts.writeErrorReports(err)
					return err
				}
			}
			return nil
		},
		RunE: func(c *cobra.Command, _ []string) error {
			// Stopped by Main before it wrote a report, the run still
			// leaves its JSON report.
			io.lastWords.set(func(stop error) bool {
				paths := opts.jsonPaths()
				opts.writeJSONError(stop)
				return len(paths) > 0
			})
			err := opts.resolve()
			if err != nil {
				err = usageError(err)
			} else {
				err = runCheck(c.Context(), opts)
			}
			opts.writeErrorReports(err)
			return err
		},
	}
	f := c.Flags()
	configFlag(c, &opts.configPath)
	f.StringVar(&opts.offline, "offline", "", "evaluate against the snapshot directory `DIR` instead of live sources")
	opts.sources.register(c)
	f.StringVar(&opts.at, "at", "", "evaluation `TIME`, RFC3339 or unix seconds (default: now live, the snapshot's evaluated_at offline)")
	f.StringSliceVar(&opts.only, "only", nil, "run only these budgets or tags (`NAME|TAG,...`)")
	f.StringSliceVar(&opts.skip, "skip", nil, "skip these budgets or tags (`NAME|TAG,...`)")
	f.StringVarP(&opts.format, "format", "f", "console", "report `FORMAT`: "+strings.Join(report.Formats, "|"))
	f.StringVarP(&opts.output, "output", "o", "", "write the report to `FILE` instead of stdout (- for stdout)")
	f.StringArrayVar(&opts.reports, "report", nil, "also write a report, `FORMAT=FILE` (repeatable; FILE - for stdout)")
	f.StringVar(&opts.failOn, "fail-on", "fail", "the status that fails the run: `fail|warn`")
	f.DurationVar(&opts.timeout, "timeout", DefaultRunTimeout, "time limit for the whole run (`DURATION`, 0 for none)")
	f.IntVar(&opts.concurrency, "concurrency", defaultConcurrency, "budgets evaluated at once (`N`); a source's max_concurrency caps its requests further")
	f.IntVar(&opts.maxSamples, "query.max-samples", snapshot.DefaultMaxSamples, "offline: the most samples one PromQL query may load (`N`), as Prometheus' --query.max-samples")
	f.BoolVar(&opts.noColor, "no-color", false, "no ANSI colors (also NO_COLOR)")
	f.BoolVar(&opts.noEmoji, "no-emoji", false, "ASCII status markers instead of emoji")
	f.BoolVarP(&opts.quiet, "quiet", "q", false, "console: show only budgets that did not pass, and the summary")
	f.StringVar(&opts.baseline, "baseline", "", "judge the budgets' regression limits against the JSON report `FILE` of an earlier run")
	f.BoolVar(&opts.noStepSummary, "no-step-summary", false, "in GitHub Actions, do not append the Markdown report to $GITHUB_STEP_SUMMARY")
	opts.push.register(c)
	return c
}

// resolve validates the flags that need no file or network.
func (o *checkOptions) resolve() error {
	t, err := atFlag(o.at, o.io.Now())
	if err != nil {
		return err
	}
	o.atTime = t
	switch o.failOn {
	case "fail":
		o.failAt = checks.Fail
	case "warn":
		o.failAt = checks.Warn
	default:
		return fmt.Errorf("--fail-on: invalid value %q: want fail or warn", o.failOn)
	}
	if o.concurrency < 1 {
		return fmt.Errorf("--concurrency: must be at least 1, got %d", o.concurrency)
	}
	if o.maxSamples < 1 {
		return fmt.Errorf("--query.max-samples: must be at least 1, got %d", o.maxSamples)
	}
	if o.timeout < 0 {
		return fmt.Errorf("--timeout: must not be negative")
	}
	if _, err := report.ParseFormat(o.format); err != nil {
		return fmt.Errorf("--format: %w", err)
	}
	o.targets = []reportTarget{{format: o.format, path: stdoutPath(o.output), flag: "--output " + o.output}}
	for _, r := range o.reports {
		format, path, ok := strings.Cut(r, "=")
		if !ok || path == "" {
			return fmt.Errorf("--report: invalid value %q: want FORMAT=FILE, e.g. junit=report.xml", r)
		}
		if _, err := report.ParseFormat(format); err != nil {
			return fmt.Errorf("--report: %w", err)
		}
		o.targets = append(o.targets, reportTarget{format: format, path: stdoutPath(path), flag: "--report " + r})
	}
	if err := sameReportFiles(o.targets); err != nil {
		return err
	}
	if err := o.push.resolve(); err != nil {
		return err
	}
	return o.sources.validate()
}

// parseTime reads RFC3339 or unix seconds (fractions allowed).
func parseTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsNaN(f) && !math.IsInf(f, 0) {
		sec, frac := math.Modf(f)
		return time.Unix(int64(sec), int64(frac*1e9)).UTC(), nil
	}
	return time.Time{}, fmt.Errorf("invalid time %q: want RFC3339 (2026-11-26T12:00:00Z) or unix seconds", s)
}

func runCheck(ctx context.Context, o *checkOptions) error {
	// Stale temporary reports of a killed run go first, whatever happens
	// to this one.
	o.cleanStaleReports()
	cfg, plan, err := checks.Load(o.configPath)
	if in := interruptOf(ctx); in != nil {
		written := "no report written"
		if len(o.jsonPaths()) > 0 {
			written = "only the JSON report written"
		}
		return &exitError{code: in.code(), interrupt: true, err: fmt.Errorf("%s while reading %s: no budget ran, %s", in, o.configPath, written)}
	}
	if err != nil {
		return usageError(err)
	}
	plan, err = selectBudgets(plan, o.only, o.skip)
	if err != nil {
		return usageError(err)
	}
	base, err := o.readBaseline()
	if err != nil {
		return err
	}
	ctx, cancel := withRunTimeout(ctx, o.timeout)
	defer cancel()

	run := &report.Run{ToolName: "secflow-budget", Version: toolVersion(), FailOn: o.failAt}
	env := checks.Env{At: o.atTime}
	var recorded *snapshot.Manifest // offline: the snapshot's manifest
	if o.offline != "" {
		snap, err := o.offlineEnv(ctx, plan, run, &env)
		if err != nil {
			return onField("--offline", o.offline, err)
		}
		m := snap.Manifest()
		recorded, run.Sources = &m, recordedEngines(m)
		defer func() {
			if ctx.Err() != nil {
				// A check cut short may still be reading it: the
				// process is about to exit (and remove its scratch
				// directory), so nothing waits for it.
				go snap.Close()
				return
			}
			snap.Close()
		}()
	} else if err := o.liveEnv(cfg, plan, run, &env); err != nil {
		return err
	}
	run.EvaluatedAt = env.At

	outcomes, timedOut := checks.Run(ctx, plan, env, o.concurrency, o.io.Now)
	if o.offline == "" {
		run.Sources = liveEngines(ctx, env)
	}
	if recorded != nil {
		noteOfflineParity(*recorded, plan, outcomes)
	}
	o.judgeBeyondLimits(cfg, plan, outcomes, base, env.At, run)
	run.Outcomes = outcomes
	for _, oc := range outcomes {
		run.Status = max(run.Status, oc.Status)
	}
	code := verdict(outcomes, timedOut, o.failAt)
	in := interruptOf(ctx)
	if in != nil {
		code = in.code()
	}
	code, reportErrs := o.writeReports(ctx, run, code)
	for _, err := range reportErrs {
		fmt.Fprintln(o.io.Err, "error: "+err.Error())
	}
	switch {
	case in != nil:
		undecided := 0
		for _, oc := range outcomes {
			if oc.Err != nil && oc.Err.Kind == "interrupted" {
				undecided++
			}
		}
		msg := fmt.Sprintf("%s: %s not decided by then %s marked interrupted in the reports", in, countOf(undecided, "budget"), isAre(undecided))
		if undecided == 0 {
			msg = fmt.Sprintf("%s after every budget was decided", in)
		}
		return &exitError{code: code, interrupt: true, err: errors.New(msg)}
	case timedOut:
		fmt.Fprintf(o.io.Err, "error: the run's --timeout (%s) expired; budgets not decided by then are reported as errors\n", o.timeout)
	}
	if code != ExitOK {
		return &exitError{code: code, silent: true}
	}
	return nil
}

// offlineEnv answers the plan from the snapshot directory: its PromQL,
// LogQL, state files and endpoint bodies. The caller closes the snapshot.
func (o *checkOptions) offlineEnv(ctx context.Context, plan []*checks.Planned, run *report.Run, env *checks.Env) (*snapshot.Snapshot, error) {
	snap, err := snapshot.Open(o.offline)
	if err != nil {
		return nil, usageError(fmt.Errorf("reading snapshot: %w", err))
	}
	snap.SetMaxSamples(o.maxSamples)
	ok := false
	defer func() {
		if !ok {
			snap.Close()
		}
	}()
	run.Mode, run.Target = "offline", o.offline
	env.Offline = true
	if o.at == "" {
		env.At = snap.EvaluatedAt()
	}
	if needs(plan, "prometheus") {
		q, err := snap.PromQL(ctx)
		if err := offlineSourceError(ctx, err); err != nil {
			return nil, err
		}
		env.Prometheus = q
		if err != nil {
			env.Prometheus = failingSource{err}
		}
	}
	if needs(plan, "prometheus") || needs(plan, "loki") {
		st, err := snap.State()
		if err != nil {
			return nil, usageError(fmt.Errorf("reading snapshot: %w", err))
		}
		env.PromAPI, env.LokiAPI = st, st
	}
	if needs(plan, "endpoint") {
		if err := snap.CheckEndpoints(); err != nil {
			return nil, usageError(fmt.Errorf("reading snapshot: %w", err))
		}
		env.Endpoints = snap.Endpoints()
	}
	if needs(plan, "loki") {
		// One pass over the logs answers every log budget's queries.
		q, err := snap.LogQL(ctx, env.At, queriesOf(plan, "logql"))
		if err := offlineSourceError(ctx, err); err != nil {
			return nil, err
		}
		env.Loki = q
		if err != nil {
			env.Loki = failingSource{err}
		}
	}
	// A snapshot recorded for other queries (budgets.yaml changed
	// since) says so, rather than answering from partial data.
	env.Prometheus, env.Loki = snap.CoveringPromQL(env.Prometheus), snap.CoveringLogQL(env.Loki)
	ok = true
	return snap, nil
}

// liveEnv answers the plan from the live sources the flags, environment
// and budgets file name.
func (o *checkOptions) liveEnv(cfg *config.Config, plan []*checks.Planned, run *report.Run, env *checks.Env) error {
	run.Mode = "live"
	if o.at == "" {
		env.At = o.io.Now().UTC()
	}
	var targets []string
	if needs(plan, "prometheus") {
		src, err := o.sources.prometheusSource(o.io, cfg)
		if err != nil {
			return err
		}
		client, err := newPrometheusClient(src)
		if err != nil {
			return err
		}
		env.Prometheus, env.PromAPI = client, client
		targets = append(targets, secret.URL(src.URL))
	}
	if needs(plan, "loki") {
		src, err := o.sources.lokiSource(o.io, cfg)
		if err != nil {
			return err
		}
		client, err := newLokiClient(src)
		if err != nil {
			return err
		}
		env.Loki, env.LokiAPI = client, client
		targets = append(targets, secret.URL(src.URL))
	}
	if needs(plan, "endpoint") {
		// /metrics endpoints get the Prometheus source's credentials,
		// not its URL: an endpoint budget needs no Prometheus.
		if src := cfg.Sources.Prometheus; src != nil {
			if err := src.CheckFiles().Err(); err != nil {
				return usageError(err)
			}
		}
		client, err := endpoint.New(cfg.Sources.Prometheus, endpoint.Options{})
		if err != nil {
			return usageError(fmt.Errorf("configuring the endpoint source: %w", err))
		}
		env.Endpoints = client
	}
	run.Target = strings.Join(targets, ", ")
	return nil
}

// offlineSourceError sorts a snapshot source's error: corrupt data is a
// usage error (exit 2); missing data or an expired run leaves the budgets to
// report it (nil here, the caller installs a failing source).
func offlineSourceError(ctx context.Context, err error) error {
	var corrupt *snapshot.CorruptError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &corrupt):
		return usageError(fmt.Errorf("reading snapshot: %w", err))
	case sources.KindOf(err) == sources.Missing, ctx.Err() != nil:
		return nil
	}
	return usageError(fmt.Errorf("reading snapshot: %w", err))
}

// queriesOf lists the queries in lang of every planned check.
func queriesOf(plan []*checks.Planned, lang string) []string {
	var qs []string
	for _, p := range plan {
		for _, q := range p.Check.Queries() {
			if q.Lang == lang {
				qs = append(qs, q.Text)
			}
		}
	}
	return qs
}

func needs(plan []*checks.Planned, source string) bool {
	for _, p := range plan {
		// A dashboards budget may read both: "prometheus,loki".
		if slices.Contains(strings.Split(p.Needs, ","), source) {
			return true
		}
	}
	return false
}

// failingSource answers every query with the same error, e.g. a snapshot
// that holds no metrics: each budget then says why it has no data.
type failingSource struct{ err error }

func (f failingSource) Query(context.Context, string, time.Time) (model.Vector, error) {
	return nil, f.err
}

// selectBudgets applies --only and --skip, each naming budgets or tags.
func selectBudgets(plan []*checks.Planned, only, skip []string) ([]*checks.Planned, error) {
	matches := func(p *checks.Planned, sel string) bool {
		return p.Budget.Name == sel || p.Budget.HasTag(sel)
	}
	for _, list := range []struct {
		flag string
		sels []string
	}{{"--only", only}, {"--skip", skip}} {
		for _, sel := range list.sels {
			if !slices.ContainsFunc(plan, func(p *checks.Planned) bool { return matches(p, sel) }) {
				return nil, fmt.Errorf("%s: no budget or tag named %q", list.flag, sel)
			}
		}
	}
	var out []*checks.Planned
	for _, p := range plan {
		if len(only) > 0 && !slices.ContainsFunc(only, func(s string) bool { return matches(p, s) }) {
			continue
		}
		if slices.ContainsFunc(skip, func(s string) bool { return matches(p, s) }) {
			continue
		}
		out = append(out, p)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("--only/--skip selected no budget")
	}
	return out, nil
}

// writeReports writes every requested report and returns the run's final
// exit code with the reports it could not write. Files come first, stdout
// last, so that no report claims an exit code the process does not
// return: a report that cannot be written turns the code into 2, unless a
// budget was violated (1) or a signal stopped the run (130, 143). The push
// (--push) comes after the files are rendered and before they are put in
// place, as a failed --push-required push changes the code too.
func (o *checkOptions) writeReports(ctx context.Context, run *report.Run, code int) (int, []error) {
	o.reported = true
	if !o.io.lastWords.claim() {
		return code, nil // Main stopped waiting and wrote what there was
	}
	var errs []error
	failed := func(t reportTarget, err error) {
		errs = append(errs, fmt.Errorf("writing the %s report to %s: %w", t.format, t.path, err))
		if code != ExitViolation && code < 128 {
			code = ExitUsage
		}
	}
	opts := o.reportOptions()
	render := func(t reportTarget) func(io.Writer) error {
		return func(w io.Writer) error { return report.Write(w, t.format, run, opts) }
	}
	// Each file is written to its temporary file (rendered again if a
	// later failure changes the code), and renamed into place only when
	// every one could be written.
	type pendingFile struct {
		t reportTarget
		p *atomicfile.Pending
	}
	var files []pendingFile
	for _, t := range o.targets {
		if t.path == "" {
			continue
		}
		p, err := atomicfile.Begin(t.path)
		if err != nil {
			failed(t, err)
			continue
		}
		files = append(files, pendingFile{t, p})
	}
	for written := -1; written != code; {
		written = code
		run.ExitCode = code
		for i := 0; i < len(files); i++ {
			f := files[i]
			if err := f.p.Write(render(f.t)); err != nil {
				f.p.Abort()
				failed(f.t, err)
				files = slices.Delete(files, i, i+1)
				i--
			}
		}
		code = o.pushRun(ctx, run, code)
	}
	for _, f := range files {
		if err := f.p.Commit(); err != nil {
			failed(f.t, err)
		}
	}
	run.ExitCode = code
	o.writeStepSummary(run, opts)
	for _, t := range o.targets {
		if t.path != "" {
			continue
		}
		ropts := opts
		ropts.Color = o.color()
		if err := report.Write(o.io.Out, t.format, run, ropts); err != nil {
			failed(reportTarget{format: t.format, path: "stdout"}, err)
		}
	}
	return code, errs
}

// cleanStaleReports removes the temporary reports a killed run left
// beside this run's report files.
func (o *checkOptions) cleanStaleReports() {
	for _, t := range o.targets {
		if t.path == "" {
			continue
		}
		if target, err := atomicfile.ResolveLinks(t.path); err == nil {
			atomicfile.CleanStale(filepath.Dir(target))
		}
	}
}

// color is decided once: only on a terminal, never with --no-color,
// NO_COLOR or TERM=dumb.
func (o *checkOptions) color() bool {
	return o.io.StdoutIsTerminal && !o.noColor && o.io.Getenv("NO_COLOR") == "" && o.io.Getenv("TERM") != "dumb"
}

// emoji is off with --no-emoji or a locale that is explicitly not UTF-8
// (LANG=C, POSIX, ISO-8859-1...). An unset locale keeps emoji: most
// terminals and CI logs are UTF-8.
func (o *checkOptions) emoji() bool {
	if o.noEmoji {
		return false
	}
	for _, k := range []string{"LC_ALL", "LC_CTYPE", "LANG"} {
		if v := o.io.Getenv(k); v != "" {
			v = strings.ToLower(v)
			return strings.Contains(v, "utf-8") || strings.Contains(v, "utf8")
		}
	}
	return true
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

func isAre(n int) string {
	if n == 1 {
		return "is"
	}
	return "are"
}
