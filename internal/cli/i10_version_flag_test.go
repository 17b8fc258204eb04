package cli

import (
	"strings"
	"testing"
)

// TestI10VersionFlagAnsweredByHelpFunc: the -v/--version flag declared
// without cobra's version template behaves as cobra's did: --help wins
// over it, -v=false is no request, the help lists it, and subcommands do
// not have it.
func TestI10VersionFlagAnsweredByHelpFunc(t *testing.T) {
	_, version, _ := runCLI(t, nil, false, "version")
	_, help, _ := runCLI(t, nil, false, "--help")
	if !strings.Contains(help, "\n  -v, --version   version for secflow-budget\n") || !strings.HasPrefix(help, "secflow-budget evaluates the budgets") {
		t.Fatalf("--help:\n%s", help)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--version=true"}, version},
		{[]string{"-v", "-h"}, help},
		{[]string{"--help", "--version"}, help},
		{[]string{"-v=false"}, help},
		{[]string{}, help},
	} {
		code, stdout, stderr := runCLI(t, nil, false, tc.args...)
		if code != ExitOK || stdout != tc.want || stderr != "" {
			t.Errorf("%q: exit %d, stdout %q, stderr %q", tc.args, code, stdout, stderr)
		}
	}
	code, stdout, stderr := runCLI(t, nil, false, "check", "--version")
	if code != ExitUsage || stdout != "" || !strings.HasPrefix(stderr, "error: unknown flag: --version\n") {
		t.Errorf("check --version: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	code, stdout, _ = runCLI(t, nil, false, "check", "--help")
	if code != ExitOK || !strings.Contains(stdout, "secflow-budget check [flags]") || strings.Contains(stdout, "--version") {
		t.Errorf("check --help: exit %d, stdout %q", code, stdout)
	}
}
