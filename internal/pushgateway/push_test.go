package pushgateway

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
)

func gauge(name string, value float64, labels ...string) *dto.MetricFamily {
	m := &dto.Metric{Gauge: &dto.Gauge{Value: &value}}
	for i := 0; i+1 < len(labels); i += 2 {
		m.Label = append(m.Label, &dto.LabelPair{Name: &labels[i], Value: &labels[i+1]})
	}
	help, typ := "h", dto.MetricType_GAUGE
	return &dto.MetricFamily{Name: &name, Help: &help, Type: &typ, Metric: []*dto.Metric{m}}
}

// TestPushPutsTheGroup: one PUT to /metrics/job/secflow_budget/<grouping>,
// the URL's credentials as basic auth (not in the path), the metrics in
// the body.
func TestPushPutsTheGroup(t *testing.T) {
	type request struct {
		method, path, auth string
		families           map[string]*dto.MetricFamily
	}
	got := make(chan request, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		dec := expfmt.NewDecoder(r.Body, expfmt.ResponseFormat(r.Header))
		fams := map[string]*dto.MetricFamily{}
		for {
			var mf dto.MetricFamily
			if err := dec.Decode(&mf); err != nil {
				if !errors.Is(err, io.EOF) {
					t.Errorf("decoding the body: %v", err)
				}
				break
			}
			fams[mf.GetName()] = &mf
		}
		got <- request{r.Method, r.URL.EscapedPath(), r.Header.Get("Authorization"), fams}
	}))
	defer srv.Close()
	u := strings.Replace(srv.URL, "http://", "http://ci:s3cret-pw@", 1) + "/prefix"
	err := Push(context.Background(), Target{URL: u, Grouping: []Label{{"branch", "feature/x"}}, Timeout: 5 * time.Second},
		[]*dto.MetricFamily{gauge("secflow_budget_run_exit_code", 1), gauge("secflow_budget_value", 212.5, "budget", "task-duration")})
	if err != nil {
		t.Fatal(err)
	}
	r := <-got
	if r.method != http.MethodPut {
		t.Errorf("method %s, want PUT (replace the group)", r.method)
	}
	// A value with a / is base64-encoded by the push package.
	wantPath := "/prefix/metrics/job/secflow_budget/branch@base64/" + base64.RawURLEncoding.EncodeToString([]byte("feature/x"))
	if r.path != wantPath {
		t.Errorf("path %s, want %s", r.path, wantPath)
	}
	if want := "Basic " + base64.StdEncoding.EncodeToString([]byte("ci:s3cret-pw")); r.auth != want {
		t.Errorf("Authorization %q, want %q", r.auth, want)
	}
	if v := r.families["secflow_budget_value"]; v == nil || v.Metric[0].GetGauge().GetValue() != 212.5 || v.Metric[0].Label[0].GetValue() != "task-duration" {
		t.Errorf("pushed secflow_budget_value = %v", v)
	}
	if v := r.families["secflow_budget_run_exit_code"]; v == nil || v.Metric[0].GetGauge().GetValue() != 1 {
		t.Errorf("pushed secflow_budget_run_exit_code = %v", v)
	}
}

// TestPushErrorsMasked: a refused push says the status and what the
// server said, on one line, without the URL's credentials even when the
// server echoes them.
func TestPushErrorsMasked(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pw, _ := r.BasicAuth()
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, "pushed metrics are invalid\nfor user "+user+" with password "+pw+"\n"+strings.Repeat("x", 5000))
	}))
	defer srv.Close()
	u := strings.Replace(srv.URL, "http://", "http://ci-user:s3cret-pw@", 1)
	err := Push(context.Background(), Target{URL: u, Timeout: 5 * time.Second}, []*dto.MetricFamily{gauge("a", 1)})
	var pe *Error
	if !errors.As(err, &pe) {
		t.Fatalf("error %v (%T), want *Error", err, err)
	}
	msg := err.Error()
	host := strings.TrimPrefix(srv.URL, "http://")
	wantStart := "pushing the metrics to http://xxxxx@" + host + ": HTTP 400 Bad Request: pushed metrics are invalid for user xxxxx with password xxxxx xxxx"
	if !strings.HasPrefix(msg, wantStart) {
		t.Errorf("error = %q, want it to start %q", msg, wantStart)
	}
	if strings.Contains(msg, "s3cret") || strings.Contains(msg, "ci-user") || strings.Contains(msg, "\n") {
		t.Errorf("error leaks a credential or spans lines: %q", msg)
	}
	if !strings.HasSuffix(msg, "...") || len(msg) > 400 {
		t.Errorf("error is not cut short (%d bytes): %q", len(msg), msg)
	}
}

