"""The learner's progress: per-tone statistics and the review queue."""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import Response

from sayzhong.api import tokens, views
from sayzhong.api.operations import Operation, view_response
from sayzhong.db import session_scope
from sayzhong.practice.review import review_queue
from sayzhong.practice.schemas import ReviewItemView, ToneStats
from sayzhong.practice.stats import tone_stats


async def get_progress(_request: Request, auth: tokens.TokenAuth) -> Response:
    def _get() -> ToneStats:
        with session_scope() as session:
            return tone_stats(session=session, user_id=auth.user.id)

    return view_response(views.Progress, await asyncio.to_thread(_get))


async def get_reviews(_request: Request, auth: tokens.TokenAuth) -> Response:
    def _get() -> list[ReviewItemView]:
        with session_scope() as session:
            return list(review_queue(session=session, user_id=auth.user.id))

    return view_response(views.Reviews, views.Reviews(items=await asyncio.to_thread(_get)))


OPERATIONS = (
    Operation(
        "GET",
        "/progress",
        "getProgress",
        "Per-tone and per-tone-pair statistics (scope `practice:read`).",
        get_progress,
        scope=tokens.SCOPE_READ,
        body=views.Progress,
    ),
    Operation(
        "GET",
        "/reviews",
        "getReviews",
        "The review queue (scope `practice:read`).",
        get_reviews,
        scope=tokens.SCOPE_READ,
        body=views.Reviews,
    ),
)
