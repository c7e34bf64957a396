#!/usr/bin/env bash
# The project's test command (README, CI): installs what the browser tests need (idempotent),
# then runs every test. SQLite by default; set TEST_DATABASE_URL=postgres://… for PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-ui-test-deps.sh
exec cargo test --workspace "$@"
