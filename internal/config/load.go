package config

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/secflow/secflow-budget/internal/secret"
)

// TypeReader reads the type-specific fields of a budget (through b.Fields)
// and returns the keys its type allows; Load reports any other key. It lets
// the budget types live in package checks while one pass over the file finds
// every error.
type TypeReader func(b *Budget) (allowed []string)

// MaxFileBytes bounds the budgets file: SecFlow's is 6KiB, and a file
// past this is not a budgets file (or -c names /dev/zero).
const MaxFileBytes = 4 << 20

// Load reads and validates a budgets file; read (may be nil) validates each
// budget's type-specific fields. The error is an Errors naming every problem.
func Load(path string, read TypeReader) (*Config, error) {
	data, err := readFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, Errors{{File: path, Msg: "file not found (pass the budgets file with -c/--config)"}}
		}
		var pe *fs.PathError
		if errors.As(err, &pe) {
			// The path is already the start of the message.
			err = pe.Err
		}
		return nil, Errors{{File: path, Msg: err.Error()}}
	}
	return Parse(path, data, read)
}

// readFile reads at most MaxFileBytes of path.
func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxFileBytes {
		return nil, fmt.Errorf("file is larger than %dMiB: not a budgets file", MaxFileBytes>>20)
	}
	return data, nil
}

// The keys of a budgets file (besides x-* extension keys), of defaults, of
// a regression mapping (a budget's, and defaults.regression, which refuses
// the absolute ones: their unit is the budget's) and of a waiver: exactly
// the declared ones (fielddef.go), from which the JSON Schema is generated.
var (
	topFields        = FieldNames(TopFieldDefs())
	defaultsFields   = FieldNames(DefaultsFieldDefs())
	regressionFields = FieldNames(RegressionFieldDef("regression", "").Fields)
	waiverFields     = FieldNames(WaiverFieldDefs())
)

// RegressionFields returns the keys of a regression mapping.
func RegressionFields() []string { return slices.Clone(regressionFields) }

// WaiverFields returns the keys of a waiver.
func WaiverFields() []string { return slices.Clone(waiverFields) }

// Parse is Load on bytes already read; path names the file in errors.
func Parse(path string, data []byte, read TypeReader) (*Config, error) {
	if e := checkText(path, data); e != nil {
		return nil, Errors{e}
	}
	doc, e := decodeYAML(path, data)
	if e != nil {
		return nil, Errors{e}
	}
	if len(doc.Content) == 0 || isNull(doc.Content[0]) {
		return nil, Errors{{File: path, Msg: "file is empty: want version: 1 and a list of budgets"}}
	}
	if root := resolve(doc.Content[0]); root.Kind != yaml.MappingNode {
		return nil, Errors{{File: path, Line: root.Line, Col: root.Column, Msg: fmt.Sprintf("want a mapping with version: 1 and budgets, got %s", kindName(root))}}
	}
	errs := &Errors{}
	top := newFields(path, "", "budgets file", doc.Content[0], errs, nil)
	if !top.Has("version") && !top.Has("budgets") && !top.hasNearMiss(topFields) {
		// -c names some other file (/etc/shadow, a JSON of keys): one
		// line, and none of its keys, which may be its secrets. A
		// budgets file with both keys misspelt (versoin, budget) is
		// still one: its near misses are named below.
		root := resolve(doc.Content[0])
		return nil, Errors{{File: path, Line: root.Line, Col: root.Column, Msg: "not a budgets file: it has no version or budgets"}}
	}
	for _, k := range top.Keys() {
		// Extension fields, as in docker-compose: a place for anchors
		// (x-common: &common) that budgets merge with <<: *common.
		if strings.HasPrefix(k, "x-") {
			top.used[k] = true
		}
	}
	cfg := &Config{File: path, Defaults: Defaults{Window: time.Hour, OnMissing: MissingFail}}

	if top.Require("version") {
		if v, ok := top.Int("version"); ok {
			if v != 1 {
				top.Errorf("version", "unsupported version %d: this secflow-budget reads version 1", v)
			}
			cfg.Version = v
		}
	}
	if d, ok := top.Map("defaults"); ok {
		if w, ok := d.Duration("window"); ok {
			cfg.Defaults.Window = w
		}
		if m, ok := onMissing(d); ok {
			cfg.Defaults.OnMissing = m
		}
		if r, ok := d.Map("regression"); ok {
			cfg.Defaults.Regression = readRegression(r, "", true)
		}
		d.Done(defaultsFields...)
	}
	if s, ok := top.Map("sources"); ok {
		if p, ok := s.Map("prometheus"); ok {
			cfg.Sources.Prometheus = parseSource(p)
		}
		if l, ok := s.Map("loki"); ok {
			cfg.Sources.Loki = parseSource(l)
		}
		for _, src := range []*Source{cfg.Sources.Prometheus, cfg.Sources.Loki} {
			if src != nil {
				src.file = path
			}
		}
		s.Done("prometheus", "loki")
	}
	if top.Require("budgets") {
		var list []*Fields
		if v := top.vals["budgets"]; isNull(v) || (v.Kind == yaml.SequenceNode && len(v.Content) == 0) {
			top.used["budgets"] = true
		} else {
			list, _ = top.List("budgets")
		}
		seen := map[string]*Budget{}
		for i, bf := range list {
			b := parseBudget(cfg, i, bf, read)
			if b == nil {
				continue
			}
			if prev, dup := seen[b.Name]; dup && b.Name != "" {
				bf.Errorf("name", "duplicate budget name %q (first used by budgets[%d] at line %d)", b.Name, prev.Index, prev.Line)
			}
			seen[b.Name] = b
			cfg.Budgets = append(cfg.Budgets, b)
		}
		if v := top.vals["budgets"]; len(list) == 0 && (isNull(v) || v.Kind == yaml.SequenceNode) {
			top.Errorf("budgets", "no budgets: add at least one")
		}
	}
	if top.Has("waivers") {
		cfg.Waivers = parseWaivers(top, cfg.Budgets)
	}
	top.Done(topFields...)
	if err := errs.Err(); err != nil {
		return nil, SortErrors(*errs)
	}
	return cfg, nil
}

