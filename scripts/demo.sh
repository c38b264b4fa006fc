#!/usr/bin/env bash
# The README quickstart as a script: makes a workspace in a temporary
# directory and walks through init, profiles, configuration, pipelines, and
# the control plane: a local server, login, connect and deploy.
set -euo pipefail
# curl stands in for the browser that approves the login.
if ! command -v curl >/dev/null; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q curl >/dev/null
  else
    echo "demo: needs curl (it approves the login as a browser would); install it and run again" >&2
    exit 1
  fi
fi
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

# The control plane on this machine: start a server, create the first owner
# through its one-time link, log in with the device flow (approved here with
# curl through the same pages a browser uses), connect and deploy.
printf '\n$ dlthub server --listen 127.0.0.1:0 --data-dir %s/server &\n' "$dir"
"$bin" server --listen 127.0.0.1:0 --data-dir "$dir/server" 2>"$dir/server.log" &
srv=$!
trap 'kill $srv 2>/dev/null; wait $srv 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 100); do grep -q 'setup?token=' "$dir/server.log" 2>/dev/null && break; sleep 0.1; done
head -3 "$dir/server.log"
base=$(sed -n 's/.*listening on \(http:[^ ]*\).*/\1/p' "$dir/server.log")
link=$(grep -o 'http://[^ ]*/setup?token=[0-9a-f]*' "$dir/server.log")
curl -fsS -o /dev/null --data-urlencode "token=${link##*token=}" -d email=demo@example.com -d name=Demo -d password=demo-password -d org=demo "$base/setup"
echo "(created the first owner demo@example.com through the setup link)"
export RUNTIME__API_BASE_URL="$base"

printf '\n$ dlthub login\n'
"$bin" login 2>"$dir/login.log" &
login=$!
for _ in $(seq 100); do grep -q 'enter the code' "$dir/login.log" 2>/dev/null && break; sleep 0.1; done
code=$(grep -o '[A-Z]\{4\}-[A-Z]\{4\}' "$dir/login.log" | head -1)
curl -fsS -o /dev/null -c "$dir/jar" -d email=demo@example.com -d password=demo-password -d next=/ "$base/login"
curl -fsS -o /dev/null -b "$dir/jar" -d "user_code=$code" -d action=approve "$base/device"
wait $login
cat "$dir/login.log"
echo "(approved $code in the browser pages with curl)"

run workspace connect analytics --create
cat > dlthub.toml <<'TOML'
[jobs.ingest.github_sample]
pipeline = "github_sample"
trigger = ["0 3 * * *"]
TOML
run deploy
run deploy   # unchanged code, configuration and jobs: nothing is sent twice
run workspace deployment list
run job list
run run github_sample -f --no-deploy   # a worker in the server runs it with the deployed code and prod configuration
run job runs list
run workspace info

printf '\nDemo workspace was in %s (removed on exit).\n' "$dir"