// TestPushUnreachable: no answer says why, and names the URL masked.
func TestPushUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	err = Push(context.Background(), Target{URL: "http://tok:s3cret-pw@" + addr, Timeout: 5 * time.Second}, []*dto.MetricFamily{gauge("a", 1)})
	want := "pushing the metrics to http://xxxxx@" + addr + ": dial tcp " + addr + ": connect: connection refused"
	if err == nil || err.Error() != want {
		t.Errorf("error = %v, want %s", err, want)
	}
}

// TestPushTimeout: a Pushgateway that does not answer is given up after
// the target's timeout.
func TestPushTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release }))
	defer srv.Close()
	defer close(release)
	err := Push(context.Background(), Target{URL: srv.URL, Timeout: 200 * time.Millisecond}, []*dto.MetricFamily{gauge("a", 1)})
	want := "pushing the metrics to " + srv.URL + ": no answer within 200ms"
	if err == nil || err.Error() != want {
		t.Errorf("error = %v, want %s", err, want)
	}
}

func TestCheckURL(t *testing.T) {
	for raw, want := range map[string]string{
		"http://pushgateway:9091":         "",
		"https://u:pw@pg.example/prefix/": "",
		"pushgateway:9091":                "pushgateway:9091: want an http:// or https:// URL of the Pushgateway, e.g. http://pushgateway:9091",
		"ftp://u:pw@pg":                   "ftp://xxxxx@pg: want an http:// or https:// URL of the Pushgateway, e.g. http://pushgateway:9091",
		"http:///path":                    "http:///path: no host",
		"http://pg:9091/?token=abcdef":    "http://pg:9091/?token=xxxxx: want the Pushgateway's base URL without a query or fragment",
		"http://pg:9091/#x":               "http://pg:9091/#x: want the Pushgateway's base URL without a query or fragment",
		"http://u:pw@pg:9091/\x7f":        `invalid URL "http://xxxxx@pg:9091/\x7f"`,
	} {
		err := CheckURL(raw)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != want {
			t.Errorf("CheckURL(%q) = %q, want %q", raw, got, want)
		}
	}
}

func TestCheckLabel(t *testing.T) {
	reserved := []string{"budget", "subject"}
	for _, tc := range []struct{ name, value, want string }{
		{"branch", "main", ""},
		{"instance", "ci-7", ""},
		{"_x9", "v", ""},
		{"9x", "v", `invalid label name "9x": want [a-zA-Z_][a-zA-Z0-9_]*`},
		{"a-b", "v", `invalid label name "a-b": want [a-zA-Z_][a-zA-Z0-9_]*`},
		{"", "v", `invalid label name "": want [a-zA-Z_][a-zA-Z0-9_]*`},
		{"__name__", "v", `invalid label name "__name__": names starting with __ are reserved`},
		{"job", "ci", `label name "job": the push's job is always secflow_budget`},
		{"budget", "v", `label name "budget": every metric has a label of that name; pick another`},
		{"branch", "", "label branch: empty value (is a variable unset?)"},
		{"branch", "\xff", "label branch: the value is not valid UTF-8"},
	} {
		err := CheckLabel(tc.name, tc.value, reserved)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tc.want {
			t.Errorf("CheckLabel(%q, %q) = %q, want %q", tc.name, tc.value, got, tc.want)
		}
	}
}
