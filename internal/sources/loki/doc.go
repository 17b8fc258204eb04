// Package loki is the live LogQL source: it runs instant metric queries
// (sum by (service) (bytes_over_time(...)), count_over_time, ...) against
// Grafana Loki's HTTP API and implements sources.LogQL; it also reads
// Loki's retention from /config (sources.LokiAPI, config.go) and, for the
// snapshot recorder only, log lines with query_range (query_range.go).
//
// Checks send only metric queries, so Loki aggregates and the answer holds one
// sample per group: a log budget over gigabytes of logs reads a few hundred
// bytes. BytesRead counts them, so tests can hold the client to that.
//
// It owns talking to Loki: the tenant (X-Scope-OrgID), extra headers,
// credentials and TLS (through httpclient, shared with prometheus/), the
// per-request timeout, the response size limit, and turning every failure
// into a *sources.Error of the right kind. Loki answers errors in
// text/plain; that text is the most useful thing a user can see ("parse
// error at line 1, col 55: ..."), so it is passed on verbatim, scrubbed of
// any secret this client knows.
//
// It does not evaluate LogQL itself (logql/ and the snapshot reader do,
// offline) and does not decide what a failure means for a budget.
package loki
