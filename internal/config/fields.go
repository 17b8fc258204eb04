package config

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/secflow/secflow-budget/internal/secret"
)

// Fields reads the keys of one YAML mapping with position-aware errors. Each
// getter marks its key as used; Done reports every key nobody asked for.
// Errors accumulate in the shared list, so a builder reads every field and
// the user sees every mistake at once.
//
// Aliases (*name) and merge keys (<<: *name) are followed: a value that
// comes from an anchor is read like one written in place, and an error in
// it is reported where the alias is used (the budget that uses it), with
// the anchor's line in the message.
type Fields struct {
	file  string
	path  string
	node  *yaml.Node
	keys  []*yaml.Node
	vals  map[string]*yaml.Node
	at    map[string]*yaml.Node // where to report a key that came from an alias or merge
	used  map[string]bool
	errs  *Errors
	owner string     // what the keys belong to, for unknown-key messages
	use   *yaml.Node // the alias this mapping was reached through, if any
	// merged counts the keys merge keys brought in, over the whole file.
	merged *int
	// trace, when set (StartTrace), collects the mappings read below f.
	trace *[]*Fields
}

// maxMergedKeys bounds the keys that merge keys (<<) may bring into the
// mappings of one file, merges of merges included: each is a reference
// to an anchor, and a few lines of them could otherwise stand for
// millions of keys.
const maxMergedKeys = 10000

// maxMergeDepth bounds merges of mappings that merge other mappings.
const maxMergeDepth = 32

func newFields(file, path, owner string, node *yaml.Node, errs *Errors, use *yaml.Node) *Fields {
	return newFieldsCounting(file, path, owner, node, errs, use, new(int))
}

func newFieldsCounting(file, path, owner string, node *yaml.Node, errs *Errors, use *yaml.Node, merged *int) *Fields {
	if node.Kind == yaml.AliasNode && node.Alias != nil {
		if use == nil {
			use = node
		}
		node = node.Alias
	}
	f := &Fields{file: file, path: path, node: node, vals: map[string]*yaml.Node{}, at: map[string]*yaml.Node{}, used: map[string]bool{}, errs: errs, owner: owner, use: use, merged: merged}
	if node.Kind != yaml.MappingNode {
		f.errorAt(node, path, "want a mapping, got %s", kindName(node))
		return f
	}
	var merges []*yaml.Node // merge values, in file order
	for i := 0; i+1 < len(node.Content); i += 2 {
		k, v := resolve(node.Content[i]), node.Content[i+1]
		if isMergeKey(k) {
			merges = append(merges, v)
			continue
		}
		if k.Kind != yaml.ScalarNode {
			f.errorAt(k, f.sub("?"), "want a plain name as the key, got %s", kindName(k))
			continue
		}
		if _, dup := f.vals[k.Value]; dup {
			f.errorAt(k, f.sub(k.Value), "duplicate key %q", k.Value)
			continue
		}
		f.keys = append(f.keys, k)
		f.vals[k.Value] = resolve(v)
		if v.Kind == yaml.AliasNode {
			f.at[k.Value] = v
		}
	}
	// Keys written in the mapping win over merged ones, and an earlier
	// merged mapping wins over a later one, as YAML's merge key says.
	for _, m := range merges {
		f.merge(m, m, 0)
	}
	return f
}

