"""docs/data-inventory.md lists every personal-data column of every table.

A column is either inventoried or declared non-personal below; a new table or column that is neither
fails the test, so personal data cannot be added without saying why it is kept and how it is erased.
"""

from __future__ import annotations

import re
from pathlib import Path

from sqlmodel import SQLModel

from sayzhong.models import load_all_models

INVENTORY = Path(__file__).resolve().parents[2] / "docs" / "data-inventory.md"

# Columns that say nothing about a person. Everything else in these tables must be inventoried.
NOT_PERSONAL: dict[str, set[str]] = {
    # support centre (issue 13): article text and routing settings say nothing about a person
    "help_article": {
        "id",
        "slug",
        "category",
        "title",
        "summary",
        "pages",
        "keywords",
        "body",
        "search_text",
        "revision",
        "source",
        "updated_at",
    },
    "help_article_revision": {"id", "article_id", "revision", "title", "body", "note", "created_at"},
    "help_feedback": {"id", "article_slug", "helpful", "created_at"},
    "help_session": {"id"},
    "help_search": {"id", "results"},
    "support_ticket": {"id"},
    "support_message": {"id"},
    "support_attachment": {"id"},
    "support_agent": set(),
    "support_macro": {"id", "title", "body", "created_at"},
    "support_routing_correction": {"id"},
    "support_chat": {"id"},
    "support_chat_message": {"id"},
    "support_verdict_feedback": {"id"},
    "support_nps_response": {"id"},
    "user_account": {"id"},
    "user_session": {"id", "auth_method"},
    "login_attempt": {"id", "succeeded", "created_at"},
    "password_reset_token": {"id", "created_at", "expires_at", "used_at"},
    "oidc_identity": {"id", "created_at"},
    "oidc_login_state": {
        "id",
        "state_hash",
        "nonce",
        "code_verifier",
        "redirect_uri",
        "purpose",
        "created_at",
        "expires_at",
    },
    "audit_event": {"id", "created_at", "action"},
    "outbox_email": {"id", "created_at", "sent_via"},
    "analytics_event": {"id"},
    "azure_speech_usage": {"day", "seconds"},
    "api_token": {"id"},
    "learner_profile": {"id"},
    "practice_attempt": {"id"},
    "practice_review_card": {"id"},
    "practice_syllable_result": {"id"},
    "email_verification_token": {"id", "created_at", "expires_at", "used_at"},
    "two_factor_credential": {"id"},
    "two_factor_recovery_code": {"id"},
    "two_factor_challenge": {"id", "auth_method", "failures", "created_at", "expires_at", "used_at"},
    "legal_acceptance": {"id"},
    "consent_record": {"id"},
    "data_export": {"id"},
    "erasure_request": {"id"},
    "email_tombstone": {"id"},
    "dsr_request": {"id"},
    "job_run": {"id", "job", "status", "started_at", "finished_at"},
    "email_preference": {"id"},  # issue 14
    "email_delivery": {"id"},
    "email_suppression": {"id"},
}


def _documented() -> set[tuple[str, str]]:
    pairs: set[tuple[str, str]] = set()
    for line in INVENTORY.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 7 or cells[0] in {"table", ""} or set(cells[0]) <= {"-"}:
            continue
        # purpose, legal basis, retention, export, erasure: all five must be said (issue 11)
        assert all(cells[2:]), f"data-inventory row without purpose/basis/retention/export/erasure: {line}"
        for column in re.split(r",\s*", cells[1]):
            pairs.add((cells[0], column))
    return pairs


def test_every_personal_column_is_in_the_inventory() -> None:
    load_all_models()
    documented = _documented()
    missing = []
    for table_name, table in SQLModel.metadata.tables.items():
        if table_name == "alembic_version":
            continue
        not_personal = NOT_PERSONAL.get(table_name, set())
        for column in table.columns:
            if column.name not in not_personal and (table_name, column.name) not in documented:
                missing.append(f"{table_name}.{column.name}")
    assert not missing, f"add these to docs/data-inventory.md: {missing}"


def test_inventory_rows_name_real_columns() -> None:
    load_all_models()
    tables = SQLModel.metadata.tables
    stale = [
        f"{table_name}.{column}"
        for table_name, column in _documented()
        if table_name not in tables or column not in tables[table_name].columns
    ]
    assert not stale, f"the inventory names columns that do not exist: {stale}"
