package checks

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
	"gopkg.in/yaml.v3"

	"github.com/secflow/secflow-budget/internal/config"
	"github.com/secflow/secflow-budget/internal/secret"
	"github.com/secflow/secflow-budget/internal/sources"
)

var alertRulesFields = []config.Field{
	{Name: "require", Kind: config.KindStrings, Doc: "Alerts that must be loaded, healthy and quiet (default with rules_files: every alert they define)."},
	{Name: "rules_files", Kind: config.KindStrings, Doc: "Prometheus rule files, relative to the budgets file."},
	{Name: "firing", Kind: config.KindEnum, Enum: []string{"fail", "warn", "ignore"}, Doc: "What a firing required alert does (default fail)."},
	{Name: "require_labels", Kind: config.KindStrings, Pattern: labelNamePattern, Doc: "Labels every required alert must carry."},
	{Name: "require_annotations", Kind: config.KindStrings, Pattern: labelNamePattern, Doc: "Annotations every required alert must carry."},
}

// The firing policies: what a firing required alert does to the budget.
const (
	firingFail   = "fail"
	firingWarn   = "warn"
	firingIgnore = "ignore"
)

// The endpoints the check reads, as Queries shows them.
const (
	rulesEndpoint  = "GET /api/v1/rules"
	alertsEndpoint = "GET /api/v1/alerts"
)

// AlertRulesCheck holds that the required alerts are loaded in Prometheus,
// healthy (health ok, per rule as Prometheus reports it: a broken rule
// fails only the budgets that require it, not its group's other rules),
// carry the required labels and annotations, and are not firing (per the
// firing policy). With rules_files, the files are parsed at
// load time with Prometheus' own rulefmt and PromQL parser, and an alert
// the files define but Prometheus has not loaded is reported as such.
type AlertRulesCheck struct {
	require     []string
	firing      string
	labels      []string
	annotations []string
	files       []string                 // rules_files as written
	defined     map[string][]definedRule // alert name → its definitions in rules_files
}

// definedRule is where a rules file defines an alert.
type definedRule struct {
	file  string // as written in rules_files
	line  int
	group string
	expr  string // normalised by the PromQL parser, for comparing with the loaded rule
}

func (d definedRule) String() string {
	return fmt.Sprintf("%s:%d (group %s)", d.file, d.line, d.group)
}

func buildAlertRules(b *config.Budget, f *config.Fields) Check {
	c := &AlertRulesCheck{firing: firingFail, defined: map[string][]definedRule{}}
	var definedOrder []string
	filesOK := true // every rules file parsed: what they define is all there is
	if files, ok := f.Strings("rules_files"); ok {
		if len(files) == 0 {
			f.Errorf("rules_files", "no files: list the rule files to check, or leave rules_files out")
		}
		base := filepath.Dir(f.File())
		first := map[string]int{}
		for i, file := range files {
			if j, dup := first[filepath.Clean(file)]; dup {
				f.ErrorfTwice("rules_files", j, i, "file %q listed twice", file)
				filesOK = false
				continue
			}
			first[filepath.Clean(file)] = i
			c.files = append(c.files, file)
			rules, ok := readRulesFile(f, base, file)
			filesOK = filesOK && ok
			for _, d := range rules {
				if _, seen := c.defined[d.name]; !seen {
					definedOrder = append(definedOrder, d.name)
				}
				c.defined[d.name] = append(c.defined[d.name], d.definedRule)
			}
		}
	}
	if f.Has("require") || len(c.files) == 0 {
		if f.Require("require") {
			c.require = readAlertNames(f, "require")
		}
	} else {
		// rules_files alone: every alert they define is required.
		c.require = definedOrder
		if len(c.require) == 0 && filesOK {
			f.Errorf("rules_files", "the files define no alerting rule: set require, or list the files that hold the alerts")
		}
	}
	if len(c.files) > 0 && filesOK {
		suggested := 0
		for _, name := range c.require {
			if _, ok := c.defined[name]; !ok {
				// Suggestions cost an edit distance per defined alert:
				// a few are a help, thousands would be a quadratic wait.
				hint := ""
				if suggested++; suggested <= maxAlertSuggestions {
					hint = suggestAlert(name, definedOrder)
				}
				f.Errorf("require", "alert %q is not defined in rules_files (%s)%s", name, strings.Join(c.files, ", "), hint)
			}
		}
	}
	if s, ok := f.String("firing"); ok {
		switch s {
		case firingFail, firingWarn, firingIgnore:
			c.firing = s
		default:
			f.Errorf("firing", "invalid firing %q: want fail, warn or ignore", s)
		}
	}
	c.labels = readRuleLabelNames(f, "require_labels")
	c.annotations = readRuleLabelNames(f, "require_annotations")
	return c
}

