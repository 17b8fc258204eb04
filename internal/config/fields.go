package config

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Fields reads the keys of one YAML mapping with position-aware errors. Each
// getter marks its key as used; Done reports every key nobody asked for.
// Errors accumulate in the shared list, so a builder reads every field and
// the user sees every mistake at once.
type Fields struct {
	file  string
	path  string
	node  *yaml.Node
	keys  []*yaml.Node
	vals  map[string]*yaml.Node
	used  map[string]bool
	errs  *Errors
	owner string // what the keys belong to, for unknown-key messages
}

func newFields(file, path, owner string, node *yaml.Node, errs *Errors) *Fields {
	f := &Fields{file: file, path: path, node: node, vals: map[string]*yaml.Node{}, used: map[string]bool{}, errs: errs, owner: owner}
	if node.Kind != yaml.MappingNode {
		f.errorAt(node, path, "want a mapping, got %s", kindName(node))
		return f
	}
	for i := 0; i+1 < len(node.Content); i += 2 {
		k, v := node.Content[i], node.Content[i+1]
		if _, dup := f.vals[k.Value]; dup {
			f.errorAt(k, f.sub(k.Value), "duplicate key %q", k.Value)
			continue
		}
		f.keys = append(f.keys, k)
		f.vals[k.Value] = v
	}
	return f
}

// NewFieldsForTest builds Fields over a YAML mapping text, for tests of
// builders outside this package.
func NewFieldsForTest(text string) (*Fields, *Errors, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(text), &doc); err != nil {
		return nil, nil, err
	}
	errs := &Errors{}
	return newFields("test.yaml", "budgets[0]", "budget", doc.Content[0], errs), errs, nil
}

func (f *Fields) sub(key string) string {
	if f.path == "" {
		return key
	}
	return f.path + "." + key
}

// Errs returns every error recorded so far in the file these fields belong to.
func (f *Fields) Errs() Errors { return *f.errs }

// Path is the field path of the mapping, e.g. budgets[2].
func (f *Fields) Path() string { return f.path }

func (f *Fields) errorAt(n *yaml.Node, path, format string, args ...any) {
	*f.errs = append(*f.errs, &Error{File: f.file, Line: n.Line, Col: n.Column, Path: path, Msg: fmt.Sprintf(format, args...)})
}

// Errorf records an error at the value of key (or at the mapping when key is
// absent).
func (f *Fields) Errorf(key, format string, args ...any) {
	if v, ok := f.vals[key]; ok {
		f.errorAt(v, f.sub(key), format, args...)
		return
	}
	f.errorAt(f.node, f.sub(key), format, args...)
}

// ErrorfKey records an error at key itself (a key that is not valid here)
// and marks it as read, so it is not also reported as unknown.
func (f *Fields) ErrorfKey(key, format string, args ...any) {
	for _, k := range f.keys {
		if k.Value == key {
			f.used[key] = true
			f.errorAt(k, f.sub(key), format, args...)
			return
		}
	}
	f.Errorf(key, format, args...)
}

// ErrorfAtOffset records an error inside the scalar value of key, offset
// bytes into its text (used to point at the column of a PromQL parse error).
func (f *Fields) ErrorfAtOffset(key string, offset int, format string, args ...any) {
	v, ok := f.vals[key]
	if !ok {
		f.Errorf(key, format, args...)
		return
	}
	col := v.Column
	switch v.Style {
	case 0, yaml.FlowStyle:
		col += offset
	case yaml.SingleQuotedStyle, yaml.DoubleQuotedStyle:
		col += offset + 1
	}
	if strings.Contains(v.Value, "\n") {
		col = v.Column
	}
	*f.errs = append(*f.errs, &Error{File: f.file, Line: v.Line, Col: col, Path: f.sub(key), Msg: fmt.Sprintf(format, args...)})
}

// Has reports whether key is present.
func (f *Fields) Has(key string) bool { _, ok := f.vals[key]; return ok }

// Keys returns the keys in file order.
func (f *Fields) Keys() []string {
	out := make([]string, len(f.keys))
	for i, k := range f.keys {
		out[i] = k.Value
	}
	return out
}

// Require records an error for each absent key.
func (f *Fields) Require(keys ...string) bool {
	ok := true
	for _, k := range keys {
		if !f.Has(k) {
			f.errorAt(f.node, f.sub(k), "required field is missing")
			ok = false
		}
	}
	return ok
}

func (f *Fields) scalar(key string) (*yaml.Node, bool) {
	v, ok := f.vals[key]
	if !ok {
		return nil, false
	}
	f.used[key] = true
	if v.Kind != yaml.ScalarNode {
		f.errorAt(v, f.sub(key), "want a single value, got %s", kindName(v))
		return nil, false
	}
	return v, true
}

// String returns the string value of key.
func (f *Fields) String(key string) (string, bool) {
	v, ok := f.scalar(key)
	if !ok {
		return "", false
	}
	return v.Value, true
}

// Float returns a number.
func (f *Fields) Float(key string) (float64, bool) {
	v, ok := f.scalar(key)
	if !ok {
		return 0, false
	}
	x, err := strconv.ParseFloat(strings.ReplaceAll(v.Value, "_", ""), 64)
	if err != nil || math.IsNaN(x) {
		f.errorAt(v, f.sub(key), "invalid number %q", v.Value)
		return 0, false
	}
	return x, true
}