// merge adds the keys of the merge value v (a mapping, an alias of one, or
// a list of those) that the mapping does not have yet; use is where an
// error about them is reported.
func (f *Fields) merge(v, use *yaml.Node, depth int) {
	if depth > maxMergeDepth {
		f.errorAt(use, f.path, "merge keys (<<) nested more than %d deep", maxMergeDepth)
		return
	}
	if v.Kind == yaml.AliasNode {
		use = v
	}
	v = resolve(v)
	switch v.Kind {
	case yaml.SequenceNode:
		if depth > 0 {
			f.errorAt(use, f.path, "a merge key (<<) takes a mapping or a list of mappings, got a list of lists")
			return
		}
		for _, item := range v.Content {
			f.merge(item, item, depth+1)
		}
		return
	case yaml.MappingNode:
	default:
		f.errorAt(use, f.sub("<<"), "a merge key (<<) takes a mapping or a list of mappings, got %s", kindName(v))
		return
	}
	var nested []*yaml.Node
	for i := 0; i+1 < len(v.Content); i += 2 {
		k, val := resolve(v.Content[i]), v.Content[i+1]
		if isMergeKey(k) {
			nested = append(nested, val)
			continue
		}
		if k.Kind != yaml.ScalarNode {
			continue
		}
		if *f.merged++; *f.merged > maxMergedKeys {
			f.errorAt(use, f.path, "merge keys (<<) bring in more than %d keys", maxMergedKeys)
			return
		}
		if _, ok := f.vals[k.Value]; ok {
			continue
		}
		f.keys = append(f.keys, k)
		f.vals[k.Value] = resolve(val)
		f.at[k.Value] = use
	}
	for _, n := range nested {
		f.merge(n, use, depth+1)
	}
}

// child reads a mapping inside f, sharing its errors and merge count.
func (f *Fields) child(path, owner string, node *yaml.Node, use *yaml.Node) *Fields {
	c := newFieldsCounting(f.file, path, owner, node, f.errs, use, f.merged)
	if f.trace != nil {
		c.trace = f.trace
		*f.trace = append(*f.trace, c)
	}
	return c
}

func isMergeKey(k *yaml.Node) bool {
	return k.Kind == yaml.ScalarNode && k.Tag == "!!merge"
}

// resolve follows an alias to the node its anchor names.
func resolve(n *yaml.Node) *yaml.Node {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		return n.Alias
	}
	return n
}

// NewFieldsForTest builds Fields over a YAML mapping text, for tests of
// builders outside this package.
func NewFieldsForTest(text string) (*Fields, *Errors, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(text), &doc); err != nil {
		return nil, nil, err
	}
	errs := &Errors{}
	return newFields("test.yaml", "budgets[0]", "budget", doc.Content[0], errs, nil), errs, nil
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
	f.errorAtUse(n, nil, path, 0, format, args...)
}

// errorAtUse records an error about node n, at the alias use when n came
// from an anchor (use, or the alias the mapping was reached through), else
// at n itself moved right by offset columns.
func (f *Fields) errorAtUse(n, use *yaml.Node, path string, offset int, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if f.use != nil {
		use = f.use
	}
	line, col := n.Line, n.Column+offset
	if use != nil {
		msg += fmt.Sprintf(" (in the value of the anchor at line %d)", anchorLine(use, n))
		line, col = use.Line, use.Column
	}
	*f.errs = append(*f.errs, &Error{File: f.file, Line: line, Col: col, Path: path, Msg: msg})
}

// anchorLine is the line of the anchored value an alias use refers to;
// when n lies inside it, n's own line.
func anchorLine(use, n *yaml.Node) int {
	if n != nil && n.Line > 0 {
		return n.Line
	}
	return resolve(use).Line
}

// Errorf records an error at the value of key (or at the mapping when key is
// absent).
func (f *Fields) Errorf(key, format string, args ...any) {
	if v, ok := f.vals[key]; ok {
		f.errorAtUse(v, f.at[key], f.sub(key), 0, format, args...)
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
			f.errorAtUse(k, f.at[key], f.sub(key), 0, format, args...)
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
	col := 0
	switch v.Style {
	case 0, yaml.FlowStyle:
		col += offset
	case yaml.SingleQuotedStyle, yaml.DoubleQuotedStyle:
		col += offset + 1
	}
	if strings.Contains(v.Value, "\n") {
		col = 0
	}
	f.errorAtUse(v, f.at[key], f.sub(key), col, format, args...)
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
		f.errorAtUse(v, f.at[key], f.sub(key), 0, "want a single value, got %s", kindName(v))
		return nil, false
	}
	return v, true
}

