package checks

import (
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/prometheus/prometheus/model/rulefmt"
	"gopkg.in/yaml.v3"

	"github.com/secflow/secflow-budget/internal/config"
	"github.com/secflow/secflow-budget/internal/secret"
)

// The fields of a rules file at each level, as rulefmt decodes them: read
// from its types, so that a newer rulefmt's fields are known here too.
var (
	rulesTopFields   = yamlFields(reflect.TypeFor[rulefmt.RuleGroups]())
	rulesGroupFields = yamlFields(reflect.TypeFor[rulefmt.RuleGroup]())
	rulesRuleFields  = yamlFields(reflect.TypeFor[rulefmt.Rule]())
	rulesAllFields   = slices.Concat(rulesTopFields, rulesGroupFields, rulesRuleFields)
)

func yamlFields(t reflect.Type) []string {
	var out []string
	for i := range t.NumField() {
		if name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ","); name != "" && name != "-" {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// rulesFile is a rules file's YAML tree, kept to place the errors rulefmt
// reports without a position (templates, labels) at their lines.
type rulesFile struct {
	file  string
	rules map[string][]*yaml.Node // group name → its rules, in order
}

// readRulesShape checks, before rulefmt decodes it, that a rules file is
// one: a mapping with groups, each a mapping whose rules are mappings,
// with no unknown key at any level. rulefmt's own messages for a file that
// is not (a list, a scalar, /etc/shadow, a JSON of keys) come twice, name
// Go types and quote the file's keys; these name the line and column and,
// of an unknown key, only a near miss of a field. An empty file is no
// error: Prometheus loads it as no groups.
func readRulesShape(file string, data []byte) (*rulesFile, []string) {
	rf := &rulesFile{file: file, rules: map[string][]*yaml.Node{}}
	var doc yaml.Node
	if yaml.Unmarshal(data, &doc) != nil || len(doc.Content) == 0 {
		return rf, nil // rulesFileBounds or rulefmt says what is wrong
	}
	root := derefRules(doc.Content[0])
	if root.Kind != yaml.MappingNode || rulesValue(root, "groups") == nil {
		if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
			return rf, nil
		}
		return rf, []string{fmt.Sprintf("%s:%d:%d: not a rules file: want a mapping with groups", file, root.Line, root.Column)}
	}
	var out []string
	errorf := func(n *yaml.Node, format string, args ...any) {
		// An anchor merged into many rules is wrong once, where it is.
		if msg := fmt.Sprintf("%s:%d:%d: ", file, n.Line, n.Column) + fmt.Sprintf(format, args...); !slices.Contains(out, msg) {
			out = append(out, msg)
		}
	}
	var unknown func(m *yaml.Node, where string, known []string, depth int)
	unknown = func(m *yaml.Node, where string, known []string, depth int) {
		for i := 0; i+1 < len(m.Content); i += 2 {
			k := m.Content[i]
			if k.Value == "<<" && depth < 8 {
				// Merged keys are the mapping's own.
				v := derefRules(m.Content[i+1])
				merged := []*yaml.Node{v}
				if v.Kind == yaml.SequenceNode {
					merged = v.Content
				}
				for _, mm := range merged {
					if mm = derefRules(mm); mm.Kind == yaml.MappingNode {
						unknown(mm, where, known, depth+1)
					}
				}
				continue
			}
			if slices.Contains(known, k.Value) {
				continue
			}
			if s := config.NearMiss(k.Value, known); s != "" {
				errorf(k, "unknown field %q %s (did you mean %q?)", k.Value, where, s)
			} else {
				errorf(k, "an unknown field %s %s (known: %s)", secret.NotShown, where, strings.Join(known, ", "))
			}
		}
	}
	unknown(root, "at the top of a rules file", rulesTopFields, 0)
	groups := derefRules(rulesValue(root, "groups"))
	if isYAMLNull(groups) {
		return rf, out
	}
	if groups.Kind != yaml.SequenceNode {
		errorf(groups, "groups: want a list of rule groups, got %s", yamlKind(groups))
		return rf, out
	}
	for gi, g := range groups.Content {
		g = derefRules(g)
		if g.Kind != yaml.MappingNode {
			errorf(g, "groups[%d]: want a rule group (a mapping with name and rules), got %s", gi, yamlKind(g))
			continue
		}
		unknown(g, "in a rule group", rulesGroupFields, 0)
		rules := derefRules(rulesValue(g, "rules"))
		if rules == nil || isYAMLNull(rules) {
			continue
		}
		if rules.Kind != yaml.SequenceNode {
			errorf(rules, "groups[%d].rules: want a list of rules, got %s", gi, yamlKind(rules))
			continue
		}
		name := ""
		if n := derefRules(rulesValue(g, "name")); n != nil && n.Kind == yaml.ScalarNode {
			name = n.Value
		}
		for ri, r := range rules.Content {
			r = derefRules(r)
			if r.Kind != yaml.MappingNode {
				errorf(r, "groups[%d].rules[%d]: want a rule (a mapping with alert or record, and expr), got %s", gi, ri, yamlKind(r))
				continue
			}
			unknown(r, "in a rule", rulesRuleFields, 0)
			rf.rules[name] = append(rf.rules[name], r)
		}
	}
	return rf, out
}

func derefRules(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	return n
}

// rulesValue is the value of key in mapping m, or nil.
func rulesValue(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func isYAMLNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.Tag == "!!null" }

// yamlKind names what a node is, never what it holds.
func yamlKind(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	return "a single value"
}

// ruleErrorRE is a rulefmt error about a rule that carries no position:
// `group "g", rule 1, "A": annotation "summary": template: ...`.
var ruleErrorRE = regexp.MustCompile(`^group ("(?:[^"\\]|\\.)*"), rule (\d+), ("(?:[^"\\]|\\.)*"): (.*)$`)

// templateKeyRE is the label or annotation a template error is about.
var templateKeyRE = regexp.MustCompile(`^(label|annotation) ("(?:[^"\\]|\\.)*"): (.*)$`)

// ruleError renders a rulefmt error that has no position at the line and
// column of what it is about (the label or annotation, else the rule),
// without quoting the file: a template's text, a label's value.
func (rf *rulesFile) ruleError(msg string) (string, bool) {
	m := ruleErrorRE.FindStringSubmatch(msg)
	if m == nil {
		return "", false
	}
	group, _ := strconv.Unquote(m[1])
	idx, _ := strconv.Atoi(m[2])
	rest := m[4]
	var at *yaml.Node
	if rules := rf.rules[group]; idx >= 1 && idx <= len(rules) {
		at = rules[idx-1]
	}
	switch {
	case templateKeyRE.MatchString(rest):
		k := templateKeyRE.FindStringSubmatch(rest)
		key, _ := strconv.Unquote(k[2])
		shown := k[2]
		if !config.IsFieldName(key) {
			shown = secret.NotShown
		}
		if at != nil {
			if v := derefRules(rulesValue(at, k[1]+"s")); v != nil && v.Kind == yaml.MappingNode {
				if kv := rulesValue(v, key); kv != nil {
					at = kv
				}
			}
		}
		rest = k[1] + " " + shown + ": " + secret.Quoted(k[3])
	default:
		// "invalid label name: NAME", "invalid label value: VALUE",
		// "invalid annotation name: NAME": what, not the name.
		if before, _, ok := strings.Cut(rest, ": "); ok {
			rest = before + " " + secret.NotShown
		}
	}
	prefix := rf.file + ": "
	if at != nil {
		prefix = fmt.Sprintf("%s:%d:%d: ", rf.file, at.Line, at.Column)
	}
	return prefix + fmt.Sprintf("group %s, rule %s, %s: %s", m[1], m[2], m[3], rest), true
}

// yamlTypeRE is yaml.v3's "cannot unmarshal !!seq `...` into rulefmt.X".
var yamlTypeRE = regexp.MustCompile("cannot unmarshal !!(\\w+)(?: `[^`]*`| \\(not shown\\))? into (\\S+)")

// plainTypeError says what a value is and what was wanted, in words, not
// in Go types: the typed and the node decoding of rulefmt then say the
// same thing, and it is said once.
func plainTypeError(msg string) string {
	return yamlTypeRE.ReplaceAllStringFunc(msg, func(s string) string {
		m := yamlTypeRE.FindStringSubmatch(s)
		got := map[string]string{"seq": "a list", "map": "a mapping", "str": "a string", "int": "a number", "float": "a number", "bool": "a boolean", "null": "nothing", "timestamp": "a timestamp", "binary": "binary data"}[m[1]]
		if got == "" {
			got = "a value"
		}
		var want string
		switch t := m[2]; {
		case strings.HasSuffix(t, "Duration"):
			want = "a duration"
		case strings.HasPrefix(t, "[]"):
			want = "a list"
		case strings.HasPrefix(t, "map["):
			want = "a mapping of names to strings"
		case t == "string":
			want = "a string"
		case strings.HasPrefix(t, "int") || strings.HasPrefix(t, "uint"):
			want = "a whole number"
		default:
			want = "a mapping"
		}
		return "want " + want + ", got " + got
	})
}
