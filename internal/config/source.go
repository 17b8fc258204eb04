package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"sort"
	"strings"
	"unicode/utf8"
)

// readHeaders reads a source's custom headers. Names must be HTTP tokens
// and not ones the client sets itself (Authorization has its own fields,
// Host and Content-Length are the connection's); values must not hold
// line breaks or other control characters, which would split the request.
// A value is never quoted in a message: it may be a credential.
func readHeaders(f *Fields) map[string]string {
	out := map[string]string{}
	canon := map[string]string{} // canonical name -> the key as written
	for _, name := range f.Keys() {
		value, ok := f.String(name)
		if !ok {
			continue
		}
		c := http.CanonicalHeaderKey(name)
		switch {
		case !isToken(name):
			f.ErrorfKey(name, "invalid header name %q: a name is letters, digits and !#$%%&'*+-.^_`|~ only", name)
			continue
		case isReservedHeader(c):
			f.ErrorfKey(name, "header %s cannot be set here: %s", c, reservedHint(c))
			continue
		case canon[c] != "":
			f.ErrorfKey(name, "headers %q and %q name the same header %s", canon[c], name, c)
			continue
		}
		if i := strings.IndexFunc(value, isControl); i >= 0 {
			what := "a control character"
			if value[i] == '\r' || value[i] == '\n' {
				what = "a line break"
			}
			f.Errorf(name, "the value of header %s holds %s (not shown)", c, what)
			continue
		}
		canon[c] = name
		out[name] = value
	}
	f.Done(f.Keys()...)
	return out
}

// isControl reports a character that may not appear in a header value.
func isControl(r rune) bool { return (r < 0x20 && r != '\t') || r == 0x7F }

func isReservedHeader(canonical string) bool {
	_, ok := ReservedHeaders[canonical]
	return ok || hopByHopHeaders[canonical]
}

// ReservedHeaders are the headers (canonical names) that a source's
// headers may not set: they change the connection, the client sets them
// itself, or they have fields of their own. Copied from
// prometheus/common/config v0.73.1 (headers.go, ReservedHeaders), whose
// client we used before writing our own (internal/sources/httpclient), so
// that the same budgets files are accepted and refused.
var ReservedHeaders = map[string]struct{}{
	"Authorization":                       {},
	"Host":                                {},
	"Content-Encoding":                    {},
	"Content-Length":                      {},
	"Content-Type":                        {},
	"User-Agent":                          {},
	"Connection":                          {},
	"Keep-Alive":                          {},
	"Proxy-Authenticate":                  {},
	"Proxy-Authorization":                 {},
	"Www-Authenticate":                    {},
	"Accept-Encoding":                     {},
	"X-Prometheus-Remote-Write-Version":   {},
	"X-Prometheus-Remote-Read-Version":    {},
	"X-Prometheus-Scrape-Timeout-Seconds": {},

	// Added by SigV4.
	"X-Amz-Date":           {},
	"X-Amz-Security-Token": {},
	"X-Amz-Content-Sha256": {},
}

// hopByHopHeaders are the connection's own (RFC 9110, 7.6.1), which
// ReservedHeaders does not list: Go's client drops or
// rewrites them, so a value set here would never be sent as written.
var hopByHopHeaders = map[string]bool{
	"Transfer-Encoding": true,
	"Te":                true,
	"Trailer":           true,
	"Upgrade":           true,
	"Proxy-Connection":  true,
	"Connection":        true,
	"Keep-Alive":        true,
	"Accept-Encoding":   true,
}

func reservedHint(canonical string) string {
	switch canonical {
	case "Authorization", "Proxy-Authorization":
		return "use bearer_token_file, bearer_token_env or basic_auth"
	}
	return "the HTTP client sets it itself"
}

// isToken reports whether s is an HTTP token (RFC 9110, 5.6.2).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			continue
		}
		if !strings.ContainsRune("!#$%&'*+-.^_`|~", rune(c)) {
			return false
		}
	}
	return true
}

// The kinds of files a source names.
type fileKind int

const (
	credentialToken    fileKind = iota // one line: the bearer token
	credentialPassword                 // the basic auth password
	credentialOther                    // TLS CA, certificate, key
	tlsSettings                        // the tls mapping itself
	credentialEnv                      // an environment variable holding a token or password
)

// fileRef is a file named by a source, with the position of its field.
type fileRef struct {
	path      string // field path, e.g. sources.prometheus.bearer_token_file
	name      string // the file as written
	kind      fileKind
	line, col int
}

// refFile remembers the file (or, credentialEnv, the environment
// variable) of field key for CheckFiles.
func (s *Source) refFile(f *Fields, key, name string, kind fileKind) {
	v, ok := f.vals[key]
	if !ok || name == "" {
		return
	}
	at := v
	if u := f.useFor(key); u != nil {
		at = u
	}
	s.files = append(s.files, fileRef{path: f.sub(key), name: name, kind: kind, line: at.Line, col: at.Column})
}