// String returns the string value of key. A control character other than
// a tab or a line break is refused: written as an escape ("\e[31m") it
// would reach terminals through every report.
func (f *Fields) String(key string) (string, bool) {
	v, ok := f.scalar(key)
	if !ok {
		return "", false
	}
	if r, bad := controlIn(v.Value); bad {
		f.errorAtUse(v, f.at[key], f.sub(key), 0, "the value holds the control character U+%04X", r)
		return "", false
	}
	return v.Value, true
}

// controlIn returns the first control character of s other than a tab or
// a line break.
func controlIn(s string) (rune, bool) {
	for _, r := range s {
		if (r < 0x20 && r != '\t' && r != '\n' && r != '\r') || (r >= 0x7F && r <= 0x9F) {
			return r, true
		}
	}
	return 0, false
}

// Float returns a number.
func (f *Fields) Float(key string) (float64, bool) {
	v, ok := f.scalar(key)
	if !ok {
		return 0, false
	}
	x, err := strconv.ParseFloat(strings.ReplaceAll(v.Value, "_", ""), 64)
	if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
		f.errorAtUse(v, f.at[key], f.sub(key), 0, "invalid number %q: want a finite number such as 10000 or 0.5", v.Value)
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
		f.errorAtUse(v, f.at[key], f.sub(key), 0, "invalid whole number %q", v.Value)
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
	f.errorAtUse(v, f.at[key], f.sub(key), 0, "invalid boolean %q: want true or false", v.Value)
	return false, false
}

// Duration returns a duration such as 300s, 5m or 1h.
func (f *Fields) Duration(key string) (time.Duration, bool) {
	return f.duration(key, false)
}

