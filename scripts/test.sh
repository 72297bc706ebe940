#!/usr/bin/env bash
# Sets everything up, then runs every check. Exits non-zero on the first failing stage.
#   scripts/test.sh            every stage, in the lanes below
#   scripts/test.sh STAGE...   only those stages (lint unit unit-db integration postgres e2e production),
#                              one group after another. In a group, `a+b` runs a and b at the same
#                              time, and `a,b` runs b after a in the same lane: `lint,integration+unit`
#                              is two lanes. Each lane's output is printed whole when the group ends.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
SAYZHONG_SKIP_SEED=1 "$ROOT/scripts/setup.sh"

stages=("$@")
# Two lanes for the two cores, each about as long as the other (the timings in the README's Test
# section): the pytest runs are single-threaded and CPU-bound; the browser stages wait on the
# browser and the app, so the two modes of e2e share the machine.
[ ${#stages[@]} -eq 0 ] && stages=(lint,integration+unit,unit-db,postgres e2e+production)
PYTEST=(python -m pytest -p no:cacheprovider --durations=8)  # the slowest tests of each stage, for whoever shortens the run next
WORK="$(mktemp -d /tmp/sayzhong-test.XXXXXX)"
chmod 755 "$WORK"
cleanup() { "$ROOT/scripts/pg.sh" stop "$WORK/pg" || true; rm -rf "$WORK"; }
trap cleanup EXIT

# The journeys ran the app the way `make run` does; it must leave the checkout as it found it.
# reflex.lock/ holds exactly what Reflex writes there (key order included).
check_reflex_lock() {
  if git -C "$ROOT" rev-parse --is-inside-work-tree >/dev/null 2>&1 \
    && [ -n "$(git -C "$ROOT" status --porcelain -- reflex.lock)" ]; then
    echo "Running the app rewrote reflex.lock/; commit what Reflex wrote there:" >&2
    git -C "$ROOT" diff --stat -- reflex.lock >&2
    return 1
  fi
}

run_stage() {
  local stage="$1"
  echo "==> $stage"
  case "$stage" in
  lint)
    ruff check .
    ruff format --check .
    mypy
    python -m sayzhong content check
    # Migrations must produce exactly the tables the models declare.
    "$ROOT/scripts/check_migrations.sh"
    # The alert rules, their unit tests and the Alertmanager routing (promtool, amtool) are checked
    # by tests/integration/ops/test_alerting_config.py, with a rule broken on purpose to see them fail.
    hadolint --config deploy/hadolint.yaml deploy/Dockerfile
    python scripts/security_audit.py   # bandit against the reviewed baseline, pip-audit
    ;;
  unit)
    # Pure tests only: service tests that use a database are marked `db` (tests/conftest.py).
    "${PYTEST[@]}" tests/unit -q -m "not db"
    ;;
  integration)
    "${PYTEST[@]}" tests/integration -q
    ;;
  unit-db)
    # The service tests in tests/unit that use a database, on SQLite (marked `db` by tests/conftest.py).
    "${PYTEST[@]}" tests/unit -q -m db
    ;;
  postgres)
    url="$("$ROOT/scripts/pg.sh" start "$WORK/pg" "${PG_TEST_PORT:-55432}")"
    SAYZHONG_TEST_DATABASE_URL="$url" "${PYTEST[@]}" tests -q -m db
    "$ROOT/scripts/pg.sh" stop "$WORK/pg"
    ;;
  e2e)
    # The axe walk of every page runs in the production stage below (the same compiled pages), which
    # otherwise ends eight minutes before this one.
    "${PYTEST[@]}" e2e -q --ignore=e2e/test_accessibility.py
    check_reflex_lock
    ;;
  production)
    # The production-like stack (issue 16): PostgreSQL, Redis-backed Reflex state and rate limits,
    # two granian workers behind one port (scripts/serve.sh, as in the container). The core
    # journeys — accounts, sign-in/out across workers, a scored take, billing webhooks, PostHog —
    # run once more against it, and the axe walk of every page runs here only; the e2e fixture
    # starts and stops the backing services.
    SAYZHONG_E2E_MODE=production "${PYTEST[@]}" -q \
      e2e/test_accounts.py e2e/test_learning_journeys.py e2e/test_billing.py e2e/test_growth.py \
      e2e/test_accessibility.py
    check_reflex_lock
    ;;
  *)
    echo "unknown stage: $stage" >&2; exit 2 ;;
  esac
}

run_lane() {  # stages separated by commas, one after another; stops at the first that fails
  local stage started
  local -a lane_stages
  IFS=, read -r -a lane_stages <<<"$1"
  for stage in "${lane_stages[@]}"; do
    started=$SECONDS
    (set -euo pipefail; run_stage "$stage")
    echo "==> $stage took $((SECONDS - started)) s"
  done
}

# Lanes joined by `+` share the machine: nothing they use is fixed (free ports, their own temporary
# folders, PostgreSQL on its own port, each e2e mode its own front-end build), so they are independent.
for group in "${stages[@]}"; do
  IFS=+ read -r -a lanes <<<"$group"
  if [ ${#lanes[@]} -eq 1 ]; then
    run_lane "$group"
    continue
  fi
  pids=()
  for i in "${!lanes[@]}"; do
    (set -euo pipefail; run_lane "${lanes[$i]}") >"$WORK/lane-$i.log" 2>&1 &
    pids+=($!)
  done
  failed=()
  for i in "${!lanes[@]}"; do
    wait "${pids[$i]}" || failed+=("${lanes[$i]}")
  done
  for i in "${!lanes[@]}"; do cat "$WORK/lane-$i.log"; done
  if [ ${#failed[@]} -gt 0 ]; then
    echo "==> failed: ${failed[*]}" >&2
    exit 1
  fi
done
echo "==> all checks passed"
