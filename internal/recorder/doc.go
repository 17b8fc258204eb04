// Package recorder captures snapshots: it asks live sources for exactly
// the data that the given budgets' queries read at one evaluation time and
// writes it as a snapshot directory that `check --offline` evaluates to
// the same answers.
//
// Metrics: every PromQL query is parsed with Prometheus' own parser and
// walked for its selectors, with their ranges, offsets, @ modifiers and
// enclosing subqueries, to find the span of time each selector reads (a
// range, or the 5 minute lookback of an instant selector). The raw samples
// of those spans are fetched with range-vector instant queries
// (`SELECTOR[RANGE]` at the span's end), merged per series and written as
// OpenMetrics text that promtool can backfill (metrics.om). The samples
// wait in a spill file in the staging directory, not in memory, until each
// series is put together and written.
//
// Logs: either the raw entries each log budget's stream selector matches
// in its window, paged from Loki's query_range (logs.jsonl; a selector
// whose streams and window another selector's cover is not fetched again),
// or only the answers Loki gives the budgets' LogQL queries
// (logs.aggregate.json).
//
// The manifest lists the queries the snapshot was recorded for, so that
// the offline source can refuse a query recorded for other budgets.
// Its captured_from names the sources the recording asked, with their URLs
// masked (package secret); the state bodies are masked the same way before
// they are written (a target's scrapeUrl, __param_token, lastError).
//
// Warnings the sources send beside their answers (partial data) are
// printed through Options.Warn and kept in the manifest with the queries
// whose data came with them (warnings.go).
//
// It owns the capture only: the snapshot's reader and its file formats
// live in sources/snapshot, the live clients in sources/prometheus and
// sources/loki, flags and exit codes in cli.
package recorder
