"""Property-based contract run: schemathesis drives every operation of the OpenAPI document
against the real API on 127.0.0.1; no response may be a 5xx or disagree with the document."""

from __future__ import annotations

from typing import Any

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck
from liveserver import LiveApi
from schemathesis import GenerationMode
from schemathesis.checks import positive_data_acceptance

pytestmark = pytest.mark.slow

EXAMPLES_PER_OPERATION = 25


def _run(live_api: LiveApi, operation: Any, mode: GenerationMode, calls: dict[str, int]) -> None:
    key = f"{operation.method.upper()} {operation.path}"
    # A schema cannot say "bytes that decode as speech": random audio is rightly refused (415/422),
    # so "schema-valid data is accepted" cannot hold for uploads. Every other check still applies.
    excluded = [positive_data_acceptance] if operation.method.upper() == "POST" else []

    @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
    @hypothesis.settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    def check(case: schemathesis.Case) -> None:
        calls[key] = calls.get(key, 0) + 1
        case.call_and_validate(base_url=live_api.url, headers=live_api.auth, excluded_checks=excluded)

    check()


def test_every_operation_conforms_to_the_openapi_document(live_api: LiveApi) -> None:
    schema = schemathesis.openapi.from_url(f"{live_api.url}/api/v1/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {f"{op.method.upper()} {op.path}" for op in operations} >= {
        "GET /api/v1/me",
        "GET /api/v1/units",
        "GET /api/v1/units/{unit_id}",
        "GET /api/v1/items/{item_id}/reference-audio",
        "POST /api/v1/attempts",
        "GET /api/v1/attempts/{attempt_id}",
        "GET /api/v1/progress",
        "GET /api/v1/reviews",
    }
    failures: list[str] = []
    calls: dict[str, int] = {}
    for operation in operations:
        for mode in GenerationMode:
            try:
                _run(live_api, operation, mode, calls)
            except Exception as exc:  # collect every operation's failure, then report them together
                failures.append(f"{operation.method.upper()} {operation.path} ({mode.value}): {exc}")
    assert not failures, "\n\n".join(failures)
    assert all(calls.get(f"{op.method.upper()} {op.path}", 0) >= 5 for op in operations), calls
