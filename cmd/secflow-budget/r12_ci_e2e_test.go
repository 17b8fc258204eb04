package main

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// r12EnsureMissingRE matches a package scripts/ensure-prometheus.sh
// installs: missing+=(NAME).
var r12EnsureMissingRE = regexp.MustCompile(`missing\+=\(([a-z0-9.+-]+)\)`)

// TestR12CIInstallsTestPackages: GitHub's ci.yml installs, with sudo
// before make test, every Debian package scripts/ensure-prometheus.sh
// checks for (make test runs that script as the runner's user, which is
// not root: a package missing there fails the job), and the README's first
// lines and Requirements name them all.
func TestR12CIInstallsTestPackages(t *testing.T) {
	script, err := os.ReadFile(filepath.Join(repo, "scripts", "ensure-prometheus.sh"))
	if err != nil {
		t.Fatal(err)
	}
	var pkgs []string
	for _, m := range r12EnsureMissingRE.FindAllStringSubmatch(string(script), -1) {
		pkgs = append(pkgs, m[1])
	}
	if want := []string{"prometheus", "victoria-metrics", "prometheus-pushgateway"}; !slices.Equal(pkgs, want) {
		t.Fatalf("ensure-prometheus.sh installs %q, want %q", pkgs, want)
	}

	ci := actionYAML(t, ".github/workflows/ci.yml")
	var install string
	actionWalk(ci, func(k, v *yaml.Node) {
		if k.Value == "run" && strings.Contains(v.Value, "apt-get install") {
			install = v.Value
		}
	})
	var line []string
	for l := range strings.SplitSeq(install, "\n") {
		if strings.Contains(l, "apt-get install") {
			line = strings.Fields(l)
		}
	}
	for _, p := range pkgs {
		if !slices.Contains(line, p) {
			t.Errorf("ci.yml's apt-get install line %q lacks %s", strings.Join(line, " "), p)
		}
	}

	readme, err := os.ReadFile(filepath.Join(repo, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	head, _, _ := strings.Cut(string(readme), "## Getting started")
	for _, p := range pkgs {
		if strings.Count(strings.ReplaceAll(head, "\n", " "), p) < 2 {
			t.Errorf("README's first lines and Requirements do not both name %s:\n%s", p, head)
		}
	}
}
