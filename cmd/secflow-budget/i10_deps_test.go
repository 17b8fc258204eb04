package main

import (
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// The binary's weight (issue 10): Prometheus' tsdb package brings its
// config and service discovery packages, and with them the AWS, Azure and
// Google Cloud SDKs and gRPC, into any program that imports it. The
// offline PromQL path uses internal/memstore instead; these tests fail,
// naming the import chain, when such a package comes back. Likewise
// prometheus/common/config, whose HTTP client brought OAuth2, JWT and
// connection tracing (golang.org/x/net/trace, which runs html/template):
// internal/sources/httpclient builds the transport itself.
//
// html/template itself stays in the import graph (model/rulefmt imports
// prometheus/template to check rule templates) and costs little as long as
// no template is ever executed: what makes a template costly is that
// executing one calls methods by name through reflection, and the linker
// then keeps every exported method of every type.
// TestI10BinaryCallsNoMethodByName guards that.

// depsMaxPackages bounds `go list -deps ./cmd/secflow-budget`: 759 with
// the TSDB head, 386 without it, 370 without prometheus/common/config.
const depsMaxPackages = 400

// depsAllowedTSDB are the tsdb sub-packages that Prometheus' storage and
// promql packages, which the engine needs, import themselves: chunk
// encodings, chunk references and file helpers, none of which imports
// anything else of tsdb, nor config or discovery.
var depsAllowedTSDB = []string{
	"github.com/prometheus/prometheus/tsdb/chunkenc",
	"github.com/prometheus/prometheus/tsdb/chunks",
	"github.com/prometheus/prometheus/tsdb/fileutil",
}

// depsForbidden says why pkg must not be in the binary, or "".
func depsForbidden(pkg string) string {
	const prom = "github.com/prometheus/prometheus/"
	switch {
	case pkg == prom+"tsdb" || strings.HasPrefix(pkg, prom+"tsdb/") && !slices.Contains(depsAllowedTSDB, pkg):
		return "Prometheus' TSDB (offline PromQL runs over internal/memstore)"
	case pkg == prom+"config" || strings.HasPrefix(pkg, prom+"config/"):
		return "Prometheus' config package (it imports service discovery)"
	case pkg == prom+"discovery" || strings.HasPrefix(pkg, prom+"discovery/"):
		return "Prometheus' service discovery (cloud SDKs)"
	case strings.Contains(pkg, "aws-sdk"):
		return "the AWS SDK"
	case strings.Contains(strings.ToLower(pkg), "azure"):
		return "the Azure SDK"
	case strings.HasPrefix(pkg, "cloud.google.com/") || strings.HasPrefix(pkg, "google.golang.org/api"):
		return "the Google Cloud SDK"
	case strings.HasPrefix(pkg, "google.golang.org/grpc"):
		return "gRPC"
	case pkg == "github.com/prometheus/common/config":
		return "prometheus/common/config (its HTTP client brings OAuth2, JWT and connection tracing, 1 MB; internal/sources/httpclient builds our transport)"
	case pkg == "golang.org/x/oauth2" || strings.HasPrefix(pkg, "golang.org/x/oauth2/"):
		return "OAuth2 (no source authenticates with it)"
	case strings.HasPrefix(pkg, "github.com/golang-jwt/"):
		return "JWT (came with prometheus/common/config's OAuth2)"
	case pkg == "github.com/mwitkow/go-conntrack" || pkg == "golang.org/x/net/trace":
		return "connection tracing (x/net/trace runs html/template, which keeps every exported method in the binary)"
	}
	return ""
}

// depsGraph is `go list -deps` of a package: each package's imports, and
// the packages in go list's order (dependencies first, the root last).
type depsGraph struct {
	root    string
	order   []string
	imports map[string][]string
}

func depsList(t *testing.T, pattern string) depsGraph {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}{{range .Imports}} {{.}}{{end}}", pattern).Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("go list -deps %s: %v\n%s", pattern, err, stderr)
	}
	return depsParse(string(out))
}

func depsParse(out string) depsGraph {
	g := depsGraph{imports: map[string][]string{}}
	for line := range strings.Lines(out) {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		g.order = append(g.order, f[0])
		g.imports[f[0]] = f[1:]
	}
	if len(g.order) > 0 {
		g.root = g.order[len(g.order)-1]
	}
	return g
}

