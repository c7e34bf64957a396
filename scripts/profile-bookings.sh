#!/usr/bin/env bash
# Counts the instructions the service spends on one-client bookings (PostgreSQL, or SQLite with
# PROFILE_ENGINE=sqlite: there SQLite's own work runs in the process and is counted too), with the load
# from a process of its own (scripts/book-listed.py) and valgrind's callgrind, which counts
# instructions rather than time: the count repeats for the same binary and inputs, whatever else
# the machine does. Only the bookings are counted (instrumentation is switched on after the
# search that lists their slots). See BENCHMARKS.md ("what one booking costs in instructions").
#
# usage: scripts/profile-bookings.sh [BINARY] [OUT] [N]
#   BINARY  the service's binary (default target/release/terminbuch; build it with
#           `cargo build --release`)
#   OUT     callgrind's output file (default callgrind.bookings.out); read it with
#           `callgrind_annotate --inclusive=yes OUT`
#   N       bookings (default 150)
# environment: PROFILE_ENGINE (postgres, the default, or sqlite: a fresh file in a temporary
# folder); PROFILE_ADMIN_URL (default postgres://postgres@127.0.0.1:5432/postgres), a server on
# which the database terminbuch_profile is created for the run and dropped after it;
# PROFILE_PORT (default 3999).
set -euo pipefail
cd "$(dirname "$0")/.."
binary=$(realpath "${1:-target/release/terminbuch}")
out=$(realpath -m "${2:-callgrind.bookings.out}")
bookings=${3:-150}
admin_url=${PROFILE_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}
port=${PROFILE_PORT:-3999}
engine=${PROFILE_ENGINE:-postgres}
case "$engine" in
  postgres) tools="valgrind callgrind_control psql python3 curl" ;;
  sqlite) tools="valgrind callgrind_control python3 curl" ;;
  *) echo "PROFILE_ENGINE is postgres or sqlite, not $engine" >&2; exit 1 ;;
esac
for tool in $tools; do
  command -v "$tool" >/dev/null || { echo "needs $tool" >&2; exit 1; }
done

work=$(mktemp -d)
service=""
cleanup() {
  [ -n "$service" ] && kill "$service" 2>/dev/null && wait "$service" 2>/dev/null
  rm -rf "$work"
  # The database (demo data, an admin and its token) is not left on the server.
  if [ "$engine" = postgres ]; then
    psql -q "$admin_url" -c "DROP DATABASE IF EXISTS terminbuch_profile WITH (FORCE)" || true
  fi
}
trap cleanup EXIT

if [ "$engine" = postgres ]; then
  psql -q "$admin_url" -c "DROP DATABASE IF EXISTS terminbuch_profile" -c "CREATE DATABASE terminbuch_profile"
  export DATABASE_URL="${admin_url%/*}/terminbuch_profile"
else
  export DATABASE_URL="sqlite://$work/profile.sqlite?mode=rwc"
fi
export TERMINBUCH_LISTEN="127.0.0.1:$port" TERMINBUCH_DATA_DIR="$work" RUST_LOG=warn
# Staff data from memory for a minute: under valgrind the bookings run about 50 times slower.
export TERMINBUCH_TOKEN_CACHE_MS=60000

# The demo data (its units' counselling hours) and the first admin, then a token.
TERMINBUCH_DEMO_SEED=true "$binary" >"$work/seed.log" 2>&1 &
service=$!
until curl -fs -o /dev/null "http://127.0.0.1:$port/health"; do
  kill -0 "$service" 2>/dev/null || { cat "$work/seed.log" >&2; exit 1; }
  sleep 0.2
done
kill "$service"; wait "$service" || true; service=""
token=$("$binary" token create --login admin)

valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$out" "$binary" >"$work/serve.log" 2>&1 &
service=$!
until curl -fs -o /dev/null "http://127.0.0.1:$port/health"; do
  kill -0 "$service" 2>/dev/null || { cat "$work/serve.log" >&2; exit 1; }
  sleep 0.5
done
python3 scripts/book-listed.py "$port" "$token" ads "$bookings" "$work/go" 2>"$work/drive.log" &
driver=$!
until grep -q listed "$work/drive.log"; do
  kill -0 "$driver" 2>/dev/null || { cat "$work/drive.log" >&2; exit 1; }
  sleep 0.2
done
callgrind_control -i on "$service" >/dev/null 2>&1
touch "$work/go"
wait "$driver" || { cat "$work/drive.log" >&2; exit 1; }
callgrind_control -i off "$service" >/dev/null 2>&1
cat "$work/drive.log" >&2
kill "$service"; wait "$service" || true; service=""
total=$(callgrind_annotate "$out" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')
echo "instructions: $total in all, $((total / bookings)) per booking ($out)"
if [ "$engine" = sqlite ]; then
  # SQLite's own work: its statements prepared and stepped (BEGIN and COMMIT too), inclusive.
  inclusive=$(callgrind_annotate --inclusive=yes "$out" 2>/dev/null)
  own=0
  for entry in sqlite3_step sqlite3_prepare_v2 sqlite3_prepare_v3; do
    n=$(echo "$inclusive" | awk -v f="$entry" '$0 ~ (" " f " ") || $0 ~ (":" f " ") || $0 ~ (" " f "$") {gsub(",", "", $1); print $1; exit}')
    own=$((own + ${n:-0}))
  done
  echo "of which in SQLite's sqlite3_step and sqlite3_prepare (its own work): $own, $((own / bookings)) per booking"
fi
