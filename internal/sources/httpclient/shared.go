package httpclient

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/common/model"

	"github.com/secflow/secflow-budget/internal/sources"
)

// sharedCalls are the requests in flight that callers asking the same
// thing at the same time wait for together (a singleflight).
type sharedCalls struct {
	mu    sync.Mutex
	calls map[string]*sharedCall
}

type sharedCall struct {
	done    chan struct{}
	val     any
	err     error
	waiters int
	cancel  context.CancelFunc
}

// Share runs fn once for all the callers that ask for key while a call for
// it is in flight, and gives each the same answer and error (fn may return
// both, e.g. what the server said beside an answer it failed). The
// answer is the same value for all of them: a caller that could alter it
// must copy it first. key names what is asked of this source, e.g. the
// endpoint, the query and its time.
//
// fn runs under a context of its own, with ctx's values (the first
// caller's) but not its cancellation or deadline: one budget whose run ends
// must not fail the others that wait for the same answer. A caller whose
// ctx ends stops waiting and gets Abandoned; the request is cancelled once
// every caller has left. fn must therefore not report through ctx's values
// (such as a warnings collector): it returns what it has to say.
func Share[T any](ctx context.Context, c *Client, key string, fn func(context.Context) (T, error)) (T, error) {
	var zero T
	if err := ctx.Err(); err != nil {
		return zero, c.Abandoned(err)
	}
	g := &c.shared
	g.mu.Lock()
	call, ok := g.calls[key]
	if ok {
		call.waiters++
	} else {
		sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		call = &sharedCall{done: make(chan struct{}), waiters: 1, cancel: cancel}
		if g.calls == nil {
			g.calls = map[string]*sharedCall{}
		}
		g.calls[key] = call
		go func() {
			val, err := fn(sctx)
			g.mu.Lock()
			if g.calls[key] == call {
				delete(g.calls, key)
			}
			call.val, call.err = val, err
			g.mu.Unlock()
			close(call.done)
			cancel()
		}()
	}
	g.mu.Unlock()
	select {
	case <-call.done:
		return call.val.(T), call.err
	case <-ctx.Done():
		g.mu.Lock()
		call.waiters--
		if call.waiters == 0 {
			// Nobody waits any more: stop the request, and let the next
			// caller start afresh rather than join a cancelled call.
			call.cancel()
			if g.calls[key] == call {
				delete(g.calls, key)
			}
		}
		g.mu.Unlock()
		return zero, c.Abandoned(ctx.Err())
	}
}

// ShareKey names a request for Share: the endpoint, the query and its time
// (the source is the client's own). A zero time (the server's now) is its
// own key: requests sent together are answered at about the same now.
func ShareKey(endpoint, query string, at time.Time) string {
	t := "now"
	if !at.IsZero() {
		t = strconv.FormatInt(at.UnixNano(), 10)
	}
	return endpoint + "\x00" + query + "\x00" + t
}

// SharedWaiters is how many callers wait for the shared request of key now
// (0 when none is in flight): for tests that must know that callers have
// joined.
func (c *Client) SharedWaiters(key string) int {
	c.shared.mu.Lock()
	defer c.shared.mu.Unlock()
	if call, ok := c.shared.calls[key]; ok {
		return call.waiters
	}
	return 0
}

// SharedVector is what one shared instant query tells all its callers: the
// vector and the server's warnings. Nobody alters it.
type SharedVector struct {
	Vector   model.Vector
	Warnings []string
}

// ShareVector is Share for an instant query of source: budgets asking the
// same query at the same time share one request, and each gets its own copy
// of the vector. The server's warnings go to every caller's collector, even
// when the answer is unusable: they may say why.
func ShareVector(ctx context.Context, c *Client, source, key string, fn func(context.Context) (SharedVector, error)) (model.Vector, error) {
	ans, err := Share(ctx, c, key, fn)
	sources.AddWarnings(ctx, source, ans.Warnings...)
	if err != nil {
		return nil, err
	}
	return sources.CloneVector(ans.Vector), nil
}
