"""Product-news campaigns through a real SMTP peer (aiosmtpd on 127.0.0.1): only verified, opted-in,
non-suppressed learners; RFC 8058 headers; once per campaign and learner; staff-only; audited; the CLI."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlmodel import col, select
from starlette.testclient import TestClient

from sayzhong.accounts.models import User
from sayzhong.audit import AuditEvent
from sayzhong.cli import main
from sayzhong.db import session_scope
from sayzhong.errors import PermissionDeniedError, ValidationError
from sayzhong.notifications import news
from sayzhong.notifications import preferences as prefs
from sayzhong.notifications.models import ProductNewsDelivery
from tests.factories import UserFactory
from tests.integration.notifications.test_notifications_smtp import Inbox
from tests.integration.notifications.test_reminder_unsubscribe import _https_link, client, smtp
from tests.integration.notifications.test_reminders_job import learner

__all__ = ["client", "smtp"]  # fixtures, re-used

BODY = "New this month: 12 restaurant dialogues.\n\nAnd a <tone drill> for 3rd-tone pairs."


def _send(campaign: str = "2026-12-dialogues", **kwargs: object) -> news.NewsResult:
    return news.send_product_news(
        campaign=campaign, subject="New dialogues are here", body=BODY, actor=kwargs.pop("actor", None)
    )


def _recipients(inbox: Inbox) -> list[str]:
    return sorted(r for _, rcpts, _ in inbox.messages for r in rcpts)


def test_only_verified_opted_in_unsuppressed_learners_get_it_once(smtp: Inbox) -> None:
    learner(email="news@example.com", categories=("news",))
    learner(email="unverified@example.com", categories=("news",), verified=False)
    learner(email="reminders-only@example.com", categories=("daily", "weekly"))
    learner(email="bounced@example.com", categories=("news",))
    gone = learner(email="deactivated@example.com", categories=("news",))
    with session_scope() as session:
        prefs.suppress(session=session, email="bounced@example.com", reason="bounce", source="webhook")
        row = session.get(User, gone)
        assert row is not None
        row.deactivated_at = row.created_at
        session.add(row)

    first = _send()
    assert (first.audience, first.sent, first.already, first.failed) == (1, 1, 0, 0)
    assert _recipients(smtp) == ["news@example.com"]
    (_, _, message) = smtp.messages[0]
    assert message["Subject"] == "New dialogues are here"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "/email/unsubscribe/" in _https_link(message)
    parts = {p.get_content_type(): p for p in message.walk() if not p.is_multipart()}
    text = parts["text/plain"].get_payload(decode=True).decode()
    markup = parts["text/html"].get_payload(decode=True).decode()
    assert "12 restaurant dialogues" in text and "product news" in text.lower()
    assert "&lt;tone drill&gt;" in markup and "<tone drill>" not in markup  # staff text is escaped

    # A re-run of the campaign (a crash, a double click) sends nothing twice; a new opt-in gets it.
    again = _send()
    assert (again.sent, again.already) == (0, 1)
    learner(email="late@example.com", categories=("news", "daily"))
    late = _send()
    assert (late.sent, late.already) == (1, 1)
    assert _recipients(smtp) == ["late@example.com", "news@example.com"]
    # A new campaign is a new send.
    assert _send("2027-01-review").sent == 2
    with session_scope() as session:
        rows = session.exec(select(ProductNewsDelivery).order_by(col(ProductNewsDelivery.id))).all()
        audits = session.exec(select(AuditEvent).where(AuditEvent.action == "email.product_news_sent")).all()
    assert {(r.campaign, r.status) for r in rows} == {
        ("2026-12-dialogues", "sent"),
        ("2027-01-review", "sent"),
    }
    assert len(rows) == 4
    assert [a.detail["sent"] for a in audits] == [1, 0, 1, 2]
    assert audits[0].target == "campaign:2026-12-dialogues" and audits[0].actor_id is None


def test_one_click_unsubscribe_stops_the_next_campaign(smtp: Inbox, client: TestClient) -> None:
    uid = learner(email="ana@example.com", categories=("news", "daily"))
    assert _send().sent == 1
    path = urlsplit(_https_link(smtp.messages[0][2])).path
    response = client.post(
        path,
        content=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 200
    with session_scope() as session:
        after = prefs.get_preferences(session=session, user_id=uid)
    assert (after.news, after.daily) == (False, True)
    assert _send("2027-01-review").sent == 0
    assert len(smtp.messages) == 1


def test_only_marketing_or_admin_staff_may_send_and_bad_input_is_refused(smtp: Inbox) -> None:
    learner(email="reader@example.com", categories=("news",))
    with session_scope() as session:
        make = UserFactory(session, email_prefix="staff")
        someone = make()
        support = make(role="support")
        marketing = make(role="marketing")
        unenrolled = make(role="marketing", two_factor=False)
    for actor in (someone, support, unenrolled):
        with pytest.raises(PermissionDeniedError):
            _send(actor=actor)
    assert smtp.messages == []
    with pytest.raises(ValidationError, match="campaign key"):
        _send("Not A Key!")
    with pytest.raises(ValidationError, match="subject"):
        news.send_product_news(campaign="ok-key", subject="  ", body=BODY, actor=None)
    assert smtp.messages == []
    assert _send(actor=marketing).sent == 1
    with session_scope() as session:
        audit = session.exec(select(AuditEvent).where(AuditEvent.action == "email.product_news_sent")).one()
    assert audit.actor_id == marketing.id


def test_the_cli_sends_counts_and_refuses_in_plain_words(
    smtp: Inbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    learner(email="cli@example.com", categories=("news",))
    body = tmp_path / "news.txt"
    body.write_text(BODY, encoding="utf-8")
    args = ["email", "send-news", "--campaign", "2026-12-cli", "--subject", "Hello", "--body-file", str(body)]
    assert main([*args, "--dry-run"]) == 0
    assert '"audience": 1' in capsys.readouterr().out and smtp.messages == []
    assert main(args) == 0
    assert '"sent": 1' in capsys.readouterr().out
    assert main(args) == 0
    assert '"sent": 0' in capsys.readouterr().out and len(smtp.messages) == 1
    assert main([*args[:-1], str(tmp_path / "missing.txt")]) == 1
    assert "Could not read" in capsys.readouterr().out
    assert main(["email", "send-news", "--campaign", "x", "--subject", "Hi", "--body-file", str(body)]) == 1
    assert "campaign key" in capsys.readouterr().out
