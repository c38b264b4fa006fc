# dlthub — run `make help` for the targets.
SHELL := /bin/bash
GO    ?= go
BIN   := bin/dlthub
GOLANGCI_VERSION := v2.15.0
GOLANGCI := $(shell $(GO) env GOPATH)/bin/golangci-lint

.DEFAULT_GOAL := help

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-z][a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN{FS=":.*## "}{printf "  make %-8s %s\n", $$1, $$2}'

# The release tag (v0.3.0, v0.3.0-4-gabc1234-dirty), or without one the
# commit (abc1234-dirty: --version says "dev (commit abc1234-dirty)"); go
# build adds the commit's date itself unless -buildvcs=false.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null)

.PHONY: build
build: ## build bin/dlthub (--version: the git tag, commit and date)
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/dlthub

.PHONY: setup
setup: ## install what tests need beyond Go: PostgreSQL binaries, script(1), bubblewrap, Chromium, build/py with pinned uv and dlt
	./scripts/setup.sh

# -timeout: the dlt differential harness takes near 8 minutes under -race on
# 2 cores, close to go test's default limit of 10.
.PHONY: test
test: setup ## set up, vet and run every test (the README's test command; CI runs it)
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 30m ./...

# Each Go fuzz target as package:Target; `make fuzz` runs each for FUZZTIME.
FUZZ_TARGETS := internal/config:FuzzParseTOML internal/config:FuzzDecodeEnv \
	internal/tomledit:FuzzSet internal/tomledit:FuzzDelete \
	internal/jobs:FuzzParseManifest internal/jobs:FuzzParseTrigger internal/jobs:FuzzParseWorkerOutput \
	internal/deploy:FuzzReadTarGz internal/deploy:FuzzExtractEntries \
	internal/jsonx:FuzzParse internal/jsonx:FuzzAppendRaw internal/normalize:FuzzRecord internal/source/rest:FuzzPaginate \
	internal/jobfile:FuzzParquetMatchesCSV internal/jobfile:FuzzTimeParsers \
	internal/jobfile:FuzzReadPGCopyHeader internal/destination/postgres:FuzzPGTimeParsers \
	internal/jsonl:FuzzReader internal/jsonx:FuzzAppendFloat internal/schema:FuzzISOTimestamp \
	internal/jobfile:FuzzCoercedDatesAreWritten internal/pipeline:FuzzDecompressState \
	internal/schema:FuzzSchemaJSON
FUZZTIME ?= 8s
FUZZ_API_SECONDS ?= 60

.PHONY: fuzz
fuzz: build ## run each Go fuzz target for FUZZTIME (8s), then schemathesis over the OpenAPI document against a loopback server (scripts/fuzz-api.sh, FUZZ_API_SECONDS); fails on a crash or any 5xx
	GO=$(GO) FUZZTIME=$(FUZZTIME) ./scripts/fuzz-go.sh $(FUZZ_TARGETS)
	FUZZ_API_SECONDS=$(FUZZ_API_SECONDS) ./scripts/fuzz-api.sh $(BIN)

.PHONY: lint
lint: $(GOLANGCI) ## run golangci-lint with the committed .golangci.yml
	$(GOLANGCI) run ./...

$(GOLANGCI):
	$(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_VERSION)

.PHONY: bench
bench: build ## print BENCH lines (BENCH=<name> runs one, BENCH_ROWS=<n> sets its size): start-up; JSONL → DuckDB at BENCH_ROWS and 4×; the same JSONL through Python dlt (jsonl_vs_dlt, 200k); JSONL → Postgres; Postgres (BENCH_PG_ROWS, default 5M) → DuckDB; deploy packaging of 2,000 files; run dispatch (with and without the run sandbox) and log throughput; API job listing (req/s, p99) at 32 clients against the same HTTP stack without the store; Python environments; time to a log line on the run page in headless Chromium (p50/p95 of 20) against the NDJSON API
	GO=$(GO) BIN=$(BIN) ./scripts/bench.sh

# CI=true turns a missing Chromium into a failure, not a skip: no
# pictures must not pass as new ones.
.PHONY: screenshots
screenshots: ## regenerate docs/screenshots/*.png (run, job and workspace pages, the jobs graph, the job page 375 px wide) with the browser tests in headless Chromium
	CI=true DLTHUB_SCREENSHOTS=docs/screenshots $(GO) test -count=1 -run '^TestBrowser(WorkspacePage|JobPage|PagesFitNarrowScreens|RunPageFollowsLiveLogs)$$' ./internal/server

.PHONY: demo
demo: build ## the README's quickstart in a temp dir: a workspace, a loaded pipeline, a scheduled job deployed to a local server and run on its worker
	./scripts/demo.sh $(BIN)

.PHONY: clean
clean: ## remove build output
	rm -rf bin
