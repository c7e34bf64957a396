#!/usr/bin/env bash
# A PostgreSQL restart in the middle of a burst of bookings (issue 13, faults on the write path).
#
# Starts a private PostgreSQL 15 cluster of its own (a temporary folder, port 55432, run as the
# `postgres` user; the machine's own server is not touched), the built server on it with demo
# data, then books BOOKINGS (default 400; the demo data has 450-550 free slots) free slots with 16 parallel clients and restarts the
# cluster (`pg_ctl restart -m fast`) after RESTART_AFTER (default 120) answers. Then it checks:
#   - every request answered 201 is stored (its id is in `bookings`),
#   - every other request was answered 503 with Retry-After (no 500, nothing else),
#   - the service books again within 5 s after the cluster is back.
# Usage: scripts/pg-restart-burst.sh [path/to/terminbuch]   (default target/debug/terminbuch)
# Needs: root (to run the cluster as `postgres`), PostgreSQL 15 binaries, curl, jq.
set -euo pipefail

BIN=${1:-target/debug/terminbuch}
BOOKINGS=${BOOKINGS:-400}
RESTART_AFTER=${RESTART_AFTER:-120}
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
PGPORT=${PGPORT:-55432}
LISTEN=127.0.0.1:${LISTEN_PORT:-38080}
WORK=$(mktemp -d)
chown postgres "$WORK"
as_pg() { su postgres -s /bin/bash -c "$*"; }

cleanup() {
  [[ -n ${SERVER_PID:-} ]] && kill "$SERVER_PID" 2>/dev/null || true
  as_pg "$PGBIN/pg_ctl -D $WORK/data -m immediate stop" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

as_pg "$PGBIN/initdb -D $WORK/data -A trust -U postgres" >/dev/null
as_pg "$PGBIN/pg_ctl -D $WORK/data -l $WORK/pg.log -o '-p $PGPORT -k $WORK' -w start" >/dev/null
URL="postgres://postgres@127.0.0.1:$PGPORT/postgres"

DATABASE_URL=$URL TERMINBUCH_DEMO_SEED=true TERMINBUCH_LISTEN=$LISTEN TERMINBUCH_DATA_DIR=$WORK/app \
  "$BIN" serve >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 100); do curl -sf "http://$LISTEN/health" >/dev/null && break; sleep 0.1; done
TOKEN=$(DATABASE_URL=$URL "$BIN" token create --login admin)

# Free slots of every demo unit, BOOKINGS of them.
: >"$WORK/slots"
for unit in ads sdr suedosteuropa esf ia gfz sms; do
  curl -sf -H "Authorization: Bearer $TOKEN" "http://$LISTEN/api/v1/units/$unit/free-slots?to=$(date -d "+80 days" +%F)&limit=500" |
    jq -r '.[].slot_id' >>"$WORK/slots"
done
head -n "$BOOKINGS" "$WORK/slots" >"$WORK/burst"
[[ $(wc -l <"$WORK/burst") -eq $BOOKINGS ]] || { echo "only $(wc -l <"$WORK/burst") free slots"; exit 1; }

book() { # slot → "status id retry-after answered-at"
  local headers body
  headers=$(mktemp) body=$(mktemp)
  local status
  status=$(curl -s -o "$body" -D "$headers" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
    -H 'content-type: application/json' \
    -d "{\"slot_id\": $1, \"citizen\": {\"name\": \"Burst\", \"phone\": \"0511 1\", \"language\": \"de\"}, \"channel\": \"phone\"}" \
    "http://$LISTEN/api/v1/bookings")
  echo "$status $(jq -r '.id // "-"' <"$body" 2>/dev/null || echo -) $(grep -ci '^retry-after:' "$headers" || true) $(date +%s.%N)"
  rm -f "$headers" "$body"
}
export -f book; export TOKEN LISTEN

( # The restart, once RESTART_AFTER answers are in.
  while [[ $(wc -l <"$WORK/answers" 2>/dev/null || echo 0) -lt $RESTART_AFTER ]]; do sleep 0.01; done
  as_pg "$PGBIN/pg_ctl -D $WORK/data -m fast -w restart -o '-p $PGPORT -k $WORK' -l $WORK/pg.log" >/dev/null
  date +%s.%N >"$WORK/back"
) &
RESTARTER=$!
xargs -P 16 -I{} bash -c 'book {}' <"$WORK/burst" >"$WORK/answers"
wait "$RESTARTER"

# Recovery: the first 201 answered after the cluster was back came within 5 s (if the burst
# ended before, one more booking is made).
back=$(cat "$WORK/back")
first=$(awk -v back="$back" '$1 == 201 && $4 > back {print $4; exit}' "$WORK/answers")
if [[ -z $first ]]; then
  first=$(book "$(sed -n "$((BOOKINGS + 1))p" "$WORK/slots")" | awk '$1 == 201 {print $4}')
fi
recovered=$([[ -n $first ]] && echo "$first - $back < 5" | bc | grep -q 1 && echo yes || echo no)

created=$(awk '$1 == 201' "$WORK/answers" | wc -l)
refused=$(awk '$1 == 503 && $3 > 0' "$WORK/answers" | wc -l)
other=$(awk '$1 != 201 && !($1 == 503 && $3 > 0)' "$WORK/answers" | wc -l)
ids=$(awk '$1 == 201 {printf "%s'\''%s'\''", (n++ ? "," : ""), $2}' "$WORK/answers")
stored=$(as_pg "$PGBIN/psql -h $WORK -p $PGPORT -U postgres -tAc \"SELECT count(*) FROM bookings WHERE id IN ($ids)\"")
echo "bookings: $created created (stored: $stored), $refused refused 503 with Retry-After, $other other"
echo "first booking after the restart: ${first:-none} (cluster back at $back): recovered within 5 s: $recovered"
awk '$1 != 201 && !($1 == 503 && $3 > 0) {print "  other answer: " $0}' "$WORK/answers" | sort | uniq -c | head
[[ $stored -eq $created && $other -eq 0 && $recovered == yes ]]
