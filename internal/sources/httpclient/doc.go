// Package httpclient is the HTTP plumbing that the live sources share: it
// turns a validated *config.Source into a round tripper (bearer token or
// basic auth from files or environment variables, TLS, proxy, extra headers
// and the tenant header, retries with backoff, a response size limit) and
// remembers every secret it handled (a secret.Set: tokens, passwords,
// custom header values, the URL's credentials) so that error texts can be
// scrubbed of them.
//
// Credentials and headers go to the source URL's origin only: HTTPClient's
// CheckRedirect follows redirects within it and reports others as a
// *RedirectError, and the transport itself refuses a request to another
// origin before adding anything to it (net/http drops Authorization on a
// cross-host redirect, but not the headers a round tripper adds).
//
// Retries happen inside the round tripper, so every client built on it
// (client_golang for Prometheus, the Loki client) gets them alike: refused
// or lost connections, 429 (honouring Retry-After) and 5xx are sent again
// with jittered exponential backoff, never past the request's deadline;
// other 4xx never are. ResponseInfo.Attempts and RetryError tell the
// clients how many attempts a request took, for their messages.
//
// Budgets that ask a source the same thing at the same time share one
// request (Share, keyed by ShareKey: endpoint, query, time); a source's
// max_concurrency caps its requests in flight (the transport holds a slot
// until the body is read or closed).
//
// The transport is our own (roundtrip.go), not prometheus/common/config's
// HTTP client, which it reproduces for the settings we have: that package
// brought OAuth2, JWT and connection tracing (which executes html/template
// templates) into the binary (roundtrip.go says what that cost). The TLS settings are turned into a
// *tls.Config by config.TLS.ClientConfig, which loading budgets.yaml uses
// to name the line of a CA or certificate the client could not use.
//
// It knows nothing about any query language or API: prometheus/ and loki/
// build their requests and read their answers themselves. It never reads
// budgets.yaml and never decides what a failure means for a budget.
package httpclient
