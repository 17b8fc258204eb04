package snapshot

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/common/model"

	"github.com/secflow/secflow-budget/internal/sources"
)

const (
	aggBytes = `sum by (service) (bytes_over_time({env="prod"}[5m]))`
	aggJSON  = `sum by (service, level) (count_over_time({env="prod"} | json [1h]))`
)

func writeAggregates(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := writeSnapshot(t, files)
	err := WriteLogAggregates(dir, LogAggregates{EvaluatedAt: coverAt, Queries: []LogAggregate{
		{Query: aggBytes, Result: model.Vector{
			{Metric: model.Metric{"service": "api"}, Value: 9448995, Timestamp: model.TimeFromUnixNano(coverAt.UnixNano())},
			{Metric: model.Metric{"service": "worker"}, Value: 57223, Timestamp: model.TimeFromUnixNano(coverAt.UnixNano())},
		}},
		{Query: `sum(count_over_time({env="dev"}[1h]))`},
		{Query: aggJSON, Error: &LogAggregateError{Kind: "bad_query", Message: "400 Bad Request: pipeline error: 'JSONParserErr'"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestLogAggregates(t *testing.T) {
	dir := writeAggregates(t, map[string]string{})
	s := mustOpen(t, dir)
	if !s.HasLogAggregates() {
		t.Fatal("HasLogAggregates = false")
	}
	q, err := s.LogQL(context.Background(), coverAt, []string{aggBytes})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	vec, err := q.Query(ctx, `sum by(service) (bytes_over_time({env="prod"} [5m]))`, coverAt)
	if err != nil || len(vec) != 2 || vec[0].Metric["service"] != "api" || vec[0].Value != 9448995 {
		t.Errorf("recorded answer: %v, %v", vec, err)
	}
	if vec, err := q.Query(ctx, `sum(count_over_time({env="dev"}[1h]))`, coverAt); err != nil || vec == nil || len(vec) != 0 {
		t.Errorf("an empty answer must stay an empty vector: %v, %v", vec, err)
	}
	_, err = q.Query(ctx, aggJSON, coverAt)
	if sources.KindOf(err) != sources.BadQuery || !strings.Contains(err.Error(), "pipeline error") {
		t.Errorf("recorded error: %v", err)
	}
	_, err = q.Query(ctx, `sum(bytes_over_time({env="prod"}[5m]))`, coverAt)
	if sources.KindOf(err) != sources.Missing || !strings.Contains(err.Error(), "was recorded for other queries") {
		t.Errorf("unrecorded query: %v", err)
	}
	_, err = q.Query(ctx, aggBytes, coverAt.Add(1))
	if sources.KindOf(err) != sources.Missing || !strings.Contains(err.Error(), "which answer no other time") {
		t.Errorf("another time: %v", err)
	}
}

func TestLogAggregatesYieldToRawLogs(t *testing.T) {
	dir := writeAggregates(t, map[string]string{
		"logs.jsonl": `{"ts":"1795694400000000000","labels":{"env":"prod","service":"api"},"line":"hello"}` + "\n",
	})
	q, err := mustOpen(t, dir).LogQL(context.Background(), coverAt, []string{aggBytes})
	if err != nil {
		t.Fatal(err)
	}
	vec, err := q.Query(context.Background(), aggBytes, coverAt)
	if err != nil || len(vec) != 1 || vec[0].Value != 5 {
		t.Errorf("with raw logs present, they answer: %v, %v", vec, err)
	}
}

func TestLogAggregatesCorrupt(t *testing.T) {
	for _, c := range []struct{ text, msg string }{
		{`{"version": 2, "evaluated_at": "2026-11-26T12:00:07Z", "queries": []}`, "version 2"},
		{`{"version": 1, "queries": []}`, "missing evaluated_at"},
		{"{\"version\": 1,\n \"evaluated_at\": \"2026-11-26T12:00:07Z\",\n \"queries\": [\n}", ":4:"},
		{`{"version": 1, "evaluated_at": "2026-11-26T12:00:07Z", "queries": [{"result": []}]}`, "missing query"},
		{`{"version": 1, "evaluated_at": "2026-11-26T12:00:07Z", "querys": []}`, "unknown field"},
	} {
		dir := writeSnapshot(t, map[string]string{})
		os.WriteFile(filepath.Join(dir, LogAggregatesFile), []byte(c.text), 0o644)
		_, err := mustOpen(t, dir).LogQL(context.Background(), coverAt, nil)
		var ce *CorruptError
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: err = %v, want a CorruptError saying %q", c.text, err, c.msg)
		}
	}
}
