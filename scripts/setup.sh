#!/usr/bin/env bash
# Idempotent setup for a fresh Debian 12 machine: system packages, virtualenv, Python and Node
# tooling, database migrations. Re-running it only does what is missing (a few seconds).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"

APT_PACKAGES=(chromium ffmpeg espeak-ng sox libportaudio2 libsndfile1 postgresql redis-server
              ca-certificates curl fonts-noto-cjk
              prometheus prometheus-alertmanager)  # promtool + amtool: alert rule and routing tests
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "==> Installing system packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
# The Debian PostgreSQL/Redis packages may start system-wide services; we run our own on loopback.

PYTHON_BIN="${PYTHON:-python3.11}"
command -v "$PYTHON_BIN" >/dev/null || PYTHON_BIN=python3
if [ ! -x .venv/bin/python ]; then
  echo "==> Creating virtualenv (.venv)"
  "$PYTHON_BIN" -m venv .venv
fi
deps_hash="$(cat requirements.txt requirements-dev.txt pyproject.toml | sha256sum | cut -c1-16)"
if [ "$(cat .venv/.deps-hash 2>/dev/null || true)" != "$deps_hash" ]; then
  echo "==> Installing Python packages"
  .venv/bin/pip install -q --upgrade pip >/dev/null
  .venv/bin/pip install -q -r requirements-dev.txt
  .venv/bin/pip install -q --no-deps -e .
  echo "$deps_hash" > .venv/.deps-hash
fi

if [ ! -f e2e/node_modules/.package-lock.json ] || [ e2e/package-lock.json -nt e2e/node_modules/.package-lock.json ]; then
  echo "==> Installing browser test tooling (npm, e2e/)"
  (cd e2e && npm ci --no-fund --no-audit --loglevel=error)
fi

# Fail fast, in plain words, on settings that would be refused (e.g. ENV=prod with the default SECRET_KEY).
if ! problem="$(.venv/bin/python -c 'from sayzhong.settings import get_settings; get_settings()' 2>&1)"; then
  echo "Configuration error:" >&2
  echo "$problem" | grep -E "^  Value error|^  [A-Za-z_]+$|Input should" | sed 's/ \[type=.*//' >&2
  exit 2
fi

mkdir -p var
echo "==> Database migrations"
.venv/bin/alembic upgrade head >/dev/null

if [ "${SAYZHONG_SKIP_SEED:-0}" != 1 ]; then
  .venv/bin/python -m sayzhong seed
  echo "==> Reference audio (rendered once, cached in var/reference-audio)"
  .venv/bin/python -m sayzhong content render-audio | tail -1
fi
