package grafana

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// The datasource types a target may query, as Target.Datasource names them.
const (
	Prometheus = "prometheus"
	Loki       = "loki"
)

// Dashboard is what the dashboards budget reads of a dashboard.
type Dashboard struct {
	Title string
	// Range is the dashboard's default time range (time.from "now-6h"
	// with time.to "now"); 0 when it is not relative to now.
	Range time.Duration
	Vars  []Variable
	// Targets are the panels' Prometheus and Loki targets with an
	// expression, in panel order; hidden targets and targets of other
	// datasources are left out. A target whose expr is not a string is
	// kept with its Problem set.
	Targets []Target
	inputs  map[string]string // __inputs: DS_PROMETHEUS → prometheus
}

// Variable is a template variable and its default (current) value.
type Variable struct {
	Name       string
	Type       string // query, custom, constant, interval, datasource, textbox, adhoc, ...
	Values     []string
	Texts      []string
	Multi      bool
	IncludeAll bool
	AllValue   string
	// Plugin is, for a datasource variable, the datasource type it
	// selects (its `query`: prometheus, loki).
	Plugin string
}

// Target is one query of a panel.
type Target struct {
	Panel      string // the panel's title, "panel ID" when it has none
	PanelID    int
	RefID      string // "A", "B", ...: Grafana's own letter when the JSON has none
	Expr       string // as written, variables not substituted
	Datasource string // Prometheus or Loki
	// Problem says why the target cannot be checked as the JSON has it
	// (an expr that is not a string); Expr is then "". Such a target is
	// kept, not dropped, so that it fails rather than goes unchecked.
	Problem string
}

// allValue is what Grafana stores as the value of an "All" selection.
const allValue = "$__all"

// Load reads a dashboard: the JSON of a dashboard as Grafana exports it,
// or the API's envelope {"dashboard": {...}, "meta": {...}}. A file that
// is not a dashboard is an error saying why, never what it holds.
func Load(data []byte) (*Dashboard, error) {
	var top map[string]any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&top); err != nil {
		return nil, jsonError(data, err)
	}
	if dec.More() {
		return nil, errors.New("not a Grafana dashboard: more than one JSON value")
	}
	if inner, ok := top["dashboard"].(map[string]any); ok {
		top = inner
	}
	_, hasPanels := top["panels"].([]any)
	_, hasRows := top["rows"].([]any)
	if !hasPanels && !hasRows {
		return nil, errors.New(`not a Grafana dashboard: no "panels" or "rows" list at the top`)
	}
	d := &Dashboard{inputs: map[string]string{}}
	d.Title, _ = top["title"].(string)
	d.Range = relativeRange(top["time"])
	for _, in := range list(top["__inputs"]) {
		m, _ := in.(map[string]any)
		name, _ := m["name"].(string)
		plugin, _ := m["pluginId"].(string)
		if name != "" && plugin != "" {
			d.inputs[name] = plugin
		}
	}
	if tm, ok := top["templating"].(map[string]any); ok {
		for _, v := range list(tm["list"]) {
			if m, ok := v.(map[string]any); ok {
				if vr, ok := readVariable(m); ok {
					d.Vars = append(d.Vars, vr)
				}
			}
		}
	}
	w := walker{d: d}
	w.panels(list(top["panels"]), nil)
	for _, r := range list(top["rows"]) {
		if m, ok := r.(map[string]any); ok {
			w.panels(list(m["panels"]), m["datasource"])
		}
	}
	return d, nil
}

// jsonError locates a JSON syntax error by line and column.
func jsonError(data []byte, err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		line, col := position(data, se.Offset-1) // Offset is just past the bad byte
		return fmt.Errorf("not JSON: line %d, column %d: %s", line, col, se.Error())
	case errors.As(err, &te):
		return errors.New("not a Grafana dashboard: the file is not a JSON object")
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("not JSON: the file is empty or ends early")
	}
	return fmt.Errorf("not JSON: %s", err.Error())
}

func position(data []byte, off int64) (line, col int) {
	off = min(max(off, 0), int64(len(data)))
	line = 1 + bytes.Count(data[:off], []byte("\n"))
	col = int(off) - bytes.LastIndexByte(data[:off], '\n')
	return line, col
}

