package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/secflow/secflow-budget/internal/config"
	"github.com/secflow/secflow-budget/internal/pushgateway"
	"github.com/secflow/secflow-budget/internal/report"
	"github.com/secflow/secflow-budget/internal/secret"
)

// pushTimeout bounds a push as a source's default timeout bounds a
// request. The run's --timeout bounds the evaluation, not the push: a run
// that timed out is pushed too.
const pushTimeout = config.DefaultSourceTimeout

// pushAfterSignal is the time a push gets when a signal stopped the run
// before it: Main stops waiting for the command within hardStop.
const pushAfterSignal = hardStop / 2

// pushOptions are check's --push, --push-label and --push-required.
type pushOptions struct {
	url      string
	labels   []string
	required bool

	grouping []pushgateway.Label // resolved from labels
	// tried: a push was made. done is the exit code it pushed, -1 when it
	// failed: a code changed after a push that worked (a report that
	// could not be written) is pushed again; a failed push is not retried.
	tried bool
	done  int
}

func (p *pushOptions) register(c *cobra.Command) {
	f := c.Flags()
	f.StringVar(&p.url, "push", "", "also push the run's metrics (the openmetrics report) to the Prometheus Pushgateway at `URL`, as the group job=\"secflow_budget\"")
	f.StringArrayVar(&p.labels, "push-label", nil, "a grouping label of the push, `NAME=VALUE` (repeatable), e.g. branch=main")
	f.BoolVar(&p.required, "push-required", false, "a failed push makes the run exit 3 (default: a warning; the exit code is unchanged)")
}

// resolve checks the flags: a URL the push can use, grouping labels with
// valid names that are not the metrics' own, each given once.
func (p *pushOptions) resolve() error {
	p.done = -1
	if p.url == "" {
		switch {
		case len(p.labels) > 0:
			return fmt.Errorf("--push-label: needs --push URL")
		case p.required:
			return fmt.Errorf("--push-required: needs --push URL")
		}
		return nil
	}
	if err := pushgateway.CheckURL(p.url); err != nil {
		return fmt.Errorf("--push: %w", err)
	}
	p.grouping = nil
	for _, kv := range p.labels {
		name, value, ok := strings.Cut(kv, "=")
		if !ok {
			return fmt.Errorf("--push-label: invalid value %q: want NAME=VALUE, e.g. branch=main", kv)
		}
		if err := pushgateway.CheckLabel(name, value, report.MetricLabels); err != nil {
			return fmt.Errorf("--push-label: %w", err)
		}
		for _, l := range p.grouping {
			if l.Name == name {
				return fmt.Errorf("--push-label: label %s given twice", name)
			}
		}
		p.grouping = append(p.grouping, pushgateway.Label{Name: name, Value: value})
	}
	return nil
}

// labelNames are the grouping labels' names, which result labels are
// renamed away from (report.Options.PushLabels).
func (p *pushOptions) labelNames() []string {
	names := make([]string, len(p.grouping))
	for i, l := range p.grouping {
		names[i] = l.Name
	}
	return names
}

// pushRun pushes run (whose ExitCode is code) unless --push is not given
// or this code was pushed already, and returns the run's exit code: a
// failed push is one line on stderr, and with --push-required turns a
// passing run's 0 into 3 (a violation, a timeout, a usage error or a
// signal keep their codes, as a violation beats a source error).
//
// ctx is the run's: a signal cancels the push (one that came before it
// leaves it pushAfterSignal); an expired --timeout does not.
func (o *checkOptions) pushRun(ctx context.Context, run *report.Run, code int) int {
	p := &o.push
	if p.url == "" || p.tried && (p.done < 0 || p.done == code) {
		return code
	}
	p.tried, p.done = true, -1
	pctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	timeout := pushTimeout
	if interruptOf(ctx) != nil {
		timeout = pushAfterSignal
	} else {
		stop := context.AfterFunc(ctx, func() {
			if interruptOf(ctx) != nil {
				cancel()
			}
		})
		defer stop()
	}
	err := pushgateway.Push(pctx, pushgateway.Target{URL: p.url, Grouping: p.grouping, Timeout: timeout},
		report.MetricFamilies(run, o.reportOptions()))
	if err == nil {
		p.done = code
		return code
	}
	msg := secret.Text(err.Error())
	if !p.required {
		fmt.Fprintln(o.io.Err, "warning: "+msg+"; the exit code is unchanged (--push-required makes it 3)")
		return code
	}
	fmt.Fprintln(o.io.Err, "error: "+msg+" (--push-required)")
	if code == ExitOK {
		return ExitSource
	}
	return code
}
