"""pytest plugin (loaded by `addopts` for tests/ and e2e/): a skipped test is a failed test.

Setup installs every tool and pins every package the suite uses, so a skip can only mean the
machine is not set up as the suite expects — which must be seen, not counted as passing. This
covers `pytest.skip`, `skipif` marks and `importorskip`, in tests and at collection time.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest

HINT = "skips are failures in this suite (run ./scripts/setup.sh to install what is missing)"


def _reason(longrepr: Any) -> str:
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2])
    return str(longrepr)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, None]:
    outcome = yield
    report = outcome.get_result()
    if report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"{HINT}: {_reason(report.longrepr)}"


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Generator[None, Any, None]:
    outcome = yield
    report = outcome.get_result()
    if report.outcome == "skipped":
        report.outcome = "failed"
        report.longrepr = f"{HINT}: {_reason(report.longrepr)}"