func list(v any) []any {
	l, _ := v.([]any)
	return l
}

// relativeRange reads time {from: "now-6h", to: "now"}.
func relativeRange(v any) time.Duration {
	m, _ := v.(map[string]any)
	from, _ := m["from"].(string)
	to, _ := m["to"].(string)
	if to != "now" || !strings.HasPrefix(from, "now-") {
		return 0
	}
	d, err := parseGrafanaDuration(strings.TrimPrefix(from, "now-"))
	if err != nil {
		return 0
	}
	return d
}

// parseGrafanaDuration reads 6h, 30m, 7d, 2w (Grafana's relative units;
// months and years are left out: their length depends on the date).
func parseGrafanaDuration(s string) (time.Duration, error) {
	units := map[string]time.Duration{"ms": time.Millisecond, "s": time.Second, "m": time.Minute, "h": time.Hour, "d": 24 * time.Hour, "w": 7 * 24 * time.Hour}
	for _, u := range []string{"ms", "s", "m", "h", "d", "w"} {
		if n, ok := strings.CutSuffix(s, u); ok {
			if u == "s" && strings.HasSuffix(n, "m") {
				continue // "ms"
			}
			k, err := strconv.Atoi(n)
			if err != nil || k <= 0 {
				return 0, fmt.Errorf("bad duration %q", s)
			}
			return time.Duration(k) * units[u], nil
		}
	}
	return 0, fmt.Errorf("bad duration %q", s)
}

// readVariable reads a templating variable and its default value:
// current.value (a string or a list), else what Grafana would select
// first (a constant's or custom variable's query, the first option).
func readVariable(m map[string]any) (Variable, bool) {
	v := Variable{}
	v.Name, _ = m["name"].(string)
	if v.Name == "" {
		return v, false
	}
	v.Type, _ = m["type"].(string)
	v.Multi, _ = m["multi"].(bool)
	v.IncludeAll, _ = m["includeAll"].(bool)
	v.AllValue, _ = m["allValue"].(string)
	if v.Type == "datasource" {
		v.Plugin, _ = m["query"].(string)
	}
	if cur, ok := m["current"].(map[string]any); ok {
		v.Values = strs(cur["value"])
		v.Texts = strs(cur["text"])
	}
	if len(v.Values) == 0 {
		if opts := list(m["options"]); len(opts) > 0 {
			for _, o := range opts {
				om, _ := o.(map[string]any)
				if sel, _ := om["selected"].(bool); sel {
					v.Values = append(v.Values, strs(om["value"])...)
					v.Texts = append(v.Texts, strs(om["text"])...)
				}
			}
			if len(v.Values) == 0 {
				om, _ := opts[0].(map[string]any)
				v.Values, v.Texts = strs(om["value"]), strs(om["text"])
			}
		}
	}
	if len(v.Values) == 0 {
		q, _ := m["query"].(string)
		switch v.Type {
		case "constant", "textbox":
			v.Values = []string{q}
		case "custom", "interval":
			if first, _, _ := strings.Cut(q, ","); strings.TrimSpace(first) != "" {
				v.Values = []string{strings.TrimSpace(first)}
			}
		}
	}
	if len(v.Texts) != len(v.Values) {
		v.Texts = v.Values
	}
	return v, true
}

// strs reads a string, a number or a list of them.
func strs(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case json.Number:
		return []string{x.String()}
	case bool:
		return []string{strconv.FormatBool(x)}
	case []any:
		var out []string
		for _, e := range x {
			out = append(out, strs(e)...)
		}
		return out
	}
	return nil
}

type walker struct {
	d *Dashboard
}

// panels appends the targets of panels (and of panels nested in them:
// a collapsed row holds its panels) with inherited as the datasource of
// the enclosing row, if any.
func (w *walker) panels(ps []any, inherited any) {
	for _, p := range ps {
		m, ok := p.(map[string]any)
		if !ok {
			continue
		}
		ds := m["datasource"]
		if ds == nil {
			ds = inherited
		}
		w.targets(m, ds)
		w.panels(list(m["panels"]), ds)
	}
}

