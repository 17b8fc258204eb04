#!/usr/bin/env bash
# The shell logic of the GitHub Action (action.yml). Inputs come as
# environment variables (INPUT_*), set by action.yml from ${{ inputs.* }}:
# no input is ever part of the script's text, so no input can run a command.
#
#   action.sh resolve   decides where the binary comes from: INPUT_VERSION
#                       (a release tag like v1.2.3, or "source"); empty means
#                       the action's own ref (SECFLOW_ACTION_REF) when it is a
#                       release tag (vX.Y.Z), else "source". Writes version= and source=
#                       (true/false) to $GITHUB_OUTPUT.
#   action.sh run       gets the binary (a release archive verified against
#                       the release's SHA256SUMS, or `go build` of the action's
#                       checkout for "source"), runs `check` with the JSON
#                       report at $RUNNER_TEMP/secflow-budget/N/report.json
#                       (N: 1 for the job's first use of the action, 2 for
#                       the next, so none replaces another's) and
#                       GitHub annotations, writes status=, exit-code= and
#                       report= to $GITHUB_OUTPUT and exits with the check's
#                       exit code.
#
# SECFLOW_BUDGET_DIST_DIR, when set, is a directory holding the archive and
# SHA256SUMS (what make dist writes): they are taken from there instead of
# being downloaded, and verified all the same. The tests use it.
set -euo pipefail

BIN=
OUTPUTS_SET=false

err() {
  # One line GitHub shows as an error annotation on the step; the message
  # escaped as workflow commands want it, so that an input quoted in it
  # (with a newline, say) cannot start a command of its own.
  local m="$*"
  m=${m//%/%25}
  m=${m//$'\r'/%0D}
  m=${m//$'\n'/%0A}
  echo "::error title=secflow-budget::$m"
}

output() {
  if [ -z "${GITHUB_OUTPUT:-}" ]; then
    err "GITHUB_OUTPUT is not set: this script runs as a step of the secflow-budget action"
    exit 2
  fi
  printf '%s=%s\n' "$1" "$2" >>"$GITHUB_OUTPUT"
}

# The version is part of a URL and of file names: a tag, nothing else.
valid_version() {
  [[ "$1" =~ ^v[0-9][0-9A-Za-z._+-]*$ ]]
}

resolve() {
  local v="${INPUT_VERSION:-}" ref="${SECFLOW_ACTION_REF:-}"
  if [ -z "$v" ]; then
    # A full release tag names a release; a major tag (@v1), a branch or a
    # commit names no archive: build what was checked out.
    if [[ "$ref" =~ ^v[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.+-]*)?$ ]]; then
      v="$ref"
    else
      v=source
    fi
  fi
  if [ "$v" = source ]; then
    output version source
    output source true
    return
  fi
  if ! valid_version "$v"; then
    err "version: '$v' is neither a release tag (v1.2.3) nor 'source'"
    exit 2
  fi
  output version "$v"
  output source false
}

sha256() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$1" | cut -d' ' -f1
  else
    shasum -a 256 "$1" | cut -d' ' -f1
  fi
}

# download URL FILE. No token is sent: release downloads are public.
download() {
  if ! curl -fsSL --retry 3 --retry-delay 2 --proto '=https,http' --proto-redir '=https' -o "$2" "$1"; then
    err "downloading $1 failed"
    exit 3
  fi
}

# unpack ARCHIVE DIR
unpack() {
  case "$1" in
    *.zip)
      if command -v unzip >/dev/null 2>&1; then
        unzip -q -o "$1" -d "$2"
      else
        # PowerShell reads the paths from its environment ($env:...), not
        # from this text.
        # shellcheck disable=SC2016
        SB_ARCHIVE="$1" SB_DIR="$2" powershell -NoProfile -NonInteractive \
          -Command 'Expand-Archive -Force -LiteralPath $env:SB_ARCHIVE -DestinationPath $env:SB_DIR'
      fi
      ;;
    *) tar -xzf "$1" -C "$2" ;;
  esac
}

