#!/usr/bin/env bash
# make demo: the README's quickstart, step for step, in a temporary
# directory: a workspace, a pipeline loaded into DuckDB, a scheduled job, a
# local control plane (sign-in, connect, deploy) and a run on its worker.
#
# Between the two "quickstart" marker lines below, every line that is not a
# comment or a demo_* call is a line of the README's quickstart block, in
# the same order (internal/readme's TestQuickstartMatchesDemo checks it;
# $port stands for 8765 there). The demo_* functions do what the README
# leaves to you in a browser: create the first owner through the server's
# one-time link and approve the login, here with curl through the same
# pages.
set -euo pipefail

# What the demo needs beyond the binary: curl (stands in for the browser)
# and bubblewrap (the server's worker runs every job in its sandbox).
need=()
command -v curl >/dev/null || need+=(curl)
command -v bwrap >/dev/null || need+=(bubblewrap)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    echo "demo: installing ${need[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q "${need[@]}" >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q "${need[@]}" >/dev/null; }
  else
    echo "demo: needs ${need[*]} (curl approves the login as a browser would; bubblewrap sandboxes the worker's runs); install them and run again" >&2
    exit 1
  fi
fi

bin=$(readlink -f "${1:-bin/dlthub}")
dir=$(mktemp -d)
srv=
cleanup() {
  rc=$?
  if [ -n "$srv" ]; then kill "$srv" 2>/dev/null || true; wait "$srv" 2>/dev/null || true; fi
  if [ "$rc" -ne 0 ] && [ -s "$dir/server.log" ]; then
    printf '\ndemo failed (exit %s); the server log:\n' "$rc" >&2
    tail -20 "$dir/server.log" >&2
  fi
  rm -rf "$dir"
}
trap cleanup EXIT
cd "$dir"
# A home of its own (the login token, the server's data dir), no prompts and
# no browser opened on a terminal (stdin is not one).
export HOME="$dir/home"
mkdir -p "$HOME"
exec </dev/null

# dlthub prints each command as the README shows it, then runs the binary
# under test. The server (started with &) logs to server.log and the login
# to login.log as well, for the demo_* steps that read the link and the code.
dlthub() {
  local bg= a shown=
  [ "$BASHPID" != "$$" ] && bg=' &'
  for a in "$@"; do case $a in *' '*) shown+=" \"$a\"" ;; *) shown+=" $a" ;; esac; done
  printf '\n$ dlthub%s%s\n' "$shown" "$bg"
  case "$1" in
    server) [ -n "$bg" ] && exec "$bin" "$@" 2>"$dir/server.log"; "$bin" "$@" ;;
    login) timeout 60 "$bin" "$@" 2> >(tee "$dir/login.log" >&2) ;;
    *) "$bin" "$@" ;;
  esac
}

# The README's port, or the next free pair (the server and its apps origin).
port=8765
while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || (exec 3<>"/dev/tcp/127.0.0.1/$((port + 1))") 2>/dev/null; do
  port=$((port + 2))
  [ "$port" -lt 8965 ] || { echo "demo: no free port pair from 8765 to 8965" >&2; exit 1; }
done

# Waits for the server's one-time setup link and creates the first owner
# with it, as you would in the browser.
demo_create_owner() {
  srv=$! # the server, just started with &: stopped on exit
  for _ in $(seq 100); do grep -q 'listening on' "$dir/server.log" 2>/dev/null && break; sleep 0.1; done # the setup link is printed before it
  sed -n '/listening on\|setup?token=/p' "$dir/server.log"
  local link base
  link=$(grep -o 'http://[^ ]*/setup?token=[0-9a-f]*' "$dir/server.log")
  base=${link%/setup*}
  curl -fsS -o /dev/null --data-urlencode "token=${link##*token=}" -d email=demo@example.com -d name=Demo -d password=demo-password -d org=demo "$base/setup"
  echo "(demo: created the first owner demo@example.com through the link, as in the browser)"
}

# Signs in on the server's pages and approves the code dlthub login prints,
# as you would in the browser (runs next to the waiting login).
demo_approve_login() {
  local code=
  for _ in $(seq 100); do
    code=$(sed -n 's/.*enter the code  *\([A-Z][A-Z-]*\).*/\1/p' "$dir/login.log" 2>/dev/null | head -1) || true
    [ -n "$code" ] && break
    sleep 0.1
  done
  curl -fsS -o /dev/null -c "$dir/jar" -d email=demo@example.com -d password=demo-password -d next=/ "$RUNTIME__API_BASE_URL/login"
  curl -fsS -o /dev/null -b "$dir/jar" -d "user_code=$code" -d action=approve "$RUNTIME__API_BASE_URL/device"
  echo "(demo: approved $code in the browser pages)" >&2
}

# --- quickstart: README.md ---
mkdir analytics && cd analytics
dlthub init
dlthub config set destination.warehouse.destination_type duckdb --profile dev
dlthub config set destination.warehouse.destination_type postgres --profile prod
dlthub config set --secret --profile prod destination.warehouse.credentials.password s3cret
dlthub profile list
dlthub --profile prod config explain destination.warehouse.credentials.password
dlthub local info -v

dlthub pipeline init github_sample duckdb
dlthub local pipeline run github_sample
dlthub local pipeline run github_sample
dlthub local pipeline show github_sample
dlthub local pipeline show github_sample issues__labels --limit 3
dlthub local pipeline sql github_sample "SELECT name, count(*) AS issues FROM issues__labels GROUP BY name ORDER BY issues DESC LIMIT 5"

cat > dlthub.toml <<'TOML'
[jobs.ingest.github_sample]
pipeline = "github_sample"
trigger = ["0 3 * * *"]
TOML
dlthub local run github_sample

dlthub server --listen 127.0.0.1:$port &
demo_create_owner
export RUNTIME__API_BASE_URL=http://127.0.0.1:$port
demo_approve_login &
dlthub login
dlthub workspace connect analytics --create
dlthub deploy
dlthub job list
dlthub run github_sample -f
dlthub job runs list
# --- end of quickstart ---

printf '\nDemo workspace was in %s (removed on exit).\n' "$dir"
