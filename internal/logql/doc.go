// Package logql parses and evaluates the subset of LogQL that log budgets
// generate, with Grafana Loki's semantics, so that an offline snapshot
// gives the numbers Loki gives for the same entries.
//
// It owns: the parser (Parse, ParseSelector) and its Loki-compatible error
// texts; a one-pass evaluator (Evaluator) that answers any number of
// instant metric queries from one stream of entries; and the parts of
// Loki's ingestion that change query answers: the service_name index label,
// the detected_level structured metadata, and duplicate entries stored once.
//
// Supported: optional `sum [by|without (...)]` around count_over_time or
// bytes_over_time of `SELECTOR PIPELINE [RANGE]`; stream matchers = != =~
// !~; line filters |= != |~ !~ (with `or`); `| json` (with or without
// parameters), `| logfmt`, string label filters (`| __error__=""`) and
// `| drop`. Everything else Loki accepts is a *ParseError saying it is
// unsupported, never a silently different answer.
//
// Semantics, as recorded from Loki 3.7 (testdata/loki/README.md): a range
// [W] at T counts entries with T-W < ts <= T to the nanosecond;
// bytes_over_time counts the UTF-8 bytes of the line as pushed; an entry
// with the same stream, timestamp and line as another is counted once; a
// group with no entries is absent, never 0; an entry that keeps a parse
// error (__error__) fails the query, unless a sum names __error__ in a
// label filter or its grouping (testdata/loki/structure/README.md).
//
// It does not read files (the snapshot source does) and knows nothing of
// budgets. Written from Loki's documented and observed behaviour; no code
// comes from Loki.
package logql
