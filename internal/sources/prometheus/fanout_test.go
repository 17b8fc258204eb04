package prometheus

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/common/model"

	"github.com/secflow/secflow-budget/internal/config"
	"github.com/secflow/secflow-budget/internal/sources"
	"github.com/secflow/secflow-budget/internal/sources/httpclient"
)

// fanoutServer is a fake Prometheus that holds every query until release is
// closed (or, with hold, for that long), and counts requests, requests in
// flight at once and new TCP connections.
type fanoutServer struct {
	*httptest.Server
	release   chan struct{}
	hold      time.Duration
	requests  atomic.Int64
	inFlight  atomic.Int64
	maxFlight atomic.Int64
	newConns  atomic.Int64
	answer    func(query string) (int, string)
}

func newFanoutServer(t *testing.T, answer func(query string) (int, string)) *fanoutServer {
	t.Helper()
	f := &fanoutServer{release: make(chan struct{}), answer: answer}
	f.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Read the form first: the server notices a client that went away
		// only once the request body has been read.
		query := r.FormValue("query")
		f.requests.Add(1)
		n := f.inFlight.Add(1)
		defer f.inFlight.Add(-1)
		for {
			m := f.maxFlight.Load()
			if n <= m || f.maxFlight.CompareAndSwap(m, n) {
				break
			}
		}
		if f.hold > 0 {
			time.Sleep(f.hold)
		} else {
			select {
			case <-f.release:
			case <-r.Context().Done():
				return
			}
		}
		status, body := f.answer(query)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprint(w, body)
	}))
	f.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			f.newConns.Add(1)
		}
	}
	f.Start()
	t.Cleanup(func() {
		select {
		case <-f.release:
		default:
			close(f.release)
		}
		f.Close()
	})
	return f
}

func vectorOf(query string) (int, string) {
	return 200, `{"status":"success","warnings":["partial: store down"],"data":{"resultType":"vector","result":[{"metric":{"q":"` + query + `","job":"api"},"value":[1764158400,"42"]}]}}`
}

// waitFor polls cond for up to five seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

type queryResult struct {
	v        model.Vector
	err      error
	warnings []string
}

// startQueries starts n budgets' Query(query) at evalTime, each with its
// own warnings collector and the context ctxs[i] (Background when nil).
func startQueries(c *Client, query string, ctxs []context.Context) []chan queryResult {
	outs := make([]chan queryResult, len(ctxs))
	for i := range ctxs {
		outs[i] = make(chan queryResult, 1)
		ctx := ctxs[i]
		if ctx == nil {
			ctx = context.Background()
		}
		go func() {
			wctx, w := sources.WithWarnings(ctx)
			v, err := c.Query(wctx, query, evalTime)
			outs[i] <- queryResult{v, err, w.List()}
		}()
	}
	return outs
}

