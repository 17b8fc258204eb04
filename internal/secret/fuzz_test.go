package secret

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzURLHidesCredentials: whatever the user name, password, host and
// scheme (or none), URL never shows a password that appears nowhere else
// in the input, nor the value of a token parameter.
func FuzzURLHidesCredentials(f *testing.F) {
	f.Add("http://", "ci", "Pw-secret", "prom.example:9090", "/api")
	f.Add("", "u", "Pw", "host:9090", "")
	f.Add("https://", "u", "p/w#x?y", "h", "/x")
	f.Add("//", "a b", "c@d", "h", "")
	f.Fuzz(func(t *testing.T, scheme, user, pw, host, path string) {
		if len(pw) < 4 || strings.ContainsAny(pw, "\x00") {
			return
		}
		raw := scheme + user + ":" + pw + "@" + host + path
		rest := strings.Replace(raw, pw, "", 1)
		if strings.Contains(rest, pw) || strings.Contains(scheme+Mask+"@"+host+path, pw) {
			return // the password is also elsewhere, or made of the mask and what follows it: nothing to tell
		}
		if got := URL(raw); strings.Contains(got, pw) {
			t.Errorf("URL(%q) = %q shows the password", raw, got)
		}
		tok := "tk" + pw
		withToken := "http://" + host + "/?x=1&token=" + url.QueryEscape(tok)
		if strings.Contains(strings.Replace(withToken, url.QueryEscape(tok), "", 1), url.QueryEscape(tok)) {
			return
		}
		if got := URL(withToken); strings.Contains(got, url.QueryEscape(tok)) {
			t.Errorf("URL(%q) = %q shows the token", withToken, got)
		}
	})
}

// FuzzQuoted: whatever a parser's message says around it, a quoted span
// of input never survives Quoted.
func FuzzQuoted(f *testing.F) {
	f.Add(`text format parsing error in line 2: expected float as value, got `, `hunter2`, ` (x)`)
	f.Add("yaml: line 1: cannot unmarshal !!str ", "SECRET", " into int")
	f.Add("can't ", "abc", "")
	f.Fuzz(func(t *testing.T, before, input, after string) {
		if len(input) < 3 || strings.ContainsAny(input, "\"\\`'") || strings.ContainsAny(before+after, "\"`'") {
			return
		}
		for _, q := range []string{`"`, "`"} {
			msg := before + q + input + q + after
			got := Quoted(msg)
			if strings.Contains(got, q+input+q) {
				t.Errorf("Quoted(%q) = %q keeps the quoted input", msg, got)
			}
		}
	})
}
