// Package grafana reads Grafana dashboard JSON as the dashboards budget
// needs it: the panel targets (panels nested in rows included, both the
// old `rows[].panels` schema and collapsed `row` panels), the datasource
// type each target queries (Prometheus or Loki), and the dashboard's
// template variables with their defaults, which Interpolate substitutes
// into a target's expression the way Grafana's Prometheus and Loki
// datasources do before they send it.
//
// It owns the dashboard format only: it neither parses PromQL or LogQL
// nor queries anything (internal/checks does), and knows nothing of
// budgets. Written from Grafana's documented JSON model and variable
// syntax; no code comes from Grafana (AGPL).
package grafana
