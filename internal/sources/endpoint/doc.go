// Package endpoint is the live source of endpoint budgets: it GETs a
// /metrics URL and implements sources.Endpoints.
//
// It owns the request and what comes back: the Accept header (Prometheus'
// text exposition format, as a Prometheus without OpenMetrics asks for it),
// the per-request timeout, the credentials (those of the Prometheus source:
// its headers, tenant, bearer token, basic auth and TLS client certificate,
// all through httpclient) or none for an anonymous request, how much of a
// body is kept and how far it is read to learn its full size, and turning
// every failure into a *sources.Error whose message is safe to print.
//
// An anonymous request carries no credentials at all: no Authorization
// header, no extra headers or tenant, no client certificate. It keeps the
// TLS trust settings (CA, server name, insecure_skip_verify) and the proxy,
// so that it reaches the server the same way. It never follows a redirect:
// the status a server answers an anonymous client is the finding. An
// authenticated request follows redirects on the same host only, so that
// credentials never travel to another host.
//
// It does not parse or judge the exposition (the endpoint check does), and
// it never reads budgets.yaml: it is handed a validated *config.Source.
package endpoint
