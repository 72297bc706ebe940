"""Erasure: after it, no table and no file holds the user's id or e-mail, except the keyed
tombstone and the pseudonymised audit trail; the grace period, cancel link and resume work."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import SQLModel

from sayzhong.accounts.models import User
from sayzhong.audit import AuditEvent
from sayzhong.db import get_engine, session_scope, utcnow
from sayzhong.errors import NotFoundError, PermissionDeniedError
from sayzhong.notifications.service import latest_outbox_email_to
from sayzhong.privacy import erasure, participants
from sayzhong.privacy.models import EmailTombstone, ErasureRequest
from sayzhong.settings import Settings, get_settings
from tests.integration.privacy.conftest import Learner, populate

# Columns that hold a user id (as a number or text); every other column is searched for the e-mail.
_ID_COLUMNS = {"user_id", "actor_id", "link_user_id", "distinct_id", "author_id", "agent_id", "staff_id"}


def _hits(learner: Learner) -> list[str]:
    """Every row in every table that still names the learner (id in an id column, or the e-mail
    anywhere, or `user:<id>` as a target), plus every file under DATA_DIR that is theirs."""
    hits: list[str] = []
    email = learner.email.lower()
    with get_engine().connect() as conn:
        for name, table in SQLModel.metadata.tables.items():
            for row in conn.execute(select(table)).mappings():
                for column, value in row.items():
                    if value is None:
                        continue
                    text = json.dumps(value, default=str) if isinstance(value, dict | list) else str(value)
                    if column in _ID_COLUMNS and text == str(learner.id):
                        hits.append(f"{name}.{column}={text}")
                    elif column == "id" and name == "user_account" and value == learner.id:
                        hits.append(f"{name}.id")
                    elif (
                        email in text.lower()
                        or f"user:{learner.id}" == text
                        or f'"user:{learner.id}"' in text
                    ):
                        hits.append(f"{name}.{column}")
    database = get_settings().effective_database_url
    if database.startswith("sqlite:///"):
        db_file = Path(database.removeprefix("sqlite:///"))
        for path in (db_file, db_file.with_name(db_file.name + "-wal")):
            if path.is_file() and learner.email.encode() in path.read_bytes():
                hits.append(f"database file {path.name} still contains the e-mail")
    for path in learner.data_dir.rglob("*"):
        if not path.is_file():
            continue
        relative = path.relative_to(learner.data_dir).as_posix()
        if relative.startswith(
            (f"attempts/{learner.id}/", f"calibration/{learner.id}/", f"support/{learner.id}/")
        ):
            hits.append(f"file {relative}")
        elif path.suffix in (".zip",) or path.name.endswith((".db", ".db-wal", ".db-journal")):
            if learner.email.encode() in path.read_bytes():
                hits.append(f"file {relative} contains the e-mail")
    return hits


def test_every_kind_of_data_is_erased_from_every_table_and_file(app_db: Settings) -> None:
    mei = populate(app_db, "mei.erase@example.org")
    other = populate(app_db, "other.learner@example.org", name="Other")
    before = _hits(mei)
    # The fixture really created each kind of data (so the scan below can fail).
    for kind in (
        "user_account.id",
        "practice_attempt.user_id",
        "practice_syllable_result.user_id",
        "practice_review_card.user_id",
        "learner_profile.user_id",
        "user_session.user_id",
        "password_reset_token.user_id",
        "api_token.user_id",
        "oidc_identity.user_id",
        "oidc_login_state.link_user_id",
        "consent_record.user_id",
        "analytics_event.distinct_id",
        "legal_acceptance.user_id",
        "data_export.user_id",
        "dsr_request.requester_email",
        "outbox_email.to_address",
        "login_attempt.email_key",
        "audit_event.target",
        "email_preference.user_id",  # issue 14
        "email_delivery.user_id",
        "email_suppression.email",
    ):
        assert any(h.startswith(kind) for h in before), f"fixture lacks {kind}: {before}"
    assert any(h.startswith(f"file attempts/{mei.id}/") for h in before)
    assert any(h.startswith(f"file calibration/{mei.id}/") for h in before)
    if get_engine().dialect.name == "sqlite":
        # As SQLite's automatic checkpoints would: the rows are in the database file itself now.
        with get_engine().connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        assert any(h.startswith("database file") for h in _hits(mei))

    view = erasure.erase_now(session_factory=session_scope, user_id=mei.id, requested_by="cli")

    assert view.status == "done"
    assert set(view.steps) == {name for name, _ in participants.ERASURE_PARTICIPANTS}
    assert _hits(mei) == []
    with session_scope() as session:
        assert erasure.is_tombstoned(session=session, email="MEI.erase@example.org ")
        assert session.exec(select(EmailTombstone)).all()  # type: ignore[call-overload]
        trail = (
            session.execute(select(AuditEvent).where(AuditEvent.target == view_subject(session)))
            .scalars()
            .all()
        )
        assert trail, "the audit trail stays, under the pseudonym"
        assert all(row.actor_id is None for row in trail)
        # The other learner keeps everything.
        assert session.get(User, other.id) is not None
    assert len(_hits(other)) > 20


def view_subject(session: Any) -> str:
    row = session.execute(select(ErasureRequest).where(ErasureRequest.status == "done")).scalars().first()
    assert row is not None and row.user_id is None
    return str(row.subject)


def test_request_needs_reauthentication_locks_and_mails_a_cancel_link(app_db: Settings) -> None:
    mei = populate(app_db, "mei.grace@example.org")
    with session_scope() as session:
        assert not erasure.reauthenticate(
            session=session, user_id=mei.id, password="nope nope", session_token=None
        )
        with pytest.raises(PermissionDeniedError):
            erasure.request_erasure(session=session, user_id=mei.id, reauthenticated=False)
    with session_scope() as session:
        ok = erasure.reauthenticate(
            session=session, user_id=mei.id, password="learning tones daily", session_token=None
        )
        view = erasure.request_erasure(session=session, user_id=mei.id, reauthenticated=ok)
    assert view.status == "pending"
    assert timedelta(days=13, hours=23) < view.scheduled_for - view.requested_at <= timedelta(days=14)
    with session_scope() as session:
        from sayzhong.privacy.gate import page_gate

        assert page_gate(session=session, user_id=mei.id) == "/account/deletion"
        mail = latest_outbox_email_to(session=session, to=mei.email)
    assert mail is not None and "cancel-deletion?token=" in mail.text_body
    token = mail.text_body.split("token=", 1)[1].split()[0]
    # Not due yet: the job leaves it alone.
    assert erasure.run_due_erasures(session_factory=session_scope) == {"erased": 0}
    with session_scope() as session:
        erasure.cancel_erasure(session=session, token=token)
    with session_scope() as session:
        assert session.get(User, mei.id) is not None
        assert erasure.pending_erasure(session=session, user_id=mei.id) is None
        with pytest.raises(NotFoundError):
            erasure.cancel_erasure(session=session, token=token)


def test_due_erasure_runs_from_the_job_and_resumes_after_a_failing_step(
    app_db: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    mei = populate(app_db, "mei.resume@example.org")
    with session_scope() as session:
        view = erasure.request_erasure(
            session=session, user_id=mei.id, reauthenticated=True, grace=timedelta(0)
        )
    calls: list[str] = []

    def broken(*, session: Any, subject: Any) -> int:
        calls.append("broken")
        raise ConnectionError("processor unreachable")

    real = participants.load_participant
    monkeypatch.setattr(
        "sayzhong.privacy.erasure.load_participant",
        lambda path: broken if path.endswith(":erase_outbox") else real(path),
    )
    with pytest.raises(RuntimeError):
        erasure.run_due_erasures(session_factory=session_scope)
    with session_scope() as session:
        row = session.get(ErasureRequest, view.id)
        assert row is not None and row.status == "erasing"
        assert row.steps["practice"]["status"] == "done"
        assert row.steps["outbox"]["status"] == "failed"
        assert session.get(User, mei.id) is not None  # the account row goes last
    monkeypatch.setattr("sayzhong.privacy.erasure.load_participant", real)
    assert erasure.run_due_erasures(session_factory=session_scope) == {"erased": 1}
    assert calls == ["broken"]
    assert _hits(mei) == []


def test_inactive_accounts_are_warned_and_signing_in_keeps_them(app_db: Settings) -> None:
    mei = populate(app_db, "mei.inactive@example.org")
    long_ago = utcnow() - timedelta(days=720)
    with session_scope() as session:
        from sqlalchemy import update

        from sayzhong.accounts.models import UserSession
        from sayzhong.practice.models import Attempt

        session.execute(update(User).where(User.id == mei.id).values(created_at=long_ago))  # type: ignore[arg-type]
        session.execute(
            update(UserSession).where(UserSession.user_id == mei.id).values(last_seen_at=long_ago)
        )  # type: ignore[arg-type]
        session.execute(update(Attempt).where(Attempt.user_id == mei.id).values(created_at=long_ago))  # type: ignore[arg-type]
    with session_scope() as session:
        assert erasure.warn_inactive_accounts(session=session) == 1
    with session_scope() as session:
        assert erasure.warn_inactive_accounts(session=session) == 0  # warned once
        mail = latest_outbox_email_to(session=session, to=mei.email)
        assert mail is not None and "30 days" in mail.subject
        from sayzhong.privacy.gate import page_gate

        assert page_gate(session=session, user_id=mei.id) is None  # signing in cancels it
        assert erasure.pending_erasure(session=session, user_id=mei.id) is None
