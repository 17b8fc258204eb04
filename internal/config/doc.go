// Package config owns budgets.yaml: its types, loading, defaults, units and
// validation of the fields every budget shares. Type-specific fields are left
// in a Fields value for the budget type's builder (package checks) to read, so
// that adding a budget type touches no code here. Every error carries the
// file, line, column and field path of the offending value.
//
// YAML anchors, aliases and merge keys are followed, with errors reported
// where they are used. The file, its expressions and its merges are
// bounded (MaxFileBytes and the limits in fields.go), so that no file costs
// more than reading it.
//
// The package does no network access. It reads the config file and, only
// when asked (Source.CheckFiles, for validate and live runs), the
// credential and TLS files a source names: never their content into a
// message.
package config
