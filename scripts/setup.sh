#!/usr/bin/env bash
# Installs what the tests need beyond Go: PostgreSQL's binaries (the tests
# start their own throwaway server from them), script(1) for the
# pseudo-terminal tests, bubblewrap for the run sandbox, Chromium for the
# browser tests of the web UI, a system Python
# for the worker's job environments, and build/py: a Python environment
# with pinned uv, dlt and marimo (the Python workspace tests run dlt's
# manifest worker and launchers from it; marimo for dlt's notebook detector). Needs root and apt on a machine that
# lacks the Debian packages; elsewhere it only checks them.
set -euo pipefail
cd "$(dirname "$0")/.."
UV_VERSION=0.13.9
DLT_VERSION=1.31.0
MARIMO_VERSION=0.25.2
PY_DIR=build/py

need=()
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null; then
  need+=(postgresql)
fi
command -v script >/dev/null || need+=(bsdutils)
command -v bwrap >/dev/null || need+=(bubblewrap)
# Debian's Chromium for the browser tests (internal/browsertest).
if ! command -v chromium >/dev/null && ! command -v chromium-browser >/dev/null && ! command -v google-chrome >/dev/null; then
  need+=(chromium)
fi
[ -x /usr/bin/python3 ] || need+=(python3)
python3 -m venv --help >/dev/null 2>&1 || need+=(python3-venv)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
    echo "setup: missing ${need[*]}; install them (tests that need them are skipped, loudly, without them)" >&2
  else
    echo "setup: installing ${need[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q "${need[@]}"
  fi
fi

# The pinned Python tools, made again only when a pin changed.
stamp="$PY_DIR/.pins"
want="uv==$UV_VERSION dlt[duckdb]==$DLT_VERSION marimo==$MARIMO_VERSION"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "setup: making $PY_DIR with $want" >&2
  rm -rf "$PY_DIR"
  python3 -m venv "$PY_DIR"
  "$PY_DIR/bin/pip" install -q --disable-pip-version-check "uv==$UV_VERSION"
  "$PY_DIR/bin/uv" pip install -q --python "$PY_DIR/bin/python" "dlt[duckdb]==$DLT_VERSION" "marimo==$MARIMO_VERSION"
  echo "$want" > "$stamp"
fi
