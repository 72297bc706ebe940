#!/usr/bin/env bash
# Migrations must produce exactly the tables the models declare: upgrade a fresh SQLite database in
# a temporary folder to head, then `alembic check` (fails on any model change without a migration).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
tmp="$(mktemp -d /tmp/sayzhong-migrations.XXXXXX)"
trap 'rm -rf "$tmp"' EXIT
DATA_DIR="$tmp" DATABASE_URL="" alembic upgrade head
DATA_DIR="$tmp" DATABASE_URL="" alembic check
