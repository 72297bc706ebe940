"""CSV download of one BI table (cookie-authenticated; the same role and 2FA checks as the pages)."""

from __future__ import annotations

import asyncio
from datetime import date

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sayzhong import routes
from sayzhong.db import session_scope
from sayzhong.errors import InternalError, ValidationError
from sayzhong.http.practice import _current_user, answers_errors


def _day(request: Request, name: str) -> date:
    try:
        return date.fromisoformat(request.query_params.get(name, "")[:10])
    except ValueError:
        raise ValidationError(f"'{name}' must be a date like 2026-11-30.", code="bi_bad_date") from None


def _optional_day(request: Request, name: str) -> date | None:
    """An optional filter date (cohort_from / cohort_to): absent or empty means no bound."""
    return _day(request, name) if request.query_params.get(name, "") else None


@answers_errors(InternalError("The download failed. Please try again.", code="bi_export_failed"))
async def bi_export(request: Request) -> Response:
    from sayzhong.bi import metrics, views

    q = request.query_params
    section, table, segment = q.get("section", "")[:40], q.get("table", "")[:40], q.get("segment", "all")[:80]
    start, end = _day(request, "from"), _day(request, "to")
    cohort = metrics.cohorts(_optional_day(request, "cohort_from"), _optional_day(request, "cohort_to"))

    def _csv() -> tuple[str, str]:
        user = _current_user(request)
        with session_scope() as session:
            return views.table_csv(
                session=session,
                actor=user,
                section=section,
                table=table,
                start=start,
                end=end,
                segment=segment,
                cohort=cohort,
            )

    filename, text = await asyncio.to_thread(_csv)
    return Response(
        text.encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={
            "Cache-Control": "private, no-store",
            "Content-Disposition": f'attachment; filename="{filename}"',
            "X-Content-Type-Options": "nosniff",
        },
    )


def bi_routes() -> list[Route]:
    return [Route(routes.BI_EXPORT, bi_export, methods=["GET"])]
