package secret

import (
	"net/url"
	"strings"
	"testing"
)

func TestHostileURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"http://localhost:9090", "http://localhost:9090"},
		{"http://prom:9090/base/?x=1#top", "http://prom:9090/base/?x=1#top"},
		{"http://bob:p%40ss@loki.example:3100/base", "http://xxxxx@loki.example:3100/base"},
		{"https://bob@host", "https://xxxxx@host"},
		{"//u:pw@host:9090/x", "//xxxxx@host:9090/x"},
		// No scheme: Go reads "u" as the scheme and the rest as opaque.
		{"u:Pw@host:9090", "xxxxx@host:9090"},
		{"u:Pw@host:9090/api?token=abc", "xxxxx@host:9090/api?token=xxxxx"},
		{"host:9090", "host:9090"},
		// Unparsable: a password with an unescaped '/', '#' or '?'.
		{"http://u:p/w@host:9090/", "http://xxxxx@host:9090/"},
		{"http://u:p#w@host:9090", "http://xxxxx@host:9090"},
		{"http://u:p?w@host:9090", "http://xxxxx@host:9090"},
		{"http://u:p w@host", "http://xxxxx@host"},
		// Parses, with the password's '#' or '?' taken for a delimiter.
		{"http://u:#pw@host/x", "http://xxxxx@host/x"},
		{"http://user#x:pw@host", "http://xxxxx@host"},
		{"//0:#000@00", "//xxxxx@00"},
		{"http://u:#p/w@host", "http://xxxxx@host"},
		{"http://u/:pw@host", "http://xxxxx@host"},
		{"http://u:p?w@host/?token=abc", "http://xxxxx@host/?token=xxxxx"},
		// An '@' in a path or query is taken for userinfo's end too: too
		// much masked, never too little.
		{"http://host/?email=a@b.example&x=1", "http://xxxxx@b.example&x=1"},
		{"http://host/users/@me", "http://xxxxx@me"},
		{"http://h/?token=a@b&x=1", "http://h/?token=xxxxx&x=1"},
		// Credential parameters, in any case and encoding.
		{"http://h/?token=abc&x=1", "http://h/?token=xxxxx&x=1"},
		{"http://h/?TOKEN=abc", "http://h/?TOKEN=xxxxx"},
		{"http://h/?Access_Token=abc", "http://h/?Access_Token=xxxxx"},
		{"http://h/?api_key=abc&apikey=d&key=e&password=f&secret=g&sig=h&signature=i&q=up",
			"http://h/?api_key=xxxxx&apikey=xxxxx&key=xxxxx&password=xxxxx&secret=xxxxx&sig=xxxxx&signature=xxxxx&q=up"},
		{"http://h/?%74oken=abc", "http://h/?%74oken=xxxxx"},
		{"http://h/?X-Amz-Signature=abc&client_secret=d&refresh_token=e", "http://h/?X-Amz-Signature=xxxxx&client_secret=xxxxx&refresh_token=xxxxx"},
		{"http://h/#access_token=abc&state=1", "http://h/#access_token=xxxxx&state=1"},
		{"http://h/?a=1#sig=abc", "http://h/?a=1#sig=xxxxx"},
		{"http://h/?token=", "http://h/?token="},
		{"http://u:pw@h/?token=abc", "http://xxxxx@h/?token=xxxxx"},
		// Not credentials.
		{"http://h/?monkey=1&keys=2&query=up", "http://h/?monkey=1&keys=2&query=up"},
	}
	for _, tt := range tests {
		if got := URL(tt.in); got != tt.want {
			t.Errorf("URL(%q) = %q, want %q", tt.in, got, tt.want)
		}
		// Masking twice changes nothing.
		if got := URL(URL(tt.in)); got != tt.want {
			t.Errorf("URL(URL(%q)) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestHostileIsCredentialParam(t *testing.T) {
	for name, want := range map[string]bool{
		"token": true, "TOKEN": true, "access_token": true, "api_key": true, "apikey": true, "APIKey": true,
		"key": true, "password": true, "secret": true, "sig": true, "Signature": true,
		"client_secret": true, "refresh_token": true, "x-amz-signature": true, "private_key": true, "%6Bey": true,
		"query": false, "time": false, "monkey": false, "keys": false, "step": false, "signal": false, "": false,
	} {
		if got := IsCredentialParam(name); got != want {
			t.Errorf("IsCredentialParam(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestHostileText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"cannot reach http://u:pw@h:9090/?token=abc: refused", "cannot reach http://xxxxx@h:9090/?token=xxxxx: refused"},
		{`Get "http://u:pw@h/x": EOF`, `Get "http://xxxxx@h/x": EOF`},
		{"GET /api/v1/query?query=up&api_key=abc123 failed", "GET /api/v1/query?query=up&api_key=xxxxx failed"},
		{"bad request\nCookie: session=abc; other=def\nHost: x", "bad request\nCookie: xxxxx\nHost: x"},
		{"Set-Cookie: sid=abc; Path=/; HttpOnly", "Set-Cookie: xxxxx"},
		{`{"headers":{"Cookie":["sid=abc"],"Authorization":["Bearer tok123"]}}`, `{"headers":{"Cookie":["xxxxx"],"Authorization":["xxxxx"]}}`},
		{"map[Authorization:[Bearer tok123] Accept:[*/*]]", "map[Authorization:[xxxxx] Accept:[*/*]]"},
		{"authorization: Basic Ym9iOnB3", "authorization: xxxxx"},
		{"proxy-authorization=Basic Ym9iOnB3", "proxy-authorization=xxxxx"},
		// Nothing to mask.
		{`parse error: unexpected "}" in sum(up{job="a"})`, `parse error: unexpected "}" in sum(up{job="a"})`},
		{"set either a bearer token or basic_auth", "set either a bearer token or basic_auth"},
		{"no authorization header configured", "no authorization header configured"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := Text(tt.in); got != tt.want {
			t.Errorf("Text(%q)\n = %q\nwant %q", tt.in, got, tt.want)
		}
	}
}

func TestHostileQuoted(t *testing.T) {
	tests := []struct{ in, want string }{
		{`text format parsing error in line 2: expected float as value, got "hunter2"`, "text format parsing error in line 2: expected float as value, got (not shown)"},
		{`strconv.ParseFloat: parsing "SECRET": invalid syntax while parsing: "a_total{x=\"y\"} SECRET"`, "strconv.ParseFloat: parsing (not shown): invalid syntax while parsing: (not shown)"},
		{"yaml: unmarshal errors:\n  line 1: cannot unmarshal !!str `SECRET` into []string", "yaml: unmarshal errors:\n  line 1: cannot unmarshal !!str (not shown) into []string"},
		{`expected label value, got "\"SECRET} 1 1795694400\n" ("INVALID")`, "expected label value, got (not shown) ((not shown))"},
		{`1:6: parse error: unexpected character: '@'`, `1:6: parse error: unexpected character: '@'`},
		{`unexpected 'SECRET'`, "unexpected (not shown)"},
		{"invalid character 'h' looking for beginning of value", "invalid character 'h' looking for beginning of value"},
		{"the file can't be read, isn't it?", "the file can't be read, isn't it?"},
		{`unclosed "SECRET and more`, "unclosed (not shown)"},
		{`empty "" and short "ab"`, `empty "" and short "ab"`},
		{"no quotes at all", "no quotes at all"},
	}
	for _, tt := range tests {
		if got := Quoted(tt.in); got != tt.want {
			t.Errorf("Quoted(%q)\n = %q\nwant %q", tt.in, got, tt.want)
		}
	}
}

func TestHostileSet(t *testing.T) {
	var s Set
	u, err := url.Parse("http://bob:p%40ss-word@h:9090/?token=t0k%2Fen&x=1")
	if err != nil {
		t.Fatal(err)
	}
	s.AddURL(u)
	s.Add("X-Custom-Value-123")
	s.Add("abc") // too short to mask everywhere
	s.AddBasic("ci-user", "basic-pw-999")

	tests := []struct{ in, want string }{
		{"user bob sent p@ss-word and p%40ss-word", "user bob sent xxxxx and xxxxx"},
		{"token t0k/en or t0k%2Fen", "token xxxxx or xxxxx"},
		{"echo: X-Custom-Value-123", "echo: xxxxx"},
		{"got Basic Y2ktdXNlcjpiYXNpYy1wdy05OTk=", "got Basic xxxxx"},
		{"abc stays", "abc stays"},
		{"Cookie: sid=zzz", "Cookie: xxxxx"},
	}
	for _, tt := range tests {
		if got := s.Scrub(tt.in); got != tt.want {
			t.Errorf("Scrub(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	// A nil set still applies Text.
	var none *Set
	if got := none.Scrub("http://u:pw@h/"); strings.Contains(got, "pw") {
		t.Errorf("nil Set: %q", got)
	}
}

func TestHostileURLsLeavesCodeAlone(t *testing.T) {
	tests := []struct{ in, want string }{
		{`sum(up{cookie="abc", authorization="x"})`, `sum(up{cookie="abc", authorization="x"})`},
		{`{service="api"} |= "GET /login?password=hunter2&x=1"`, `{service="api"} |= "GET /login?password=xxxxx&x=1"`},
		{"GET http://u:pw@h:1/metrics?sig=abc", "GET http://xxxxx@h:1/metrics?sig=xxxxx"},
	}
	for _, tt := range tests {
		if got := URLs(tt.in); got != tt.want {
			t.Errorf("URLs(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// A config error's field path ends in a header name followed by ": " and
// the message: that is not an echoed header, and the message must show.
func TestHostileTextFieldPathIsNotAHeader(t *testing.T) {
	in := "b.yaml:5:15: sources.prometheus.headers.Authorization: header Authorization cannot be set here"
	if got := Text(in); got != in {
		t.Errorf("Text(%q) = %q, want it unchanged", in, got)
	}
	if got := Text("Authorization: Bearer abc"); got != "Authorization: "+Mask {
		t.Errorf("an echoed header is still masked: got %q", got)
	}
}
