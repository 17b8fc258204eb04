#!/usr/bin/env bash
# Offline log throughput on a generated logs.jsonl (default 1000 MB, never
# committed), measured next to `grep -c` on the same file in the same run.
# Usage: scripts/bench-logs.sh [MB]
set -euo pipefail
mb=${1:-1000}
cd "$(dirname "$0")/.."
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
go build -o "$dir/secflow-budget" ./cmd/secflow-budget
go run ./internal/fixtures/gen -scenario healthy -logs-mb "$mb" -out "$dir/snap" >/dev/null
rm -f "$dir/snap/metrics.om" # logs only
file="$dir/snap/logs.jsonl"
bytes=$(stat -c %s "$file")
cat "$file" >/dev/null # warm the page cache for both runs alike

now() { date +%s.%N; }
t0=$(now); n=$(grep -c 'AKIA' "$file" || true); t1=$(now)
grep_s=$(echo "$t1 - $t0" | bc -l)
t0=$(now)
/usr/bin/time -f '%M' -o "$dir/rss" "$dir/secflow-budget" check --offline "$dir/snap" --only logs --format json -o "$dir/report.json" || true
t1=$(now)
check_s=$(echo "$t1 - $t0" | bc -l)
rss_kb=$(tail -n 1 "$dir/rss")
status=$(grep -o '"status": "[a-z]*"' "$dir/report.json" | head -1)
awk -v b="$bytes" -v g="$grep_s" -v c="$check_s" -v r="$rss_kb" -v n="$n" -v s="$status" 'BEGIN {
  printf "logs.jsonl: %.0f MB (report %s)\n", b/1e6, s
  printf "grep -c AKIA:                      %6.2f s  %7.1f MB/s  (%d lines)\n", g, b/1e6/g, n
  printf "secflow-budget check --only logs:  %6.2f s  %7.1f MB/s  peak RSS %.1f MB (3 log budgets, 8 queries, one pass)\n", c, b/1e6/c, r/1024
}'
