package config

import (
	"fmt"
	"regexp"
	"time"
)

// Severity says what a violated budget does to the run.
type Severity int

const (
	// SeverityError makes a violation fail the run (the default).
	SeverityError Severity = iota
	// SeverityWarning makes a violation only warn.
	SeverityWarning
)

func (s Severity) String() string {
	if s == SeverityWarning {
		return "warning"
	}
	return "error"
}

// OnMissing says what a budget reports when its query finds no data.
type OnMissing string

// The on_missing values.
const (
	MissingFail OnMissing = "fail"
	MissingWarn OnMissing = "warn"
	MissingPass OnMissing = "pass"
	MissingSkip OnMissing = "skip"
)

// Config is a loaded budgets.yaml.
type Config struct {
	File     string
	Version  int
	Defaults Defaults
	Sources  Sources
	Budgets  []*Budget
	// Waivers accept known violations for a while (see waivers.go).
	Waivers []*Waiver
}

// Defaults apply to every budget that does not set the field itself.
type Defaults struct {
	Window    time.Duration
	OnMissing OnMissing
	// Regression applies to every budget that sets no regression of its
	// own; it holds relative limits only.
	Regression *Regression
}

// Sources holds where live data comes from; each may be nil.
type Sources struct {
	Prometheus *Source
	Loki       *Source
}

// DefaultSourceTimeout is the per-request timeout when a source sets none.
const DefaultSourceTimeout = 30 * time.Second

// Source is a live endpoint and how to talk to it. Secrets are never held in
// the YAML itself, only the file or environment variable that has them.
type Source struct {
	URL             string
	Timeout         time.Duration
	Headers         map[string]string
	Tenant          string
	BearerTokenFile string
	BearerTokenEnv  string
	BasicAuth       *BasicAuth
	TLS             *TLS
	ProxyURL        string
	// Retries is how many times a failed request is sent again (nil: the
	// client's default); RetryBackoff is the first wait (0: default).
	Retries      *int
	RetryBackoff time.Duration
	// MaxResponseSize caps each response body in bytes (0: default).
	MaxResponseSize int64
	// MaxConcurrency caps the requests in flight to this source at once,
	// whatever --concurrency says (0: no cap of its own).
	MaxConcurrency int

	file  string    // the budgets file, for errors
	files []fileRef // the credential and TLS files named, with their positions
}

// BasicAuth is HTTP basic authentication.
type BasicAuth struct {
	Username     string
	PasswordFile string
	PasswordEnv  string
}

// TLS configures server verification and client certificates.
type TLS struct {
	CAFile             string
	CertFile           string
	KeyFile            string
	ServerName         string
	InsecureSkipVerify bool
}

// Budget is one entry of budgets: the fields every type shares, resolved
// against the defaults, and the type's own fields left for its builder.
type Budget struct {
	Index       int
	Name        string
	Type        string
	Description string
	Severity    Severity
	Tags        []string
	Category    string // metrics, logs, performance, alerting; empty: the type's
	Window      time.Duration
	OnMissing   OnMissing
	Runbook     string
	Line, Col   int
	// Regression holds the limits --baseline judges the budget's results
	// by (its own, else defaults.regression); nil: none.
	Regression *Regression
	// ValueKind is how the budget's type writes its values (duration,
	// size, share; "" a plain number): the TypeReader sets it, and the
	// absolute regression limits are read with it.
	ValueKind Kind

	// Fields holds the budget's keys; the TypeReader passed to Load reads
	// the type-specific ones through it.
	Fields *Fields
}

// Path is the budget's field path, e.g. budgets[2].
func (b *Budget) Path() string { return fmt.Sprintf("budgets[%d]", b.Index) }

// HasTag reports whether the budget carries tag t.
func (b *Budget) HasTag(t string) bool {
	for _, x := range b.Tags {
		if x == t {
			return true
		}
	}
	return false
}

// Categories are the report areas, in display order.
var Categories = []string{"metrics", "logs", "performance", "alerting", "retention", "dashboards"}

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*$`)