# fetch_release VERSION DIR: the archive for this runner, verified, unpacked
# into DIR; sets BIN to the binary's path. (A global, not printed: what runs
# in $(...) cannot show its ::error lines.)
fetch_release() {
  local version="$1" dir="$2" os arch ext exe=secflow-budget
  case "${RUNNER_OS:-}" in
    Linux) os=linux ;;
    macOS) os=darwin ;;
    Windows) os=windows ;;
    *) err "runner OS '${RUNNER_OS:-}' has no release archive (Linux, macOS, Windows); use version: source"; exit 2 ;;
  esac
  case "${RUNNER_ARCH:-}" in
    X64) arch=amd64 ;;
    ARM64) arch=arm64 ;;
    *) err "runner architecture '${RUNNER_ARCH:-}' has no release archive (X64, ARM64); use version: source"; exit 2 ;;
  esac
  ext=tar.gz
  if [ "$os" = windows ]; then
    ext=zip
    exe=secflow-budget.exe
  fi
  local base="secflow-budget_${version}_${os}_${arch}"
  local archive="$base.$ext"
  mkdir -p "$dir"
  if [ -n "${SECFLOW_BUDGET_DIST_DIR:-}" ]; then
    if [ ! -f "$SECFLOW_BUDGET_DIST_DIR/$archive" ] || [ ! -f "$SECFLOW_BUDGET_DIST_DIR/SHA256SUMS" ]; then
      err "$SECFLOW_BUDGET_DIST_DIR has no $archive and SHA256SUMS"
      exit 3
    fi
    cp "$SECFLOW_BUDGET_DIST_DIR/$archive" "$SECFLOW_BUDGET_DIST_DIR/SHA256SUMS" "$dir/"
  else
    local repo="${SECFLOW_ACTION_REPOSITORY:-${GITHUB_REPOSITORY:-secflow/secflow-budget}}"
    local url="${GITHUB_SERVER_URL:-https://github.com}/$repo/releases/download/$version"
    download "$url/SHA256SUMS" "$dir/SHA256SUMS"
    download "$url/$archive" "$dir/$archive"
  fi

  # The archive runs only when SHA256SUMS names it, once, with its hash.
  local want got
  want=$(awk -v n="$archive" '$2 == n || $2 == "*" n { print $1 }' "$dir/SHA256SUMS")
  if [ -z "$want" ]; then
    err "SHA256SUMS of $version has no entry for $archive: refusing to run an unverified binary"
    exit 3
  fi
  if [ "$(printf '%s\n' "$want" | wc -l | tr -d ' ')" != 1 ]; then
    err "SHA256SUMS of $version lists $archive more than once: refusing to run an unverified binary"
    exit 3
  fi
  got=$(sha256 "$dir/$archive")
  if [ "$(printf '%s' "$want" | tr 'A-F' 'a-f')" != "$got" ]; then
    err "checksum mismatch for $archive: SHA256SUMS says $want, the file has $got: refusing to run it"
    exit 3
  fi
  echo "verified $archive (sha256 $got)" >&2

  if ! unpack "$dir/$archive" "$dir"; then
    err "unpacking $archive failed"
    exit 3
  fi
  if [ ! -f "$dir/$base/$exe" ]; then
    err "$archive holds no $base/$exe"
    exit 3
  fi
  chmod +x "$dir/$base/$exe"
  BIN="$dir/$base/$exe"
}

