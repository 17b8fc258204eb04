package pushgateway

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/push"
	dto "github.com/prometheus/client_model/go"

	"github.com/secflow/secflow-budget/internal/secret"
)

// Job is the job label of every push: the grouping key starts with it.
const Job = "secflow_budget"

// maxErrorText bounds how much of a server's error answer is read, and how
// much of it the one-line message shows.
const (
	maxErrorBody  = 4 << 10
	maxErrorRunes = 200
)

// Label is one grouping label (--push-label NAME=VALUE).
type Label struct{ Name, Value string }

// Target is where a run's metrics go.
type Target struct {
	// URL is the Pushgateway's base URL (http://host:9091, with a path
	// prefix if it has one), as CheckURL accepted it; its userinfo is
	// sent as basic auth.
	URL string
	// Grouping are the labels after job, as CheckLabel accepted them.
	Grouping []Label
	// Timeout bounds the push (the caller's context may end it sooner).
	Timeout time.Duration
	// Client sends the request; nil: a client of its own (proxy from the
	// environment, system CAs).
	Client *http.Client
}

// CheckURL checks a --push value: an http or https URL with a host and no
// query or fragment (the push appends /metrics/job/...). Its error shows
// the URL masked.
func CheckURL(raw string) error {
	u, err := url.Parse(raw)
	shown := secret.URL(raw)
	switch {
	case err != nil:
		return fmt.Errorf("invalid URL %q", shown)
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("%s: want an http:// or https:// URL of the Pushgateway, e.g. http://pushgateway:9091", shown)
	case u.Host == "":
		return fmt.Errorf("%s: no host", shown)
	case u.RawQuery != "" || u.Fragment != "" || u.ForceQuery:
		return fmt.Errorf("%s: want the Pushgateway's base URL without a query or fragment", shown)
	}
	return nil
}

var labelNameRE = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

// CheckLabel checks a grouping label: a classic Prometheus label name that
// is not job (the push's own), not reserved (__...) and not one of the
// labels the metrics carry (reserved; the push would refuse it), and a
// non-empty UTF-8 value (an unset variable must not make two pipelines
// share a group).
func CheckLabel(name, value string, reserved []string) error {
	switch {
	case !labelNameRE.MatchString(name):
		return fmt.Errorf("invalid label name %q: want [a-zA-Z_][a-zA-Z0-9_]*", name)
	case strings.HasPrefix(name, "__"):
		return fmt.Errorf("invalid label name %q: names starting with __ are reserved", name)
	case name == "job":
		return fmt.Errorf("label name %q: the push's job is always %s", name, Job)
	case slices.Contains(reserved, name):
		return fmt.Errorf("label name %q: every metric has a label of that name; pick another", name)
	case value == "":
		return fmt.Errorf("label %s: empty value (is a variable unset?)", name)
	case !utf8.ValidString(value):
		return fmt.Errorf("label %s: the value is not valid UTF-8", name)
	}
	return nil
}

// Error is a failed push, fit to print on one line: the URL masked, the
// server's status and the start of its answer, masked too.
type Error struct {
	URL    string // masked
	Status string // "500 Internal Server Error"; empty when no answer came
	Text   string // what the server said, or why there was no answer
}

func (e *Error) Error() string {
	msg := "pushing the metrics to " + e.URL + ": "
	if e.Status != "" {
		msg += "HTTP " + e.Status
		if e.Text != "" {
			msg += ": " + e.Text
		}
		return msg
	}
	return msg + e.Text
}

// Push replaces the group job="secflow_budget" plus t.Grouping on the
// Pushgateway with mfs (HTTP PUT).
func Push(ctx context.Context, t Target, mfs []*dto.MetricFamily) error {
	u, err := url.Parse(t.URL)
	if err != nil {
		return &Error{URL: secret.URL(t.URL), Text: "invalid URL"}
	}
	var secrets secret.Set
	secrets.AddURL(u)
	shown := secret.URL(t.URL)
	fail := func(text string) error {
		return &Error{URL: shown, Text: oneLine(secrets.Scrub(text))}
	}
	user := u.User
	u.User = nil
	client := t.Client
	if client == nil {
		client = &http.Client{}
	}
	doer := &answerDoer{client: client}
	p := push.New(u.String(), Job).
		Client(doer).
		Gatherer(prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) { return mfs, nil }))
	if user != nil {
		pw, _ := user.Password()
		p = p.BasicAuth(user.Username(), pw)
	}
	for _, l := range t.Grouping {
		p = p.Grouping(l.Name, l.Value)
	}
	if t.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, t.Timeout)
		defer cancel()
	}
	err = p.PushContext(ctx)
	switch {
	case err == nil:
		return nil
	case doer.status != "":
		return &Error{URL: shown, Status: oneLine(secrets.Scrub(doer.status)), Text: oneLine(secrets.Scrub(doer.body))}
	case errors.Is(err, context.DeadlineExceeded) && t.Timeout > 0:
		return fail(fmt.Sprintf("no answer within %s", t.Timeout))
	case errors.Is(err, context.Canceled):
		return fail("the run was stopped before the push was done")
	}
	// The transport's own words, without the URL url.Error repeats.
	var ue *url.Error
	if errors.As(err, &ue) {
		return fail(ue.Err.Error())
	}
	return fail(err.Error())
}

// answerDoer keeps the status and the start of the body of an answer the
// push refuses, which the push package would print with the URL in full.
type answerDoer struct {
	client *http.Client
	status string
	body   string
}

func (d *answerDoer) Do(req *http.Request) (*http.Response, error) {
	resp, err := d.client.Do(req)
	if err != nil || resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusAccepted {
		return resp, err
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	d.status, d.body = resp.Status, string(body)
	return resp, nil
}

// oneLine squeezes text onto one line of at most maxErrorRunes runes,
// without control characters.
func oneLine(text string) string {
	text = strings.ToValidUTF8(text, "\uFFFD")
	text = strings.Join(strings.FieldsFunc(text, func(r rune) bool { return r < ' ' || r == 0x7f || r == ' ' }), " ")
	if utf8.RuneCountInString(text) > maxErrorRunes {
		r := []rune(text)
		text = string(r[:maxErrorRunes]) + "..."
	}
	return text
}
