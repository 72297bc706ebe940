#!/usr/bin/env bash
# Runs SayZhong on http://localhost:${PORT:-3000}: production build of the front end, one port,
# embedded defaults (SQLite, offline scorer, local outbox). ENV=prod enforces production settings.
# DEV=1 runs Reflex's hot-reloading dev server instead (front end :3000, back end :8000).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
"$ROOT/scripts/setup.sh"
PORT="${PORT:-3000}"
export ENV="${ENV:-dev}"
export APP_URL="${APP_URL:-http://localhost:$PORT}"
if [ "${DEV:-0}" = 1 ]; then
  export API_URL="${API_URL:-http://localhost:8000}"
  exec reflex run --env dev --frontend-port "$PORT" --backend-port 8000
fi
echo "==> SayZhong on $APP_URL (health: $APP_URL/healthz)"
exec reflex run --env prod --single-port --frontend-port "$PORT" --backend-host "${HOST:-0.0.0.0}"