// readAlertNames reads a non-empty list of distinct alert names.
func readAlertNames(f *config.Fields, key string) []string {
	names, ok := f.Strings(key)
	if !ok {
		return nil
	}
	if len(names) == 0 {
		f.Errorf(key, "no alerts: name at least one")
	}
	first := map[string]int{}
	for i, n := range names {
		_, dup := first[n]
		switch {
		case strings.TrimSpace(n) == "":
			f.Errorf(key, "empty alert name")
		case dup:
			f.ErrorfTwice(key, first[n], i, "alert %q listed twice", n)
			continue
		}
		first[n] = i
	}
	return names
}

func readRuleLabelNames(f *config.Fields, key string) []string {
	names, ok := f.Strings(key)
	if !ok {
		return nil
	}
	first := map[string]int{}
	for i, n := range names {
		if !model.LegacyValidation.IsValidLabelName(n) {
			f.Errorf(key, "invalid name %q: labels and annotations are named like Prometheus labels", n)
			return nil
		}
		if j, dup := first[n]; dup {
			f.ErrorfTwice(key, j, i, "%q listed twice", n)
			return nil
		}
		first[n] = i
	}
	return names
}

// maxAlertSuggestions bounds the "did you mean" hints of one budget.
const maxAlertSuggestions = 20

