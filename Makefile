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

.PHONY: build
build: ## build bin/dlthub
	$(GO) build -o $(BIN) ./cmd/dlthub

.PHONY: test
test: ## vet and run every test (the README's test command; CI runs it)
	$(GO) vet ./...
	$(GO) test -count=1 ./...

.PHONY: lint
lint: $(GOLANGCI) ## run golangci-lint with the committed .golangci.yml
	$(GOLANGCI) run ./...

$(GOLANGCI):
	$(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_VERSION)

.PHONY: bench
bench: build ## print BENCH lines: process start-up of --help next to /bin/true
	$(GO) run ./tools/benchstartup -bin $(BIN)

.PHONY: demo
demo: build ## the quickstart: a workspace in a temp dir, end to end
	./scripts/demo.sh $(BIN)

.PHONY: clean
clean: ## remove build output
	rm -rf bin