func (w *walker) targets(panel map[string]any, panelDS any) {
	title, _ := panel["title"].(string)
	id := -1
	if n, ok := panel["id"].(json.Number); ok {
		if i, err := n.Int64(); err == nil {
			id = int(i)
		}
	}
	if title == "" {
		title = "panel " + strconv.Itoa(id)
		if id < 0 {
			title = "untitled panel"
		}
	}
	for i, t := range list(panel["targets"]) {
		tm, ok := t.(map[string]any)
		if !ok {
			continue
		}
		expr, isString := tm["expr"].(string)
		problem := ""
		if raw, ok := tm["expr"]; ok && raw != nil && !isString {
			problem = fmt.Sprintf("the target's expr is %s, not a string", jsonKind(raw))
		}
		if hide, _ := tm["hide"].(bool); hide || (problem == "" && strings.TrimSpace(expr) == "") {
			continue
		}
		ref, _ := tm["refId"].(string)
		if ref == "" {
			ref = refLetter(i)
		}
		typ := w.d.datasourceType(tm["datasource"])
		if typ == "" || typ == "mixed" {
			typ = w.d.datasourceType(panelDS)
		}
		if typ == "" || typ == "mixed" {
			// No datasource anywhere: Grafana's default one. A target
			// with an expr is a Prometheus or a Loki one; Prometheus is
			// the default of the stacks these dashboards come from.
			typ = Prometheus
		}
		if typ != Prometheus && typ != Loki {
			continue
		}
		w.d.Targets = append(w.d.Targets, Target{Panel: title, PanelID: id, RefID: ref, Expr: expr, Datasource: typ, Problem: problem})
	}
}

// jsonKind names the kind of a decoded JSON value, never its content.
func jsonKind(v any) string {
	switch v.(type) {
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	}
	return "of an unknown kind"
}

// refLetter is the refId Grafana gives the i-th target: A..Z, then AA...
func refLetter(i int) string {
	s := ""
	for i++; i > 0; i = (i - 1) / 26 {
		s = string(rune('A'+(i-1)%26)) + s
	}
	return s
}

// datasourceType resolves a datasource reference: {type, uid}, a name or
// uid string, or a variable (${DS}, $datasource, [[ds]]) of type
// datasource or an __inputs entry. "" when it says nothing; "mixed" for
// Grafana's Mixed datasource, whose targets name their own.
func (d *Dashboard) datasourceType(v any) string {
	switch x := v.(type) {
	case string:
		return d.datasourceByName(x)
	case map[string]any:
		if t, _ := x["type"].(string); t != "" {
			if name, ok := variableRef(t); ok {
				return d.variablePlugin(name)
			}
			if t == "datasource" {
				uid, _ := x["uid"].(string)
				if uid == "-- Mixed --" {
					return "mixed"
				}
				return "grafana" // -- Grafana --, -- Dashboard --
			}
			return t
		}
		if uid, _ := x["uid"].(string); uid != "" {
			return d.datasourceByName(uid)
		}
	}
	return ""
}

func (d *Dashboard) datasourceByName(s string) string {
	if name, ok := variableRef(s); ok {
		return d.variablePlugin(name)
	}
	l := strings.ToLower(s)
	switch {
	case s == "-- Mixed --":
		return "mixed"
	case strings.HasPrefix(s, "-- "):
		return "grafana"
	case strings.Contains(l, "loki"):
		return Loki
	case strings.Contains(l, "prom"), strings.Contains(l, "mimir"), strings.Contains(l, "thanos"), strings.Contains(l, "cortex"), strings.Contains(l, "victoria"):
		return Prometheus
	}
	return ""
}

func (d *Dashboard) variablePlugin(name string) string {
	for _, v := range d.Vars {
		if v.Name == name && v.Type == "datasource" {
			return v.Plugin
		}
	}
	return d.inputs[name]
}

// variableRef reads a whole-string variable reference: $ds, ${ds}, [[ds]].
func variableRef(s string) (string, bool) {
	m := variableRE.FindStringSubmatchIndex(s)
	if m == nil || m[0] != 0 || m[1] != len(s) {
		return "", false
	}
	for _, g := range []int{1, 2, 4} {
		if m[2*g] >= 0 {
			return s[m[2*g]:m[2*g+1]], true
		}
	}
	return "", false
}
