package cli

import (
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

// TestVersionText covers where `version` and `--version` take the version
// and commit from: ldflags first, then the build info of `go install
// ...@vX.Y.Z` or of a build in a checkout, "dev (commit unknown)" only when
// nothing is known.
func TestVersionText(t *testing.T) {
	const rev = "546fb34df3b5110924b5049e631b3f0eeecaaebf"
	vcs := func(modified string) []debug.BuildSetting {
		return []debug.BuildSetting{
			{Key: "-buildmode", Value: "exe"},
			{Key: "vcs", Value: "git"},
			{Key: "vcs.revision", Value: rev},
			{Key: "vcs.time", Value: "2026-12-07T02:16:46Z"},
			{Key: "vcs.modified", Value: modified},
		}
	}
	info := func(mainVersion string, settings []debug.BuildSetting) *debug.BuildInfo {
		return &debug.BuildInfo{
			GoVersion: "go1.26.8",
			Path:      "github.com/secflow/secflow-budget/cmd/secflow-budget",
			Main:      debug.Module{Path: "github.com/secflow/secflow-budget", Version: mainVersion},
			Settings:  settings,
		}
	}
	platform := ", go1.26.8, " + runtime.GOOS + "/" + runtime.GOARCH + ")"
	for _, tc := range []struct {
		name                   string
		info                   *debug.BuildInfo
		stampedVer, stampedCom string
		want                   string
	}{
		{"no build info, nothing stamped", nil, "", "",
			"secflow-budget dev (commit unknown, " + runtime.Version() + ", " + runtime.GOOS + "/" + runtime.GOARCH + ")"},
		{"go build with -buildvcs=false", info("(devel)", nil), "", "",
			"secflow-budget dev (commit unknown" + platform},
		{"test binary: empty main version", info("", nil), "", "",
			"secflow-budget dev (commit unknown" + platform},
		{"go install @tag from the module proxy", info("v1.2.3", nil), "", "",
			"secflow-budget v1.2.3 (commit unknown" + platform},
		{"go install @commit: the pseudo-version names the commit", info("v0.0.0-20261207021646-546fb34df3b5", nil), "", "",
			"secflow-budget v0.0.0-20261207021646-546fb34df3b5 (commit 546fb34df3b5, 2026-12-07T02:16:46Z" + platform},
		{"pseudo-version after a tag", info("v1.2.4-0.20261207021646-546fb34df3b5", nil), "", "",
			"secflow-budget v1.2.4-0.20261207021646-546fb34df3b5 (commit 546fb34df3b5, 2026-12-07T02:16:46Z" + platform},
		{"pseudo-version after a pre-release", info("v1.2.3-rc.1.0.20261207021646-546fb34df3b5", nil), "", "",
			"secflow-budget v1.2.3-rc.1.0.20261207021646-546fb34df3b5 (commit 546fb34df3b5, 2026-12-07T02:16:46Z" + platform},
		{"pre-release tag is no pseudo-version", info("v1.3.0-rc.1", nil), "", "",
			"secflow-budget v1.3.0-rc.1 (commit unknown" + platform},
		{"go build in a checkout, Go before 1.24", info("(devel)", vcs("false")), "", "",
			"secflow-budget dev (commit 546fb34df3b5, 2026-12-07T02:16:46Z" + platform},
		{"go build in a dirty checkout", info("v0.0.0-20261207021646-546fb34df3b5+dirty", vcs("true")), "", "",
			"secflow-budget v0.0.0-20261207021646-546fb34df3b5+dirty (commit 546fb34df3b5 with uncommitted changes, 2026-12-07T02:16:46Z" + platform},
		{"make build: ldflags win", info("v0.0.0-20261207021646-546fb34df3b5", vcs("false")), "v1.2.3", "546fb34",
			"secflow-budget v1.2.3 (commit 546fb34, 2026-12-07T02:16:46Z" + platform},
		{"ldflags commit of another revision drops the vcs time", info("(devel)", vcs("true")), "v1.2.3", "0123abc",
			"secflow-budget v1.2.3 (commit 0123abc" + platform},
		{"ldflags version only", info("(devel)", vcs("false")), "v1.2.3", "",
			"secflow-budget v1.2.3 (commit 546fb34df3b5, 2026-12-07T02:16:46Z" + platform},
		{"ldflags commit only", info("v1.2.3", nil), "", "546fb34",
			"secflow-budget v1.2.3 (commit 546fb34" + platform},
		{"ldflags without build info", nil, "v1.2.3", "546fb34",
			"secflow-budget v1.2.3 (commit 546fb34, " + runtime.Version() + ", " + runtime.GOOS + "/" + runtime.GOARCH + ")"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := readBuild(tc.info, tc.stampedVer, tc.stampedCom).String(); got != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}

// TestVersionFlag: --version prints what `version` prints; before, it was an
// unknown flag.
func TestVersionFlag(t *testing.T) {
	code, byCmd, _ := runCLI(t, nil, false, "version")
	if code != ExitOK {
		t.Fatalf("version: exit %d", code)
	}
	for _, flag := range []string{"--version", "-v"} {
		code, stdout, stderr := runCLI(t, nil, false, flag)
		if code != ExitOK || stdout != byCmd || stderr != "" {
			t.Errorf("%s: exit %d, stdout %q (version says %q), stderr %q", flag, code, stdout, byCmd, stderr)
		}
	}
	if !strings.HasPrefix(byCmd, "secflow-budget dev (commit unknown, go1.") || !strings.HasSuffix(byCmd, runtime.GOOS+"/"+runtime.GOARCH+")\n") {
		t.Errorf("version in a test binary: %q", byCmd)
	}
}
