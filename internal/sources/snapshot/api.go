package snapshot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/secflow/secflow-budget/internal/sources"
)

// The state files of a snapshot: what Prometheus' and Loki's APIs answered
// beyond queries, for the alert_rules, scrape and retention budgets.
//
// rules.json, alerts.json and targets.json are each the full body of
// Prometheus' answer, envelope included, exactly as
// `curl PROM/api/v1/rules > rules.json` writes it:
//
//	{"status":"success","data":{"groups":[...]}}
//
// runtime.json is ours: retention and other runtime facts of both sources.
// "prometheus" is the data of /api/v1/status/runtimeinfo (without the
// envelope), "loki" holds limits_config.retention_period of Loki's /config
// as Loki writes durations ("0s": retention disabled, logs kept forever).
// Either may be left out.
//
//	{"prometheus": {"startTime": "...", "storageRetention": "15d", ...},
//	 "loki": {"retention_period": "168h"}}
const (
	RulesFile   = "rules.json"
	AlertsFile  = "alerts.json"
	TargetsFile = "targets.json"
	RuntimeFile = "runtime.json"
)

// Runtime is the content of runtime.json.
type Runtime struct {
	Prometheus *v1.RuntimeinfoResult `json:"prometheus,omitempty"`
	Loki       *LokiRuntime          `json:"loki,omitempty"`
}

// LokiRuntime is the "loki" section of runtime.json.
type LokiRuntime struct {
	// RetentionPeriod is limits_config.retention_period as Loki writes it
	// ("168h", "4w3d"); "0s" when Loki deletes nothing (retention_period
	// 0, or compactor.retention_enabled false).
	RetentionPeriod string `json:"retention_period"`
}

// State answers sources.PromAPI and sources.LokiAPI from a snapshot's state
// files. It is read whole by Snapshot.State and immutable afterwards, so it
// is safe for concurrent use. A file the snapshot lacks makes only the
// methods that need it fail, with a *sources.Error of kind Missing naming
// the file.
type State struct {
	dir         string
	rules       *v1.RulesResult
	alerts      *v1.AlertsResult
	targets     *v1.TargetsResult
	prometheus  *v1.RuntimeinfoResult
	lokiPeriod  *time.Duration
	haveRuntime bool
	// promEngine is the engine the manifest records for the prometheus
	// source ("" when it records none).
	promEngine string
}

var (
	_ sources.PromAPI = (*State)(nil)
	_ sources.LokiAPI = (*State)(nil)
)

// State reads and checks every state file the snapshot holds (rules.json,
// alerts.json, targets.json, runtime.json). None is required. A file that
// is not what its name promises is a *CorruptError (FILE:LINE), which the
// CLI reports as an unreadable snapshot.
func (s *Snapshot) State() (*State, error) {
	st := &State{dir: s.dir}
	for _, e := range s.manifest.Engines {
		if e.Source == "prometheus" {
			st.promEngine = e.Engine
		}
	}
	var err error
	if st.rules, err = readEnvelope[v1.RulesResult](s.dir, RulesFile); err != nil {
		return nil, err
	}
	if st.alerts, err = readEnvelope[v1.AlertsResult](s.dir, AlertsFile); err != nil {
		return nil, err
	}
	if st.targets, err = readEnvelope[v1.TargetsResult](s.dir, TargetsFile); err != nil {
		return nil, err
	}
	rt, err := readRuntime(filepath.Join(s.dir, RuntimeFile))
	if err != nil {
		return nil, err
	}
	if rt != nil {
		st.haveRuntime = true
		st.prometheus = rt.Prometheus
		if rt.Loki != nil {
			d, err := parseRetentionPeriod(rt.Loki.RetentionPeriod)
			if err != nil {
				return nil, &CorruptError{File: filepath.Join(s.dir, RuntimeFile), Msg: "loki.retention_period: " + err.Error()}
			}
			st.lokiPeriod = &d
		}
	}
	return st, nil
}

// Rules implements sources.PromAPI from rules.json.
func (st *State) Rules(ctx context.Context) (v1.RulesResult, error) {
	if err := ctx.Err(); err != nil {
		return v1.RulesResult{}, err
	}
	if st.rules == nil {
		return v1.RulesResult{}, st.missing(RulesFile, "/api/v1/rules")
	}
	return *st.rules, nil
}

// Alerts implements sources.PromAPI from alerts.json.
func (st *State) Alerts(ctx context.Context) (v1.AlertsResult, error) {
	if err := ctx.Err(); err != nil {
		return v1.AlertsResult{}, err
	}
	if st.alerts == nil {
		return v1.AlertsResult{}, st.missing(AlertsFile, "/api/v1/alerts")
	}
	return *st.alerts, nil
}

