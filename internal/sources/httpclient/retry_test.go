package httpclient

import (
	"context"
	"errors"
	"fmt"
	"github.com/secflow/secflow-budget/internal/sources/httpclient/httpclienttest"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/secflow/secflow-budget/internal/config"
	"github.com/secflow/secflow-budget/internal/sources"
)

// fast is the default number of retries with waits of milliseconds.
func fast() *RetryPolicy {
	return &RetryPolicy{
		Retries:    DefaultRetries,
		Backoff:    time.Millisecond,
		MaxBackoff: 4 * time.Millisecond,
		Jitter:     func() float64 { return 0.5 },
	}
}

// recorder is a test server that answers with the next handler of a
// script (the last one repeats) and records when each request came and
// what body it carried.
type recorder struct {
	*httptest.Server
	mu     sync.Mutex
	times  []time.Time
	bodies []string
}

func newRecorder(t *testing.T, script ...http.HandlerFunc) *recorder {
	t.Helper()
	r := &recorder{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		n := len(r.times)
		r.times = append(r.times, time.Now())
		r.bodies = append(r.bodies, string(body))
		r.mu.Unlock()
		script[min(n, len(script)-1)](w, req)
	}))
	r.Config.ErrorLog = log.New(io.Discard, "", 0)
	t.Cleanup(r.Close)
	return r
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.times)
}

func status(code int, header ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		w.WriteHeader(code)
		fmt.Fprintf(w, "answer %d", code)
	}
}

// hangUp closes the connection without answering: the client sees EOF
// before any response.
func hangUp(w http.ResponseWriter, _ *http.Request) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err == nil {
		conn.Close()
	}
}

