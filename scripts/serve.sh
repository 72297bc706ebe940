#!/usr/bin/env bash
# Production-like serving (containers, compose, the load test): several granian workers when
# REDIS_URL is set (Reflex keeps UI state in Redis), JSON logs, multiprocess-safe /metrics.
# `make run` stays the single-process embedded mode; this script assumes migrations already ran.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
PORT="${PORT:-3000}"
export APP_URL="${APP_URL:-http://localhost:$PORT}"
# prometheus-client's multiprocess mode: every worker writes its samples here; start empty.
export PROMETHEUS_MULTIPROC_DIR="${PROMETHEUS_MULTIPROC_DIR:-${TMPDIR:-/tmp}/sayzhong-metrics-$PORT}"
rm -rf "$PROMETHEUS_MULTIPROC_DIR" && mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
# With Redis, a worker keeps a tab's UI state in memory while it holds that tab's lock and no other
# worker asks for it (Reflex's opportunistic lock): a page load then skips loading and saving ~60
# page states in Redis (bench/RESULTS-load.md run 5). Another worker's request breaks the lease through
# Redis keyspace notifications; shutdown writes every held state back. Set to false to turn it off.
export REFLEX_OPLOCK_ENABLED="${REFLEX_OPLOCK_ENABLED:-true}"
exec reflex run --env prod --single-port --frontend-port "$PORT" --backend-host "${HOST:-0.0.0.0}"
