package loki

import (
	"context"
	"strings"
	"testing"

	"github.com/secflow/secflow-budget/internal/config"
	"github.com/secflow/secflow-budget/internal/secret"
)

// TestEngineVersionEchoingTheCredentialIsMasked: a buildinfo version
// that echoes the source's password, with a control character or a run
// of spaces in it, is masked before it is made one line; masking after
// would no longer find the password, and print it with a space in it.
func TestEngineVersionEchoingTheCredentialIsMasked(t *testing.T) {
	t.Setenv("SECFLOW_TEST_LOKI_PW", "open  sesame-77")
	for _, version := range []string{`3.0 open  sesame-77`, `3.0 open  sesame-77\u0000`, `3.0\nopen  sesame-77\r`} {
		srv := newFakeLoki(t, answer(200, jsonType, `{"version":"`+version+`","revision":"r","goVersion":"go1.23"}`))
		c := mustNew(t, &config.Source{URL: srv.URL, BasicAuth: &config.BasicAuth{Username: "ci", PasswordEnv: "SECFLOW_TEST_LOKI_PW"}})
		e, why := c.Engine(context.Background())
		if why != "" {
			t.Fatalf("%s: Engine = %+v, %q", version, e, why)
		}
		if strings.Contains(e.Version, "sesame") || e.Version != "3.0 "+secret.Mask {
			t.Errorf("%s: version %q, want %q", version, e.Version, "3.0 "+secret.Mask)
		}
	}
}