func newClient(t *testing.T, url string, p *RetryPolicy) *Client {
	t.Helper()
	c, err := New(&config.Source{URL: url}, Options{Name: "prometheus", Retry: p})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// post sends a form POST, as client_golang sends queries, and returns the
// answer's status and body and how many attempts the transport reported.
func post(ctx context.Context, c *Client, url string) (int, string, int, error) {
	info := &ResponseInfo{}
	req, err := http.NewRequestWithContext(WithResponseInfo(ctx, info), http.MethodPost, url, strings.NewReader("query=up"))
	if err != nil {
		return 0, "", 0, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.HTTPClient().Do(req)
	if err != nil {
		return 0, "", info.Attempts, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), info.Attempts, err
}

func TestBackoffDoublesUpToTheCapWithJitter(t *testing.T) {
	for _, tt := range []struct {
		jitter float64
		want   []time.Duration
	}{
		{0, []time.Duration{50_000, 100_000, 175_000, 175_000}},
		{0.5, []time.Duration{75_000, 150_000, 262_500, 262_500}},
		{1, []time.Duration{100_000, 200_000, 350_000, 350_000}},
	} {
		p := RetryPolicy{Backoff: 100 * time.Millisecond, MaxBackoff: 350 * time.Millisecond, Jitter: func() float64 { return tt.jitter }}.withDefaults()
		for i, want := range tt.want {
			if got := p.backoff(i + 1); got != want*time.Microsecond {
				t.Errorf("jitter %v: backoff(%d) = %v, want %v", tt.jitter, i+1, got, want*time.Microsecond)
			}
		}
	}
	// A huge attempt number neither overflows nor passes the cap.
	p := DefaultRetryPolicy().withDefaults()
	if got := p.backoff(1000); got <= 0 || got > DefaultMaxRetryBackoff {
		t.Errorf("backoff(1000) = %v", got)
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	p := RetryPolicy{MaxRetryAfter: 10 * time.Second, Now: func() time.Time { return now }}.withDefaults()
	for _, tt := range []struct {
		header string
		want   time.Duration
		ok     bool
	}{
		{"1", time.Second, true},
		{" 3 ", 3 * time.Second, true},
		{"0", 0, true},
		{"3600", 10 * time.Second, true},
		{"99999999999999999", 10 * time.Second, true},
		{now.Add(5 * time.Second).Format(http.TimeFormat), 5 * time.Second, true},
		{now.Add(time.Hour).Format(http.TimeFormat), 10 * time.Second, true},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0, true},
		{"", 0, false},
		{"-1", 0, false},
		{"soon", 0, false},
		{"1.5", 0, false},
	} {
		got, ok := p.retryAfter(tt.header)
		if got != tt.want || ok != tt.ok {
			t.Errorf("retryAfter(%q) = %v, %v; want %v, %v", tt.header, got, ok, tt.want, tt.ok)
		}
	}
}

func TestRetriesServerErrorsAndResendsTheBody(t *testing.T) {
	srv := newRecorder(t, status(502), status(503), status(200))
	c := newClient(t, srv.URL, fast())
	code, body, attempts, err := post(context.Background(), c, srv.URL)
	if err != nil || code != 200 || body != "answer 200" {
		t.Fatalf("got %d %q %v", code, body, err)
	}
	if attempts != 3 {
		t.Errorf("attempts = %d, want 3", attempts)
	}
	for i, b := range srv.bodies {
		if b != "query=up" {
			t.Errorf("attempt %d sent body %q", i+1, b)
		}
	}
}

func TestGivesUpWithTheLastAnswer(t *testing.T) {
	srv := newRecorder(t, status(500), status(504))
	c := newClient(t, srv.URL, fast())
	code, body, attempts, err := post(context.Background(), c, srv.URL)
	if err != nil || code != 504 || body != "answer 504" {
		t.Fatalf("got %d %q %v, want the last answer", code, body, err)
	}
	if attempts != 4 || srv.count() != 4 {
		t.Errorf("attempts = %d, server saw %d; want 4", attempts, srv.count())
	}
}

func TestNeverRetriesOtherClientErrors(t *testing.T) {
	for _, code := range []int{400, 401, 403, 404, 405, 422, 501, 505} {
		srv := newRecorder(t, status(code), status(200))
		c := newClient(t, srv.URL, fast())
		got, _, attempts, err := post(context.Background(), c, srv.URL)
		if err != nil || got != code || attempts != 1 || srv.count() != 1 {
			t.Errorf("%d: got %d after %d attempts (server saw %d), err %v", code, got, attempts, srv.count(), err)
		}
	}
}

func TestRetriesDisabled(t *testing.T) {
	srv := newRecorder(t, status(503), status(200))
	c := newClient(t, srv.URL, &RetryPolicy{Retries: 0})
	if code, _, attempts, _ := post(context.Background(), c, srv.URL); code != 503 || attempts != 1 {
		t.Errorf("got %d after %d attempts", code, attempts)
	}
}

func TestRetriesAConnectionLostBeforeTheAnswer(t *testing.T) {
	srv := newRecorder(t, hangUp, hangUp, status(200))
	c := newClient(t, srv.URL, fast())
	code, _, attempts, err := post(context.Background(), c, srv.URL)
	if err != nil || code != 200 || attempts != 3 {
		t.Fatalf("got %d after %d attempts, err %v", code, attempts, err)
	}
	for i, b := range srv.bodies {
		if b != "query=up" {
			t.Errorf("attempt %d sent body %q", i+1, b)
		}
	}
}

func TestRetriesARefusedConnection(t *testing.T) {
	url := "http://" + httpclienttest.ClosedPort(t)
	c := newClient(t, url, fast())
	_, _, attempts, err := post(context.Background(), c, url)
	var re *RetryError
	if !errors.As(err, &re) || re.Attempts != 4 || attempts != 4 {
		t.Fatalf("error %v (%T), attempts %d: want a RetryError after 4 attempts", err, err, attempts)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("error %v does not wrap ECONNREFUSED", err)
	}
	if msg := TransportCause(err).Error(); !strings.HasSuffix(msg, "connection refused (after 4 attempts)") {
		t.Errorf("message %q", msg)
	}
}

func TestHonoursRetryAfter(t *testing.T) {
	now := time.Now()
	for name, tt := range map[string]struct {
		header  string
		policy  RetryPolicy
		atLeast time.Duration
	}{
		// Seconds, capped: the server asks for an hour, the cap says 20ms.
		"seconds capped": {"3600", RetryPolicy{Retries: 1, MaxRetryAfter: 20 * time.Millisecond}, 20 * time.Millisecond},
		// An HTTP-date 30ms after a clock that stands still.
		"date": {now.Add(time.Second).Truncate(time.Second).Format(http.TimeFormat), RetryPolicy{
			Retries: 1,
			Now:     func() time.Time { return now.Add(time.Second).Truncate(time.Second).Add(-30 * time.Millisecond) },
		}, 30 * time.Millisecond},
	} {
		t.Run(name, func(t *testing.T) {
			srv := newRecorder(t, status(429, "Retry-After", tt.header), status(200))
			// A backoff of an hour shows that Retry-After replaced it.
			tt.policy.Backoff = time.Hour
			c := newClient(t, srv.URL, &tt.policy)
			code, _, attempts, err := post(context.Background(), c, srv.URL)
			if err != nil || code != 200 || attempts != 2 {
				t.Fatalf("got %d after %d attempts, err %v", code, attempts, err)
			}
			if gap := srv.times[1].Sub(srv.times[0]); gap < tt.atLeast || gap > 5*time.Second {
				t.Errorf("second request %v after the first, want at least %v", gap, tt.atLeast)
			}
		})
	}
}

func TestNoWaitPastTheDeadline(t *testing.T) {
	for name, tt := range map[string]struct {
		script http.HandlerFunc
		policy *RetryPolicy
	}{
		"retry-after": {status(429, "Retry-After", "5"), fast()},
		"backoff":     {status(503), &RetryPolicy{Retries: 3, Backoff: time.Hour, MaxBackoff: time.Hour}},
	} {
		t.Run(name, func(t *testing.T) {
			srv := newRecorder(t, tt.script, status(200))
			c := newClient(t, srv.URL, tt.policy)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			start := time.Now()
			code, _, attempts, err := post(ctx, c, srv.URL)
			if err != nil || code == 200 || attempts != 1 {
				t.Errorf("got %d after %d attempts, err %v: want the first answer", code, attempts, err)
			}
			if d := time.Since(start); d > time.Second {
				t.Errorf("took %v: waited for a retry the deadline did not allow", d)
			}
		})
	}
}

func TestCancelStopsTheWait(t *testing.T) {
	srv := newRecorder(t, status(503))
	c := newClient(t, srv.URL, &RetryPolicy{Retries: 3, Backoff: time.Hour, MaxBackoff: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, cancel)
	start := time.Now()
	_, _, _, err := post(ctx, c, srv.URL)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v after cancel", d)
	}
	if srv.count() != 1 {
		t.Errorf("server saw %d requests", srv.count())
	}
}

func TestABodyThatCannotBeResentIsSentOnce(t *testing.T) {
	srv := newRecorder(t, status(503), status(200))
	c := newClient(t, srv.URL, fast())
	req, _ := http.NewRequest(http.MethodPost, srv.URL, io.NopCloser(strings.NewReader("query=up")))
	resp, err := c.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 503 || srv.count() != 1 {
		t.Errorf("got %d, server saw %d requests", resp.StatusCode, srv.count())
	}
}

func TestCertificateErrorsAreNotRetried(t *testing.T) {
	var mu sync.Mutex
	conns := 0
	srv := httptest.NewUnstartedServer(status(200))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			mu.Lock()
			conns++
			mu.Unlock()
		}
	}
	srv.StartTLS()
	defer srv.Close()
	c := newClient(t, srv.URL, fast())
	_, _, _, err := post(context.Background(), c, srv.URL)
	if err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("error %v, want a certificate error", err)
	}
	var re *RetryError
	mu.Lock()
	defer mu.Unlock()
	if errors.As(err, &re) || conns != 1 {
		t.Errorf("retried a certificate error: %v, %d connections", err, conns)
	}
}

