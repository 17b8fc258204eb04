// Package report renders a finished Run in each format: console, json,
// junit, markdown, github and openmetrics (the run as metrics, also what
// check --push sends). A reporter takes an io.Writer and the Run; it
// never queries and never decides an exit code. Files are written through
// WriteFileAtomic so that a failed run never leaves half a report.
//
// The formats for people share one wording of a result (describe.go):
// "p95{job="worker"} 212s ≤ 300s, 29% headroom (bucket 180s–240s, 1,234
// observations)". Text that comes from sources or checks (messages, errors,
// labels) is data: each format escapes it, and control characters never
// reach a terminal or a workflow command.
package report
