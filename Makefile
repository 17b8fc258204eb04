# secflow-budget: build, test, lint, fixtures, bench.
GO      ?= go
PKG     := github.com/secflow/secflow-budget
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
LDFLAGS := -X $(PKG)/internal/cli.version=$(VERSION) -X $(PKG)/internal/cli.commit=$(COMMIT)

.PHONY: build test lint fuzz fixtures schema bench clean dist dist-check

build:
	$(GO) build -ldflags '$(LDFLAGS)' -o bin/secflow-budget ./cmd/secflow-budget

# The tests start a real Prometheus and VictoriaMetrics:
# scripts/ensure-prometheus.sh installs Debian's packages when they are
# missing (as root), and the tests fail rather than skip when they are still
# not there.
test:
	scripts/ensure-prometheus.sh
	$(GO) test ./...

# staticcheck is pinned by the tool directive in go.mod (go get -tool
# honnef.co/go/tools/cmd/staticcheck@VERSION to move it); tools are not
# linked into the binary. A finding is fixed, or silenced at its line with
# //lint:ignore CHECK reason.
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) mod tidy -diff
	$(GO) vet ./...
	$(GO) tool staticcheck ./...

# Every Fuzz target of the module, each for FUZZTIME (Go fuzzes one target
# per run). A crasher is left in the package's testdata/fuzz/ and then runs
# as a regression case in plain go test: commit it with the fix.
FUZZTIME ?= 30s
fuzz:
	FUZZTIME=$(FUZZTIME) GO=$(GO) scripts/fuzz.sh

fixtures:
	$(GO) run ./internal/fixtures/gen -out testdata/snapshots

# The JSON Schema of budgets.yaml, generated from the budget types; a test
# fails when the committed file differs.
schema:
	$(GO) run ./cmd/secflow-budget schema > schema/budgets.schema.json

# Go benchmarks (offline load MB/s and peak heap, live fan-out 1 vs 50
# budgets), then the logs check on 200 MB next to grep -c and a one-pass
# Python reference and its read-and-count floor in the same run (medians of
# 3, ratios) and its peak RSS
# on 1 GB, then the offline metrics path next to promtool's backfill of the
# same 13 MB and 100 MB files (promtool, like the tests' Prometheus, is
# installed by scripts/ensure-prometheus.sh when missing). BASE=bin adds an
# older build of secflow-budget to the logs rounds (scripts/bench-logs.sh).
bench:
	scripts/ensure-prometheus.sh
	$(GO) test -run '^$$' -bench . -benchtime 1x ./...
	scripts/bench-logs.sh 200 1000
	scripts/bench-metrics.sh 5

# Release archives in $(DIST_DIR)/: secflow-budget_<version>_<os>_<arch>.tar.gz
# (.zip for windows) and SHA256SUMS, built by internal/tools/dist with
# -trimpath, CGO off and the version stamped; byte-reproducible (entry
# times are the commit's, or SOURCE_DATE_EPOCH). VERSION=v1.2.3 overrides
# the version, DIST_PLATFORMS="linux/amd64 ..." limits the targets.
# dist-check builds everything twice and fails unless the archives are
# byte-identical.
DIST_DIR       ?= dist
DIST_PLATFORMS ?= linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64
DIST_ARGS       = -go '$(GO)' -version '$(VERSION)' -commit '$(COMMIT)' -out '$(DIST_DIR)' -platforms '$(DIST_PLATFORMS)'
dist:
	$(GO) run ./internal/tools/dist $(DIST_ARGS)

dist-check:
	$(GO) run ./internal/tools/dist $(DIST_ARGS) -check

clean:
	rm -rf bin dist
