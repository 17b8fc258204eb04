// Package vmtest runs a real, throwaway VictoriaMetrics for tests, as
// promtest runs Prometheus: Start starts Debian's `victoria-metrics` on a
// free port of 127.0.0.1 with a per-test data directory, imports
// OpenMetrics files (such as the snapshot fixtures' metrics.om) through
// /api/v1/import/prometheus (timestamps converted from seconds to
// milliseconds), flushes them so that queries see them, and stops it when
// the test ends. WithVMAlert also starts vmalert on the given rule files,
// with VictoriaMetrics as its datasource and VictoriaMetrics proxying
// /api/v1/rules and /api/v1/alerts to it (-vmalert.proxyURL), as a
// production setup does.
//
// VictoriaMetrics runs with -search.disableCache and
// -search.latencyOffset=0, so that answers are computed from the imported
// samples at every query and recent samples are not hidden, and with a
// retention long enough for the fixtures' timestamps.
//
// The binaries are found on PATH (Debian's package `victoria-metrics`
// installs victoria-metrics and vmalert; scripts/ensure-prometheus.sh
// installs it). When one is missing the test fails, saying what to
// install; only `go test -short` skips.
//
// It owns only the processes and their temporary files: no network access
// beyond 127.0.0.1, nothing left behind after the test.
package vmtest
