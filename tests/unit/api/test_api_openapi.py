"""The OpenAPI document is generated from the typed views and the error classes, not written by hand."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest

from sayzhong.api import views
from sayzhong.api.app import OPERATIONS, all_error_codes, openapi_document
from sayzhong.api.openapi import error_codes
from sayzhong.practice.schemas import AttemptView, SyllableView, ToneStats


def _walk(node: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        found.append(node)
        for value in node.values():
            found += _walk(value)
    elif isinstance(node, list):
        for value in node:
            found += _walk(value)
    return found


def _validate(doc: dict[str, Any], ref: dict[str, Any], body: Any) -> None:
    jsonschema_rs.Draft202012Validator({**ref, "components": doc["components"]}).validate(body)


def _attempt() -> AttemptView:
    syllable = SyllableView(
        grapheme="你",
        pinyin="ni3",
        expected_tone=2,
        detected_tone=2,
        tone_score=91.0,
        confidence=0.9,
        verdict="correct",
        hint="Rising, like a question.",
        learner_contour=(3.0, 4.0),
        target_contour=(3.0, 5.0),
    )
    return AttemptView(
        id=7,
        item_id="greetings.hello",
        text="你好",
        mode="practice",
        engine="offline",
        created_at=datetime(2026, 11, 30, 9, 0, tzinfo=UTC),
        accuracy=90.0,
        fluency=88.0,
        completeness=100.0,
        pron=89.0,
        tone=None,
        speaker_profile_used=False,
        syllables=(syllable,),
        warnings=("clipped",),
    )


def test_every_object_in_the_document_is_closed_and_fully_required() -> None:
    doc = openapi_document()
    objects = [n for n in _walk(doc["components"]["schemas"]) if n.get("type") == "object"]
    assert objects
    for node in objects:
        assert node["additionalProperties"] is False
        assert set(node["required"]) == set(node["properties"])
    assert not any(n.get("additionalProperties") is True for n in _walk(doc))


def test_attempt_and_progress_schemas_are_the_practice_views_fields() -> None:
    schemas = openapi_document()["components"]["schemas"]
    for view in (AttemptView, SyllableView, ToneStats):
        assert list(schemas[view.__name__]["properties"]) == [f.name for f in dataclasses.fields(view)]


def test_a_body_built_from_a_view_is_exactly_what_the_document_describes() -> None:
    doc = openapi_document()
    ref = doc["paths"]["/api/v1/attempts/{attempt_id}"]["get"]["responses"]["200"]["content"]
    body = views.to_json(views.Attempt, _attempt())
    _validate(doc, ref["application/json"]["schema"], body)
    assert body["syllables"][0]["learner_contour"] == [3.0, 4.0] and body["tone"] is None
    with pytest.raises(jsonschema_rs.ValidationError, match="debug"):
        _validate(doc, ref["application/json"]["schema"], {**body, "debug": True})


def test_error_codes_per_status_come_from_each_operations_error_classes() -> None:
    doc = openapi_document()
    for op in OPERATIONS:
        path = "/api/v1" + op.path.replace(":int", "")
        responses = doc["paths"][path][op.method.lower()]["responses"]
        for status, codes in error_codes(op.all_errors).items():
            schema = responses[str(status)]["content"]["application/json"]["schema"]
            enum = schema["allOf"][1]["properties"]["error"]["properties"]["code"]["enum"]
            assert (
                enum
                == codes
                == [cls.code for cls in dict.fromkeys(op.all_errors) if cls.http_status == status]
            )
    get_attempt = doc["paths"]["/api/v1/attempts/{attempt_id}"]["get"]["responses"]
    assert get_attempt["404"]["content"]["application/json"]["schema"]["allOf"][1]["properties"]["error"][
        "properties"
    ]["code"]["enum"] == ["attempt_not_found", "not_found"]
    unauthorized = get_attempt["401"]["content"]["application/json"]["schema"]["allOf"][1]
    assert unauthorized["properties"]["error"]["properties"]["code"]["enum"] == [
        "token_missing",
        "token_invalid",
        "token_expired",
        "token_revoked",
    ]


def test_the_error_table_in_docs_api_lists_exactly_the_codes_the_api_answers_with() -> None:
    doc = (Path(__file__).resolve().parents[3] / "docs" / "api.md").read_text(encoding="utf-8")
    table = doc[doc.index("| status | codes |") :].split("\n\n", 1)[0]
    listed = {
        int(status): re.findall(r"`([a-z_]+)`", codes)
        for status, codes in re.findall(r"^\| (\d{3}) \| (.+) \|$", table, flags=re.MULTILINE)
    }
    assert listed == all_error_codes()