func TestTooLargeIsNotRetried(t *testing.T) {
	srv := newRecorder(t, func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, strings.Repeat("x", 2048))
	})
	c, err := New(&config.Source{URL: srv.URL}, Options{Name: "loki", MaxResponseBytes: 1024, Retry: fast()})
	if err != nil {
		t.Fatal(err)
	}
	_, _, _, err = post(context.Background(), c, srv.URL)
	var tooLarge *ResponseTooLargeError
	if !errors.As(err, &tooLarge) || srv.count() != 1 {
		t.Errorf("error %v, server saw %d requests", err, srv.count())
	}
}

func TestNoteAttempts(t *testing.T) {
	c := &Client{Name: "loki"}
	c.secrets.Add("s3cret")
	base := c.Fail(sources.Unavailable, io.EOF, "answered 503 with s3cret")
	if got := NoteAttempts(base, 1); got != error(base) {
		t.Errorf("one attempt changed the error: %v", got)
	}
	got := NoteAttempts(base, 4)
	if got.Error() != "loki: answered 503 with xxxxx (after 4 attempts)" {
		t.Errorf("message %q", got)
	}
	if sources.KindOf(got) != sources.Unavailable || !errors.Is(got, io.EOF) {
		t.Errorf("kind %v, cause lost: %v", sources.KindOf(got), got)
	}
	plain := errors.New("plain")
	if NoteAttempts(plain, 3) != plain {
		t.Error("a foreign error was changed")
	}
}
