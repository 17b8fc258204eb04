package cli

import (
	"fmt"
	"regexp"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// Build facts stamped by the linker (-X) from the Makefile; empty when not
// stamped. A stamped value wins over what the build info says.
var (
	version string
	commit  string
)

func newVersionCmd(io IO) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version, commit and Go version",
		Args:  noArgs,
		Run: func(*cobra.Command, []string) {
			fmt.Fprintln(io.Out, currentBuild())
		},
	}
}

// versionFlag gives the root command -v/--version, printing what `version`
// prints.
//
// Not through cobra's Version and SetVersionTemplate: cobra runs a version
// template with text/template, which calls methods by name through
// reflection, and a reachable call of that kind makes the linker keep
// every exported method of every type in the binary: 5 MB of 28 (issue
// 10). Cobra's own help and usage are plain functions. So the flag is
// declared here as cobra declares it, and answered from the help
// function, which cobra calls when the root command (which does nothing
// itself) is run without --help.
func versionFlag(root *cobra.Command) {
	root.Flags().BoolP("version", "v", false, "version for "+root.Name())
	// Marked as cobra marks its own: shell completion stops after it.
	_ = root.Flags().SetAnnotation("version", cobra.FlagSetByCobraAnnotation, []string{"true"})
	help := root.HelpFunc()
	root.SetHelpFunc(func(c *cobra.Command, args []string) {
		if c == root && flagSet(c, "version") && !flagSet(c, "help") {
			fmt.Fprintln(c.OutOrStdout(), currentBuild())
			return
		}
		help(c, args)
	})
}

// flagSet reports whether c's boolean flag name is true.
func flagSet(c *cobra.Command, name string) bool {
	v, err := c.Flags().GetBool(name)
	return err == nil && v
}

// build is what this binary knows about where it came from.
type build struct {
	version   string // "dev" when nothing is known
	commit    string // "" when unknown
	time      string // the commit's time, RFC 3339; "" when unknown
	modified  bool   // built from a tree with uncommitted changes
	goVersion string
}

func currentBuild() build {
	info, _ := debug.ReadBuildInfo()
	return readBuild(info, version, commit)
}

// toolVersion is the version reports and snapshots name.
func toolVersion() string { return currentBuild().version }

// pseudoVersion matches a Go pseudo-version (v0.0.0-20261207022847-546fb34abcde,
// v1.2.4-0.2026..., v1.2.3-pre.0.2026...), which names the commit it was
// made from: a binary installed from the module proxy has no vcs.* settings,
// only this.
var pseudoVersion = regexp.MustCompile(`^v[0-9]+\.[0-9]+\.[0-9]+-(?:[0-9A-Za-z.-]*\.)?([0-9]{14})-([0-9a-f]{12})(?:\+[0-9A-Za-z.-]+)?$`)

// readBuild resolves the version and commit: values stamped with -ldflags
// -X first, then the build info Go records (the module version of
// `go install ...@vX.Y.Z`, the vcs.* settings of a build in a checkout),
// "dev" and no commit when nothing is known.
func readBuild(info *debug.BuildInfo, stampedVersion, stampedCommit string) build {
	b := build{version: stampedVersion, commit: stampedCommit, goVersion: runtime.Version()}
	if info == nil {
		if b.version == "" {
			b.version = "dev"
		}
		return b
	}
	if info.GoVersion != "" {
		b.goVersion = info.GoVersion
	}
	if b.version == "" && info.Main.Version != "" && info.Main.Version != "(devel)" {
		b.version = info.Main.Version
	}
	if b.version == "" {
		b.version = "dev"
	}
	var rev, at string
	var modified bool
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if rev == "" {
		if m := pseudoVersion.FindStringSubmatch(info.Main.Version); m != nil {
			rev = m[2]
			if t, err := time.Parse("20060102150405", m[1]); err == nil {
				at = t.UTC().Format(time.RFC3339)
			}
		}
	}
	if rev == "" {
		return b
	}
	switch {
	case b.commit == "":
		b.commit = shortRevision(rev)
	case !strings.HasPrefix(rev, b.commit):
		return b // the time and state are another commit's
	}
	b.time, b.modified = at, modified
	return b
}

// shortRevision shortens a revision as Go's pseudo-versions do.
func shortRevision(rev string) string {
	if len(rev) > 12 {
		return rev[:12]
	}
	return rev
}

// String is the line `version` and `--version` print.
func (b build) String() string {
	c := "commit unknown"
	if b.commit != "" {
		c = "commit " + b.commit
		if b.modified {
			c += " with uncommitted changes"
		}
		if b.time != "" {
			c += ", " + b.time
		}
	}
	return fmt.Sprintf("secflow-budget %s (%s, %s, %s/%s)", b.version, c, b.goVersion, runtime.GOOS, runtime.GOARCH)
}
