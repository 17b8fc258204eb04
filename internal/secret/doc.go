// Package secret owns what is secret in the text secflow-budget writes, and
// how it is masked. Every writer of text (error messages, reports, snapshot
// files) masks through it, so that a leak is a one-place fix:
//
//   - URL masks the userinfo of a URL and the values of credential query
//     and fragment parameters (token, access_token, api_key, apikey, key,
//     password, secret, sig, signature and their kin, see
//     IsCredentialParam), also in strings that do not parse as URLs (a URL
//     without a scheme, `u:pw@host:9090`).
//   - Text masks what may hide in free text: the URLs in it (as URL does),
//     credential parameters of a query string, and the values of echoed
//     Authorization, Proxy-Authorization, Cookie and Set-Cookie headers.
//   - Set remembers the secrets one client handled (tokens, passwords,
//     custom header values, the URL's credentials) and masks each of them
//     wherever it appears, then applies Text: the last line of defence for
//     what a server echoes in an error body.
//   - Quoted drops the input a parser quotes in its messages (Prometheus'
//     text and OpenMetrics parsers, rulefmt, YAML, strconv): a message
//     about a file says which file and line is wrong, never what the line
//     holds.
//
// Masked text reads Mask ("xxxxx") where the secret was. The package does
// no I/O and depends on nothing of ours.
package secret
