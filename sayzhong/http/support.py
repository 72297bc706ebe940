"""Support attachment download (cookie-authenticated): the ticket's owner or a support agent."""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sayzhong import routes
from sayzhong.db import session_scope
from sayzhong.errors import InternalError, NotFoundError
from sayzhong.http.practice import _current_user, _read_file, answers_errors


@answers_errors(InternalError("We could not open that attachment. Please try again."))
async def support_attachment(request: Request) -> Response:
    from sayzhong.support import service as support

    attachment_id = int(request.path_params["attachment_id"])
    gone = NotFoundError("That attachment is no longer available.", code="attachment_not_found")

    def _file() -> tuple[bytes, str, str]:
        user = _current_user(request)
        with session_scope() as session:
            path, content_type, filename = support.attachment_for(
                session=session, attachment_id=attachment_id, user_id=user.id, actor=user
            )
        return _read_file(path, gone), content_type, filename

    data, content_type, filename = await asyncio.to_thread(_file)
    # Text and PDFs are downloaded, never rendered inline on our origin; the name was cleaned on upload.
    disposition = "inline" if content_type.startswith(("image/", "audio/")) else "attachment"
    return Response(
        data,
        media_type=content_type,
        headers={
            "Cache-Control": "private, no-store",
            "Content-Disposition": f'{disposition}; filename="{filename}"',
            "X-Content-Type-Options": "nosniff",
        },
    )


def support_routes() -> list[Route]:
    return [Route(routes.SUPPORT_ATTACHMENT, support_attachment, methods=["GET"])]