// Targets implements sources.PromAPI from targets.json.
func (st *State) Targets(ctx context.Context) (v1.TargetsResult, error) {
	if err := ctx.Err(); err != nil {
		return v1.TargetsResult{}, err
	}
	if st.targets == nil {
		return v1.TargetsResult{}, st.missing(TargetsFile, "/api/v1/targets")
	}
	return *st.targets, nil
}

// Runtimeinfo implements sources.PromAPI from runtime.json's "prometheus".
func (st *State) Runtimeinfo(ctx context.Context) (v1.RuntimeinfoResult, error) {
	if err := ctx.Err(); err != nil {
		return v1.RuntimeinfoResult{}, err
	}
	if st.prometheus == nil {
		if st.promEngine == sources.EngineVictoriaMetrics {
			// Not an omission a new snapshot would make up for.
			return v1.RuntimeinfoResult{}, sources.Errorf(sources.Missing, sourceName,
				"%s holds no Prometheus runtime information (%s): it was recorded from VictoriaMetrics, which does not serve /api/v1/status/runtimeinfo", st.dir, RuntimeFile)
		}
		return v1.RuntimeinfoResult{}, st.missingRuntime("prometheus", "the data of Prometheus' /api/v1/status/runtimeinfo")
	}
	return *st.prometheus, nil
}

// RetentionPeriod implements sources.LokiAPI from runtime.json's
// "loki.retention_period".
func (st *State) RetentionPeriod(ctx context.Context) (time.Duration, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if st.lokiPeriod == nil {
		return 0, st.missingRuntime("loki", `Loki's limits_config.retention_period, e.g. {"loki": {"retention_period": "168h"}}`)
	}
	return *st.lokiPeriod, nil
}

func (st *State) missing(file, endpoint string) error {
	return sources.Errorf(sources.Missing, sourceName,
		"no %s in %s: the snapshot lacks the body of Prometheus' %s (secflow-budget snapshot records it)", file, st.dir, endpoint)
}

func (st *State) missingRuntime(section, what string) error {
	if !st.haveRuntime {
		return sources.Errorf(sources.Missing, sourceName,
			"no %s in %s: the snapshot lacks %s (secflow-budget snapshot records it)", RuntimeFile, st.dir, what)
	}
	return sources.Errorf(sources.Missing, sourceName,
		"%s in %s has no %q section: the snapshot lacks %s", RuntimeFile, st.dir, section, what)
}

// envelope is Prometheus' answer around the data.
type envelope struct {
	Status    string          `json:"status"`
	Data      json.RawMessage `json:"data"`
	ErrorType string          `json:"errorType"`
	Error     string          `json:"error"`
}

// readEnvelope reads dir/name, the body of a Prometheus API answer. A
// missing file is (nil, nil).
func readEnvelope[T any](dir, name string) (*T, error) {
	file := filepath.Join(dir, name)
	data, err := os.ReadFile(file)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("reading snapshot: %w", err)
	}
	var env envelope
	if err := json.Unmarshal(data, &env); err != nil {
		return nil, jsonCorrupt(file, data, err, "want the body of Prometheus' answer, {\"status\":\"success\",\"data\":...}")
	}
	switch {
	case env.Status == "error":
		return nil, &CorruptError{File: file, Msg: "holds an error answer, not data: want the body of Prometheus' answer, {\"status\":\"success\",\"data\":...}"}
	case env.Status != "success":
		return nil, &CorruptError{File: file, Msg: "status is not \"success\": want the body of Prometheus' answer, {\"status\":\"success\",\"data\":...}"}
	case len(env.Data) == 0 || string(env.Data) == "null":
		return nil, &CorruptError{File: file, Msg: "no data: want the body of Prometheus' answer, {\"status\":\"success\",\"data\":...}"}
	}
	v := new(T)
	if err := json.Unmarshal(env.Data, v); err != nil {
		// Offsets in the error are relative to data: shift them.
		return nil, jsonCorruptAt(file, data, dataOffset(data, env.Data), err, "not the data of Prometheus' answer")
	}
	return v, nil
}

// runtimeKeys are the sections runtime.json may have.
var runtimeKeys = []string{"loki", "prometheus"}

