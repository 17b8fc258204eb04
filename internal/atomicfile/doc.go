// Package atomicfile owns how secflow-budget writes the files it produces
// (reports, snapshot files and directories) and the temporary data it keeps
// while it runs.
//
// A file is written so that a reader sees the old file or the complete new
// one: the data goes to a temporary file beside the target, which is then
// renamed over it. Writing through a symbolic link writes the link's target
// (the temporary file goes beside the target, so the link stays a link); a
// FIFO, a character device or /dev/stdout is written directly, never renamed
// over.
//
// Every temporary name this package makes carries a marker, this host and
// the process's ID ("<prefix>secflow-budget-tmp-<host>.<pid>-<random>"), so
// that one left behind by a run that was killed (kill -9 cannot be caught)
// is recognised and removed by the next run: CleanStale removes only names
// with the marker, owned by this user, whose process is gone or that are
// older than a day.
package atomicfile