// commonFields are the keys every budget may have.
var commonFields = []string{"name", "type", "description", "severity", "tags", "category", "window", "on_missing", "runbook", "regression"}

// CommonFields returns the keys every budget may have, for unknown-key hints.
func CommonFields() []string { return slices.Clone(commonFields) }

func parseBudget(cfg *Config, i int, f *Fields, read TypeReader) *Budget {
	if f.node.Kind != yaml.MappingNode {
		return nil
	}
	b := &Budget{Index: i, Line: f.node.Line, Col: f.node.Column, Window: cfg.Defaults.Window, OnMissing: cfg.Defaults.OnMissing, Fields: f}
	if f.Require("name") {
		if n, ok := f.String("name"); ok {
			if !nameRE.MatchString(n) {
				f.Errorf("name", "invalid name %q: use lower-case letters, digits, '.', '_' and '-', starting with a letter or digit", n)
			}
			b.Name = n
		}
	}
	typeOK := false
	if f.Require("type") {
		b.Type, typeOK = f.String("type")
	}
	b.Description, _ = f.String("description")
	b.Runbook, _ = f.String("runbook")
	if s, ok := f.String("severity"); ok {
		switch s {
		case "error":
			b.Severity = SeverityError
		case "warning", "warn":
			b.Severity = SeverityWarning
		default:
			f.Errorf("severity", "invalid severity %q: want error or warning", s)
		}
	}
	if t, ok := f.Strings("tags"); ok {
		b.Tags = t
	}
	if c, ok := f.String("category"); ok {
		if !slices.Contains(Categories, c) {
			f.Errorf("category", "invalid category %q: want one of %s", c, strings.Join(Categories, ", "))
		}
		b.Category = c
	}
	if w, ok := f.Duration("window"); ok {
		b.Window = w
	}
	if m, ok := onMissing(f); ok {
		b.OnMissing = m
	}
	var allowed []string
	if read != nil && typeOK {
		allowed = read(b)
	}
	// After the type's reader: it says in which unit (b.ValueKind) the
	// absolute regression limits are written.
	b.Regression = cfg.Defaults.Regression
	if r, ok := f.Map("regression"); ok {
		b.Regression = readRegression(r, b.ValueKind, false)
	}
	f.Done(append(CommonFields(), allowed...)...)
	return b
}

func onMissing(f *Fields) (OnMissing, bool) {
	s, ok := f.String("on_missing")
	if !ok {
		return "", false
	}
	switch m := OnMissing(s); m {
	case MissingFail, MissingWarn, MissingPass, MissingSkip:
		return m, true
	}
	f.Errorf("on_missing", "invalid on_missing %q: want fail, warn, pass or skip", s)
	return "", false
}