// chain is a shortest import chain from the root to pkg, "a -> b -> c".
func (g depsGraph) chain(pkg string) string {
	prev := map[string]string{g.root: ""}
	queue := []string{g.root}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		if p == pkg {
			path := []string{p}
			for q := prev[p]; q != ""; q = prev[q] {
				path = append(path, q)
			}
			slices.Reverse(path)
			return strings.Join(path, " -> ")
		}
		for _, imp := range g.imports[p] {
			if _, seen := prev[imp]; !seen {
				prev[imp] = p
				queue = append(queue, imp)
			}
		}
	}
	return pkg + " (no chain found)"
}

// violations are the forbidden packages of g, each with its reason and
// chain, sorted.
func (g depsGraph) violations() []string {
	var out []string
	for _, p := range g.order {
		if why := depsForbidden(p); why != "" {
			out = append(out, why+": "+g.chain(p))
		}
	}
	slices.Sort(out)
	return out
}

func TestI10DepsNoTSDBNoCloudSDKs(t *testing.T) {
	g := depsList(t, ".")
	if g.root != "github.com/secflow/secflow-budget/cmd/secflow-budget" {
		t.Fatalf("go list -deps ended with %q, want the command's package", g.root)
	}
	// The shortest chains first: the import that brought the rest in.
	vs := g.violations()
	slices.SortStableFunc(vs, func(a, b string) int { return strings.Count(a, " -> ") - strings.Count(b, " -> ") })
	for i, v := range vs {
		if i == 10 {
			t.Errorf("and %d more forbidden packages", len(vs)-i)
			break
		}
		t.Errorf("forbidden in the binary, %s", v)
	}
	if n := len(g.order); n > depsMaxPackages {
		t.Errorf("go list -deps ./cmd/secflow-budget: %d packages, want at most %d", n, depsMaxPackages)
	}
	// The engine is what the offline path needs of Prometheus: it must be
	// there, through memstore's storage.Queryable.
	for _, want := range []string{"github.com/prometheus/prometheus/promql", "github.com/secflow/secflow-budget/internal/memstore"} {
		if _, ok := g.imports[want]; !ok {
			t.Errorf("%s is not in the binary", want)
		}
	}
}