// duration reads a duration that must be positive, or with zeroOK at
// least zero.
func (f *Fields) duration(key string, zeroOK bool) (time.Duration, bool) {
	v, ok := f.scalar(key)
	if !ok {
		return 0, false
	}
	d, err := ParseDuration(v.Value)
	if err != nil {
		f.errorAtUse(v, f.at[key], f.sub(key), 0, "%v", err)
		return 0, false
	}
	switch {
	case zeroOK && d < 0:
		f.errorAtUse(v, f.at[key], f.sub(key), 0, "duration %q must not be negative", v.Value)
		return 0, false
	case !zeroOK && d <= 0:
		f.errorAtUse(v, f.at[key], f.sub(key), 0, "duration %q must be positive", v.Value)
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
		f.errorAtUse(v, f.at[key], f.sub(key), 0, "%v", err)
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
		f.errorAtUse(v, f.at[key], f.sub(key), 0, "%v", err)
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
	if isNull(v) {
		return []string{}, true
	}
	if v.Kind == yaml.ScalarNode {
		if r, bad := controlIn(v.Value); bad {
			f.errorAtUse(v, f.at[key], f.sub(key), 0, "the value holds the control character U+%04X", r)
			return nil, false
		}
		return []string{v.Value}, true
	}
	if v.Kind != yaml.SequenceNode {
		f.errorAtUse(v, f.at[key], f.sub(key), 0, "want a list, got %s", kindName(v))
		return nil, false
	}
	out := make([]string, 0, len(v.Content))
	for i, item := range v.Content {
		use := f.at[key]
		if item.Kind == yaml.AliasNode && use == nil {
			use = item
		}
		item = resolve(item)
		if item.Kind != yaml.ScalarNode || isNull(item) {
			f.errorAtUse(item, use, fmt.Sprintf("%s[%d]", f.sub(key), i), 0, "want a single value, got %s", kindName(item))
			return nil, false
		}
		if r, bad := controlIn(item.Value); bad {
			f.errorAtUse(item, use, fmt.Sprintf("%s[%d]", f.sub(key), i), 0, "the value holds the control character U+%04X", r)
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
		f.errorAtUse(v, f.at[key], f.sub(key), 0, "want a mapping, got %s", kindName(v))
		return nil, false
	}
	return f.child(f.sub(key), key, v, f.useFor(key)), true
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
		f.errorAtUse(v, f.at[key], f.sub(key), 0, "want a list, got %s", kindName(v))
		return nil, false
	}
	out := make([]*Fields, 0, len(v.Content))
	for i, item := range v.Content {
		use := f.useFor(key)
		if use == nil && item.Kind == yaml.AliasNode {
			use = item
		}
		out = append(out, f.child(fmt.Sprintf("%s[%d]", f.sub(key), i), key, resolve(item), use))
	}
	return out, true
}

// Done records an error for each key that no getter read, naming the keys
// that are allowed here.
func (f *Fields) Done(allowed ...string) {
	for _, k := range f.keys {
		// An allowed key no getter read is no unknown field: a budget of
		// an unknown type allows every type's fields, and reads none.
		if f.used[k.Value] || slices.Contains(allowed, k.Value) {
			continue
		}
		known := append([]string(nil), allowed...)
		sort.Strings(known)
		s := NearMiss(k.Value, known)
		if s == "" {
			// A key that is no near miss of a field may be anything the
			// file holds (a line of /etc/shadow, an access key id as a
			// JSON key): the position says where, the key is not shown.
			hint := ""
			if len(known) > 0 {
				hint = " (known: " + strings.Join(known, ", ") + ")"
			}
			f.errorAtUse(k, f.at[k.Value], f.path, 0, "an unknown field %s%s", secret.NotShown, hint)
			continue
		}
		f.errorAtUse(k, f.at[k.Value], f.sub(k.Value), 0, "unknown field %q (did you mean %q?)", k.Value, s)
	}
}

// fieldNameRE is a key worth naming: a typo such as "windw" helps, a line
// of a shell script or a key with spaces is no field name.
var fieldNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]{0,39}$`)

// IsFieldName reports whether an unknown key looks like a field name: only
// such a key, and only when it is a near miss of a known field, is named
// in a message.
func IsFieldName(key string) bool { return fieldNameRE.MatchString(key) }

// hasNearMiss reports whether a key of the mapping is a near miss of one
// of known (and not one of them).
func (f *Fields) hasNearMiss(known []string) bool {
	for _, k := range f.keys {
		if !slices.Contains(known, k.Value) && NearMiss(k.Value, known) != "" {
			return true
		}
	}
	return false
}

// NearMiss is the known field an unknown key probably means, or "" when
// the key is no near miss of one or does not look like a field name: a
// key that is neither may be anything the file holds, and is not named.
func NearMiss(key string, known []string) string {
	if !IsFieldName(key) {
		return ""
	}
	return closest(key, known)
}

// useFor is the alias use that errors inside key's value are reported at:
// the mapping's own, else the one key's value came through.
func (f *Fields) useFor(key string) *yaml.Node {
	if f.use != nil {
		return f.use
	}
	return f.at[key]
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.Tag == "!!null" }

func kindName(n *yaml.Node) string {
	if isNull(n) {
		return "an empty value"
	}
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
		if n := len(s) - len(c); n >= bestD || -n >= bestD {
			continue // the distance is at least the difference in length
		}
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

// ErrorfTwice records that items first and second (first < second) of
// list key hold the same value: at the second, naming both places, so a
// long list need not be searched for the other.
func (f *Fields) ErrorfTwice(key string, first, second int, format string, args ...any) {
	v, ok := f.vals[key]
	if !ok || v.Kind != yaml.SequenceNode || second >= len(v.Content) || first < 0 || first >= second {
		f.Errorf(key, format, args...)
		return
	}
	at := func(i int) (*yaml.Node, *yaml.Node) {
		use := f.at[key]
		item := v.Content[i]
		if item.Kind == yaml.AliasNode && use == nil {
			use = item
		}
		return resolve(item), use
	}
	n1, use1 := at(first)
	n2, use2 := at(second)
	pos := func(n, use *yaml.Node) string {
		if use != nil {
			n = use
		}
		return fmt.Sprintf("%d:%d", n.Line, n.Column)
	}
	msg := fmt.Sprintf(format, args...) + fmt.Sprintf(": %s[%d] at %s and %s[%d] at %s", key, first, pos(n1, use1), key, second, pos(n2, use2))
	f.errorAtUse(n2, use2, fmt.Sprintf("%s[%d]", f.sub(key), second), 0, "%s", msg)
}