func TestFanoutSameQueryOneRequest(t *testing.T) {
	srv := newFanoutServer(t, vectorOf)
	c, err := New(&config.Source{URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	key := httpclient.ShareKey("query", "up", evalTime)
	outs := startQueries(c, "up", make([]context.Context, 3))
	waitFor(t, "three callers sharing one request", func() bool { return c.http.SharedWaiters(key) == 3 })
	close(srv.release)
	var got []model.Vector
	for _, out := range outs {
		r := <-out
		if r.err != nil {
			t.Fatal(r.err)
		}
		if want := []string{"prometheus: partial: store down"}; !reflect.DeepEqual(r.warnings, want) {
			t.Errorf("warnings = %q, want %q: every budget hears what the server said", r.warnings, want)
		}
		got = append(got, r.v)
	}
	if n := srv.requests.Load(); n != 1 {
		t.Errorf("server saw %d requests for three budgets asking the same query at the same time, want 1", n)
	}
	want := model.Vector{{Metric: model.Metric{"q": "up", "job": "api"}, Value: 42, Timestamp: 1764158400000}}
	for i, v := range got {
		if !reflect.DeepEqual(v, want) {
			t.Errorf("budget %d got %v, want %v", i, v, want)
		}
	}
	// One budget altering its answer leaves the others' alone.
	got[0][0].Metric["job"] = "altered"
	got[0][0].Value = -1
	got[0][0] = &model.Sample{}
	for i, v := range got[1:] {
		if !reflect.DeepEqual(v, want) {
			t.Errorf("budget %d got %v after budget 0 altered its own answer, want %v", i+1, v, want)
		}
	}

	// Once answered, the same query is asked afresh.
	srv.hold = time.Millisecond
	if _, err := c.Query(context.Background(), "up", evalTime); err != nil {
		t.Fatal(err)
	}
	if n := srv.requests.Load(); n != 2 {
		t.Errorf("server saw %d requests after a later query, want 2", n)
	}
}

func TestFanoutDifferentQueriesOrTimesNotShared(t *testing.T) {
	srv := newFanoutServer(t, vectorOf)
	srv.hold = 20 * time.Millisecond
	c, err := New(&config.Source{URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for _, q := range []struct {
		query string
		at    time.Time
	}{{"up", evalTime}, {"up", evalTime.Add(time.Second)}, {"down", evalTime}} {
		wg.Go(func() {
			v, err := c.Query(context.Background(), q.query, q.at)
			if err != nil || len(v) != 1 || v[0].Metric["q"] != model.LabelValue(q.query) {
				t.Errorf("Query(%s, %s) = %v, %v", q.query, q.at, v, err)
			}
		})
	}
	wg.Wait()
	if n := srv.requests.Load(); n != 3 {
		t.Errorf("server saw %d requests for three different queries, want 3", n)
	}
}

func TestFanoutSharedError(t *testing.T) {
	srv := newFanoutServer(t, func(string) (int, string) {
		return 400, `{"status":"error","errorType":"bad_data","error":"parse error at char 3"}`
	})
	c, err := New(&config.Source{URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	key := httpclient.ShareKey("query", "up{", evalTime)
	outs := startQueries(c, "up{", make([]context.Context, 2))
	waitFor(t, "two callers sharing one request", func() bool { return c.http.SharedWaiters(key) == 2 })
	close(srv.release)
	var msgs []string
	for _, out := range outs {
		r := <-out
		var serr *sources.Error
		if !errors.As(r.err, &serr) || serr.Kind != sources.BadQuery {
			t.Fatalf("got %v, want a BadQuery", r.err)
		}
		msgs = append(msgs, r.err.Error())
	}
	if msgs[0] != msgs[1] || msgs[0] != "prometheus: parse error at char 3" {
		t.Errorf("errors = %q, want both the server's bad_data", msgs)
	}
	if n := srv.requests.Load(); n != 1 {
		t.Errorf("server saw %d requests, want 1", n)
	}
}

func TestFanoutCancelledCallerLeavesOthers(t *testing.T) {
	srv := newFanoutServer(t, vectorOf)
	c, err := New(&config.Source{URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	key := httpclient.ShareKey("query", "up", evalTime)
	leaving, leave := context.WithCancel(context.Background())
	defer leave()
	outs := startQueries(c, "up", []context.Context{leaving, nil})
	waitFor(t, "two callers sharing one request", func() bool { return c.http.SharedWaiters(key) == 2 })
	leave()
	r := <-outs[0]
	if !errors.Is(r.err, context.Canceled) || r.err.Error() != "prometheus query at "+srv.URL+" abandoned: context canceled" {
		t.Errorf("the cancelled caller got %v, want its own cancellation", r.err)
	}
	waitFor(t, "the cancelled caller to leave", func() bool { return c.http.SharedWaiters(key) == 1 })
	close(srv.release)
	r = <-outs[1]
	if r.err != nil || len(r.v) != 1 || r.v[0].Value != 42 {
		t.Errorf("the caller that stayed got %v, %v; want the answer", r.v, r.err)
	}
	if n := srv.requests.Load(); n != 1 {
		t.Errorf("server saw %d requests, want 1", n)
	}
}

func TestFanoutAllCallersLeaveCancelsRequest(t *testing.T) {
	srv := newFanoutServer(t, vectorOf)
	c, err := New(&config.Source{URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	key := httpclient.ShareKey("query", "up", evalTime)
	ctx, cancel := context.WithCancel(context.Background())
	outs := startQueries(c, "up", []context.Context{ctx, ctx})
	waitFor(t, "two callers sharing one request", func() bool { return c.http.SharedWaiters(key) == 2 })
	cancel()
	for _, out := range outs {
		if r := <-out; !errors.Is(r.err, context.Canceled) {
			t.Errorf("got %v, want the cancellation", r.err)
		}
	}
	// The request was cancelled: the server sees its connection go.
	waitFor(t, "the abandoned request to end", func() bool { return srv.inFlight.Load() == 0 && c.http.SharedWaiters(key) == 0 })
}

func TestFanoutMaxConcurrency(t *testing.T) {
	srv := newFanoutServer(t, vectorOf)
	srv.hold = 30 * time.Millisecond
	c, err := New(&config.Source{URL: srv.URL, MaxConcurrency: 3})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 12 {
		wg.Go(func() {
			if _, err := c.Query(context.Background(), fmt.Sprintf("q%d", i), evalTime); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := srv.requests.Load(); n != 12 {
		t.Errorf("server saw %d requests, want 12", n)
	}
	if m := srv.maxFlight.Load(); m != 3 {
		t.Errorf("server saw at most %d requests in flight, want 3 (max_concurrency)", m)
	}
}

// TestFanoutConnectionsReused: twenty budgets at once open twenty
// connections, and twenty more after them reuse those (net/http's default of
// two idle connections per host would make eighteen new ones).
func TestFanoutConnectionsReused(t *testing.T) {
	const n = 20
	srv := newFanoutServer(t, vectorOf)
	c, err := New(&config.Source{URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	for wave := range 2 {
		release := make(chan struct{})
		srv.release = release
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				if _, err := c.Query(context.Background(), fmt.Sprintf("q%d-%d", wave, i), evalTime); err != nil {
					t.Error(err)
				}
			})
		}
		waitFor(t, "all queries in flight at once", func() bool { return srv.inFlight.Load() == n })
		close(release)
		wg.Wait()
	}
	if got := srv.newConns.Load(); got != n {
		t.Errorf("%d TCP connections for two waves of %d concurrent queries, want %d", got, n, n)
	}
}