// Int returns a whole number.
func (f *Fields) Int(key string) (int, bool) {
	v, ok := f.scalar(key)
	if !ok {
		return 0, false
	}
	x, err := strconv.Atoi(strings.ReplaceAll(v.Value, "_", ""))
	if err != nil {
		f.errorAt(v, f.sub(key), "invalid whole number %q", v.Value)
		return 0, false
	}
	return x, true
}

// Bool returns true or false.
func (f *Fields) Bool(key string) (bool, bool) {
	v, ok := f.scalar(key)
	if !ok {
		return false, false
	}
	switch v.Value {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	f.errorAt(v, f.sub(key), "invalid boolean %q: want true or false", v.Value)
	return false, false
}

// Duration returns a duration such as 300s, 5m or 1h.
func (f *Fields) Duration(key string) (time.Duration, bool) {
	v, ok := f.scalar(key)
	if !ok {
		return 0, false
	}
	d, err := ParseDuration(v.Value)
	if err != nil {
		f.errorAt(v, f.sub(key), "%v", err)
		return 0, false
	}
	if d <= 0 {
		f.errorAt(v, f.sub(key), "duration %q must be positive", v.Value)
		return 0, false
	}
	return d, true
}

// Size returns a byte size such as 100MB or 1MiB.
func (f *Fields) Size(key string) (float64, bool) {
	v, ok := f.scalar(key)
	if !ok {
		return 0, false
	}
	x, err := ParseSize(v.Value)
	if err != nil {
		f.errorAt(v, f.sub(key), "%v", err)
		return 0, false
	}
	return x, true
}

// Share returns a share in [0, 1] written as 10% or 0.1.
func (f *Fields) Share(key string) (float64, bool) {
	v, ok := f.scalar(key)
	if !ok {
		return 0, false
	}
	x, err := ParseShare(v.Value)
	if err != nil {
		f.errorAt(v, f.sub(key), "%v", err)
		return 0, false
	}
	return x, true
}

// Strings returns a list of strings; a single string is a list of one.
func (f *Fields) Strings(key string) ([]string, bool) {
	v, ok := f.vals[key]
	if !ok {
		return nil, false
	}
	f.used[key] = true
	if v.Kind == yaml.ScalarNode {
		return []string{v.Value}, true
	}
	if v.Kind != yaml.SequenceNode {
		f.errorAt(v, f.sub(key), "want a list, got %s", kindName(v))
		return nil, false
	}
	out := make([]string, 0, len(v.Content))
	for i, item := range v.Content {
		if item.Kind != yaml.ScalarNode {
			f.errorAt(item, fmt.Sprintf("%s[%d]", f.sub(key), i), "want a single value, got %s", kindName(item))
			return nil, false
		}
		out = append(out, item.Value)
	}
	return out, true
}

// StringMap returns a mapping of strings to strings.
func (f *Fields) StringMap(key string) (map[string]string, bool) {
	m, ok := f.Map(key)
	if !ok {
		return nil, false
	}
	out := map[string]string{}
	for _, k := range m.Keys() {
		if s, ok := m.String(k); ok {
			out[k] = s
		}
	}
	return out, true
}

// Map returns the nested mapping under key. The caller must call Done on it.
func (f *Fields) Map(key string) (*Fields, bool) {
	v, ok := f.vals[key]
	if !ok {
		return nil, false
	}
	f.used[key] = true
	if v.Kind != yaml.MappingNode {
		f.errorAt(v, f.sub(key), "want a mapping, got %s", kindName(v))
		return nil, false
	}
	return newFields(f.file, f.sub(key), key, v, f.errs), true
}

// List returns the mappings of a list of mappings under key, each with its
// indexed path. The caller must call Done on each.
func (f *Fields) List(key string) ([]*Fields, bool) {
	v, ok := f.vals[key]
	if !ok {
		return nil, false
	}
	f.used[key] = true
	if v.Kind != yaml.SequenceNode {
		f.errorAt(v, f.sub(key), "want a list, got %s", kindName(v))
		return nil, false
	}
	out := make([]*Fields, 0, len(v.Content))
	for i, item := range v.Content {
		out = append(out, newFields(f.file, fmt.Sprintf("%s[%d]", f.sub(key), i), key, item, f.errs))
	}
	return out, true
}

// Done records an error for each key that no getter read, naming the keys
// that are allowed here.
func (f *Fields) Done(allowed ...string) {
	for _, k := range f.keys {
		if f.used[k.Value] {
			continue
		}
		known := append([]string(nil), allowed...)
		sort.Strings(known)
		hint := ""
		if s := closest(k.Value, known); s != "" {
			hint = fmt.Sprintf(" (did you mean %q?)", s)
		} else if len(known) > 0 {
			hint = " (known: " + strings.Join(known, ", ") + ")"
		}
		f.errorAt(k, f.sub(k.Value), "unknown field %q%s", k.Value, hint)
	}
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	default:
		// Not the value: -c pointing at a token file would print the
		// token. The position says where it is.
		return "a single value"
	}
}

// closest returns the candidate within edit distance 2 of s, if any.
func closest(s string, candidates []string) string {
	best, bestD := "", 3
	for _, c := range candidates {
		if d := EditDistance(s, c); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// EditDistance is the Levenshtein distance between a and b, in bytes: what
// the "did you mean" suggestions of budgets.yaml and of the checks measure.
func EditDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