# build_source DIR: go build of the action's checkout; sets BIN to the
# binary's path.
build_source() {
  local src="${GITHUB_ACTION_PATH:-}" dir="$1" exe=secflow-budget version commit
  if [ -z "$src" ] || [ ! -f "$src/go.mod" ]; then
    err "version: source needs the action's checkout (GITHUB_ACTION_PATH='$src' has no go.mod)"
    exit 2
  fi
  if ! command -v go >/dev/null 2>&1; then
    err "version: source needs Go on PATH (the action sets it up with actions/setup-go)"
    exit 2
  fi
  if [ "${RUNNER_OS:-}" = Windows ]; then exe=secflow-budget.exe; fi
  version=$(git -C "$src" describe --tags --always --dirty 2>/dev/null || echo dev)
  commit=$(git -C "$src" rev-parse --short HEAD 2>/dev/null || true)
  local pkg=github.com/secflow/secflow-budget/internal/cli
  mkdir -p "$dir"
  echo "building secflow-budget $version from $src" >&2
  # -buildvcs=false: the version comes from git describe above; a checkout
  # git refuses to read (another owner) must not fail the build.
  if ! (cd "$src" && CGO_ENABLED=0 go build -trimpath -buildvcs=false \
    -ldflags "-X $pkg.version=$version -X $pkg.commit=$commit" \
    -o "$dir/$exe" ./cmd/secflow-budget) >&2; then
    err "building secflow-budget from $src failed (go build's errors are above)"
    exit 3
  fi
  BIN="$dir/$exe"
}

run_check() {
  local version="${SECFLOW_VERSION:-}"
  if [ -z "$version" ]; then
    # Not resolved by an earlier step (run by hand): resolve here.
    local tmp_out
    tmp_out=$(mktemp)
    GITHUB_OUTPUT="$tmp_out" resolve
    version=$(sed -n 's/^version=//p' "$tmp_out")
    rm -f "$tmp_out"
  fi
  local work="${RUNNER_TEMP:?RUNNER_TEMP is not set}/secflow-budget"
  mkdir -p "$work"
  local n=1
  until mkdir "$work/$n" 2>/dev/null; do
    n=$((n + 1))
  done
  local report="$work/$n/report.json"
  # Stopped before the check ran (no binary, a refused archive): the
  # outputs still say so, status error with this script's exit code.
  trap 'code=$?; if [ "$OUTPUTS_SET" = false ]; then output status error; output exit-code "$code"; output report ""; fi' EXIT
  if [ "$version" = source ]; then
    build_source "$work/bin"
  else
    valid_version "$version" || { err "version: '$version' is neither a release tag (v1.2.3) nor 'source'"; exit 2; }
    rm -rf "$work/release"
    fetch_release "$version" "$work/release"
  fi

  local args=(check --config "${INPUT_CONFIG:-budgets.yaml}" --report github=- --report "json=$report")
  if [ -n "${INPUT_OFFLINE:-}" ]; then args+=(--offline "$INPUT_OFFLINE"); fi
  if [ -n "${INPUT_PROMETHEUS:-}" ]; then args+=(--prometheus "$INPUT_PROMETHEUS"); fi
  if [ -n "${INPUT_LOKI:-}" ]; then args+=(--loki "$INPUT_LOKI"); fi
  if [ -n "${INPUT_FAIL_ON:-}" ]; then args+=(--fail-on "$INPUT_FAIL_ON"); fi
  if [ -n "${INPUT_ARGS:-}" ]; then
    # Split on whitespace with globbing off: each word is one argument,
    # nothing is expanded or evaluated.
    local extra
    set -f
    # shellcheck disable=SC2206
    extra=($INPUT_ARGS)
    set +f
    args+=("${extra[@]}")
  fi

  local code=0
  "$BIN" "${args[@]}" || code=$?

  # The run's status as the JSON report says it (its top-level "status",
  # the only key indented by two spaces); "error" when there is no report.
  local status=error
  if [ -f "$report" ]; then
    status=$(sed -n 's/^  "status": "\([a-z]*\)".*/\1/p' "$report" | head -n 1)
    [ -n "$status" ] || status=error
  fi
  OUTPUTS_SET=true
  output status "$status"
  output exit-code "$code"
  output report "$report"
  exit "$code"
}

case "${1:-}" in
  resolve) resolve ;;
  run) run_check ;;
  *) echo "usage: $0 resolve|run" >&2; exit 2 ;;
esac