// maxCredentialBytes bounds a token or password file: a token is a line.
const maxCredentialBytes = 64 << 10

// CheckFiles reads the credential and TLS files the source names and
// reports, at their fields' positions, each one that is missing,
// unreadable, empty, or (a token or password) more than one line or
// holding a control character or invalid UTF-8; and each environment
// variable named for a token or password that is unset or empty. It never
// quotes a file's content. Live runs call it before they build a client;
// validate checks the same files (Config.SourceFileErrors) but not the
// environment, which is the CI job's, not the file's.
func (s *Source) CheckFiles() Errors {
	errs := s.checkFiles()
	for _, r := range s.files {
		if r.kind == credentialEnv && strings.TrimSpace(os.Getenv(r.name)) == "" {
			errs = append(errs, &Error{File: s.file, Line: r.line, Col: r.col, Path: r.path, Msg: fmt.Sprintf("environment variable %s is not set or empty", r.name)})
		}
	}
	sort.SliceStable(errs, func(i, j int) bool { return errs[i].Line < errs[j].Line })
	return errs
}

// checkFiles is CheckFiles without the environment.
func (s *Source) checkFiles() Errors {
	var errs Errors
	for _, r := range s.files {
		if r.kind == tlsSettings || r.kind == credentialEnv {
			continue
		}
		if msg := checkCredentialFile(r); msg != "" {
			errs = append(errs, &Error{File: s.file, Line: r.line, Col: r.col, Path: r.path, Msg: msg})
		}
	}
	if len(errs) > 0 || s.TLS == nil {
		return errs
	}
	// The files are there: do they hold a CA and a certificate with its
	// key? The client would say so when it is built.
	for _, r := range s.files {
		if r.kind != tlsSettings {
			continue
		}
		if _, err := s.TLS.ClientConfig(); err != nil {
			errs = append(errs, &Error{File: s.file, Line: r.line, Col: r.col, Path: r.path, Msg: err.Error()})
		}
	}
	return errs
}

func checkCredentialFile(r fileRef) string {
	fh, err := os.Open(r.name)
	if err != nil {
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return fmt.Sprintf("%s: no such file", r.name)
		case errors.Is(err, fs.ErrPermission):
			return fmt.Sprintf("%s: permission denied", r.name)
		}
		return fmt.Sprintf("%s: cannot be read", r.name)
	}
	defer fh.Close()
	if st, err := fh.Stat(); err == nil && st.IsDir() {
		return fmt.Sprintf("%s is a directory, not a file", r.name)
	}
	if r.kind == credentialOther {
		return "" // TLS.ClientConfig parses certificates and says what is wrong
	}
	data, err := io.ReadAll(io.LimitReader(fh, maxCredentialBytes+1))
	if err != nil {
		return fmt.Sprintf("%s: cannot be read", r.name)
	}
	what := "token"
	if r.kind == credentialPassword {
		what = "password"
	}
	if len(data) > maxCredentialBytes {
		return fmt.Sprintf("%s is larger than %dKiB: not a %s file", r.name, maxCredentialBytes>>10, what)
	}
	text := bytes.TrimSpace(data)
	switch {
	case len(text) == 0:
		return fmt.Sprintf("%s is empty: it must hold the %s", r.name, what)
	case bytes.ContainsAny(text, "\r\n"):
		// Name the first line past the token: the line that is wrong.
		start := len(data) - len(bytes.TrimLeft(data, " \t\r\n"))
		line := bytes.Count(data[:start+bytes.IndexAny(text, "\r\n")], []byte("\n")) + 2
		return fmt.Sprintf("%s:%d: a second line: a %s file holds the %s alone, on one line (content not shown)", r.name, line, what, what)
	}
	// One line, sent as a header: the client would refuse a control
	// character or a byte that is not UTF-8 at the first request.
	start := len(data) - len(bytes.TrimLeft(data, " \t\r\n"))
	line := bytes.Count(data[:start], []byte("\n")) + 1
	if !utf8.Valid(text) {
		return fmt.Sprintf("%s:%d: invalid UTF-8: not a %s file (content not shown)", r.name, line, what)
	}
	if i := bytes.IndexFunc(text, isControl); i >= 0 {
		lineStart := bytes.LastIndexByte(data[:start], '\n') + 1
		col := utf8.RuneCount(data[lineStart:start+i]) + 1
		return fmt.Sprintf("%s:%d:%d: a control character: not a %s file (content not shown)", r.name, line, col, what)
	}
	return ""
}

// SourceFileErrors checks the files of each source the config names, as
// CheckFiles does but without the environment, in file order: what
// validate reports.
func (c *Config) SourceFileErrors() Errors {
	var errs Errors
	for _, s := range []*Source{c.Sources.Prometheus, c.Sources.Loki} {
		if s != nil {
			errs = append(errs, s.checkFiles()...)
		}
	}
	sort.SliceStable(errs, func(i, j int) bool { return errs[i].Line < errs[j].Line })
	return errs
}
