package loki

import (
	"context"
	"fmt"
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

// fanoutLoki holds each query until release is closed (or for hold), and
// counts requests and requests in flight at once.
type fanoutLoki struct {
	*httptest.Server
	release             chan struct{}
	hold                time.Duration
	requests            atomic.Int64
	inFlight, maxFlight atomic.Int64
}

func newFanoutLoki(t *testing.T) *fanoutLoki {
	t.Helper()
	f := &fanoutLoki{release: make(chan struct{})}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.requests.Add(1)
		n := f.inFlight.Add(1)
		defer f.inFlight.Add(-1)
		for m := f.maxFlight.Load(); n > m && !f.maxFlight.CompareAndSwap(m, n); m = f.maxFlight.Load() {
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
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"status":"success","warnings":["max series hit"],"data":{"resultType":"vector","result":[{"metric":{"q":%q},"value":[1764158400,"7"]}]}}`, r.FormValue("query"))
	}))
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

func TestFanoutSameQueryOneRequest(t *testing.T) {
	srv := newFanoutLoki(t)
	c, err := New(&config.Source{URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	const query = `sum(count_over_time({app="api"}[1h]))`
	type result struct {
		v        model.Vector
		err      error
		warnings []string
	}
	outs := make([]chan result, 2)
	for i := range outs {
		outs[i] = make(chan result, 1)
		go func() {
			ctx, w := sources.WithWarnings(context.Background())
			v, err := c.Query(ctx, query, at)
			outs[i] <- result{v, err, w.List()}
		}()
	}
	key := httpclient.ShareKey(queryPath, query, at)
	for deadline := time.Now().Add(5 * time.Second); c.http.SharedWaiters(key) != 2; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the two callers never shared one request")
		}
	}
	close(srv.release)
	want := model.Vector{{Metric: model.Metric{"q": query}, Value: 7, Timestamp: 1764158400000}}
	var got []model.Vector
	for _, out := range outs {
		r := <-out
		if r.err != nil || !reflect.DeepEqual(r.v, want) {
			t.Fatalf("got %v, %v; want %v", r.v, r.err, want)
		}
		if w := []string{"loki: max series hit"}; !reflect.DeepEqual(r.warnings, w) {
			t.Errorf("warnings = %q, want %q", r.warnings, w)
		}
		got = append(got, r.v)
	}
	got[0][0].Metric["q"] = "altered"
	if !reflect.DeepEqual(got[1], want) {
		t.Errorf("after one caller altered its answer, the other's is %v", got[1])
	}
	if n := srv.requests.Load(); n != 1 {
		t.Errorf("Loki saw %d requests for two budgets asking the same query at the same time, want 1", n)
	}
}

func TestFanoutMaxConcurrency(t *testing.T) {
	srv := newFanoutLoki(t)
	srv.hold = 30 * time.Millisecond
	c, err := New(&config.Source{URL: srv.URL, MaxConcurrency: 2})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			if _, err := c.Query(context.Background(), fmt.Sprintf(`count_over_time({n="%d"}[1h])`, i), time.Time{}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n, m := srv.requests.Load(), srv.maxFlight.Load(); n != 8 || m != 2 {
		t.Errorf("Loki saw %d requests, at most %d at once; want 8, at most 2 (max_concurrency)", n, m)
	}
}
