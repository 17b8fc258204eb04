package endpoint

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/secflow/secflow-budget/internal/sources"
)

// answersEndless serves a body of size bytes (chunked, no Content-Length
// unless declared) and counts the bytes the client let it write.
func answersEndless(size int64, declared bool, written *atomic.Int64) http.HandlerFunc {
	chunk := []byte(strings.Repeat("x_total 1\n", 3277)) // ~32 KiB
	return func(w http.ResponseWriter, _ *http.Request) {
		if declared {
			w.Header().Set("Content-Length", fmt.Sprint(size))
		}
		for left := size; left > 0; {
			b := chunk[:min(int64(len(chunk)), left)]
			n, err := w.Write(b)
			written.Add(int64(n))
			if err != nil {
				return
			}
			left -= int64(n)
		}
	}
}

// TestHostileBodyFarOverMaxBytes: with a budget's max_bytes, a body far
// over it is not read to its end (it used to be read up to 1 GiB and then
// refused as too large): reading stops 1% past max_bytes, the exposition
// says it was cut, and what was read is past the limit.
func TestHostileBodyFarOverMaxBytes(t *testing.T) {
	const maxBytes = 100_000
	for _, tt := range []struct {
		name     string
		size     int64
		declared bool
		needBody bool
		wantSize int64
		wantCut  bool
		wantKeep int
	}{
		{name: "endless, max_bytes only", size: 1 << 30, wantSize: 101_001, wantCut: true, wantKeep: 101_001},
		{name: "endless, max_series needs the body", size: 1 << 30, needBody: true, wantSize: 1 << 20, wantCut: true, wantKeep: 1 << 20},
		{name: "just over", size: 100_500, wantSize: 100_500, wantKeep: 100_500},
		{name: "declared length", size: 1 << 30, declared: true, wantSize: 1 << 30, wantKeep: 101_001},
		{name: "within", size: 50_000, needBody: true, wantSize: 50_000, wantKeep: 50_000},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var written atomic.Int64
			srv := httptest.NewServer(answersEndless(tt.size, tt.declared, &written))
			defer srv.Close()
			c := mustNew(t, nil, Options{MaxBodyBytes: 1 << 20})
			exp, err := c.Fetch(context.Background(), sources.EndpointRequest{URL: srv.URL, MaxBytes: maxBytes, NeedBody: tt.needBody})
			if err != nil {
				t.Fatal(err)
			}
			if exp.Size != tt.wantSize || exp.Cut != tt.wantCut || len(exp.Body) != tt.wantKeep {
				t.Errorf("size %d cut %v kept %d; want size %d cut %v kept %d", exp.Size, exp.Cut, len(exp.Body), tt.wantSize, tt.wantCut, tt.wantKeep)
			}
			srv.CloseClientConnections()
			// The server may have filled the connection's buffers, never
			// much more: 1 GiB was not read.
			if w := written.Load(); tt.size == 1<<30 && w > 64<<20 {
				t.Errorf("the server wrote %d bytes: the body was read far past max_bytes", w)
			}
		})
	}
}
