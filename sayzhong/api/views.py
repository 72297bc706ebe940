"""The typed views of every JSON body the API sends — the one source of both the bodies and the schema.

Routes build their answers with `to_json(View, value)`; the OpenAPI document describes the same
types with `schemas_for(...)` (pydantic's JSON Schema of each type). Attempt, progress and review
bodies are the practice service's own frozen views, so a field added there appears in the body and
in the document together. Every object in the document is closed (`additionalProperties: false`)
and lists every field as required: serialising a view always writes every field.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from functools import cache
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from sayzhong.accounts.schemas import UserInfo
from sayzhong.api.tokens import TokenInfo
from sayzhong.curriculum import models as curriculum
from sayzhong.practice.schemas import AttemptView, ReviewItemView, ToneStats

REF_TEMPLATE = "#/components/schemas/{model}"


class _View(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)


class ErrorDetail(_View):
    code: str = Field(description="Stable, machine-readable code.")
    message: str = Field(description="Plain-language message for the learner.")


class ErrorBody(_View):
    """Every error answer: `{"error": {"code", "message"}}`."""

    error: ErrorDetail


class TokenSummary(_View):
    name: str
    prefix: str
    """First characters of the token, enough to tell tokens apart."""
    scopes: list[str]
    expires_at: datetime


class Me(_View):
    """The signed-in learner and the token in use."""

    id: int
    email: str
    display_name: str
    role: str
    timezone: str
    daily_goal_minutes: int
    token: TokenSummary

    @classmethod
    def of(cls, user: UserInfo, token: TokenInfo) -> Me:
        return cls(
            id=user.id,
            email=user.email,
            display_name=user.display_name,
            role=user.role,
            timezone=user.timezone,
            daily_goal_minutes=user.daily_goal_minutes,
            token=TokenSummary(
                name=token.name, prefix=token.prefix, scopes=list(token.scopes), expires_at=token.expires_at
            ),
        )


class UnitSummary(_View):
    id: str
    order: int
    title: str
    description: str
    phrase_count: int

    @classmethod
    def of(cls, unit: curriculum.Unit) -> UnitSummary:
        return cls(
            id=unit.id,
            order=unit.order,
            title=unit.title,
            description=unit.description,
            phrase_count=len(unit.phrases),
        )


class UnitList(_View):
    units: list[UnitSummary]


class Phrase(_View):
    id: str
    """Item id for reference audio and attempts."""
    hanzi: str
    pinyin: str
    """Numbered pinyin, 5 = neutral tone."""
    english: str
    note: str


class Unit(UnitSummary):
    """One lesson with its phrases."""

    phrases: list[Phrase]

    @classmethod
    def of(cls, unit: curriculum.Unit) -> Unit:
        return cls(
            **UnitSummary.of(unit).model_dump(),
            phrases=[
                Phrase(id=p.id, hanzi=p.hanzi, pinyin=p.pinyin, english=p.english, note=p.note)
                for p in unit.phrases
            ],
        )


class Reviews(_View):
    """Due items (most overdue first), then items whose tone was missed in the last week."""

    items: list[ReviewItemView]


Attempt = AttemptView
"""A scored attempt: the practice service's `AttemptView` (scores, and a verdict per syllable)."""
Progress = ToneStats
"""Per-tone and per-tone-pair statistics: the practice service's `ToneStats`."""


@cache
def _adapter(view: Any) -> TypeAdapter[Any]:
    return TypeAdapter(view)


def to_json(view: Any, value: Any) -> Any:
    """`value` (an instance of `view`) as JSON data, exactly as the schema of `view` describes it."""
    return _adapter(view).dump_python(value, mode="json")


def _close(node: Any) -> None:
    """Every object: no unknown keys, every property present (views always serialise every field)."""
    if isinstance(node, dict):
        if node.get("type") == "object" and "properties" in node:
            node["additionalProperties"] = False
            node["required"] = list(node["properties"])
        for key in ("title", "default"):  # labels, not contract (a *property* named so is a dict)
            if key in node and not isinstance(node[key], dict):
                del node[key]
        for value in node.values():
            _close(value)
    elif isinstance(node, list):
        for value in node:
            _close(value)


def schemas_for(views: Iterable[Any]) -> tuple[dict[Any, dict[str, Any]], dict[str, Any]]:
    """(a `$ref` per view, the component schemas they refer to) for an OpenAPI document."""
    views = list(dict.fromkeys(views))
    refs, defs = TypeAdapter.json_schemas(
        [(view, "serialization", _adapter(view)) for view in views], ref_template=REF_TEMPLATE
    )
    components: dict[str, Any] = defs.get("$defs", {})
    _close(components)
    return {view: refs[(view, "serialization")] for view in views}, components
