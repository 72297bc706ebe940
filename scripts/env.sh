# Sourced by the other scripts: the offline Reflex recipe and the virtualenv on PATH.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export ROOT
export PATH="$ROOT/.venv/bin:$PATH"
export REFLEX_USE_NPM="${REFLEX_USE_NPM:-1}"
export REFLEX_TELEMETRY_ENABLED=false
export REFLEX_CHECK_LATEST_VERSION=false
export NPM_CONFIG_REGISTRY="${NPM_CONFIG_REGISTRY:-https://registry.npmjs.org/}"
export NPM_CONFIG_FUND=false
export NPM_CONFIG_AUDIT=false
export PYTHONDONTWRITEBYTECODE=1
