// Package prometheus is the live PromQL source: it runs instant queries
// against a Prometheus-compatible HTTP API (Prometheus, Thanos, Mimir,
// VictoriaMetrics) and implements sources.PromQL, and sources.PromAPI for
// the state the alert_rules, scrape and retention budgets read (rules,
// alerts, targets, runtime info; api.go), and the raw range reads the
// snapshot recorder needs (recording.go).
//
// It owns talking to Prometheus: the per-request timeout and turning every
// failure into a *sources.Error of the right kind with a message that is
// safe to print: no URL userinfo, token or password ever reaches an error
// text. The HTTP plumbing it shares with the Loki source (credentials from
// files or environment variables, TLS, proxy, extra headers and the tenant
// header, the response size limit, secret scrubbing) lives in httpclient.
//
// It does not decide what a failure means for a budget or for the exit code
// (checks and cli do), and it never reads budgets.yaml itself: it is handed a
// validated *config.Source.
package prometheus
