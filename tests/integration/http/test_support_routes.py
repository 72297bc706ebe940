"""Support attachment downloads at HTTP level: the ticket's owner and support staff only."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlmodel import SQLModel, col, select
from starlette.testclient import TestClient

from sayzhong import routes
from sayzhong.accounts.models import User
from sayzhong.db import get_engine, session_scope
from sayzhong.http.app import create_http_app, security_headers
from sayzhong.models import load_all_models
from sayzhong.notifications.offline import OutboxMailer
from sayzhong.settings import Settings
from sayzhong.support import service as support
from tests.factories import signed_in_learner


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    load_all_models()
    SQLModel.metadata.create_all(get_engine())
    with TestClient(
        security_headers(create_http_app()), base_url=settings.app_url, raise_server_exceptions=False
    ) as c:
        yield c


def _user_id(email: str) -> int:
    with session_scope() as session:
        user = session.exec(select(User).where(col(User.email) == email)).one()
        return user.id or 0


def test_attachments_reach_their_owner_and_staff_and_nobody_else(
    client: TestClient, settings: Settings
) -> None:
    owner = signed_in_learner("owner@example.org")
    other = signed_in_learner("other@example.org")
    staff = signed_in_learner("agent@example.org")
    with session_scope() as session:
        row = session.get(User, _user_id("agent@example.org"))
        assert row is not None
        row.role = "support"
        session.add(row)
    with session_scope() as session:
        detail = support.create_ticket(
            session=session,
            user_id=_user_id("owner@example.org"),
            subject="Screenshot of the error",
            body="The page shows an error, see the attached text file please.",
            category="bug",
            attachment=support.UploadedFile("error.txt", b"<script>alert(1)</script>"),
            mailer=OutboxMailer(session, mail_from="support@example.org"),
        )
    url = routes.SUPPORT_ATTACHMENT.replace("{attachment_id:int}", str(detail.attachments[0].id))
    cookie = settings.session_cookie_name

    def get(token: str | None) -> object:
        client.cookies.clear()
        if token:
            client.cookies.set(cookie, token)
        return client.get(url)

    mine = get(owner)
    assert mine.status_code == 200 and mine.content == b"<script>alert(1)</script>"  # type: ignore[attr-defined]
    # Text is downloaded, never rendered as a page on our origin.
    assert mine.headers["content-disposition"].startswith("attachment;")  # type: ignore[attr-defined]
    assert mine.headers["content-type"].startswith("text/plain")  # type: ignore[attr-defined]
    assert get(staff).status_code == 200  # type: ignore[attr-defined]
    assert get(other).status_code == 404  # type: ignore[attr-defined]
    assert get(None).status_code == 401  # type: ignore[attr-defined]
    client.cookies.set(cookie, owner)
    assert client.get("/support/attachments/99999999999").status_code == 404
