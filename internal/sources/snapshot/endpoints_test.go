package snapshot

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/secflow/secflow-budget/internal/config"
	"github.com/secflow/secflow-budget/internal/sources"
	"github.com/secflow/secflow-budget/internal/sources/endpoint"
)

// endpointSnapshot is a snapshot directory holding the given files under
// endpoints/.
func endpointSnapshot(t *testing.T, files map[string]string) *Snapshot {
	t.Helper()
	dir := writeSnapshot(t, map[string]string{})
	if err := os.Mkdir(filepath.Join(dir, EndpointsDir), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, EndpointsDir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return mustOpen(t, dir)
}

func fetch(t *testing.T, s *Snapshot, name string, anonymous bool) (*sources.Exposition, error) {
	t.Helper()
	return s.Endpoints().Fetch(context.Background(), sources.EndpointRequest{Name: name, URL: "http://api:8080/metrics", Anonymous: anonymous})
}

func TestEndpointFromSnapshot(t *testing.T) {
	const body = "# TYPE x_total counter\nx_total 1\n"
	s := endpointSnapshot(t, map[string]string{
		"m.prom":     body,
		"m.json":     `{"anonymous_status": 403}`,
		"bare.prom":  body,
		"typed.prom": body,
		"typed.json": "{\n  \"content_type\": \"application/openmetrics-text; version=1.0.0\"\n}\n",
	})
	exp, err := fetch(t, s, "m", false)
	if err != nil {
		t.Fatal(err)
	}
	want := &sources.Exposition{StatusCode: 200, ContentType: DefaultEndpointContentType, Body: []byte(body), Size: int64(len(body))}
	if !reflect.DeepEqual(exp, want) {
		t.Errorf("got %+v\nwant %+v", exp, want)
	}
	anon, err := fetch(t, s, "m", true)
	if err != nil || anon.StatusCode != 403 {
		t.Errorf("anonymous: %+v, %v", anon, err)
	}
	if exp, err := fetch(t, s, "bare", false); err != nil || exp.ContentType != DefaultEndpointContentType {
		t.Errorf("without sidecar: %+v, %v", exp, err)
	}
	if exp, err := fetch(t, s, "typed", false); err != nil || exp.ContentType != "application/openmetrics-text; version=1.0.0" {
		t.Errorf("content type from the sidecar: %+v, %v", exp, err)
	}
}

func TestEndpointMissingData(t *testing.T) {
	s := endpointSnapshot(t, map[string]string{
		"noanon.prom": "x 1\n",
		"noanon.json": `{"content_type": "text/plain"}`,
		"bare.prom":   "x 1\n",
	})
	tests := []struct {
		name      string
		anonymous bool
		mention   string
	}{
		{"absent", false, "endpoints/absent.prom"},
		{"absent", true, "endpoints/absent.json"},
		{"bare", true, "endpoints/bare.json"},
		{"noanon", true, "has no anonymous_status"},
	}
	for _, tt := range tests {
		_, err := fetch(t, s, tt.name, tt.anonymous)
		if sources.KindOf(err) != sources.Missing || !strings.Contains(err.Error(), tt.mention) {
			t.Errorf("%s anonymous=%v: error %v, want missing data mentioning %q", tt.name, tt.anonymous, err, tt.mention)
		}
	}
}

func TestEndpointCorruptSidecar(t *testing.T) {
	for name, content := range map[string]string{
		"syntax":  "{\n  \"anonymous_status\": 401,\n  oops\n}",
		"unknown": `{"anonymous_stauts": 401}`,
		"type":    `{"anonymous_status": "401"}`,
		"status":  `{"anonymous_status": 42}`,
		"two":     `{} {}`,
	} {
		t.Run(name, func(t *testing.T) {
			s := endpointSnapshot(t, map[string]string{"m.prom": "x 1\n", "m.json": content})
			for _, anonymous := range []bool{false, true} {
				_, err := fetch(t, s, "m", anonymous)
				var ce *CorruptError
				if !errors.As(err, &ce) || sources.KindOf(err) != sources.BadResponse || !strings.HasSuffix(ce.File, "m.json") {
					t.Fatalf("error %v (%T): want a corrupt m.json", err, err)
				}
				if name == "syntax" && ce.Line != 3 {
					t.Errorf("line %d, want 3: %v", ce.Line, err)
				}
			}
		})
	}
}

func TestEndpointNamesStayInside(t *testing.T) {
	s := endpointSnapshot(t, nil)
	for _, name := range []string{"", ".", "..", "../manifest", "a/b", `a\b`} {
		if _, err := fetch(t, s, name, false); sources.KindOf(err) != sources.BadQuery {
			t.Errorf("name %q: error %v, want bad_query", name, err)
		}
		if err := WriteEndpoint(t.TempDir(), name, &sources.Exposition{}, 0); err == nil {
			t.Errorf("WriteEndpoint(%q): no error", name)
		}
	}
}

func TestEndpointBodyCap(t *testing.T) {
	big := strings.Repeat("y", 100)
	s := endpointSnapshot(t, map[string]string{"big.prom": big, "cut.prom": big[:10], "cut.json": `{"size": 5000000}`})
	r := s.Endpoints().(*endpointReader)
	r.maxBody = 30
	exp, err := r.Fetch(context.Background(), sources.EndpointRequest{Name: "big"})
	if err != nil || len(exp.Body) != 30 || exp.Size != 100 {
		t.Errorf("kept %d of %d bytes (%v), want 30 of 100", len(exp.Body), exp.Size, err)
	}
	// A recorded body cut short reports the size live saw.
	exp, err = r.Fetch(context.Background(), sources.EndpointRequest{Name: "cut"})
	if err != nil || len(exp.Body) != 10 || exp.Size != 5000000 {
		t.Errorf("kept %d of %d bytes (%v), want 10 of 5000000", len(exp.Body), exp.Size, err)
	}
}

// TestEndpointRoundTrip fetches live from a test server, records with
// WriteEndpoint and reads the snapshot back: offline answers what live did.
func TestEndpointRoundTrip(t *testing.T) {
	const token = "round-trip-token"
	body := "# HELP x_total X.\n# TYPE x_total counter\n" + strings.Repeat("x_total{a=\"1\"} 1\n", 50)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+token {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		fmt.Fprint(w, body)
	}))
	defer srv.Close()
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte(token), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, keep := range []int64{0, 100} { // whole, then cut at 100 bytes
		t.Run(fmt.Sprint(keep), func(t *testing.T) {
			live, err := endpoint.New(&config.Source{BearerTokenFile: tokenFile}, endpoint.Options{MaxBodyBytes: keep})
			if err != nil {
				t.Fatal(err)
			}
			req := sources.EndpointRequest{Name: "secflow-metrics", URL: srv.URL + "/metrics"}
			exp, err := live.Fetch(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			anonReq := req
			anonReq.Anonymous = true
			anon, err := live.Fetch(context.Background(), anonReq)
			if err != nil {
				t.Fatal(err)
			}
			dir := writeSnapshot(t, map[string]string{})
			if err := WriteEndpoint(dir, req.Name, exp, anon.StatusCode); err != nil {
				t.Fatal(err)
			}
			offline := mustOpen(t, dir).Endpoints()
			got, err := offline.Fetch(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, exp) {
				t.Errorf("offline %+v\nlive    %+v", got, exp)
			}
			gotAnon, err := offline.Fetch(context.Background(), anonReq)
			if err != nil || gotAnon.StatusCode != http.StatusUnauthorized {
				t.Errorf("offline anonymous: %+v, %v", gotAnon, err)
			}
		})
	}
}