// TestI10DepsGuardNamesChain feeds the guard a graph in which tsdb comes
// back through a harmless-looking package: it must name the whole chain.
func TestI10DepsGuardNamesChain(t *testing.T) {
	g := depsParse(`github.com/prometheus/prometheus/tsdb/chunkenc
github.com/aws/aws-sdk-go-v2/aws
github.com/prometheus/prometheus/discovery github.com/aws/aws-sdk-go-v2/aws
github.com/prometheus/prometheus/config github.com/prometheus/prometheus/discovery
github.com/prometheus/prometheus/tsdb github.com/prometheus/prometheus/config github.com/prometheus/prometheus/tsdb/chunkenc
example.com/helper github.com/prometheus/prometheus/tsdb
example.com/cmd example.com/helper github.com/prometheus/prometheus/tsdb/chunkenc
`)
	got := g.violations()
	want := []string{
		"Prometheus' TSDB (offline PromQL runs over internal/memstore): example.com/cmd -> example.com/helper -> github.com/prometheus/prometheus/tsdb",
		"Prometheus' config package (it imports service discovery): example.com/cmd -> example.com/helper -> github.com/prometheus/prometheus/tsdb -> github.com/prometheus/prometheus/config",
		"Prometheus' service discovery (cloud SDKs): example.com/cmd -> example.com/helper -> github.com/prometheus/prometheus/tsdb -> github.com/prometheus/prometheus/config -> github.com/prometheus/prometheus/discovery",
		"the AWS SDK: example.com/cmd -> example.com/helper -> github.com/prometheus/prometheus/tsdb -> github.com/prometheus/prometheus/config -> github.com/prometheus/prometheus/discovery -> github.com/aws/aws-sdk-go-v2/aws",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("violations:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, ok := range []string{"github.com/prometheus/prometheus/tsdb/chunkenc", "github.com/prometheus/prometheus/promql", "google.golang.org/protobuf/proto", "github.com/prometheus/common/model", "golang.org/x/net/http/httpguts"} {
		if why := depsForbidden(ok); why != "" {
			t.Errorf("%s refused (%s)", ok, why)
		}
	}
	for _, bad := range []string{"github.com/prometheus/prometheus/tsdb/index", "google.golang.org/grpc/codes", "cloud.google.com/go/compute/metadata", "github.com/Azure/azure-sdk-for-go/sdk/azcore",
		"github.com/prometheus/common/config", "golang.org/x/oauth2", "golang.org/x/oauth2/clientcredentials", "github.com/golang-jwt/jwt/v5", "github.com/mwitkow/go-conntrack", "golang.org/x/net/trace"} {
		if why := depsForbidden(bad); why == "" {
			t.Errorf("%s allowed", bad)
		}
	}
}

// TestI10BinaryCallsNoMethodByName links the command with the linker's
// dependency dump (-dumpdep) and fails when a function that calls methods
// by name through reflection (reflect.Value.MethodByName: text/template
// and html/template executing a template) is reachable: the linker then
// keeps every exported method of every type in the binary, 5 MB of 28.
// Cobra runs a help, usage or version template with text/template; so
// did golang.org/x/net/trace, which prometheus/common/config brought.
func TestI10BinaryCallsNoMethodByName(t *testing.T) {
	if testing.Short() {
		t.Skip("links the binary")
	}
	out, err := exec.Command("go", "build", "-o", os.DevNull, "-ldflags=-dumpdep", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build -ldflags=-dumpdep: %v\n%.2000s", err, out)
	}
	if chain := depsReflectMethodChain(string(out)); chain != "" {
		t.Errorf("the binary keeps every exported method: a call of methods by name through reflection is reachable (a template executed?): %s", chain)
	}
}

// depsReflectMethodChain reads the linker's -dumpdep output ("from -> to",
// each symbol reached once, flags such as <ReflectMethod> after its name)
// and returns how the first symbol flagged <ReflectMethod> is reached,
// "main.main -> ... -> sym", or "" when none is.
func depsReflectMethodChain(dump string) string {
	parent := map[string]string{}
	flagged := ""
	for line := range strings.Lines(dump) {
		from, to, ok := strings.Cut(strings.TrimSpace(line), " -> ")
		if !ok {
			continue
		}
		fromName, fromFlags, _ := strings.Cut(from, " <")
		toName, toFlags, _ := strings.Cut(to, " <")
		if _, seen := parent[toName]; !seen {
			parent[toName] = fromName
		}
		if flagged == "" {
			switch {
			case strings.Contains(fromFlags, "ReflectMethod>"):
				flagged = fromName
			case strings.Contains(toFlags, "ReflectMethod>"):
				flagged = toName
			}
		}
	}
	if flagged == "" {
		return ""
	}
	path := []string{flagged}
	for p := parent[flagged]; p != "" && p != "_" && len(path) < 100; p = parent[p] {
		path = append(path, p)
	}
	// From main.main on: what the runtime reaches before it is no news.
	if i := slices.Index(path, "main.main"); i >= 0 {
		path = path[:i+1]
	}
	slices.Reverse(path)
	return strings.Join(path, " -> ")
}

// TestI10ReflectMethodChainNamed feeds the guard a dump in which cobra's
// version template is reached: it must name the way there.
func TestI10ReflectMethodChainNamed(t *testing.T) {
	dump := `# github.com/secflow/secflow-budget/cmd/secflow-budget
_ -> _rt0_amd64_linux
_rt0_amd64_linux -> runtime.main
runtime.main -> main.main
main.main -> cli.Main
cli.Main -> cli.versionFlag
cli.versionFlag -> text/template.(*Template).Execute <UsedInIface>
text/template.(*Template).Execute <UsedInIface> -> text/template.(*state).evalField <ReflectMethod>
text/template.(*state).evalField <ReflectMethod> -> reflect.Value.MethodByName
`
	want := "main.main -> cli.Main -> cli.versionFlag -> text/template.(*Template).Execute -> text/template.(*state).evalField"
	if got := depsReflectMethodChain(dump); got != want {
		t.Errorf("chain:\n got: %s\nwant: %s", got, want)
	}
	if got := depsReflectMethodChain(strings.ReplaceAll(dump, " <ReflectMethod>", "")); got != "" {
		t.Errorf("without a flagged symbol: %q", got)
	}
}
