// Package lokitest runs a fake Grafana Loki for tests of other packages: an
// httptest server on 127.0.0.1 that holds log entries in memory and
// answers Loki's HTTP API with the shapes, status codes and texts of Loki
// 3.7 (recorded in testdata/loki/responses), computing every number with the
// offline LogQL engine of package logql.
//
// It serves GET and POST /loki/api/v1/query (instant metric queries, time
// as unix seconds, unix nanoseconds, fractional seconds or RFC3339),
// /loki/api/v1/query_range for log queries (a stream selector and line
// filters: the entries, with limit and direction, service_name and
// detected_level as Loki adds them, categorize-labels honoured),
// /loki/api/v1/labels, /loki/api/v1/label/{name}/values, POST
// /loki/api/v1/push (JSON) and /ready; other Loki paths answer 501, unknown
// paths 404. WithAuth makes it behave like Loki with auth_enabled: every API
// request needs X-Scope-OrgID, the data loaded at start belongs to tenant
// "fake" (as data pushed while auth was off does), other tenants see only
// what was pushed to them.
//
// Differences from Loki a test may trip over: answers carry no "stats"
// (Loki adds about 3 KiB of them), metric queries over a range and log
// queries with parsers are not served, and label endpoints look at entry timestamps rather than chunks.
//
// It owns only the server and its in-memory data: it evaluates no LogQL
// itself and never touches the network beyond 127.0.0.1.
package lokitest
