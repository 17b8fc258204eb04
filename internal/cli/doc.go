// Package cli owns the command line: one file per cobra command, the flags,
// the environment variables, where reports go and the exit codes (exit.go is
// the only place that maps outcomes and errors to 0-4, and signals to 130
// and 143). Nothing else in the program knows about flags or exit codes,
// and nothing here evaluates a budget.
//
// Main owns the process's lifetime: it makes the run's scratch directory
// (removed on every way out), and on SIGINT or SIGTERM cancels the run,
// lets the command write its reports, and returns within a second even
// when the command cannot stop (a FIFO that never opens).
package cli