func readRuntime(file string) (*Runtime, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("reading snapshot: %w", err)
	}
	var sections map[string]json.RawMessage
	if err := json.Unmarshal(data, &sections); err != nil {
		return nil, jsonCorrupt(file, data, err, `want {"prometheus": <data of /api/v1/status/runtimeinfo>, "loki": {"retention_period": "168h"}}`)
	}
	var keys []string
	for k := range sections {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !slices.Contains(runtimeKeys, k) {
			return nil, &CorruptError{File: file, Line: lineOf(data, bytes.Index(data, []byte(`"`+k+`"`))),
				Msg: fmt.Sprintf("unknown key %q (known: %s)", k, strings.Join(runtimeKeys, ", "))}
		}
	}
	rt := &Runtime{}
	if raw, ok := sections["prometheus"]; ok && string(raw) != "null" {
		var probe map[string]json.RawMessage
		if err := json.Unmarshal(raw, &probe); err == nil {
			if _, env := probe["status"]; env {
				if _, d := probe["data"]; d {
					return nil, &CorruptError{File: file, Line: lineOf(data, dataOffset(data, raw)),
						Msg: "prometheus: holds the whole answer of /api/v1/status/runtimeinfo; want only its data"}
				}
			}
		}
		rt.Prometheus = &v1.RuntimeinfoResult{}
		if err := json.Unmarshal(raw, rt.Prometheus); err != nil {
			return nil, jsonCorruptAt(file, data, dataOffset(data, raw), err, "prometheus: want the data of /api/v1/status/runtimeinfo")
		}
		if msg := checkStorageRetention(rt.Prometheus.StorageRetention); msg != "" {
			off := bytes.Index(data, []byte(`"storageRetention"`))
			if off < 0 {
				off = dataOffset(data, raw)
			}
			return nil, &CorruptError{File: file, Line: lineOf(data, off), Msg: "prometheus.storageRetention: " + msg}
		}
	}
	if raw, ok := sections["loki"]; ok && string(raw) != "null" {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		var lr struct {
			RetentionPeriod *string `json:"retention_period"`
		}
		if err := dec.Decode(&lr); err != nil {
			return nil, jsonCorruptAt(file, data, dataOffset(data, raw), err, `loki: want {"retention_period": "168h"}`)
		}
		if lr.RetentionPeriod == nil {
			return nil, &CorruptError{File: file, Line: lineOf(data, dataOffset(data, raw)),
				Msg: `loki: no retention_period: write "0s" when Loki deletes no logs (retention disabled)`}
		}
		rt.Loki = &LokiRuntime{RetentionPeriod: *lr.RetentionPeriod}
	}
	return rt, nil
}

// checkStorageRetention says what is wrong with a storageRetention (see
// sources.ParseStorageRetention), or "". A value no check can read is
// corrupt data, like a bad Loki retention_period.
func checkStorageRetention(s string) string {
	if _, _, bad := sources.ParseStorageRetention(s); bad != "" {
		return "a part is neither a duration nor a size: want e.g. 15d, 512MB or \"15d or 512MB\""
	}
	return ""
}

// parseRetentionPeriod reads a duration as Loki writes it ("744h", "4w3d",
// "0s"), or as Go does ("1h30m").
func parseRetentionPeriod(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if d, err := model.ParseDuration(s); err == nil {
		return time.Duration(d), nil
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return d, nil
	}
	return 0, errors.New("not a duration: want e.g. 168h, 7d or 0s")
}

// jsonCorrupt turns a decoding error of data into a *CorruptError with the
// line it happened on.
func jsonCorrupt(file string, data []byte, err error, want string) error {
	return jsonCorruptAt(file, data, 0, err, want)
}

// jsonCorruptAt is jsonCorrupt for an error in a part of data that starts
// at base.
func jsonCorruptAt(file string, data []byte, base int, err error, want string) error {
	off := -1
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		off = base + int(syn.Offset)
	case errors.As(err, &typ):
		off = base + int(typ.Offset)
	case base > 0:
		off = base // no offset (an unknown field): at least the section's line
	}
	line := 0
	if off >= 0 {
		line = lineOf(data, off)
	}
	return &CorruptError{File: file, Line: line, Msg: fmt.Sprintf("%s: %s", want, jsonErrText(err))}
}

// dataOffset is where part, a sub-slice of data, starts in data; 0 when
// it is not one.
func dataOffset(data, part []byte) int {
	if len(part) == 0 {
		return 0
	}
	if i := bytes.Index(data, part); i >= 0 {
		return i
	}
	return 0
}

// lineOf is the 1-based line of byte offset off in data.
func lineOf(data []byte, off int) int {
	if off < 0 {
		return 0
	}
	off = min(off, len(data))
	return bytes.Count(data[:off], []byte("\n")) + 1
}
