// Package httpclient is the HTTP plumbing that the live sources share: it
// turns a validated *config.Source into a round tripper (bearer token or
// basic auth from files or environment variables, TLS, proxy, extra headers
// and the tenant header, a response size limit) and remembers every secret
// it handled so that error texts can be scrubbed of them.
//
// It knows nothing about any query language or API: prometheus/ and loki/
// build their requests and read their answers themselves. It never reads
// budgets.yaml and never decides what a failure means for a budget.
package httpclient
