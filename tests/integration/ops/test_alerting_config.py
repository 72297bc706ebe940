"""Alert rules and Alertmanager routing, checked by the real tools (promtool, amtool from Debian).

Each alert has a unit test that makes it fire, names a severity and a service, and links a runbook
that exists; each metric an alert reads is one the app exports; routing sends pages and tickets
where the config says.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from sayzhong.settings import REPO_ROOT

RULES = REPO_ROOT / "deploy/prometheus/rules/sayzhong.rules.yml"
RULE_TESTS = sorted((REPO_ROOT / "deploy/prometheus/tests").glob("*.yml"))
ALERTMANAGER = REPO_ROOT / "deploy/alertmanager/alertmanager.yml"


def _tool(name: str) -> str:
    path = shutil.which(name)
    assert path, (
        f"{name} is missing: scripts/setup.sh installs it (Debian: prometheus, prometheus-alertmanager)"
    )
    return path


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), capture_output=True, text=True, check=False, cwd=REPO_ROOT)


def _alerts() -> list[dict[str, object]]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"] if "alert" in rule]


def test_rules_are_valid_and_their_unit_tests_pass() -> None:
    checked = _run(_tool("promtool"), "check", "rules", str(RULES))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = _run(_tool("promtool"), "test", "rules", *map(str, RULE_TESTS))
    assert tested.returncode == 0, tested.stdout + tested.stderr


def test_the_rule_tests_fail_when_a_threshold_is_wrong(tmp_path: Path) -> None:
    # A page threshold of 40x instead of 14.4x must be caught by the unit tests.
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / RULES.name).write_text(RULES.read_text().replace("14.4 * 0.001", "40 * 0.001"))
    (tmp_path / "tests").mkdir()
    # Only the rule-test files that check this alert (the others take promtool ~17 s to replay).
    tests = [t for t in RULE_TESTS if "SayZhongAvailabilityBurnRatePage" in t.read_text()]
    assert tests, "no rule test checks SayZhongAvailabilityBurnRatePage"
    for test in tests:
        shutil.copy(test, tmp_path / "tests" / test.name)
    tested = _run(_tool("promtool"), "test", "rules", *(str(tmp_path / "tests" / t.name) for t in tests))
    assert tested.returncode != 0
    assert "SayZhongAvailabilityBurnRatePage" in tested.stdout + tested.stderr


def test_every_alert_fires_in_a_unit_test() -> None:
    fired: set[str] = set()
    for test_file in RULE_TESTS:
        for case in yaml.safe_load(test_file.read_text())["tests"]:
            for check in case.get("alert_rule_test", []):
                if check.get("exp_alerts"):
                    fired.add(check["alertname"])
    names = {str(alert["alert"]) for alert in _alerts()}
    assert names - fired == set()


def test_every_alert_has_severity_service_and_an_existing_runbook() -> None:
    for alert in _alerts():
        labels = alert["labels"]
        annotations = alert["annotations"]
        assert isinstance(labels, dict) and isinstance(annotations, dict)
        assert labels["severity"] in {"page", "ticket"}, alert["alert"]
        assert labels["service"], alert["alert"]
        runbook = REPO_ROOT / str(annotations["runbook_url"])
        assert runbook.is_file(), f"{alert['alert']}: {runbook} missing"
        assert str(alert["alert"]) in runbook.read_text(), f"{runbook.name} does not mention {alert['alert']}"


def exported_metrics() -> set[str]:
    """Metric names the app exports: the families in sayzhong/ops (namespaced) and the scrape-time ones."""
    source = "\n".join(p.read_text() for p in (REPO_ROOT / "sayzhong/ops").glob("*.py"))
    exported = set(re.findall(r'"(sayzhong_[a-z0-9_]+)"', source))
    exported |= {"sayzhong_" + name for name in re.findall(r'^\s+"([a-z0-9_]+)",\n\s+"[A-Z]', source, re.M)}
    return exported


def metrics_named(promql: str) -> set[str]:
    return set(re.findall(r"\b(sayzhong_[a-z0-9_]+?)(?:_bucket|_count|_sum)?\b(?=[{\[)\s]|$)", promql))


def test_every_metric_an_alert_reads_is_exported() -> None:
    exported = exported_metrics()
    assert {"sayzhong_http_requests_total", "sayzhong_scoring_duration_seconds", "sayzhong_users"} <= exported
    for metric in sorted(metrics_named(RULES.read_text())):
        assert metric in exported, f"alert rules read {metric}, which nothing exports"


DASHBOARDS = sorted((REPO_ROOT / "deploy/grafana/dashboards").glob("*.json"))


def test_every_dashboard_panel_queries_existing_metrics_with_valid_promql(tmp_path: Path) -> None:
    exported = exported_metrics()
    recorded = {
        str(r["record"])
        for g in yaml.safe_load(RULES.read_text())["groups"]
        for r in g["rules"]
        if "record" in r
    }
    exprs = []
    assert {p.stem for p in DASHBOARDS} == {"service-red", "scoring", "jobs", "business"}
    for board in DASHBOARDS:
        for panel in json.loads(board.read_text())["panels"]:
            for target in panel["targets"]:
                expr = str(target["expr"])
                named = metrics_named(expr) | (set(re.findall(r"\bsayzhong:[a-z0-9_:]+", expr)))
                assert named, f"{board.name} / {panel['title']}: the query names no SayZhong metric"
                for metric in named:
                    assert metric in exported | recorded, (
                        f"{board.name} / {panel['title']}: {metric} does not exist"
                    )
                exprs.append(expr)
    # promtool parses each query (as a recording rule), so a typo in PromQL fails here.
    rules = {
        "groups": [
            {
                "name": "dashboards",
                "rules": [{"record": f"dashboard:q{i}", "expr": e} for i, e in enumerate(exprs)],
            }
        ]
    }
    (tmp_path / "dashboards.yml").write_text(yaml.safe_dump(rules))
    checked = _run(_tool("promtool"), "check", "rules", str(tmp_path / "dashboards.yml"))
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_alertmanager_config_is_valid() -> None:
    checked = _run(_tool("amtool"), "check-config", str(ALERTMANAGER))
    assert checked.returncode == 0, checked.stdout + checked.stderr


@pytest.mark.parametrize(
    ("labels", "receivers"),
    [
        (["severity=page", "service=web"], "oncall-primary,oncall-secondary"),
        (["severity=page", "service=security"], "oncall-primary,oncall-secondary"),
        (["severity=ticket", "service=security"], "security-team"),
        (["severity=ticket", "service=billing"], "business-owners"),
        (["severity=ticket", "service=jobs"], "ticket-queue"),
        (["service=web"], "ticket-queue"),
    ],
)
def test_alerts_route_to_the_right_receivers(labels: list[str], receivers: str) -> None:
    routed = _run(_tool("amtool"), "config", "routes", "test", f"--config.file={ALERTMANAGER}", *labels)
    assert routed.returncode == 0, routed.stderr
    assert routed.stdout.strip() == receivers
