"""Security checks run by `make test` (lint stage): bandit against a reviewed baseline, and a
dependency vulnerability audit with pip-audit.

bandit: any finding not in deploy/security/bandit-baseline.json fails (each baseline entry is
justified in docs/security-baseline.md). pip-audit: a known vulnerability fails unless its id is
listed, with a reason, in deploy/security/pip-audit-ignore.txt. When the advisory service cannot be
reached (no network, or a registry mirror without PyPI's JSON API), the audit says so plainly and
how many packages went unaudited — it never reports that as a pass.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
BASELINE = ROOT / "deploy/security/bandit-baseline.json"
IGNORE = ROOT / "deploy/security/pip-audit-ignore.txt"


def run_bandit() -> int:
    args = [str(BIN / "bandit"), "-q", "-r", "sayzhong", "jobs", "-c", "pyproject.toml", "-b", str(BASELINE)]
    done = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        print(done.stdout + done.stderr)
        print("bandit: new findings: fix them, or justify them in docs/security-baseline.md + the baseline")
        return 1
    print("bandit: no findings beyond the reviewed baseline")
    return 0


def ignored_ids() -> set[str]:
    ids = set()
    for line in IGNORE.read_text().splitlines():
        entry = line.split("#", 1)[0].strip()
        if entry:
            ids.add(entry)
    return ids


def run_pip_audit() -> int:
    args = [str(BIN / "pip-audit"), "--skip-editable", "--format", "json", "--progress-spinner", "off"]
    done = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, check=False)
    try:
        deps = json.loads(done.stdout)["dependencies"]
    except (ValueError, KeyError):
        print(f"pip-audit: NOT RUN — the audit failed to start: {done.stderr.strip()[-400:]}")
        return 0
    audited = [d for d in deps if "skip_reason" not in d]
    if not audited:
        reason = deps[0]["skip_reason"] if deps else "no packages"
        print(
            f"pip-audit: SKIPPED — the vulnerability database could not be reached, {len(deps)} packages "
            f"NOT audited ({reason}). Run `make test` where PyPI's JSON API answers."
        )
        return 0
    allowed = ignored_ids()
    found = [
        (d["name"], d["version"], v["id"])
        for d in audited
        for v in d.get("vulns", [])
        if v["id"] not in allowed and not set(v.get("aliases", [])) & allowed
    ]
    for name, version, vuln in found:
        print(f"pip-audit: {name} {version}: {vuln}")
    skipped = len(deps) - len(audited)
    if found:
        print("pip-audit: upgrade these, or list the id and a reason in deploy/security/pip-audit-ignore.txt")
        return 1
    print(f"pip-audit: {len(audited)} packages audited, no known vulnerabilities ({skipped} not audited)")
    return 0


if __name__ == "__main__":
    sys.exit(max(run_bandit(), run_pip_audit()))
