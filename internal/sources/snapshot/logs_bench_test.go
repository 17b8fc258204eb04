package snapshot

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// benchLogQueries are the queries of the repo's budgets.yaml log budgets
// (log-volume, log-levels, log-redaction, log-structure), as the checks
// write them.
var benchLogQueries = []string{
	`sum by (service) (bytes_over_time({env="prod"}[5m]))`,
	`sum by (service, level) (count_over_time({env="prod"} | json | __error__="" [1h]))`,
	`sum by (service) (count_over_time({env="prod"}[1h]))`,
	`sum by (service) (count_over_time({env="prod"} |~ "AKIA[0-9A-Z]{16}" [1h]))`,
	`sum by (service) (count_over_time({env="prod"} |~ "(?i)bearer [a-z0-9._-]{20,}" [1h]))`,
	`sum by (service) (count_over_time({env="prod"} |~ "(?i)password\\s*[=:]\\s*\\S+" [1h]))`,
	`sum by (service) (count_over_time({env="prod"} |~ "-----BEGIN [A-Z ]*PRIVATE KEY-----" [1h]))`,
	`sum by (service) (count_over_time({env="prod"} |~ "eyJ[A-Za-z0-9_-]{10,}\\.[A-Za-z0-9_-]{10,}\\.[A-Za-z0-9_-]{10,}" [1h]))`,
	`sum by (service) (count_over_time({env="prod"} |~ "[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\\.[a-zA-Z]{2,}" [1h]))`,
	`sum(count_over_time({env="prod"}[1h]))`,
	`sum by (service) (count_over_time({env="prod"} | json | __error__="" | trace_id!="" | span_id!="" [1h]))`,
}

// BenchmarkLogQL evaluates the repo's log budgets' queries over the
// snapshot in SECFLOW_BENCH_LOGS (a directory made by
// `go run ./internal/fixtures/gen -logs-mb N`), at its evaluated_at; by
// default over about 20 MB of chunkTestLogs.
func BenchmarkLogQL(b *testing.B) {
	dir := os.Getenv("SECFLOW_BENCH_LOGS")
	if dir == "" {
		dir = b.TempDir()
		files := map[string]string{ManifestFile: testManifest, "logs.jsonl": chunkTestLogs(100_000)}
		for name, content := range files {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
				b.Fatal(err)
			}
		}
	}
	fi, err := os.Stat(filepath.Join(dir, "logs.jsonl"))
	if err != nil {
		b.Fatal(err)
	}
	s, err := Open(dir)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	at := s.EvaluatedAt()
	b.SetBytes(fi.Size())
	for b.Loop() {
		if _, err := s.LogQL(context.Background(), at, benchLogQueries); err != nil {
			b.Fatal(err)
		}
	}
}
