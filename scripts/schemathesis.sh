#!/usr/bin/env bash
# Runs schemathesis against the built server (README "Tests", .ci/run): a throw-away SQLite file
# with demo data, an admin's API token, every phase, the conformance checks; exits non-zero on
# any failure. Installs schemathesis into a virtual environment under target/ first (idempotent).
# Usage: scripts/schemathesis.sh [extra st run options]; BIN=path/to/terminbuch to pick the binary.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV="${SCHEMATHESIS_VENV:-target/schemathesis-venv}"
if [ ! -x "$VENV/bin/st" ]; then
  if ! python3 -m venv "$VENV"; then
    apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3-venv
    python3 -m venv "$VENV"
  fi
  "$VENV/bin/pip" install --quiet 'schemathesis>=4.32,<5'
fi
VENV="$(cd "$VENV" && pwd)"
"$VENV/bin/st" --version

if [ -z "${BIN:-}" ]; then
  cargo build --quiet --bin terminbuch
  BIN=target/debug/terminbuch
fi
BIN="$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")"
CONFIG="$PWD/schemathesis.toml"
WORK="$(mktemp -d)"
SERVER_PID=""
stop() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap stop EXIT

PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
export DATABASE_URL="sqlite://$WORK/schemathesis.db?mode=rwc"
export TERMINBUCH_LISTEN="127.0.0.1:$PORT"
export TERMINBUCH_DEMO_SEED=true
export TERMINBUCH_DATA_DIR="$WORK/data"
export RUST_LOG="${RUST_LOG:-warn}"
"$BIN" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
BASE="http://127.0.0.1:$PORT"
# The server creates the first administrator at start; wait until it answers.
for _ in $(seq 1 300); do
  curl -fsS "$BASE/health" >/dev/null 2>&1 && break
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.log"; exit 1; }
  sleep 0.1
done
curl -fsS "$BASE/health" >/dev/null || { echo "the server did not answer at $BASE/health"; cat "$WORK/server.log"; exit 1; }
# The run acts as an admin of its own whose login no generator guesses: requests that deactivate
# `admin`, take its role away (once the fuzzer made another admin) or revoke its tokens would
# otherwise turn every later request into a 401.
LOGIN="st-$(python3 -c 'import secrets; print(secrets.token_hex(8))')"
"$BIN" user add --login "$LOGIN" --name "Schemathesis" --role admin >/dev/null
TOKEN="$("$BIN" token create --login "$LOGIN")"

status=0
# From the throw-away folder: schemathesis keeps its caches in the working directory.
cd "$WORK"
# The operations that revoke tokens, deactivate staff or take roles away would end the run's own
# access (stateful runs follow the logins GET /staff lists) and leave every later request a 401:
# they run last, in a pass of their own.
REVOKING='^(revoke_token|revoke_my_token|revoke_staff_tokens|deactivate_staff|remove_role)$'
run() {
  "$VENV/bin/st" --config-file "$CONFIG" run "$BASE/api/openapi.json" \
    --header "Authorization: Bearer $TOKEN" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
    --seed "${SCHEMATHESIS_SEED:-20261202}" \
    --max-examples "${SCHEMATHESIS_MAX_EXAMPLES:-50}" \
    --workers 2 \
    --request-timeout 10 \
    --no-color \
    "$@"
}
echo "schemathesis: every phase, seed ${SCHEMATHESIS_SEED:-20261202}, against $BASE"
run --exclude-operation-id-regex "$REVOKING" --phases examples,coverage,fuzzing,stateful "$@" || status=$?
echo "schemathesis: the token-revoking operations"
TOKEN="$("$BIN" token create --login "$LOGIN")"
run --include-operation-id-regex "$REVOKING" --phases examples,coverage,fuzzing "$@" || status=$?
if [ "$status" -ne 0 ]; then
  echo "== server log (last 50 lines)"
  tail -n 50 "$WORK/server.log"
fi
exit "$status"
