// Package testenv finds what tests need outside the repository: the Loki
// recordings of the project's shared/ folder, which lives beside the
// checkout (../shared), wherever the checkout is.
package testenv

import (
	"os"
	"path/filepath"
)

// SharedLoki returns the directory of the recorded Loki answers
// (shared/loki: logs.jsonl, meta.json, responses/), looked up in
// $SECFLOW_SHARED_DIR/loki, then in a shared/ folder beside the working
// directory or any of its parents, then at /work/shared/loki.
func SharedLoki() (string, bool) {
	var candidates []string
	if d := os.Getenv("SECFLOW_SHARED_DIR"); d != "" {
		candidates = append(candidates, filepath.Join(d, "loki"))
	}
	if wd, err := os.Getwd(); err == nil {
		for dir := wd; ; dir = filepath.Dir(dir) {
			candidates = append(candidates, filepath.Join(dir, "shared", "loki"))
			if filepath.Dir(dir) == dir {
				break
			}
		}
	}
	candidates = append(candidates, "/work/shared/loki")
	for _, c := range candidates {
		if _, err := os.Stat(filepath.Join(c, "meta.json")); err == nil {
			return c, true
		}
	}
	return "", false
}
