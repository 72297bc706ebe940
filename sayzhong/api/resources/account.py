"""`GET /me`: the learner the token belongs to, and the token itself."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from sayzhong.api import tokens, views
from sayzhong.api.operations import Operation, view_response


async def get_me(_request: Request, auth: tokens.TokenAuth) -> Response:
    return view_response(views.Me, views.Me.of(auth.user, auth.token))


OPERATIONS = (
    Operation(
        "GET",
        "/me",
        "getMe",
        "The signed-in learner and the token in use (any scope).",
        get_me,
        scope=None,
        body=views.Me,
        plus_only=False,  # `login` and `status` work on Free, to say what the plan allows
    ),
)
