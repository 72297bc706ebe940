"""Export: the archive holds every kind of the user's data and nothing of anyone else; the mapping
covers every table that holds user rows (derived from the models); link, limits and download."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from sqlmodel import SQLModel
from starlette.testclient import TestClient

from sayzhong.accounts import users
from sayzhong.db import session_scope
from sayzhong.errors import PermissionDeniedError, RateLimitedError
from sayzhong.models import load_all_models
from sayzhong.notifications.service import latest_outbox_email_to
from sayzhong.privacy import export
from sayzhong.privacy.models import DataExport
from sayzhong.settings import Settings
from tests.integration.privacy.conftest import populate

# Tables that hold no user's rows at all (checked: they have no user column).
_NO_USER_ROWS = {"job_run", "email_tombstone"}
_USER_COLUMNS = {"user_id", "link_user_id", "actor_id", "distinct_id", "to_address", "email_key", "email"}


def test_every_table_with_user_rows_has_an_export_mapping() -> None:
    load_all_models()
    holding = {
        name
        for name, table in SQLModel.metadata.tables.items()
        if name == "user_account"
        or any(
            c.name in _USER_COLUMNS or any(fk.column.table.name == "user_account" for fk in c.foreign_keys)
            for c in table.columns
        )
    }
    # A table whose rows belong to a user through a parent row (a ticket's messages) holds user rows.
    holding |= {name for name, spec in export.EXPORT_TABLES.items() if spec.through}
    assert holding - set(export.EXPORT_TABLES) == set(), "add these tables to privacy.export.EXPORT_TABLES"
    assert set(export.EXPORT_TABLES) - holding == set(), "EXPORT_TABLES names tables without user rows"
    assert _NO_USER_ROWS.isdisjoint(holding)
    for name, spec in export.EXPORT_TABLES.items():
        assert spec.column in SQLModel.metadata.tables[name].columns, f"{name}.{spec.column}"


def test_archive_holds_every_kind_of_data_and_nothing_of_another_user(app_db: Settings) -> None:
    mei = populate(app_db, "mei.export@example.org")
    other = populate(app_db, "other.export@example.org", name="Other Person")
    with session_scope() as session:
        data = export.build_export_zip(session=session, user_id=mei.id)
    archive = zipfile.ZipFile(io.BytesIO(data))
    names = set(archive.namelist())
    for spec in export.EXPORT_TABLES.values():
        assert spec.file in names
    contents = {name: json.loads(archive.read(name)) for name in names if name.endswith(".json")}
    for file in (
        "account.json",
        "practice_attempts.json",
        "syllable_results.json",
        "review_cards.json",
        "learner_profile.json",
        "sessions.json",
        "api_tokens.json",
        "cookie_consent.json",
        "legal_acceptances.json",
        "analytics_events.json",
        "emails.json",
        "security_log.json",
        "linked_sign_in_providers.json",
        "sign_in_attempts.json",
        "data_exports.json",
        "privacy_requests.json",
        "support_tickets.json",
        "support_attachments.json",
        "support_chats.json",
        "support_chat_messages.json",
        "scoring_feedback.json",
        "recommendation_survey.json",
        "help_feedback.json",
        "help_searches.json",
        "help_visits.json",
        "email_preferences.json",  # issue 14
        "email_deliveries.json",
        "email_suppression.json",
    ):
        assert contents[file], f"{file} is empty"
    # A ticket's attachments are in the archive itself, listed without the server's storage path.
    attachments = contents["support_attachments.json"]
    assert all("path" not in a for a in attachments)
    files = {a["filename"]: a["file"] for a in attachments}
    assert len(files) == 2 and all(f.startswith("support_attachments/") for f in files.values())
    receipt = next(a for a in attachments if a["filename"] == "receipt.txt")
    assert receipt["file"] == f"support_attachments/{receipt['id']}-receipt.txt"
    assert archive.read(receipt["file"]) == b"receipt 42"
    take = next(a for a in attachments if a["kind"] == "take")
    assert archive.read(take["file"]).startswith(b"\x1a\x45\xdf\xa3")  # the take's WebM
    recordings = sorted(n for n in names if n.startswith("recordings/"))
    assert len(recordings) == 3
    assert all(archive.read(n).startswith(b"\x1a\x45\xdf\xa3") for n in recordings)
    assert {a["recording"] for a in contents["practice_attempts.json"]} == set(recordings)
    assert "calibration/0.take" in names
    readme = archive.read("README.md").decode()
    assert "practice_attempts.json" in readme and "`pron_score`" in readme
    # Each field is explained from docs/data-inventory.md: purpose, legal basis and retention.
    assert "sign-in identifier" in readme and "Legal basis: contract" in readme
    everything = b"".join(archive.read(n) for n in names)
    assert other.email.encode() not in everything and b"Other Person" not in everything
    assert b"password_hash" not in everything and b"token_hash" not in everything
    assert contents["account.json"][0]["email"] == mei.email


def test_request_rules_job_mail_and_download(app_db: Settings) -> None:
    from sayzhong.http.app import create_http_app

    with session_scope() as session:
        user = users.sign_up(
            session=session, email="new@example.org", password="learning tones daily", display_name="N"
        )
        with pytest.raises(PermissionDeniedError):
            export.request_export(session=session, user_id=user.id)  # unverified address
    mei = populate(app_db, "mei.link@example.org")  # verified; its first export is built and mailed
    with session_scope() as session, pytest.raises(RateLimitedError):
        export.request_export(session=session, user_id=mei.id)  # one per 24 h
    with session_scope() as session:
        mail = latest_outbox_email_to(session=session, to=mei.email)
    assert mail is not None and export.DOWNLOAD_PATH in mail.text_body
    link = next(w for w in mail.text_body.split() if export.DOWNLOAD_PATH in w)
    client = TestClient(create_http_app())
    path = link.split("://", 1)[1].split("/", 1)[1]
    response = client.get("/" + path)
    assert response.status_code == 200
    assert zipfile.ZipFile(io.BytesIO(response.content)).read("account.json")
    assert client.get(export.DOWNLOAD_PATH + "?token=forged").status_code == 404
    with session_scope() as session:
        assert export.purge_finished_exports(session=session, older_than=export.EXPORT_LINK_TTL * 0) == 1
        row = session.get(DataExport, 1)
        assert row is not None and row.status == "expired"
    assert client.get("/" + path).status_code == 404
