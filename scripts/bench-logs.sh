#!/usr/bin/env bash
# Offline log throughput on a generated logs.jsonl (never committed), each
# figure next to its anchors measured in the same run: `grep -c` on the
# same file and a one-pass Python reference doing the same work
# (scripts/logs-reference.py). The first size gets 3 rounds (grep,
# Python, check on all cores, check with GOMAXPROCS=1, in turn) and
# medians; further sizes only check's time and peak RSS (memory stays
# flat whatever the size). The machine's load is printed: on a shared
# machine only the ratios of one run compare.
# With BASE=/path/to/an/older/secflow-budget, that binary runs the same
# log budgets in the same rounds (A/B against a build of an earlier
# commit: the one figure that compares across machines and days).
# Usage: [BASE=bin] scripts/bench-logs.sh [MB ...]   (default: 200)
set -euo pipefail
sizes=("${@:-200}")
base=${BASE:+$(realpath "$BASE")} # before the cd: BASE may be relative
cd "$(dirname "$0")/.."
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
go build -o "$dir/secflow-budget" ./cmd/secflow-budget

timed() { # timed NAME CMD...: appends "NAME wall user sys rss_kb" to $dir/times
	local name=$1 t0 t1
	shift
	# Wall time from the clock in ns (time's %e has 10 ms steps: too coarse
	# for grep); CPU and peak RSS from /usr/bin/time.
	t0=$(date +%s%N)
	# Output to a file, not /dev/null: GNU grep stops at the first match
	# when it sees its output is /dev/null.
	/usr/bin/time -f "%U %S %M" -o "$dir/one" "$@" >"$dir/out" 2>&1 || true
	t1=$(date +%s%N)
	echo "$name $(((t1 - t0) / 1000))e-6 $(grep -v '^Command' "$dir/one")" >>"$dir/times"
}
median() { sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)] + 0}'; }
stat_of() { # stat_of NAME FIELD(2 wall, 3 cpu, 4 rss): the median
	awk -v n="$1" -v f="$2" '$1==n {if (f==3) print $3+$4; else if (f==4) print $5; else print $2}' "$dir/times" | median
}

cat >"$dir/floor.yaml" <<'EOF'
version: 1
budgets:
  - name: read-and-count
    type: log_volume
    selector: '{env="prod"}'
    by: [service]
    window: 1h
    per: 1h
    max: 10GB
EOF

# The three log budgets issue 10 set its goal on (levels, volume, six
# secret patterns; the same work the Python reference does), as
# budgets.yaml writes them, in a file of their own: what check and BASE
# (an older binary may not know the later budgets' types) both run.
sed -n '/^  - name: log-volume$/,/^  # ⚡/p' budgets.yaml | sed '$d' >"$dir/log-budgets"
{ echo "version: 1"; echo "budgets:"; cat "$dir/log-budgets"; } >"$dir/logs.yaml"

