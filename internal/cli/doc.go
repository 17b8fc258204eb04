// Package cli owns the command line: one file per cobra command, the flags,
// the environment variables, where reports go and the exit codes (exit.go is
// the only place that maps outcomes and errors to 0-4). Nothing else in the
// program knows about flags or exit codes, and nothing here evaluates a
// budget.
package cli
