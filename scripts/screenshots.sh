#!/usr/bin/env bash
# Refresh the screenshots in docs/screenshots/ (practice result on desktop and phone, landing page):
# builds and starts the app on a free loopback port with a fresh database, exactly like the e2e suite.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
.venv/bin/python -m pytest e2e/screenshots.py -q -p no:cacheprovider "$@"
ls -l docs/screenshots/*.png
