#!/usr/bin/env bash
# Runs every Go fuzz target of the module, each for FUZZTIME (default 30s).
#
# Targets are found, not listed: every package whose tests define a
# `func Fuzz...` is asked for its targets with `go test -list '^Fuzz'`, so a
# new target is fuzzed from the commit that adds it. Go fuzzes one target per
# `go test` run, hence one run per target. All targets run even when one
# fails; the script then exits 1. A failing input is saved by Go under the
# package's testdata/fuzz/<Target>/ and from then on runs in plain `go test`:
# commit it with the fix as a regression case.
#
# Environment: FUZZTIME (a -fuzztime value: 30s, 2m, 10000x), GO (go).
set -euo pipefail
cd "$(dirname "$0")/.."

FUZZTIME=${FUZZTIME:-30s}
GO=${GO:-go}

logdir=$(mktemp -d "${TMPDIR:-/tmp}/secflow-fuzz.XXXXXX")
trap 'rm -rf "$logdir"' EXIT

# Packages whose test files define a fuzz target (a cheap filter before
# compiling test binaries; `go test -list` is what decides).
pkgs=()
while read -r pkg dir files; do
  [ -n "$files" ] || continue
  for f in $files; do
    if grep -q '^func Fuzz[A-Z0-9_]' "$dir/$f"; then
      pkgs+=("$pkg")
      break
    fi
  done
done < <("$GO" list -f '{{.ImportPath}} {{.Dir}}{{range .TestGoFiles}} {{.}}{{end}}{{range .XTestGoFiles}} {{.}}{{end}}' ./...)

targets=()
for pkg in "${pkgs[@]}"; do
  list=$("$GO" test -list '^Fuzz' "$pkg") || {
    echo "$list" >&2
    echo "fuzz: cannot list the fuzz targets of $pkg" >&2
    exit 1
  }
  for name in $(grep -E '^Fuzz' <<<"$list" || true); do
    targets+=("$pkg $name")
  done
done

if [ ${#targets[@]} -eq 0 ]; then
  echo "fuzz: no fuzz targets found" >&2
  exit 1
fi
echo "fuzz: ${#targets[@]} targets, ${FUZZTIME} each"

summary=()
failed=0
flaked=0
for t in "${targets[@]}"; do
  read -r pkg name <<<"$t"
  log="$logdir/${pkg//\//_}.$name.log"
  start=$(date +%s)
  echo "--- $name ($pkg)"
  dir=$("$GO" list -f '{{.Dir}}' "$pkg")/testdata/fuzz/$name
  before=$(ls "$dir" 2>/dev/null | sort || true)
  # Minimizing a new input may take the whole run at the default 60s.
  if "$GO" test -run '^$' -fuzz "^${name}\$" -fuzztime "$FUZZTIME" -fuzzminimizetime "${FUZZMINIMIZETIME:-5s}" "$pkg" >"$log" 2>&1; then
    status=ok
  elif [ "$(ls "$dir" 2>/dev/null | sort || true)" = "$before" ] &&
    grep -qx '    context deadline exceeded' "$log" && ! grep -q 'Failing input written' "$log"; then
    # Go 1.26's fuzz coordinator can report its own -fuzztime deadline as
    # a failure (golang/go#75804, fixed in Go 1.27): no input failed and
    # none was written, so this is not a finding.
    status=ok
    flaked=$((flaked + 1))
  else
    status=FAIL
    failed=$((failed + 1))
    cat "$log"
  fi
  secs=$(($(date +%s) - start))
  # Go's last progress line: "fuzz: elapsed: 10s, execs: 123456 (12345/sec), new interesting: 3 (total: 20)";
  # its rate is the last interval's (often 0 at the end), so it is dropped.
  progress=$(grep -E '^fuzz: elapsed:' "$log" | tail -n 1 | sed -E 's/^fuzz: //; s/ \([0-9]+\/sec\)//' || true)
  line=$(printf '%-4s %-32s %-48s %4ss  %s' "$status" "$name" "$pkg" "$secs" "${progress:-no progress line}")
  echo "$line"
  summary+=("$line")
done

echo
echo "fuzz summary (${FUZZTIME} per target; time includes building):"
printf '%s\n' "${summary[@]}"
if [ "$failed" -ne 0 ]; then
  echo "fuzz: $failed of ${#targets[@]} targets failed; failing inputs are in each package's testdata/fuzz/" >&2
  exit 1
fi
echo "fuzz: all ${#targets[@]} targets passed ($flaked stopped by Go's own -fuzztime deadline race, golang/go#75804, with no failing input)"
