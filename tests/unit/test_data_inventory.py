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
    # growth (issue 14): marketing's tag settings say nothing about a person
    "marketing_tag": {"id", "name", "script_url", "pages", "enabled", "created_at", "updated_at"},
    # business intelligence (issue 15): aggregate counts, report and alert settings — no person
    "bi_aggregate_run": {"day", "computed_at"},
    "bi_alert_event": {"id", "rule_id", "day", "value", "message", "notified", "created_at"},
    "bi_alert_rule": {"id", "metric", "comparison", "threshold", "window_days", "active", "created_at"},
    "bi_campaign_spend": {"id", "month", "channel", "campaign", "amount", "currency", "created_at"},
    "bi_cohort_week": {"cohort_week", "activity_week", "segment", "cohort_size", "active_learners"},
    "bi_daily_acquisition": {
        "day",
        "channel",
        "campaign",
        "visits",
        "signups",
        "referred_signups",
        "first_paid",
    },
    "bi_daily_activity": {
        "day",
        "segment",
        "dau",
        "wau",
        "mau",
        "new_learners",
        "takes",
        "review_takes",
        "review_passed",
        "onboarding_started",
        "onboarding_finished",
    },
    "bi_daily_content": {
        "day",
        "item_id",
        "segment",
        "takes",
        "failed_takes",
        "learners",
        "gave_up",
        "repeated",
        "improvement_sum",
    },
    "bi_daily_lifecycle": {"day", "segment", "state", "learners", "prev_learners", "prev_active_today"},
    "bi_daily_revenue": {
        "day",
        "currency",
        "mrr",
        "paying",
        "trialing",
        "new_mrr",
        "expansion_mrr",
        "contraction_mrr",
        "churned_mrr",
        "reactivation_mrr",
        "new_paying",
        "churned_paying",
        "reactivated_paying",
        "trials_started",
        "trials_converted",
        "invoices_paid",
        "invoiced_amount",
        "refunded_amount",
        "payment_failures",
    },
    "bi_daily_support": {"day", "tickets_opened", "open_tickets", "verdict_answers", "verdict_disputed"},
    "bi_daily_tone": {
        "day",
        "cohort_week",
        "segment",
        "tone",
        "prev_tone",
        "speaker_profile",
        "take_bucket",
        "judged",
        "correct",
    },
    # issue 15 speed: daily BI tables summed per month — counts, no person
    "bi_monthly_tone_bucket": {"month", "cohort_week", "segment", "take_bucket", "tone", "judged", "correct"},
    "bi_monthly_tone_pair": {
        "month",
        "cohort_week",
        "segment",
        "prev_tone",
        "tone",
        "speaker_profile",
        "judged",
        "correct",
    },
    "bi_monthly_content": {
        "month",
        "item_id",
        "segment",
        "takes",
        "failed_takes",
        "learners",
        "gave_up",
        "repeated",
        "improvement_sum",
    },
    "bi_monthly_tone_start": {"month", "cohort_week", "segment", "tone", "learners"},
    "bi_monthly_mastery": {"month", "cohort_week", "segment", "tone", "days", "takes", "learners"},
    # issue 15 filters: time-to-mastery counts (and per-channel revenue, below) — no person
    "bi_daily_tone_start": {"day", "cohort_week", "segment", "tone", "learners"},
    "bi_daily_mastery": {"day", "cohort_week", "segment", "tone", "days", "takes", "learners"},
    "bi_daily_cohort_lifecycle": {
        "day",
        "cohort_week",
        "segment",
        "state",
        "learners",
        "prev_learners",
        "prev_active_today",
    },
    "bi_daily_cohort_content": {
        "day",
        "cohort_week",
        "item_id",
        "segment",
        "takes",
        "failed_takes",
        "learners",
        "gave_up",
        "repeated",
        "improvement_sum",
    },
    "bi_daily_cohort_review": {"day", "cohort_week", "segment", "review_takes", "review_passed"},
    "bi_report": {"id", "week_start", "subject", "summary", "html", "recipients", "created_at"},
    "bi_report_file": {"id", "report_id", "position", "name", "content_type", "inline_id", "data"},
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
    "practice_tone_tally": {"id"},
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
    # issue 14: experiment definitions are marketing's plans, about no one
    "experiment": {
        "id",
        "key",
        "name",
        "hypothesis",
        "variants",
        "audience",
        "device",
        "primary_metric",
        "guardrail_metrics",
        "minimum_sample",
        "status",
        "created_at",
        "updated_at",
        "started_at",
        "stopped_at",
    },
    "experiment_exposure": {"id", "experiment_id"},
    "experiment_override": {"id", "experiment_id"},
}


NOT_PERSONAL["bi_daily_segment_revenue"] = NOT_PERSONAL["bi_daily_revenue"] | {"segment"}


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
