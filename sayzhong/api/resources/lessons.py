"""Lessons: the unit list, one unit with its phrases, and the reference voice for any item."""

from __future__ import annotations

import asyncio
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response

from sayzhong.api import tokens, views
from sayzhong.api.errors import UnknownPathError
from sayzhong.api.operations import Operation, view_response
from sayzhong.billing.entitlements import PlanRequiredError, require_unit_access
from sayzhong.curriculum import service as curriculum
from sayzhong.curriculum.ports import ReferenceAudioError
from sayzhong.curriculum.reference_audio import reference_audio_path


async def list_units(_request: Request, _auth: tokens.TokenAuth) -> Response:
    units = await asyncio.to_thread(curriculum.list_units)
    return view_response(views.UnitList, views.UnitList(units=[views.UnitSummary.of(u) for u in units]))


async def get_unit(request: Request, auth: tokens.TokenAuth) -> Response:
    unit = await asyncio.to_thread(curriculum.get_unit, str(request.path_params["unit_id"]))
    await asyncio.to_thread(require_unit_access, auth.user.id, unit.id)  # Plus-only units (billing)
    return view_response(views.Unit, views.Unit.of(unit))


async def get_reference_audio(request: Request, _auth: tokens.TokenAuth) -> Response:
    def _path() -> Path:
        item = curriculum.get_item(str(request.path_params["item_id"]))
        return reference_audio_path(item.hanzi)

    path = await asyncio.to_thread(_path)
    return FileResponse(path, media_type="audio/wav", headers={"Cache-Control": "private, max-age=86400"})


_UNIT_ID = {
    "name": "unit_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "minLength": 1},
    "description": "Unit id from `GET /units`.",
}
_ITEM_ID = {
    "name": "item_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "minLength": 1},
    "description": "A phrase id, a drill id, or `<dialogue id>.<line id>`.",
}

OPERATIONS = (
    Operation(
        "GET",
        "/units",
        "listUnits",
        "Lessons in teaching order (scope `practice:read`).",
        list_units,
        scope=tokens.SCOPE_READ,
        body=views.UnitList,
    ),
    Operation(
        "GET",
        "/units/{unit_id}",
        "getUnit",
        "One lesson with its phrases (scope `practice:read`).",
        get_unit,
        scope=tokens.SCOPE_READ,
        body=views.Unit,
        errors=(curriculum.UnitNotFoundError, PlanRequiredError, UnknownPathError),
        openapi={"parameters": [_UNIT_ID]},
    ),
    Operation(
        "GET",
        "/items/{item_id}/reference-audio",
        "getReferenceAudio",
        "The reference voice saying the item, 16 kHz mono WAV (scope `practice:read`).",
        get_reference_audio,
        scope=tokens.SCOPE_READ,
        errors=(curriculum.ItemNotFoundError, UnknownPathError, ReferenceAudioError),
        openapi={
            "parameters": [_ITEM_ID],
            "responses": {
                "200": {
                    "description": "WAV audio.",
                    "content": {"audio/wav": {"schema": {"type": "string", "format": "binary"}}},
                }
            },
        },
    ),
)
