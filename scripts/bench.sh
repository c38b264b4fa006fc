#!/usr/bin/env bash
# Runs the benchmarks: all of them, or with BENCH=<name> the one that prints
# `BENCH name=<name>` (only its lines are kept). BENCH_ROWS sets the size of
# the one chosen (jsonl_to_duckdb, jsonl_to_postgres: 1,000,000 and, for
# the whole run, 4× too; jsonl_vs_dlt: 200,000; postgres_to_duckdb:
# BENCH_PG_ROWS, 5,000,000).
#
#   scripts/bench.sh                                  # all, as make bench
#   BENCH=jsonl_to_duckdb BENCH_ROWS=200000 scripts/bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
BIN=${BIN:-bin/dlthub}
name=${BENCH:-}
names="startup startup_baseline jsonl_to_duckdb jsonl_vs_dlt jsonl_to_postgres postgres_to_duckdb deploy_package deploy_noop_rescan deploy_first deploy_noop run_dispatch run_dispatch_sandbox run_logs api_list_jobs python_env_build python_run_dispatch ui_first_log_line"

# only keeps the chosen benchmark's lines of a tool that prints several.
only() {
  if [ -n "$name" ]; then grep -E "^BENCH name=$name( |$)" || true; else cat; fi
}

load() {
  "$GO" build -o bin/benchload ./tools/benchload
  ./bin/benchload "$@"
}

case "$name" in
"")
  "$GO" run ./tools/benchstartup -bin "$BIN"
  load -rows "${BENCH_ROWS:-1000000}" -sizes 1,4
  ./scripts/setup.sh
  load -sizes 0 -dlt-rows "${BENCH_DLT_ROWS:-200000}"
  "$GO" build -o bin/benchpg ./tools/benchpg
  ./bin/benchpg -rows "${BENCH_ROWS:-1000000}"
  "$GO" run ./tools/benchdeploy
  "$GO" run ./tools/benchruns
  "$GO" run ./tools/benchapi
  "$GO" run ./tools/benchpython
  "$GO" run ./tools/benchui
  ;;
startup | startup_baseline) "$GO" run ./tools/benchstartup -bin "$BIN" | only ;;
jsonl_to_duckdb) load -rows "${BENCH_ROWS:-1000000}" -sizes "${BENCH_SIZES:-1}" ;;
jsonl_vs_dlt)
  ./scripts/setup.sh
  load -sizes 0 -dlt-rows "${BENCH_ROWS:-200000}"
  ;;
jsonl_to_postgres | postgres_to_duckdb)
  "$GO" build -o bin/benchpg ./tools/benchpg
  ./bin/benchpg -rows "${BENCH_ROWS:-1000000}" -only "$name"
  ;;
deploy_*) "$GO" run ./tools/benchdeploy | only ;;
run_*) "$GO" run ./tools/benchruns | only ;;
api_list_jobs) "$GO" run ./tools/benchapi ;;
python_*)
  ./scripts/setup.sh
  "$GO" run ./tools/benchpython | only
  ;;
ui_first_log_line) "$GO" run ./tools/benchui ;;
*)
  echo "bench: no benchmark named $name; one of: $names" >&2
  exit 2
  ;;
esac
