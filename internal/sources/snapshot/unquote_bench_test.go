package snapshot

import (
	"encoding/json"
	"testing"
)

// BenchmarkScanJSONStringUnquote unescapes the "line" string of a
// typical entry of the repo's generated logs (a JSON body, its quotes
// escaped), recording its quote offsets as the reader does.
func BenchmarkScanJSONStringUnquote(b *testing.B) {
	body := `{"ts":"2026-11-26T10:58:59.998Z","level":"INFO","msg":"request completed","method":"POST","path":"/api/v1/scans","status":400,"duration_ms":56.38,"request_id":"93f189b950634144","remote_ip":"10.42.112.153","bytes":6405,"user_agent":"Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0"}`
	s, err := json.Marshal(body)
	if err != nil {
		b.Fatal(err)
	}
	s = append(s, '}')
	dst := make([]byte, 0, 4096)
	qs := make([]int32, 0, 64)
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		end, text, plain, msg := scanJSONStringUnquote(s, 0, dst[:0], &qs)
		if msg != "" || !plain || end != len(s)-1 || len(text) != len(body) || len(qs) != 38 {
			b.Fatal(end, len(text), plain, msg, len(qs))
		}
		qs = qs[:0]
	}
}
