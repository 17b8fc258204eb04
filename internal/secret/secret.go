package secret

import (
	"net/url"
	"regexp"
	"strings"
)

// Mask is what stands where a secret was.
const Mask = "xxxxx"

// credentialParams are query parameter names that carry credentials, in
// lower case: those the usual APIs (OAuth, API gateways, signed URLs) put
// in URLs.
var credentialParams = map[string]bool{
	"token": true, "access_token": true, "api_key": true, "apikey": true, "key": true,
	"password": true, "secret": true, "sig": true, "signature": true,
	"pass": true, "passwd": true, "pwd": true, "auth": true, "authorization": true,
	"credential": true, "credentials": true, "jwt": true,
}

// credentialSuffixes catch the kin of the names above (refresh_token,
// client_secret, X-Amz-Signature, private-key), compared with separators
// removed.
var credentialSuffixes = []string{"token", "secret", "password", "passwd", "signature", "apikey", "accesskey", "privatekey", "credential", "credentials"}

// IsCredentialParam reports whether a query (or fragment) parameter named
// name carries a credential, whatever its case or percent-encoding.
func IsCredentialParam(name string) bool {
	if un, err := url.QueryUnescape(name); err == nil {
		name = un
	}
	name = strings.ToLower(strings.TrimSpace(name))
	if credentialParams[name] {
		return true
	}
	if strings.HasSuffix(name, "_key") || strings.HasSuffix(name, "-key") || strings.HasSuffix(name, ".key") {
		return true
	}
	squashed := strings.NewReplacer("_", "", "-", "", ".", "").Replace(name)
	for _, s := range credentialSuffixes {
		if strings.HasSuffix(squashed, s) {
			return true
		}
	}
	return false
}

// URL returns raw fit to print: userinfo and the values of credential
// parameters (query and fragment) replaced by Mask, everything else as
// given. Everything between the scheme's "://" (or the start, for a URL
// without a scheme such as `u:pw@host:9090`) and the last '@' is taken for
// userinfo: a password may hold '/', '?', '#' or '@' unescaped, and no
// parse tells such a URL apart from one with an '@' in its path or query.
// Masking a rare URL too much beats printing a password.
func URL(raw string) string {
	if raw == "" {
		return raw
	}
	prefix, rest := "", raw
	if i := schemeSep(raw); i > 0 {
		prefix, rest = raw[:i+3], raw[i+3:]
	} else if strings.HasPrefix(raw, "//") {
		prefix, rest = "//", raw[2:]
	}
	// Parameters first: a token's value may hold an '@'.
	rest = maskParams(rest)
	if at := strings.LastIndex(rest, "@"); at >= 0 {
		rest = Mask + rest[at:]
	}
	return prefix + rest
}

// schemeSep is the index of "://" after a valid scheme, or -1.
func schemeSep(s string) int {
	i := strings.Index(s, "://")
	if i <= 0 {
		return -1
	}
	for j := 0; j < i; j++ {
		c := s[j]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case j > 0 && ('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'):
		default:
			return -1
		}
	}
	return i
}

// maskParams masks credential parameters in the query and the fragment
// of s (a URL without its scheme), leaving the rest byte for byte.
func maskParams(s string) string {
	q := strings.IndexByte(s, '?')
	f := strings.IndexByte(s, '#')
	switch {
	case q >= 0 && (f < 0 || q < f):
		if f < 0 {
			return s[:q+1] + maskPairs(s[q+1:])
		}
		return s[:q+1] + maskPairs(s[q+1:f]) + "#" + maskPairs(s[f+1:])
	case f >= 0:
		return s[:f+1] + maskPairs(s[f+1:])
	}
	return s
}

// maskPairs masks the values of credential parameters in k=v&k=v.
func maskPairs(s string) string {
	if !strings.Contains(s, "=") {
		return s
	}
	parts := strings.Split(s, "&")
	for i, p := range parts {
		if k, v, ok := strings.Cut(p, "="); ok && v != "" && IsCredentialParam(k) {
			parts[i] = k + "=" + Mask
		}
	}
	return strings.Join(parts, "&")
}