// suggestAlert says which defined alert a misspelt name probably means.
func suggestAlert(name string, defined []string) string {
	best, bestD := "", 4
	for _, d := range defined {
		if n := len(name) - len(d); n >= bestD || -n >= bestD {
			continue // the distance is at least the difference in length
		}
		if dist := config.EditDistance(strings.ToLower(name), strings.ToLower(d)); dist < bestD {
			best, bestD = d, dist
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// namedRule is an alert definition found in a rules file.
type namedRule struct {
	name string
	definedRule
}

// readRulesFile parses one rules file with Prometheus' rulefmt (which
// parses every expression with the PromQL parser and every template) and
// returns its alerts. Problems are recorded under rules_files, each naming
// the rules file and, when rulefmt knows it, the line and column in it;
// ok is false when there was any.
func readRulesFile(f *config.Fields, base, file string) (rules []namedRule, ok bool) {
	path := file
	if !filepath.IsAbs(path) {
		path = filepath.Join(base, file)
	}
	data, err := readAtMost(path, maxRulesFileBytes+1)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			dir := base
			if abs, err := filepath.Abs(base); err == nil {
				dir = abs
			}
			f.Errorf("rules_files", "%s: no such file (rules_files are relative to the budgets file's directory, %s)", file, dir)
		} else {
			f.Errorf("rules_files", "%s: %v", file, err)
		}
		return nil, false
	}
	if msgs := rulesFileBounds(file, data); len(msgs) > 0 {
		for _, msg := range msgs {
			f.Errorf("rules_files", "%s", msg)
		}
		return nil, false
	}
	shape, msgs := readRulesShape(file, data)
	if len(msgs) > 0 {
		for _, msg := range msgs {
			f.Errorf("rules_files", "%s", msg)
		}
		return nil, false
	}
	p := newParser()
	groups, errs := rulefmt.Parse(data, false, model.UTF8Validation, p, slog.New(slog.DiscardHandler))
	if len(errs) > 0 {
		// rulefmt decodes twice (typed, then as nodes): a YAML error
		// comes back twice.
		var seen []string
		for _, e := range errs {
			for _, msg := range rulesFileErrors(shape, e) {
				if !slices.Contains(seen, msg) {
					seen = append(seen, msg)
					f.Errorf("rules_files", "%s", msg)
				}
			}
		}
		return nil, false
	}
	lines := alertLines(data)
	var out []namedRule
	typesOK := true
	for gi, g := range groups.Groups {
		for ri, r := range g.Rules {
			if r.Alert == "" {
				continue
			}
			d := namedRule{name: r.Alert, definedRule: definedRule{file: file, group: g.Name, line: lines[[2]int{gi, ri}]}}
			if e, err := p.ParseExpr(r.Expr); err == nil {
				d.expr = e.String()
				// Prometheus loads such a rule and fails it at every
				// evaluation ("rule result is not a vector or scalar").
				if t := e.Type(); t != parser.ValueTypeVector && t != parser.ValueTypeScalar {
					f.Errorf("rules_files", "%s:%d: alert %s: the expression is a %s: an alerting rule needs an instant vector", file, d.line, r.Alert, typeName(t))
					typesOK = false
				}
			}
			out = append(out, d)
		}
	}
	if !typesOK {
		return nil, false
	}
	return out, true
}

// typeName is a PromQL value type as the messages name it.
func typeName(t parser.ValueType) string {
	if t == parser.ValueTypeMatrix {
		return "range vector"
	}
	return string(t)
}

var (
	// rulefmt's own errors start with the position: "12:15: group ...".
	rulefmtPosRE = regexp.MustCompile(`^(\d+):(\d+): (?:\d+:\d+: )?`)
	// yaml.v3's: "yaml: line 3: ..." or "yaml: unmarshal errors:\n  line 5: ...".
	yamlLineRE = regexp.MustCompile(`^\s*line (\d+): (.*)$`)
	// "field forr not found in type rulefmt.RuleNode": Go type names are
	// noise to a user.
	rulefmtTypeRE = regexp.MustCompile(`in type rulefmt\.\w+`)
)

func rulefmtTypeName(s string) string {
	name := strings.ToLower(strings.TrimPrefix(s, "in type rulefmt."))
	switch {
	case strings.HasPrefix(name, "rulegroups"):
		return "at the top of a rules file"
	case strings.HasPrefix(name, "rulegroup"):
		return "in a rule group"
	case strings.HasPrefix(name, "rule"):
		return "in a rule"
	}
	return s
}

// recordNameRE is a rulefmt message that ends with the recording rule's
// name, which may be anything the file holds.
var recordNameRE = regexp.MustCompile(`(invalid recording rule name|braces present in the recording rule name; should it be in expr\?): .*$`)

// rulesFileErrors renders one rulefmt error as FILE:LINE:COL: msg lines.
func rulesFileErrors(shape *rulesFile, err error) []string {
	file := shape.file
	msg := plainTypeError(err.Error())
	if m := rulefmtPosRE.FindStringSubmatch(msg); m != nil {
		if m[1] == "0" {
			// A group-level error: rulefmt has no node for it.
			return []string{fmt.Sprintf("%s: %s", file, msg[len(m[0]):])}
		}
		return []string{fmt.Sprintf("%s:%s:%s: %s", file, m[1], m[2], cutQuoted(recordNameRE.ReplaceAllString(msg[len(m[0]):], "$1 "+secret.NotShown)))}
	}
	// Below, the file may be anything but a rules file (rules_files
	// pointing at the wrong file): say where, never what it holds.
	rest, isYAML := strings.CutPrefix(msg, "yaml: ")
	if !isYAML {
		if line, ok := shape.ruleError(msg); ok {
			// rulefmt's check of a rule in a file that is a rules file.
			return []string{line}
		}
		return []string{fmt.Sprintf("%s: %s", file, notQuoting(msg))}
	}
	if m := yamlLineRE.FindStringSubmatch(rest); m != nil && !strings.Contains(rest, "\n") {
		return []string{fmt.Sprintf("%s:%s: %s", file, m[1], notQuoting(m[2]))}
	}
	var out []string
	for _, l := range strings.Split(rest, "\n") {
		if m := yamlLineRE.FindStringSubmatch(l); m != nil {
			out = append(out, fmt.Sprintf("%s:%s: %s", file, m[1], notQuoting(rulefmtTypeRE.ReplaceAllStringFunc(m[2], rulefmtTypeName))))
		}
	}
	if len(out) == 0 {
		out = append(out, fmt.Sprintf("%s: %s", file, notQuoting(rest)))
	}
	return out
}

// unknownFieldRE is yaml.v3's "field NAME not found", NAME unquoted.
var unknownFieldRE = regexp.MustCompile(`\bfield (.*) not found\b`)

// notQuoting drops what a YAML message quotes of the file (a value, an
// odd key), keeping what it says is wrong: an unknown field is named only
// as a near miss of a rules file's field.
func notQuoting(msg string) string {
	msg = unknownFieldRE.ReplaceAllStringFunc(msg, func(m string) string {
		name := unknownFieldRE.FindStringSubmatch(m)[1]
		if config.NearMiss(name, rulesAllFields) == "" {
			return "an unknown field, " + secret.NotShown + ", found"
		}
		return m
	})
	return secret.Quoted(msg)
}

// maxRulesFileBytes bounds a rules file read at validation.
const maxRulesFileBytes = 16 << 20

// readAtMost reads at most n bytes of the file at path: a rules file
// that names /dev/zero must not fill the memory.
func readAtMost(path string, n int64) ([]byte, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	return io.ReadAll(io.LimitReader(fh, n))
}

// rulesFileBounds refuses, before rulefmt parses them, a rules file too
// large to be one, one that is not YAML (at the line and column at fault:
// yaml.v3's own message names the line its block began), and rule
// expressions past the PromQL bounds: rulefmt would parse them with no
// limit.
func rulesFileBounds(file string, data []byte) []string {
	if len(data) > maxRulesFileBytes {
		return []string{fmt.Sprintf("%s: larger than %dMiB: not a rules file", file, maxRulesFileBytes>>20)}
	}
	if e := config.CheckYAML(file, data); e != nil {
		return []string{e.Error()}
	}
	var doc struct {
		Groups []struct {
			Rules []struct {
				Expr yaml.Node `yaml:"expr"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	if yaml.Unmarshal(data, &doc) != nil {
		return nil // rulefmt says what is wrong
	}
	var out []string
	for _, g := range doc.Groups {
		for _, r := range g.Rules {
			if off, msg := promqlBounds(r.Expr.Value); msg != "" {
				col := r.Expr.Column
				if r.Expr.Style == 0 && !strings.Contains(r.Expr.Value, "\n") {
					col += off
				}
				out = append(out, fmt.Sprintf("%s:%d:%d: expr: %s", file, r.Expr.Line, col, msg))
			}
		}
	}
	return out
}

// alertLines maps (group index, rule index) to the line of the rule in a
// rules file rulefmt accepted.
func alertLines(data []byte) map[[2]int]int {
	var doc struct {
		Groups []struct {
			Rules []yaml.Node `yaml:"rules"`
		} `yaml:"groups"`
	}
	lines := map[[2]int]int{}
	if yaml.Unmarshal(data, &doc) != nil {
		return lines
	}
	for gi, g := range doc.Groups {
		for ri, r := range g.Rules {
			lines[[2]int{gi, ri}] = r.Line
		}
	}
	return lines
}

// Queries implements Check.
func (c *AlertRulesCheck) Queries() []Query {
	return []Query{
		{Lang: "http", Text: rulesEndpoint},
		{Lang: "http", Text: alertsEndpoint},
	}
}

// loadedRule is an alerting rule as Prometheus reports it, with its group.
type loadedRule struct {
	group string // file and name: two files may hold groups of one name
	name  string
	rule  v1.AlertingRule
}

// activeAlerts sums up the alerts of one rule name.
type activeAlerts struct {
	state   string // worst: firing > pending > inactive
	firing  int
	pending int
	since   time.Time // earliest activeAt of the worst state
	summary string    // the summary annotation of an alert in the worst state
}

func stateRank(s string) int {
	switch s {
	case string(v1.AlertStateFiring):
		return 3
	case string(v1.AlertStatePending):
		return 2
	case string(v1.AlertStateInactive):
		return 1
	}
	return 0
}

func (a *activeAlerts) add(state string, activeAt time.Time, summary string) {
	switch state {
	case string(v1.AlertStateFiring):
		a.firing++
	case string(v1.AlertStatePending):
		a.pending++
	}
	if r := stateRank(state); r > stateRank(a.state) {
		a.state, a.since, a.summary = state, activeAt, summary
	} else if r == stateRank(a.state) {
		if !activeAt.IsZero() && (a.since.IsZero() || activeAt.Before(a.since)) {
			a.since = activeAt
		}
		if a.summary == "" {
			a.summary = summary
		}
	}
}

// Evaluate implements Check.
func (c *AlertRulesCheck) Evaluate(ctx context.Context, env Env) (Evaluation, error) {
	if env.PromAPI == nil {
		return Evaluation{}, sources.Errorf(sources.NotConfigured, "prometheus", "no Prometheus API to read %s from", rulesEndpoint)
	}
	rules, err := env.PromAPI.Rules(ctx)
	if err != nil {
		return Evaluation{}, err
	}
	ev := Evaluation{}
	var alerts *v1.AlertsResult
	if a, err := env.PromAPI.Alerts(ctx); err == nil {
		alerts = &a
	} else if sources.KindOf(err) == sources.Missing {
		// rules.json holds every alerting rule's state and active alerts;
		// alerts.json only confirms them.
		ev.Notes = append(ev.Notes, "states from /api/v1/rules only: "+err.Error())
	} else {
		return Evaluation{}, err
	}

	loaded := map[string][]loadedRule{}
	// The unhealthy rules of the groups that hold a required alert, which
	// this budget does not require: mentioned, never held against the
	// alerts beside them.
	type sickRule struct{ group, text string }
	var sick []sickRule
	shared := sharedGroupErrors(rules.Groups)
	for _, g := range rules.Groups {
		key := g.File + "\x00" + g.Name
		for _, r := range g.Rules {
			switch r := r.(type) {
			case v1.AlertingRule:
				if isSharedError(shared, key, r.LastError) {
					r.LastError = sharedErrorRef(g.Name)
				}
				loaded[r.Name] = append(loaded[r.Name], loadedRule{group: key, name: g.Name, rule: r})
				if d := ruleSickness(r.Health, r.LastError); d != "" && !slices.Contains(c.require, r.Name) {
					sick = append(sick, sickRule{key, fmt.Sprintf("alert %s: %s", r.Name, d)})
				}
			case v1.RecordingRule:
				if isSharedError(shared, key, r.LastError) {
					r.LastError = sharedErrorRef(g.Name)
				}
				if d := ruleSickness(r.Health, r.LastError); d != "" {
					sick = append(sick, sickRule{key, fmt.Sprintf("recording rule %s: %s", r.Name, d)})
				}
			}
		}
	}
	requiredGroups := map[string]bool{}
	for _, name := range c.require {
		for _, lr := range loaded[name] {
			requiredGroups[lr.group] = true
		}
	}
	var siblings []string
	for _, s := range sick {
		if requiredGroups[s.group] {
			_, gname, _ := strings.Cut(s.group, "\x00")
			siblings = append(siblings, fmt.Sprintf("group %s: %s", gname, s.text))
		}
	}
	ev.Notes = append(ev.Notes, sharedErrorNotes(rules.Groups, shared, requiredGroups)...)
	if len(siblings) > 0 {
		ev.Notes = append(ev.Notes, "unhealthy rules beside the required alerts, which this budget does not require (they fail only a budget that requires them): "+strings.Join(siblings, "; "))
	}
	fromAlerts := map[string]*activeAlerts{}
	if alerts != nil {
		for _, a := range alerts.Alerts {
			name := string(a.Labels[model.AlertNameLabel])
			if fromAlerts[name] == nil {
				fromAlerts[name] = &activeAlerts{}
			}
			fromAlerts[name].add(string(a.State), a.ActiveAt, string(a.Annotations["summary"]))
		}
	}

	var problems []string
	counts := map[string]int{}
	for _, name := range c.require {
		r, problem := c.judge(name, loaded[name], fromAlerts[name])
		if problem != "" {
			problems = append(problems, name+" "+problem)
		}
		if st, _ := extraString(r, "state"); st != "" {
			counts[st]++
		}
		ev.Results = append(ev.Results, r)
		if n := c.driftNote(name, loaded[name]); n != "" {
			ev.Notes = append(ev.Notes, n)
		}
	}
	ev.Message = c.message(len(c.require), problems, counts)
	if len(rules.Groups) == 0 {
		// Not one group: the server evaluates no rules at all, rather
		// than lacking these.
		for i := range ev.Results {
			if st, _ := extraString(ev.Results[i], "state"); st == "not_loaded" {
				ev.Results[i].Note = noRulerNote
			}
		}
		ev.Message = NoRulerMessage
	}
	return ev, nil
}

// ruleSickness describes a rule whose health, as Prometheus reports it, is
// not ok, or returns "".
func ruleSickness(health v1.RuleHealth, lastError string) string {
	switch {
	case health == v1.RuleHealthGood:
		return ""
	case health == v1.RuleHealthBad:
		if lastError == "" {
			return "health " + string(health)
		}
		return fmt.Sprintf("health %s: %s", health, lastError)
	case health == v1.RuleHealthUnknown:
		return "health unknown (not evaluated yet)"
	}
	if lastError != "" {
		return fmt.Sprintf("health %s: %s", strconv.Quote(string(health)), lastError)
	}
	return "health " + strconv.Quote(string(health))
}

func extraString(r Result, key string) (string, bool) {
	for _, kv := range r.Extra {
		if kv.Key == key {
			s, ok := kv.Value.(string)
			return s, ok
		}
	}
	return "", false
}

// judge builds the result of one required alert and a short description
// of what is wrong with it ("" when nothing is).
func (c *AlertRulesCheck) judge(name string, rules []loadedRule, active *activeAlerts) (Result, string) {
	r := Result{Subject: name, Labels: map[string]string{}}
	if len(rules) == 0 {
		r.Value, r.Status = F(0), Fail
		r.Extra = []KV{{"state", "not_loaded"}, {"health", "not_loaded"}}
		r.Note = "not loaded in Prometheus: no alerting rule of this name in /api/v1/rules"
		if defs := c.defined[name]; len(defs) > 0 {
			r.Note = fmt.Sprintf("defined in %s but not loaded in Prometheus: is the file in rule_files of prometheus.yml, and was Prometheus reloaded since?", defs[0])
		}
		return r, "not loaded"
	}

	var notes, problems []string
	status := Pass

	// Health: the rule's own, as Prometheus reports it. Every loaded rule
	// of the name counts (two groups may define it). Other rules of its
	// group are theirs to answer for.
	health := v1.RuleHealth(v1.RuleHealthGood)
	for _, lr := range rules {
		health = worseHealth(health, lr.rule.Health)
		if d := ruleSickness(lr.rule.Health, lr.rule.LastError); d != "" {
			notes = append(notes, d)
		} else if lr.rule.LastError != "" {
			notes = append(notes, fmt.Sprintf("Prometheus reports health ok with a last error: %s", lr.rule.LastError))
		}
	}
	if health != v1.RuleHealthGood {
		status = Fail
		problems = append(problems, "unhealthy")
	}

	// Labels and annotations: every loaded rule of this name needs them.
	var missingLabels, missingAnnotations []string
	for _, lr := range rules {
		for _, l := range c.labels {
			if lr.rule.Labels[model.LabelName(l)] == "" && !slices.Contains(missingLabels, l) {
				missingLabels = append(missingLabels, l)
			}
		}
		for _, a := range c.annotations {
			if lr.rule.Annotations[model.LabelName(a)] == "" && !slices.Contains(missingAnnotations, a) {
				missingAnnotations = append(missingAnnotations, a)
			}
		}
	}
	if len(missingLabels) > 0 {
		status = Fail
		notes = append(notes, plural(len(missingLabels), "missing label ", "missing labels ")+strings.Join(missingLabels, ", "))
		problems = append(problems, "without label "+strings.Join(missingLabels, ", "))
	}
	if len(missingAnnotations) > 0 {
		status = Fail
		notes = append(notes, plural(len(missingAnnotations), "missing annotation ", "missing annotations ")+strings.Join(missingAnnotations, ", "))
		problems = append(problems, "without annotation "+strings.Join(missingAnnotations, ", "))
	}

	// State: the worst of what /api/v1/rules and /api/v1/alerts say.
	st := &activeAlerts{}
	for _, lr := range rules {
		fromRule := &activeAlerts{}
		for _, a := range lr.rule.Alerts {
			if a != nil {
				fromRule.add(string(a.State), a.ActiveAt, string(a.Annotations["summary"]))
			}
		}
		if stateRank(lr.rule.State) > stateRank(fromRule.state) {
			fromRule.add(lr.rule.State, time.Time{}, "")
		}
		mergeActive(st, fromRule)
	}
	if active != nil {
		mergeActive(st, active)
	}
	state := st.state
	if state == "" {
		state = string(v1.AlertStateInactive)
	}
	switch state {
	case string(v1.AlertStateFiring):
		note := "firing" + since(st.since) + alertCount(st.firing) + summarySuffix(st.summary)
		switch c.firing {
		case firingFail:
			status = Fail
			problems = append(problems, "firing")
		case firingWarn:
			status = max(status, Warn)
			problems = append(problems, "firing")
			note += " (firing: warn)"
		case firingIgnore:
			note += " (firing: ignore)"
		}
		notes = append(notes, note)
	case string(v1.AlertStatePending):
		notes = append(notes, "pending"+since(st.since)+alertCount(st.pending)+", not firing yet"+summarySuffix(st.summary))
	}

	r.Status = status
	r.Value = F(0)
	if status == Pass {
		r.Value = F(1)
	}
	r.Extra = []KV{{"state", state}, {"health", string(health)}}
	r.Note = strings.Join(notes, "; ")
	return r, strings.Join(problems, ", ")
}

// worseHealth orders err (and anything unexpected) > unknown > ok.
func worseHealth(a, b v1.RuleHealth) v1.RuleHealth {
	rank := func(h v1.RuleHealth) int {
		switch h {
		case v1.RuleHealthGood:
			return 0
		case v1.RuleHealthUnknown:
			return 1
		}
		return 2
	}
	if rank(b) > rank(a) {
		return b
	}
	return a
}

// mergeActive folds b into a. Counts take the larger side: /api/v1/rules
// and /api/v1/alerts report the same alerts twice.
func mergeActive(a, b *activeAlerts) {
	if stateRank(b.state) > stateRank(a.state) {
		a.state, a.since, a.summary = b.state, b.since, b.summary
	} else if stateRank(b.state) == stateRank(a.state) {
		if !b.since.IsZero() && (a.since.IsZero() || b.since.Before(a.since)) {
			a.since = b.since
		}
		if a.summary == "" {
			a.summary = b.summary
		}
	}
	a.firing = max(a.firing, b.firing)
	a.pending = max(a.pending, b.pending)
}

func since(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return " since " + t.UTC().Format(time.RFC3339)
}

// summarySuffix quotes an alert's summary annotation, which says in the
// alert's own words what is wrong ("SecFlow task duration P99 is 770s...").
func summarySuffix(summary string) string {
	if summary = strings.TrimSpace(summary); summary == "" {
		return ""
	}
	return ": " + summary
}

func alertCount(n int) string {
	if n <= 1 {
		return ""
	}
	return fmt.Sprintf(" (%d alerts)", n)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// driftNote says when a loaded rule's expression is not the one rules_files
// defines: Prometheus runs another version of the file.
func (c *AlertRulesCheck) driftNote(name string, rules []loadedRule) string {
	defs := c.defined[name]
	if len(defs) == 0 || len(rules) == 0 {
		return ""
	}
	p := newParser()
	for _, lr := range rules {
		e, err := p.ParseExpr(lr.rule.Query)
		if err != nil {
			return ""
		}
		loadedExpr := e.String()
		if !slices.ContainsFunc(defs, func(d definedRule) bool { return d.expr == loadedExpr }) {
			return fmt.Sprintf("%s: Prometheus runs `%s`, not the expression of %s: reload Prometheus after deploying the file", name, lr.rule.Query, defs[0])
		}
	}
	return ""
}

// message sums up the budget: every alert fine, or what is wrong.
func (c *AlertRulesCheck) message(total int, problems []string, states map[string]int) string {
	if len(problems) == 0 {
		msg := fmt.Sprintf("%d of %d alert rules loaded and healthy", total, total)
		switch n := states[string(v1.AlertStateFiring)]; {
		case n > 0:
			msg += fmt.Sprintf(", %d firing (firing: ignore)", n)
		default:
			msg += ", none firing"
		}
		if n := states[string(v1.AlertStatePending)]; n > 0 {
			msg += fmt.Sprintf(", %d pending", n)
		}
		return msg
	}
	shown := problems
	if len(shown) > 3 {
		shown = shown[:3]
	}
	msg := strings.Join(shown, "; ")
	if more := len(problems) - len(shown); more > 0 {
		msg += fmt.Sprintf(" (and %d more)", more)
	}
	return msg
}