func parseSource(f *Fields) *Source {
	s := &Source{Timeout: DefaultSourceTimeout}
	if u, ok := f.String("url"); ok {
		if err := CheckURL(u); err != nil {
			f.Errorf("url", "%v", err)
		}
		s.URL = u
	}
	if t, ok := f.Duration("timeout"); ok {
		s.Timeout = t
	}
	if h, ok := f.Map("headers"); ok {
		s.Headers = readHeaders(h)
	}
	s.Tenant, _ = f.String("tenant")
	if strings.ContainsFunc(s.Tenant, isControl) {
		f.Errorf("tenant", "the tenant holds a line break or another control character: it is sent as the X-Scope-OrgID header")
	}
	s.BearerTokenFile, _ = f.String("bearer_token_file")
	s.BearerTokenEnv, _ = f.String("bearer_token_env")
	s.refFile(f, "bearer_token_file", s.BearerTokenFile, credentialToken)
	s.refFile(f, "bearer_token_env", s.BearerTokenEnv, credentialEnv)
	if s.BearerTokenFile != "" && s.BearerTokenEnv != "" {
		f.Errorf("bearer_token_env", "set only one of bearer_token_file and bearer_token_env")
	}
	if f.Has("bearer_token") || f.Has("password") {
		key := "bearer_token"
		if !f.Has(key) {
			key = "password"
		}
		f.used[key] = true
		f.Errorf(key, "secrets are not read from budgets.yaml: use %s_file or %s_env", key, key)
	}
	if ba, ok := f.Map("basic_auth"); ok {
		s.BasicAuth = &BasicAuth{}
		if ba.Require("username") {
			s.BasicAuth.Username, _ = ba.String("username")
			if strings.ContainsRune(s.BasicAuth.Username, ':') || strings.ContainsFunc(s.BasicAuth.Username, isControl) {
				ba.Errorf("username", "a basic auth user name cannot hold ':' or control characters")
			}
		}
		s.BasicAuth.PasswordFile, _ = ba.String("password_file")
		s.BasicAuth.PasswordEnv, _ = ba.String("password_env")
		s.refFile(ba, "password_file", s.BasicAuth.PasswordFile, credentialPassword)
		s.refFile(ba, "password_env", s.BasicAuth.PasswordEnv, credentialEnv)
		if ba.Has("password") {
			ba.used["password"] = true
			ba.Errorf("password", "secrets are not read from budgets.yaml: use password_file or password_env")
		} else {
			switch {
			case ba.Has("password_file") && ba.Has("password_env"):
				ba.Errorf("password_env", "set only one of password_file and password_env")
			case s.BasicAuth.PasswordFile == "" && s.BasicAuth.PasswordEnv == "":
				ba.Errorf("password_file", "basic_auth needs a password: set password_file or password_env")
			}
		}
		if s.BearerTokenFile != "" || s.BearerTokenEnv != "" {
			f.Errorf("basic_auth", "set either a bearer token or basic_auth, not both")
		}
		ba.Done("username", "password_file", "password_env")
	}
	if t, ok := f.Map("tls"); ok {
		s.TLS = &TLS{}
		s.TLS.CAFile, _ = t.String("ca_file")
		s.TLS.CertFile, _ = t.String("cert_file")
		s.TLS.KeyFile, _ = t.String("key_file")
		s.refFile(t, "ca_file", s.TLS.CAFile, credentialOther)
		s.refFile(t, "cert_file", s.TLS.CertFile, credentialOther)
		s.refFile(t, "key_file", s.TLS.KeyFile, credentialOther)
		s.refFile(f, "tls", "tls", tlsSettings)
		s.TLS.ServerName, _ = t.String("server_name")
		s.TLS.InsecureSkipVerify, _ = t.Bool("insecure_skip_verify")
		if (s.TLS.CertFile == "") != (s.TLS.KeyFile == "") {
			t.Errorf("cert_file", "cert_file and key_file go together")
		}
		t.Done("ca_file", "cert_file", "key_file", "server_name", "insecure_skip_verify")
	}
	if p, ok := f.String("proxy_url"); ok {
		if err := CheckURL(p); err != nil {
			f.Errorf("proxy_url", "%v", err)
		}
		s.ProxyURL = p
	}
	if n, ok := f.Int("retries"); ok {
		if n < 0 || n > 10 {
			f.Errorf("retries", "retries must be between 0 and 10, got %d", n)
		}
		s.Retries = &n
	}
	if d, ok := f.Duration("retry_backoff"); ok {
		s.RetryBackoff = d
	}
	if v, ok := f.Size("max_response_size"); ok {
		if v < 1024 {
			f.Errorf("max_response_size", "max_response_size must be at least 1KiB")
		}
		s.MaxResponseSize = int64(v)
	}
	if n, ok := f.Int("max_concurrency"); ok {
		if n < 1 {
			f.Errorf("max_concurrency", "max_concurrency must be at least 1, got %d", n)
		}
		s.MaxConcurrency = n
	}
	if s.Tenant != "" {
		for h := range s.Headers {
			if strings.EqualFold(h, "X-Scope-OrgID") {
				f.Errorf("tenant", "set the tenant once: tenant and headers.%s both send X-Scope-OrgID", h)
			}
		}
	}
	f.Done("url", "timeout", "headers", "tenant", "bearer_token_file", "bearer_token_env", "basic_auth", "tls", "proxy_url", "retries", "retry_backoff", "max_response_size", "max_concurrency")
	return s
}

// CheckURL validates a source URL: http or https with a host.
func CheckURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("invalid URL %q: want http://host:port or https://host:port", secret.URL(raw))
	}
	return nil
}

// SortErrors orders errors by line and column.
func SortErrors(es Errors) Errors {
	slices.SortStableFunc(es, func(a, b *Error) int {
		if a.Line != b.Line {
			return a.Line - b.Line
		}
		return a.Col - b.Col
	})
	return es
}
