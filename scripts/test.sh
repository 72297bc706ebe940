#!/usr/bin/env bash
# Sets everything up, then runs every check. Exits non-zero on the first failing stage.
#   scripts/test.sh            lint+unit, integration+postgres, e2e, production
#   scripts/test.sh STAGE...   only those stages (lint unit integration postgres e2e production);
#                              `a+b` runs stages a and b at the same time (each single-threaded
#                              pytest gets a core; their output is printed whole when both end)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
SAYZHONG_SKIP_SEED=1 "$ROOT/scripts/setup.sh"

stages=("$@")
[ ${#stages[@]} -eq 0 ] && stages=(lint+unit integration+postgres e2e production)
PYTEST=(python -m pytest -p no:cacheprovider)
WORK="$(mktemp -d /tmp/sayzhong-test.XXXXXX)"
chmod 755 "$WORK"
cleanup() { "$ROOT/scripts/pg.sh" stop "$WORK/pg" || true; rm -rf "$WORK"; }
trap cleanup EXIT

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
    # Operations (issue 16): alert rules, their unit tests and the Alertmanager routing.
    promtool check rules deploy/prometheus/rules/*.yml
    promtool test rules deploy/prometheus/tests/*.yml
    amtool check-config deploy/alertmanager/alertmanager.yml
    hadolint --config deploy/hadolint.yaml deploy/Dockerfile
    python scripts/security_audit.py   # bandit against the reviewed baseline, pip-audit
    ;;
  unit)
    # Pure tests only: service tests that use a database are marked `db` (tests/conftest.py).
    "${PYTEST[@]}" tests/unit -q -m "not db"
    ;;
  integration)
    "${PYTEST[@]}" tests/integration -q
    "${PYTEST[@]}" tests/unit -q -m db
    ;;
  postgres)
    url="$("$ROOT/scripts/pg.sh" start "$WORK/pg" "${PG_TEST_PORT:-55432}")"
    SAYZHONG_TEST_DATABASE_URL="$url" "${PYTEST[@]}" tests -q -m db
    "$ROOT/scripts/pg.sh" stop "$WORK/pg"
    ;;
  e2e)
    "${PYTEST[@]}" e2e -q
    # The journeys ran the app the way `make run` does; it must leave the checkout as it found
    # it. reflex.lock/ holds exactly what Reflex writes there (key order included).
    if git -C "$ROOT" rev-parse --is-inside-work-tree >/dev/null 2>&1 \
      && [ -n "$(git -C "$ROOT" status --porcelain -- reflex.lock)" ]; then
      echo "Running the app rewrote reflex.lock/; commit what Reflex wrote there:" >&2
      git -C "$ROOT" diff --stat -- reflex.lock >&2
      exit 1
    fi
    ;;
  production)
    # The production-like stack (issue 16): PostgreSQL, Redis-backed Reflex state and rate limits,
    # two granian workers behind one port (scripts/serve.sh, as in the container). The core
    # journeys — accounts, sign-in/out across workers, a scored take, billing webhooks, PostHog —
    # run once more against it; the e2e fixture starts and stops the backing services.
    SAYZHONG_E2E_MODE=production "${PYTEST[@]}" -q \
      e2e/test_accounts.py e2e/test_learning_journeys.py e2e/test_billing.py e2e/test_growth.py
    ;;
  *)
    echo "unknown stage: $stage" >&2; exit 2 ;;
  esac
}

# Stages joined by `+` share the machine: nothing they use is fixed (free ports, their own temporary
# folders, PostgreSQL on its own port), so they are independent.
for group in "${stages[@]}"; do
  IFS=+ read -r -a members <<<"$group"
  if [ ${#members[@]} -eq 1 ]; then
    run_stage "$group"
    continue
  fi
  pids=()
  for stage in "${members[@]}"; do
    (set -euo pipefail; run_stage "$stage") >"$WORK/$stage.log" 2>&1 &
    pids+=($!)
  done
  failed=()
  for i in "${!members[@]}"; do
    wait "${pids[$i]}" || failed+=("${members[$i]}")
  done
  for stage in "${members[@]}"; do cat "$WORK/$stage.log"; done
  if [ ${#failed[@]} -gt 0 ]; then
    echo "==> failed: ${failed[*]}" >&2
    exit 1
  fi
done
echo "==> all checks passed"
