package lokitest

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/secflow/secflow-budget/internal/logql"
)

// DefaultTenant is the tenant Loki stores data under when auth is disabled,
// and the one that sees the entries given to Start.
const DefaultTenant = "fake"

// TenantHeader carries the tenant.
const TenantHeader = "X-Scope-OrgID"

// Server is a running fake Loki. The test's cleanup stops it.
type Server struct {
	// URL is the base URL, e.g. http://127.0.0.1:38211, without a trailing
	// slash.
	URL string

	srv      *httptest.Server
	settings settings

	mu      sync.RWMutex
	tenants map[string]*store

	bytesWritten atomic.Int64
	reqMu        sync.Mutex
	requests     []Request
}

// Request is what the server saw of one request.
type Request struct {
	Method string
	Path   string
	Form   url.Values // query string and, for POST forms, the body
	Header http.Header
}

// Option changes how Start sets the server up.
type Option func(*settings)

type settings struct {
	entries     []logql.Entry
	jsonl       []string
	auth        bool
	bearer      string
	basicUser   string
	basicPass   string
	requireCred bool
	retention   string // limits_config.retention_period served by /config
}

// WithRetention sets limits_config.retention_period in the configuration
// GET /config serves (default "168h", compactor retention enabled); "0s"
// means Loki deletes nothing.
func WithRetention(period string) Option {
	return func(s *settings) { s.retention = period }
}

// WithEntries loads entries into the server (tenant "fake").
func WithEntries(entries []logql.Entry) Option {
	return func(s *settings) { s.entries = append(s.entries, entries...) }
}

// WithJSONL loads a snapshot log file (logs.jsonl or logs.jsonl.gz: one
// {"ts":"<unix ns or RFC3339Nano>","labels":{...},"line":"..."} a line).
// A relative path is taken from the test's working directory. A file that
// does not load fails the test.
func WithJSONL(path string) Option {
	return func(s *settings) { s.jsonl = append(s.jsonl, path) }
}

// WithAuth makes the server require X-Scope-OrgID on its API, as Loki does
// with auth_enabled: true. Without the header it answers 401 "no org id".
func WithAuth() Option {
	return func(s *settings) { s.auth = true }
}

// WithBearerToken makes the server act as if behind an authenticating
// gateway: API requests without "Authorization: Bearer token" get 401.
func WithBearerToken(token string) Option {
	return func(s *settings) { s.bearer, s.requireCred = token, true }
}

// WithBasicAuth makes the server act as if behind an authenticating
// gateway: API requests without these basic auth credentials get 401.
func WithBasicAuth(user, password string) Option {
	return func(s *settings) { s.basicUser, s.basicPass, s.requireCred = user, password, true }
}

// Start starts a server on 127.0.0.1 with the given data and options.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := &Server{tenants: map[string]*store{}}
	for _, o := range opts {
		o(&s.settings)
	}
	entries := s.settings.entries
	for _, path := range s.settings.jsonl {
		es, err := ReadJSONL(path)
		if err != nil {
			t.Fatalf("lokitest: %v", err)
		}
		entries = append(entries, es...)
	}
	s.Push(DefaultTenant, entries...)

	s.srv = httptest.NewServer(s.routes())
	s.URL = s.srv.URL
	t.Cleanup(s.srv.Close)
	return s
}

// Push adds entries to tenant's data (to "fake" when the server runs
// without auth, as Loki does), as POST /loki/api/v1/push would.
func (s *Server) Push(tenant string, entries ...logql.Entry) {
	if !s.settings.auth || tenant == "" {
		tenant = DefaultTenant
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.tenants[tenant]
	if st == nil {
		st = newStore()
		s.tenants[tenant] = st
	}
	st.add(entries)
}

// BytesWritten is the number of response body bytes the server has written
// so far, over all requests.
func (s *Server) BytesWritten() int64 { return s.bytesWritten.Load() }

// Requests returns what the server has seen so far, oldest first.
func (s *Server) Requests() []Request {
	s.reqMu.Lock()
	defer s.reqMu.Unlock()
	return slices.Clone(s.requests)
}

// LastRequest returns the most recent request; it fails the test when there
// was none.
func (s *Server) LastRequest(t testing.TB) Request {
	t.Helper()
	rs := s.Requests()
	if len(rs) == 0 {
		t.Fatal("lokitest: the server saw no request")
	}
	return rs[len(rs)-1]
}

// Entries returns a copy of tenant's stored entries (duplicates dropped),
// in timestamp order.
func (s *Server) Entries(tenant string) []logql.Entry {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if st := s.tenants[tenant]; st != nil {
		return slices.Clone(st.entries)
	}
	return nil
}

// snapshot returns tenant's entries for reading; callers must not modify
// them. Pushes append or re-sort into a new slice, never in place.
func (s *Server) snapshot(tenant string) []logql.Entry {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if st := s.tenants[tenant]; st != nil {
		return st.entries
	}
	return nil
}

// store is one tenant's data. Loki stores an entry with the same stream,
// timestamp and line as one already stored once.
type store struct {
	entries []logql.Entry // by TS, stable
	seen    map[entryKey]struct{}
}

type entryKey struct {
	stream string
	ts     int64
	line   string
}

func newStore() *store { return &store{seen: map[entryKey]struct{}{}} }

func (st *store) add(entries []logql.Entry) {
	if len(entries) == 0 {
		return
	}
	// A new slice: handlers may be reading the old one.
	next := make([]logql.Entry, len(st.entries), len(st.entries)+len(entries))
	copy(next, st.entries)
	sorted := true
	for _, e := range entries {
		k := entryKey{stream: streamKey(e.Labels), ts: e.TS, line: e.Line}
		if _, dup := st.seen[k]; dup {
			continue
		}
		st.seen[k] = struct{}{}
		if n := len(next); n > 0 && next[n-1].TS > e.TS {
			sorted = false
		}
		next = append(next, e)
	}
	if !sorted {
		sort.SliceStable(next, func(i, j int) bool { return next[i].TS < next[j].TS })
	}
	st.entries = next
}

func streamKey(ls map[string]string) string {
	names := make([]string, 0, len(ls))
	for n := range ls {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		b.WriteString(n)
		b.WriteByte(0xff)
		b.WriteString(ls[n])
		b.WriteByte(0xff)
	}
	return b.String()
}
