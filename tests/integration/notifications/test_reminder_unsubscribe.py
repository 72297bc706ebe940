"""Reminders through a real SMTP peer (aiosmtpd on 127.0.0.1): the headers a mail client sees, the
one-click unsubscribe POST to the URL taken from `List-Unsubscribe`, and the bounce webhook.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import Message
from urllib.parse import urlsplit

import pytest
from aiosmtpd.controller import Controller
from sqlmodel import SQLModel
from starlette.testclient import TestClient

from sayzhong import routes
from sayzhong.db import get_engine, session_scope
from sayzhong.http.app import create_http_app, security_headers
from sayzhong.models import load_all_models
from sayzhong.notifications import preferences as prefs
from sayzhong.notifications.reminders import run_reminders
from sayzhong.settings import Settings, reset_settings_cache
from tests.factories import AttemptFactory
from tests.integration.notifications.test_notifications_smtp import Inbox
from tests.integration.notifications.test_reminders_job import BEFORE_CHANGE, learner
from tests.support.ports import free_port

SECRET = "bounce-webhook-secret-for-tests"


@pytest.fixture
def smtp(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Inbox]:
    """The app configured with SMTP pointing at a local aiosmtpd, and the HTTP app's database ready."""
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("SMTP_PORT", str(port))
    monkeypatch.setenv("SMTP_STARTTLS", "false")
    monkeypatch.setenv("EMAIL_EVENTS_SECRET", SECRET)
    reset_settings_cache()
    load_all_models()
    SQLModel.metadata.create_all(get_engine())
    try:
        yield inbox
    finally:
        controller.stop()


@pytest.fixture
def client(smtp: Inbox) -> Iterator[TestClient]:
    # No cookies ever: a mail client's one-click POST carries none.
    with TestClient(security_headers(create_http_app()), cookies=None) as c:
        yield c


def _https_link(message: Message) -> str:
    header = str(message["List-Unsubscribe"])
    links = re.findall(r"<([^>]+)>", header)
    assert len(links) == 2 and links[1].startswith("mailto:"), header
    return links[0]


def test_one_post_to_the_header_url_unsubscribes_and_the_next_run_sends_nothing(
    smtp: Inbox, client: TestClient
) -> None:
    uid = learner(email="ana@example.com", categories=("daily", "weekly"))
    assert run_reminders(now=BEFORE_CHANGE)["daily"] == 1
    (_, rcpts, message) = smtp.messages[0]
    assert rcpts == ["ana@example.com"]
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = _https_link(message)
    path = urlsplit(url).path
    assert path.startswith("/email/unsubscribe/")

    # A link scanner's GET does not unsubscribe: it is sent to the page that asks first.
    scanned = client.get(path, follow_redirects=False)
    assert scanned.status_code == 303 and routes.EMAIL_PREFERENCES in scanned.headers["location"]
    with session_scope() as session:
        assert prefs.get_preferences(session=session, user_id=uid).daily

    response = client.post(
        path,
        content=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 200 and "You are unsubscribed" in response.text
    with session_scope() as session:
        after = prefs.get_preferences(session=session, user_id=uid)
    assert (after.daily, after.weekly) == (False, True)  # only the category of that message

    assert run_reminders(now=BEFORE_CHANGE + timedelta(days=1))["daily"] == 0
    assert len(smtp.messages) == 1


def test_a_tampered_unsubscribe_link_is_refused_in_plain_words(smtp: Inbox, client: TestClient) -> None:
    learner(email="bo@example.com")
    run_reminders(now=BEFORE_CHANGE)
    path = urlsplit(_https_link(smtp.messages[0][2])).path
    response = client.post(path[:-3] + "abc", content=b"List-Unsubscribe=One-Click")
    assert response.status_code == 400 and "not valid" in response.json()["error"]["message"]


def test_the_weekly_summary_has_the_numbers_and_an_inline_tone_chart(smtp: Inbox) -> None:
    uid = learner(email="week@example.com", timezone="Europe/London", categories=("weekly",))
    with session_scope() as session:
        make = AttemptFactory(session)
        for day in (23, 25, 27):  # Mon, Wed, Fri of the week before Monday 30 March 2026
            make(uid, now=datetime(2026, 3, day, 18, 0, tzinfo=UTC))
    monday = datetime(2026, 3, 30, 7, 0, tzinfo=UTC)  # 08:00 BST
    assert run_reminders(now=monday)["weekly"] == 1
    assert run_reminders(now=monday + timedelta(hours=3))["weekly"] == 0
    (_, _, message) = smtp.messages[0]
    assert message["Subject"] == "Your week in tones: 3 takes"
    assert message["List-Unsubscribe"] and message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    parts = {p.get_content_type(): p for p in message.walk() if not p.is_multipart()}
    text = parts["text/plain"].get_payload(decode=True).decode()
    assert "Scored takes: 3" in text and "Tone 3: 100 %" in text
    image = parts["image/png"]
    assert image["Content-ID"] == "<tone-chart@sayzhong>"
    assert image.get_payload(decode=True)[:8] == b"\x89PNG\r\n\x1a\n"
    assert 'src="cid:tone-chart@sayzhong"' in parts["text/html"].get_payload(decode=True).decode()


def test_the_bounce_webhook_suppresses_and_then_nothing_is_sent(smtp: Inbox, client: TestClient) -> None:
    learner(email="gone@example.com")
    event = {"events": [{"type": "bounce", "email": "gone@example.com", "bounce_type": "permanent"}]}
    assert client.post(routes.EMAIL_EVENTS, json=event).status_code == 403
    wrong = {"Authorization": "Bearer wrong"}
    assert client.post(routes.EMAIL_EVENTS, json=event, headers=wrong).status_code == 403
    right = {"Authorization": f"Bearer {SECRET}"}
    bad = client.post(routes.EMAIL_EVENTS, content=b"{not json", headers=right)
    assert bad.status_code == 400 and "JSON" in bad.json()["error"]["message"]
    ok = client.post(routes.EMAIL_EVENTS, json=event, headers={"Authorization": f"Bearer {SECRET}"})
    assert ok.status_code == 200 and ok.json()["suppressed"] == 1
    assert run_reminders(now=BEFORE_CHANGE)["daily"] == 0
    assert smtp.messages == []


def test_the_webhook_is_off_without_a_secret(settings: Settings) -> None:
    load_all_models()
    SQLModel.metadata.create_all(get_engine())
    with TestClient(create_http_app()) as c:
        response = c.post(routes.EMAIL_EVENTS, json={"events": []}, headers={"Authorization": "Bearer "})
    assert response.status_code == 404