first=1
for mb in "${sizes[@]}"; do
	rm -rf "$dir/snap" "$dir/times"
	go run ./internal/fixtures/gen -scenario healthy -logs-mb "$mb" -out "$dir/snap" >/dev/null
	rm -f "$dir/snap/metrics.om" # logs only
	file="$dir/snap/logs.jsonl"
	bytes=$(stat -c %s "$file")
	at=$(date -d "$(awk '/^evaluated_at:/ {print $2}' "$dir/snap/manifest.yaml")" +%s)000000000
	cat "$file" >/dev/null # warm the page cache for every run alike
	# "all": budgets.yaml's log budgets, with those that came later
	# (log-structure).
	check=("$dir/secflow-budget" check -c "$dir/logs.yaml" --offline "$dir/snap" --format json -o "$dir/report.json")
	checkall=("$dir/secflow-budget" check --offline "$dir/snap" --only logs --format json -o "$dir/all.json")
	# The floor: the same reading of every entry of the hour (decoding,
	# unescaping, per-stream bookkeeping) with one budget that only adds
	# up bytes, no parser and no line filter.
	floor=("$dir/secflow-budget" check -c "$dir/floor.yaml" --offline "$dir/snap" --format json -o "$dir/floor.json")
	echo "logs.jsonl: $((bytes / 1000000)) MB; load before: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
	if [ "$first" = 1 ]; then
		for _ in 1 2 3; do
			timed grep grep -c AKIA "$file"
			timed python python3 scripts/logs-reference.py "$file" "$at"
			timed check "${check[@]}"
			timed check1 env GOMAXPROCS=1 "${check[@]}"
			timed checkall "${checkall[@]}"
			timed floor "${floor[@]}"
			if [ -n "$base" ]; then
				timed base "$base" check -c "$dir/logs.yaml" --offline "$dir/snap" --format json -o "$dir/base.json"
			fi
		done
	else
		timed check "${check[@]}"
	fi
	if [ -n "$base" ] && [ "$first" = 1 ]; then
		# Both binaries must give the same figures, or the timing compares nothing.
		python3 - "$dir/base.json" "$dir/report.json" <<'PY'
import json, sys
def results(path):
    return [(b["name"], b["status"], [(r.get("subject"), json.dumps(r.get("labels"), sort_keys=True), r.get("value"))
                                      for r in b.get("results", [])])
            for b in json.load(open(path))["budgets"]]
try:
    base = results(sys.argv[1])
except (OSError, ValueError) as e:
    sys.exit(f"  BASE wrote no JSON report ({e}): it failed; its timing means nothing")
same = base == results(sys.argv[2])
print("  BASE and check report the same results" if same else "  BASE AND CHECK REPORT DIFFERENT RESULTS")
PY
	fi
	status=$(grep -o '"status": "[a-z]*"' "$dir/report.json" | head -1 || true)
	echo "load after: $(cut -d' ' -f1-3 /proc/loadavg); report $status"
	g=$(stat_of grep 2) p=$(stat_of python 2) c=$(stat_of check 2) c1=$(stat_of check1 2) fl=$(stat_of floor 2) bs=$(stat_of base 2) ca=$(stat_of checkall 2)
	awk -v b="$bytes" -v g="$g" -v p="$p" -v c="$c" -v c1="$c1" -v fl="$fl" -v bs="$bs" -v ca="$ca" -v cc="$(stat_of check 3)" \
		-v r="$(stat_of check 4)" -v r1="$(stat_of check1 4)" -v first="$first" 'BEGIN {
		mb = b / 1e6
		if (first == 1) {
			printf "  grep -c AKIA:                  %6.2f s %7.0f MB/s   (median of 3)\n", g, mb / g
			printf "  python one-pass reference:     %6.2f s %7.1f MB/s\n", p, mb / p
			printf "  check, GOMAXPROCS=1:           %6.2f s %7.0f MB/s   peak RSS %.1f MiB\n", c1, mb / c1, r1 / 1024
			printf "  floor (read + count, 1 budget): %5.2f s %7.0f MB/s   all cores\n", fl, mb / fl
		}
		printf "  check (3 budgets), all cores:  %6.2f s %7.0f MB/s   peak RSS %.1f MiB, CPU %.2f s   (goal >= 800 MB/s, <= 64 MiB)\n", c, mb / c, r / 1024, cc
		if (first == 1)
			printf "  --only logs (all log budgets): %5.2f s %7.0f MB/s\n", ca, mb / ca
		if (first == 1 && bs > 0)
			printf "  BASE, all cores:               %6.2f s %7.0f MB/s   check is %.2fx as fast\n", bs, mb / bs, bs / c
		if (first == 1)
			printf "  ratios: check/grep %.2f, check/python %.0fx, all cores/one core %.2fx, floor/check %.2f\n", g / c, p / c, c1 / c, fl / c
	}'
	first=0
done
