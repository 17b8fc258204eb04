// Package pushgateway sends a run's metrics (report.MetricFamilies) to a
// Prometheus Pushgateway with client_golang's push package: one PUT that
// replaces the group job="secflow_budget" plus the grouping labels the
// user gave (check --push, --push-label).
//
// It owns the push's URL and label checks and its error message, which
// must never show the URL's credentials or what the server echoed of them.
// It does not decide what a failed push does to the exit code (cli does).
package pushgateway
