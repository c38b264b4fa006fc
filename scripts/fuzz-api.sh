#!/usr/bin/env bash
# API fuzz run: schemathesis (pinned, from PyPI, in build/schemathesis)
# generates requests from the server's OpenAPI document and sends them to a
# real `dlthub server` on loopback, signed in as its first owner through a
# device-flow login token; any 5xx answer fails the run. Usage: scripts/fuzz-api.sh [BIN]
# (default bin/dlthub). FUZZ_API_EXAMPLES and FUZZ_API_SECONDS bound it.
# scripts/fuzz_api_hooks.py lets it send deployments (application/gzip) as
# raw bytes. The server's log is kept in build/fuzz-api-server.log.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-bin/dlthub}
SCHEMATHESIS_VERSION=4.32.5
ST_DIR=build/schemathesis
examples=${FUZZ_API_EXAMPLES:-25}
seconds=${FUZZ_API_SECONDS:-120}

for tool in curl python3; do
  if ! command -v "$tool" >/dev/null; then
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$tool" >/dev/null
    else
      echo "fuzz-api: needs $tool" >&2; exit 1
    fi
  fi
done
python3 -m venv --help >/dev/null 2>&1 || { DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-venv >/dev/null; }

# The pinned schemathesis, made again only when the pin changed.
want="schemathesis==$SCHEMATHESIS_VERSION"
if [ "$(cat "$ST_DIR/.pins" 2>/dev/null)" != "$want" ]; then
  echo "fuzz-api: making $ST_DIR with $want" >&2
  rm -rf "$ST_DIR"
  python3 -m venv "$ST_DIR"
  "$ST_DIR/bin/pip" install -q --disable-pip-version-check "$want"
  echo "$want" > "$ST_DIR/.pins"
fi

dir=$(mktemp -d)
server=""
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$dir"
}
trap cleanup EXIT

# The API role only: schemathesis exercises the HTTP surface; no worker
# runs what it queues.
"$bin" server --listen 127.0.0.1:0 --data-dir "$dir/server" --roles api 2>"$dir/server.log" &
server=$!
for _ in $(seq 200); do grep -q 'listening on' "$dir/server.log" 2>/dev/null && break; sleep 0.1; done # the setup link is printed before it
base=$(sed -n 's/.*listening on \(http:[^ ]*\).*/\1/p' "$dir/server.log" | head -1)
link=$(grep -o 'http://[^ ]*/setup?token=[0-9a-f]*' "$dir/server.log" | head -1)
case "$base" in
  http://127.0.0.1:*) ;;
  *) echo "fuzz-api: the server did not start on loopback:" >&2; cat "$dir/server.log" >&2; exit 1 ;;
esac
if [ -z "$link" ]; then echo "fuzz-api: no setup link:" >&2; cat "$dir/server.log" >&2; exit 1; fi

# The first owner, a browser session, and a login token through the device
# flow (as `dlthub login` gets one). Login tokens are listed among the API
# keys, and schemathesis revokes what it lists, its own token included; so
# DELETE /api/v1/api-keys/{id} is left out of the run (the Go tests cover it).
curl -fsS -o /dev/null --data-urlencode "token=${link##*token=}" -d email=fuzz@example.com -d name=Fuzz -d password=fuzz-password-1 -d org=fuzz "$base/setup"
curl -fsS -o /dev/null -c "$dir/jar" -d email=fuzz@example.com -d password=fuzz-password-1 -d next=/ "$base/login"
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
dev=$(curl -fsS -d client_id=fuzz-api "$base/oauth/device/code")
curl -fsS -o /dev/null -b "$dir/jar" -d "user_code=$(printf '%s' "$dev" | json '["user_code"]')" -d action=approve "$base/device"
token=$(curl -fsS -d grant_type=urn:ietf:params:oauth:grant-type:device_code -d client_id=fuzz-api \
  -d "device_code=$(printf '%s' "$dev" | json '["device_code"]')" "$base/oauth/token" | json '["access_token"]')
# A workspace, so listing and reading calls have something to find.
org=$(curl -fsS -H "Authorization: Bearer $token" "$base/api/v1/me" | json '["organizations"][0]["id"]')
curl -fsS -o /dev/null -H "Authorization: Bearer $token" -H 'Content-Type: application/json' -d "{\"organization_id\":\"$org\",\"name\":\"fuzz\"}" "$base/api/v1/workspaces"

echo "fuzz-api: schemathesis $SCHEMATHESIS_VERSION against $base (at most $examples examples per operation, ${seconds}s)"
status=0
# One worker: CPython 3.11's parser is not thread-safe ("AST constructor
# recursion depth mismatch" from schemathesis' threads).
# The token through the OpenAPI bearer scheme, so generated cases keep it
# (a plain -H header is dropped by many of them).
printf '[auth.openapi.bearer]\nbearer = "%s"\n' "$token" > "$dir/schemathesis.toml"
# It runs in the temporary directory, where it leaves its .schemathesis cache.
root=$PWD
(cd "$dir" && PYTHONPATH="$root/scripts" SCHEMATHESIS_HOOKS=fuzz_api_hooks "$root/$ST_DIR/bin/st" --config-file "$dir/schemathesis.toml" run "$base/api/v1/openapi.json" --url "$base" \
  --checks not_a_server_error --mode "${FUZZ_API_MODE:-all}" \
  --max-examples "$examples" --max-time "$seconds" --seed 1 \
  --workers 1 --request-timeout 10 --no-color \
  --suppress-health-check all --warnings off \
  --exclude-path '/api/v1/api-keys/{id}') || status=$?
cp "$dir/server.log" build/fuzz-api-server.log
echo "fuzz-api: the server's answers by status (its log: build/fuzz-api-server.log):"
grep -Eo 'status"?[:=][0-9]{3}' "$dir/server.log" | grep -Eo '[0-9]{3}' | sort | uniq -c | sed 's/^/  /'
if grep -Eq 'status"?[:=]5[0-9]{2}' "$dir/server.log"; then
  echo "fuzz-api: the server answered 5xx:" >&2
  grep -E 'status"?[:=]5[0-9]{2}' "$dir/server.log" | head -20 >&2
  status=1
fi
if [ "$status" -ne 0 ]; then
  echo "fuzz-api: FAILED (server log in build/fuzz-api-server.log)" >&2
fi
exit "$status"
