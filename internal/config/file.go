package config

// File is the budgets file these fields were read from, as given to Load.
// Paths inside a budget (an alert_rules budget's rules_files) are relative
// to its directory, not to the working directory, so that a budgets file
// means the same wherever the CLI is started.
func (f *Fields) File() string { return f.file }
