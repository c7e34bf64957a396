#!/usr/bin/env python3
"""Load from a process of its own for scripts/profile-bookings.sh: lists free slots of a unit
through the API, waits until the file GO_FILE exists, then books N of them one after another (one
client, one kept-alive connection), as the bench's one-client round does.

usage: book-listed.py PORT TOKEN UNIT N GO_FILE
"""
import datetime
import http.client
import json
import os
import sys
import time

port, token, unit, n, go_file = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
connection = http.client.HTTPConnection("127.0.0.1", port)
headers = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}


def call(method, path, body=None):
    connection.request(method, path, body=body, headers=headers)
    response = connection.getresponse()
    return response.status, response.read()


slots = []
day = datetime.date.today() + datetime.timedelta(days=1)
last = datetime.date.today() + datetime.timedelta(days=84)
while len(slots) < n and day < last:
    to = day + datetime.timedelta(days=6)
    status, body = call("GET", f"/api/v1/units/{unit}/free-slots?from={day}&to={to}&limit=500")
    if status != 200:
        sys.exit(f"free-slots: {status} {body[:300]!r}")
    page = json.loads(body)
    slots += [slot["slot_id"] for slot in (page["slots"] if isinstance(page, dict) else page)]
    day = to + datetime.timedelta(days=1)
slots = slots[:n]
print(f"listed {len(slots)}", file=sys.stderr, flush=True)
while not os.path.exists(go_file):
    time.sleep(0.05)

started, booked = time.monotonic(), 0
for slot_id in slots:
    body = json.dumps({
        "slot_id": slot_id,
        "citizen": {"name": "Bench Citizen", "phone": "0511 123456", "language": "tr"},
        "channel": "phone",
    })
    status, answer = call("POST", "/api/v1/bookings", body)
    if status == 201:
        booked += 1
    else:
        print(f"slot {slot_id}: {status} {answer[:300]!r}", file=sys.stderr)
elapsed = time.monotonic() - started
print(f"booked {booked} of {len(slots)} in {elapsed:.3f} s", file=sys.stderr)
sys.exit(0 if booked == len(slots) else 1)
