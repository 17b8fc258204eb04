package config

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Waiver accepts a known violation of a budget until it expires: a failing
// or warning result it matches is waived (it counts as passing) and shown
// with the waiver's reason, owner and expiry.
type Waiver struct {
	Index   int
	Budget  string
	Subject string            // "": every subject
	Labels  map[string]string // only results whose labels include these
	Reason  string
	Owner   string
	// Expires is the first instant the waiver no longer holds: the end of
	// the day (UTC) for a date, the time itself for RFC3339.
	Expires time.Time
	// ExpiresText is expires as written, for reports.
	ExpiresText string
	Line, Col   int
}

// Path is the waiver's field path, e.g. waivers[1].
func (w *Waiver) Path() string { return fmt.Sprintf("waivers[%d]", w.Index) }

// Live reports whether the waiver holds at t.
func (w *Waiver) Live(t time.Time) bool { return t.Before(w.Expires) }

// Matches reports whether the waiver covers a result of budget with
// subject and labels.
func (w *Waiver) Matches(budget, subject string, labels map[string]string) bool {
	if w.Budget != budget || (w.Subject != "" && w.Subject != subject) {
		return false
	}
	for k, v := range w.Labels {
		if got, ok := labels[k]; !ok || got != v {
			return false
		}
	}
	return true
}

func parseWaivers(top *Fields, budgets []*Budget) []*Waiver {
	v := top.vals["waivers"]
	if isNull(v) {
		top.used["waivers"] = true
		return nil
	}
	list, ok := top.List("waivers")
	if !ok {
		return nil
	}
	names := make([]string, 0, len(budgets))
	for _, b := range budgets {
		names = append(names, b.Name)
	}
	var out []*Waiver
	for i, f := range list {
		if f.node.Kind != yaml.MappingNode {
			continue // newFields said so
		}
		w := &Waiver{Index: i, Line: f.node.Line, Col: f.node.Column}
		if f.Require("budget") {
			if b, ok := f.String("budget"); ok {
				w.Budget = b
				if !slices.Contains(names, b) {
					if s := closest(b, names); s != "" {
						f.Errorf("budget", "unknown budget %q (did you mean %q?)", b, s)
					} else {
						f.Errorf("budget", "unknown budget %q: a waiver names a budget of this file (known: %s)", b, strings.Join(names, ", "))
					}
				}
			}
		}
		if s, ok := f.String("subject"); ok {
			w.Subject = s
		}
		if l, ok := f.StringMap("labels"); ok {
			w.Labels = l
		}
		for _, k := range []string{"reason", "owner"} {
			if !f.Require(k) {
				continue
			}
			s, ok := f.String(k)
			if ok && strings.TrimSpace(s) == "" {
				f.Errorf(k, "%s is empty: a waiver says why and who answers for it", k)
			}
			if k == "reason" {
				w.Reason = s
			} else {
				w.Owner = s
			}
		}
		if f.Require("expires") {
			if s, ok := f.String("expires"); ok {
				t, err := ParseExpiry(s)
				if err != nil {
					f.Errorf("expires", "%v", err)
				}
				w.Expires, w.ExpiresText = t, s
			}
		}
		f.Done(waiverFields...)
		out = append(out, w)
	}
	return out
}

// ParseExpiry reads a waiver's expires: a date (2026-12-31), which holds
// to the end of that day in UTC, or an RFC3339 time.
func ParseExpiry(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if d, err := time.Parse(time.DateOnly, s); err == nil {
		return d.AddDate(0, 0, 1), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	return time.Time{}, fmt.Errorf("invalid date %q: want a date (2026-12-31, valid to the end of that day, UTC) or an RFC3339 time (2026-12-31T18:00:00Z)", s)
}
