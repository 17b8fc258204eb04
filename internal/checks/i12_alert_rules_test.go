package checks

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
)

func TestAlertRulesNoRuler(t *testing.T) {
	// VictoriaMetrics without vmalert behind -vmalert.proxyURL answers
	// {"groups":[]}: no rule at all, not "these are missing".
	o := runAlerts(t, loadOne(t, twoAlerts)[0], &alertAPI{rules: rulesOf()})
	if o.Status != Fail || o.Message != NoRulerMessage {
		t.Errorf("status %s, message %q; want fail, %q", o.Status, o.Message, NoRulerMessage)
	}
	if !strings.Contains(o.Message, "this server evaluates no rules (VictoriaMetrics: point `-vmalert.proxyURL` at vmalert") {
		t.Errorf("message %q does not name vmalert", o.Message)
	}
	for _, r := range o.Results {
		// The hint is in the message, once; not again per alert.
		if r.Note != "this server evaluates no rules" || r.Status != Fail {
			t.Errorf("%s: status %s, note %q", r.Subject, r.Status, r.Note)
		}
	}
	// A server with rules but not these keeps "not loaded".
	o = runAlerts(t, loadOne(t, twoAlerts)[0], &alertAPI{rules: rulesOf(group("g", okRule("Other")))})
	if o.Message == NoRulerMessage || !strings.Contains(o.Results[0].Note, "not loaded") {
		t.Errorf("with other rules: message %q, note %q", o.Message, o.Results[0].Note)
	}
}

func TestAlertRulesSharedGroupErrorShownOnce(t *testing.T) {
	// vmalert without its datasource: every rule of the group carries the
	// same long error.
	// As vmalert 1.79 words it: each rule's own query in the URLs.
	vmalertError := func(query string) string {
		return fmt.Sprintf(`error getting response from http://127.0.0.1:1/api/v1/query?query=%s&step=300s&time=1796623542: Post "http://127.0.0.1:1/api/v1/query?query=%s&step=300s&time=1796623542": dial tcp 127.0.0.1:1: connect: connection refused`, query, query)
	}
	long := `error getting response from http://127.0.0.1:1/api/v1/query: Post "http://127.0.0.1:1/api/v1/query": dial tcp 127.0.0.1:1: connect: connection refused`
	sick := func(name string) v1.AlertingRule {
		r := okRule(name)
		r.Health, r.LastError = v1.RuleHealthBad, vmalertError(url.QueryEscape("sum("+name+") > 0"))
		return r
	}
	other := sick("SecflowC")
	o := runAlerts(t, loadOne(t, twoAlerts)[0], &alertAPI{rules: rulesOf(group("secflow-budgets", sick("SecflowA"), sick("SecflowB"), other))})
	if o.Status != Fail {
		t.Errorf("status %s, want fail", o.Status)
	}
	all := o.Message + "\n" + strings.Join(o.Notes, "\n")
	for _, r := range o.Results {
		all += "\n" + r.Note
		if want := "health err: the error of every rule in group secflow-budgets (see the budget's notes)"; !strings.Contains(r.Note, want) {
			t.Errorf("%s: note %q lacks %q", r.Subject, r.Note, want)
		}
	}
	if n := strings.Count(all, "connection refused"); n != 1 {
		t.Errorf("the group's error shows %d times, want once:\n%s", n, all)
	}
	if want := "group secflow-budgets: 3 rules fail with: " + long; !strings.Contains(strings.Join(o.Notes, "\n"), want) {
		t.Errorf("notes %q lack %q", o.Notes, want)
	}
}
