// Package promtest runs a real, throwaway Prometheus for tests: Start
// backfills OpenMetrics files (such as the snapshot fixtures' metrics.om)
// with `promtool tsdb create-blocks-from openmetrics` into a per-test data
// directory, starts `prometheus` on a free port of 127.0.0.1 and stops it when
// the test ends. Tests of the live Prometheus source and end-to-end tests use
// it to compare offline answers with the real engine's.
//
// The binaries are found on PATH (Debian's package `prometheus` installs
// both). When either is missing the test fails, saying what to install; only
// `go test -short` skips the tests that need them.
//
// It owns only the process and its temporary files: no network access
// beyond 127.0.0.1, nothing left behind after the test. It scrapes nothing
// unless WithScrapeJob adds a job, whose targets must be on the loopback
// interface (a test's httptest servers); scraped samples land in the head
// at wall-clock time, next to any backfilled blocks.
// Rules evaluate at wall-clock time, not at the fixtures' time, so an alert
// over backfilled data sees only what is within the lookback of now.
package promtest
