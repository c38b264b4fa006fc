#!/usr/bin/env bash
# The README quickstart as a script: makes a workspace in a temporary
# directory and walks through init, profiles and configuration.
set -euo pipefail
bin=$(readlink -f "${1:-bin/dlthub}")
example=$(readlink -f "${2:-bin/issues}")
sample=$(readlink -f internal/samples/github_issues.json)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cd "$dir"
export HOME="$dir/home"
mkdir -p "$HOME"

run() { printf '\n$ dlthub %s\n' "$*"; "$bin" "$@"; }

mkdir demo && cd demo
run init
run config set destination.warehouse.destination_type duckdb --profile dev
run config set destination.warehouse.destination_type postgres --profile prod
run config set --secret --profile prod destination.warehouse.credentials.password s3cret
run profile list
run config get destination.warehouse.destination_type
run --profile prod config get destination.warehouse.destination_type
run --profile prod config explain destination.warehouse.credentials.password
run profile use prod
run local info -v
run profile use dev

run pipeline init github_sample duckdb
run local pipeline run github_sample
run local pipeline run github_sample   # merge by id: still one copy of each issue

printf '\n$ go run ./examples/issues github_issues.json   # the Go SDK: a page of GitHub issues into DuckDB\n'
"$example" "$sample"
printf '\n$ go run ./examples/issues github_issues.json   # again: merge on id keeps one copy\n'
"$example" "$sample"
run local pipeline list
run local pipeline trace github_issues
run local pipeline info github_sample
printf '\nDemo workspace was in %s (removed on exit).\n' "$dir"
