package secret

import (
	"encoding/base64"
	"net/url"
	"slices"
	"strings"
)

// MinLen is the length below which a value is not masked wherever it
// appears: masking a one- or two-letter user name everywhere would garble
// the text and hide nothing.
const MinLen = 4

// Set is the secrets one client handled: tokens, passwords, custom header
// values, the credentials of its URL. Build it before use; Scrub is then
// safe for concurrent use.
type Set struct {
	values []string // longest first, so that no part of a longer one is left
}

// Add remembers v, and the escaped forms in which net/http and url.Error
// print it.
func (s *Set) Add(v string) {
	for _, form := range []string{v, url.QueryEscape(v), url.PathEscape(v)} {
		if len(form) >= MinLen && !slices.Contains(s.values, form) {
			s.values = append(s.values, form)
		}
	}
	slices.SortStableFunc(s.values, func(a, b string) int { return len(b) - len(a) })
}

// AddBasic remembers a basic auth password and the Authorization header
// value made of it, which a server or proxy may echo in an error.
func (s *Set) AddBasic(user, password string) {
	s.Add(user)
	if password != "" {
		s.Add(password)
		s.Add(base64.StdEncoding.EncodeToString([]byte(user + ":" + password)))
	}
}

// AddURL remembers the credentials of u: its userinfo and the values of
// its credential parameters.
func (s *Set) AddURL(u *url.URL) {
	if u == nil {
		return
	}
	if u.User != nil {
		pw, _ := u.User.Password()
		s.AddBasic(u.User.Username(), pw)
	}
	for _, raw := range []string{u.RawQuery, u.EscapedFragment()} {
		for _, p := range strings.Split(raw, "&") {
			k, v, ok := strings.Cut(p, "=")
			if !ok || !IsCredentialParam(k) {
				continue
			}
			s.Add(v)
			if un, err := url.QueryUnescape(v); err == nil {
				s.Add(un)
			}
		}
	}
}

// Scrub masks every value of the set in text, then what Text masks.
func (s *Set) Scrub(text string) string {
	if s != nil {
		for _, v := range s.values {
			text = strings.ReplaceAll(text, v, Mask)
		}
	}
	return Text(text)
}
