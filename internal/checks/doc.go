// Package checks turns validated budgets into queries, reads the answers from
// a source and judges them. One budget type is one file with a builder and a
// Check; registry.go lists them. A check never prints and never decides an
// exit code: it returns an Evaluation, and Run turns evaluations into
// Outcomes (statuses, on_missing, severity, timing) for the reporters.
package checks
