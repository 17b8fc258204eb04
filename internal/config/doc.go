// Package config owns budgets.yaml: its types, loading, defaults, units and
// validation of the fields every budget shares. Type-specific fields are left
// in a Fields value for the budget type's builder (package checks) to read, so
// that adding a budget type touches no code here. Every error carries the
// file, line, column and field path of the offending value.
//
// The package does no network or file access beyond reading the config file.
package config
