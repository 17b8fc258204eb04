// Package snapshot is the offline source: it reads a snapshot directory
// (see "Offline snapshots" in SPEC.md) and answers the same questions the
// live sources answer, so that `check --offline DIR` runs the same check
// code as a live run.
//
// It owns the snapshot's on-disk format as far as it reads it: manifest.yaml
// (Open, WriteManifest) and the OpenMetrics metric files (*.om), which it
// parses with Prometheus' own OpenMetrics parser, loads into memory
// (internal/memstore: a storage.Queryable of sorted sample arrays, in place
// of a TSDB head and the cloud SDKs Prometheus' tsdb package imports) and
// queries with Prometheus' own PromQL engine, so that offline numbers are
// the numbers Prometheus would give after `promtool tsdb create-blocks-from
// openmetrics`. Loading streams the files in bounded chunks: memory grows
// with the samples kept (16-32 bytes each), not with the text of the file.
// Log files (*.jsonl, *.jsonl.gz) are read by LogQL in one streaming pass
// for all log queries, which internal/logql evaluates as Loki would.
//
// State files (rules.json, alerts.json, targets.json, runtime.json) are
// read by State (api.go) for the alert_rules, scrape and retention budgets,
// and endpoints/NAME.prom by Endpoints (endpoints.go).
//
// Instead of raw logs, a snapshot may hold logs.aggregate.json: Loki's
// answers to the log budgets' queries at evaluated_at (LogAggregatesFile).
// A recorded snapshot's manifest lists the queries it was recorded for;
// CoveringPromQL and CoveringLogQL refuse other queries, and other times,
// as missing data that says so (coverage.go).
//
// Errors: a file that is not what it claims to be is a *CorruptError
// (FILE:LINE: msg), which the CLI reports as an unreadable snapshot (exit
// 2); data a budget needs but the snapshot lacks is a *sources.Error of kind
// Missing; a query PromQL rejects is a *sources.Error of kind BadQuery.
//
// It does not capture snapshots (internal/recorder does), and it does
// not decide what a result means for a budget.
package snapshot