var (
	// A URL in free text ends at whitespace, a quote or an angle bracket.
	textURLRE = regexp.MustCompile("[A-Za-z][A-Za-z0-9+.-]*://[^\\s\"'`<>]+")
	// A query parameter outside a full URL: "GET /api?token=abc".
	textParamRE = regexp.MustCompile("([?&])([^=&?#\\s\"'`<>]+)=([^&#\\s\"'`<>]+)")
	// An echoed header, as text ("Cookie: a=b"), JSON ("cookie":["a=b"])
	// or a Go map (Cookie:[a=b]): the value, to the end of the line or
	// the closing quote or bracket.
	// A name after a dot is a field path (headers.Authorization: ...),
	// not an echoed header.
	textHeaderRE = regexp.MustCompile(`(?i)(^|[^.\w-])((?:proxy-)?authorization|(?:set-)?cookie)(["']?\s*[:=]\s*\[?\s*["']?)([^"'\]\r\n]+)`)
)

// URLs masks the URLs in s as URL does, and credential parameters of
// query strings ("/api?token=abc"), and nothing else: for text that is
// code (a query), where Text's header patterns could match a label
// matcher such as {cookie="x"}.
func URLs(s string) string {
	if strings.Contains(s, "://") {
		s = textURLRE.ReplaceAllStringFunc(s, func(m string) string {
			// Punctuation after a URL belongs to the sentence.
			u := strings.TrimRight(m, ".,;:!)]}")
			return URL(u) + m[len(u):]
		})
	}
	if strings.ContainsAny(s, "?&") {
		s = textParamRE.ReplaceAllStringFunc(s, func(m string) string {
			sub := textParamRE.FindStringSubmatch(m)
			v := strings.TrimRight(sub[3], ".,;:!)]}")
			if !IsCredentialParam(sub[2]) || v == Mask || v == "" {
				return m
			}
			return sub[1] + sub[2] + "=" + Mask + sub[3][len(v):]
		})
	}
	return s
}

// Text masks what may be secret in free text (an error message, a body a
// server answered): the URLs in it as URL does, credential parameters of
// query strings, and the values of Authorization, Proxy-Authorization,
// Cookie and Set-Cookie headers it echoes.
func Text(s string) string {
	if s == "" {
		return s
	}
	s = URLs(s)
	return textHeaderRE.ReplaceAllStringFunc(s, func(m string) string {
		sub := textHeaderRE.FindStringSubmatch(m)
		if strings.TrimSpace(sub[4]) == "" {
			return m
		}
		return sub[1] + sub[2] + sub[3] + Mask
	})
}

// NotShown stands in for input a parser quoted.
const NotShown = "(not shown)"

// Quoted returns a parser's message without the input it quotes: every
// span in double quotes, backquotes or single quotes (as Go's %q, YAML's
// `...` and PromQL's '...' print it) longer than two characters becomes
// NotShown. What is left says what is wrong, and the caller says where.
func Quoted(msg string) string {
	var b strings.Builder
	for i := 0; i < len(msg); {
		c := msg[i]
		if (c == '"' || c == '`' || c == '\'') && opensQuote(msg, i) {
			end := closingQuote(msg, i)
			if end-i-1 > 2 {
				b.WriteString(NotShown)
			} else {
				b.WriteString(msg[i:min(end+1, len(msg))])
			}
			i = end + 1
			continue
		}
		b.WriteByte(c)
		i++
	}
	return b.String()
}

// opensQuote: a single quote opens a span only where it cannot be an
// apostrophe ("can't"), i.e. not after a letter or digit.
func opensQuote(s string, i int) bool {
	if s[i] != '\'' || i == 0 {
		return true
	}
	p := s[i-1]
	return !('a' <= p && p <= 'z' || 'A' <= p && p <= 'Z' || '0' <= p && p <= '9')
}

// closingQuote is the index of the quote that closes the span opened at
// i (backslash escapes skipped in double and single quotes), or the end
// of s when it is never closed: an unclosed quote hides the rest.
func closingQuote(s string, i int) int {
	q := s[i]
	for j := i + 1; j < len(s); j++ {
		switch s[j] {
		case '\\':
			if q != '`' {
				j++
			}
		case q:
			return j
		}
	}
	return len(s)
}
