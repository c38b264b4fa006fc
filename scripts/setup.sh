#!/usr/bin/env bash
# Installs what the tests need beyond Go: PostgreSQL's binaries (the tests
# start their own throwaway server from them) and script(1) for the
# pseudo-terminal tests. Needs root and apt on a machine that lacks them;
# elsewhere it only checks.
set -euo pipefail
need=()
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null; then
  need+=(postgresql)
fi
command -v script >/dev/null || need+=(bsdutils)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
  echo "setup: missing ${need[*]}; install them (PostgreSQL tests are skipped, loudly, without it)" >&2
  exit 0
fi
echo "setup: installing ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q "${need[@]}"
