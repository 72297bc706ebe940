"""The synthetic data generator (`python -m sayzhong bi generate`, issue 15).

A small run is checked the way a careful analyst would: every foreign key points at a row, takes
come after sign-up, invoices and subscriptions tell the same story, events are in order and pass the
consent gate, stored results parse back to the stored scores — and the app's own services (home,
statistics, review, entitlements, tickets, data export) work on the generated learners. Same seed,
same rows; a database with real learners is refused.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlmodel import SQLModel

from sayzhong.bi.generate import SYNTHETIC_DOMAIN, GenerateOptions, GenerateRefusedError, generate
from sayzhong.db import as_utc, get_engine, session_scope
from sayzhong.models import load_all_models
from sayzhong.settings import Settings

pytestmark = pytest.mark.db

END = date(2026, 11, 1)
END_AT = datetime(2026, 11, 1, tzinfo=UTC)
WRITTEN = (
    "user_account",
    "learner_profile",
    "legal_acceptance",
    "consent_record",
    "analytics_event",
    "practice_attempt",
    "practice_syllable_result",
    "practice_review_card",
    "billing_customer",
    "billing_subscription",
    "billing_trial_claim",
    "billing_webhook_event",
    "billing_grant",
    "billing_daily_usage",
    "support_agent",
    "support_ticket",
    "support_message",
    "support_verdict_feedback",
    "support_nps_response",
)


def _fresh_schema() -> Engine:
    load_all_models()
    engine = get_engine()
    SQLModel.metadata.create_all(engine)
    return engine


def _rows(engine: Engine, sql: str, **params: Any) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(text(sql), params))


def _scalar(engine: Engine, sql: str, **params: Any) -> Any:
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar()


def _when(value: Any) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return as_utc(value)


def test_a_small_run_is_consistent_and_the_app_works_on_it(settings: Settings) -> None:
    from sqlalchemy import inspect

    engine = _fresh_schema()
    indexes = {t: sorted(i["name"] or "" for i in inspect(engine).get_indexes(t)) for t in WRITTEN}
    summary = generate(engine=engine, options=GenerateOptions(learners=200, seed=7, end=END))
    # Indexes dropped for the bulk load (SQLite) are all back.
    assert {t: sorted(i["name"] or "" for i in inspect(engine).get_indexes(t)) for t in WRITTEN} == indexes

    # Counts per table are what landed in the database, and every table got rows.
    for table in WRITTEN:
        assert summary.counts.get(table, 0) == _scalar(engine, f'SELECT COUNT(*) FROM "{table}"'), table  # noqa: S608
    assert summary.counts["user_account"] == 200 + 7  # learners + synthetic staff
    assert summary.counts["practice_attempt"] > 200 * 10
    assert summary.counts["billing_subscription"] > 0 and summary.counts["support_ticket"] > 0

    # Every foreign key points at an existing row.
    for table in SQLModel.metadata.sorted_tables:
        for fk in table.foreign_keys:
            orphans = _scalar(
                engine,
                f'SELECT COUNT(*) FROM "{table.name}" t LEFT JOIN "{fk.column.table.name}" r '  # noqa: S608
                f'ON t."{fk.parent.name}" = r."{fk.column.name}" '
                f'WHERE t."{fk.parent.name}" IS NOT NULL AND r."{fk.column.name}" IS NULL',
            )
            assert orphans == 0, f"{table.name}.{fk.parent.name}"

    # Takes (and their syllables) come after sign-up and before the end; ids follow time.
    early = _scalar(
        engine,
        "SELECT COUNT(*) FROM practice_attempt a JOIN user_account u ON u.id = a.user_id "
        "WHERE a.created_at < u.created_at",
    )
    assert early == 0
    stamps = [_when(r[0]) for r in _rows(engine, "SELECT created_at FROM practice_attempt ORDER BY id")]
    assert stamps == sorted(stamps) and stamps[-1] < END_AT
    mismatched = _scalar(
        engine,
        "SELECT COUNT(*) FROM practice_syllable_result s JOIN practice_attempt a ON a.id = s.attempt_id "
        "WHERE s.user_id <> a.user_id OR s.created_at <> a.created_at",
    )
    assert mismatched == 0
    assert _scalar(engine, "SELECT COUNT(*) FROM practice_attempt WHERE audio_path IS NOT NULL") == 0

    # Stored result JSON parses back to the stored scores and syllables (the app's own parser).
    from sayzhong.practice.results import parse_result

    syllables: dict[int, int] = defaultdict(int)
    for attempt_id, n in _rows(
        engine, "SELECT attempt_id, COUNT(*) FROM practice_syllable_result GROUP BY attempt_id"
    ):
        syllables[attempt_id] = n
    for attempt_id, result, pron, tone in _rows(
        engine, "SELECT id, result_json, pron_score, tone_score FROM practice_attempt ORDER BY id LIMIT 400"
    ):
        parsed = parse_result(json.loads(result) if isinstance(result, str) else result)
        assert parsed.pron == pytest.approx(pron)
        assert (parsed.tone is None and tone is None) or parsed.tone == pytest.approx(tone)
        assert syllables[attempt_id] == (len(parsed.syllables) if parsed.counted else 0)

    # Learning shape: tone 3 is missed more than tone 1; first takes are worse than later ones.
    by_tone = dict(
        _rows(
            engine,
            "SELECT expected_tone, AVG(CASE WHEN correct THEN 1.0 ELSE 0.0 END) "
            "FROM practice_syllable_result "
            "WHERE verdict IN ('correct', 'wrong_tone') GROUP BY expected_tone",
        )
    )
    assert float(by_tone[3]) < float(by_tone[1]) - 0.05
    ranks = _rows(
        engine,
        "SELECT a.user_id, a.id, a.tone_score FROM practice_attempt a WHERE a.tone_score IS NOT NULL "
        "ORDER BY a.user_id, a.id",
    )
    position: dict[int, int] = defaultdict(int)
    first, later = [], []
    for user_id, _id, tone in ranks:
        position[user_id] += 1
        (first if position[user_id] <= 5 else later if 40 <= position[user_id] <= 200 else []).append(tone)
    assert sum(first) / len(first) < sum(later) / len(later) - 3

    # Funnel events are in order per learner and only for learners whose consent accepts analytics.
    order = ("signed_up", "onboarding_started", "mic_check_passed", "onboarding_finished")
    seen: dict[str, dict[str, datetime]] = defaultdict(dict)
    for event, who, created in _rows(
        engine,
        "SELECT event, distinct_id, created_at FROM analytics_event WHERE event <> 'page_viewed' ORDER BY id",
    ):
        seen[who][event] = _when(created)
    assert seen
    for who, events in seen.items():
        times = [events[e] for e in order if e in events]
        assert times == sorted(times), who
        assert "signed_up" in events
        # The first scored take may be a placement take, before onboarding finishes.
        if "first_attempt_scored" in events:
            assert events["first_attempt_scored"] > events["onboarding_started"]
    consenting = {
        str(r[0])
        for r in _rows(engine, "SELECT user_id FROM consent_record WHERE user_id IS NOT NULL AND analytics")
    }
    assert set(seen) <= consenting
    event_times = [_when(r[0]) for r in _rows(engine, "SELECT created_at FROM analytics_event ORDER BY id")]
    assert event_times == sorted(event_times)
    attribution = _rows(engine, "SELECT properties FROM analytics_event WHERE event = 'signed_up'")
    channels = {(json.loads(p) if isinstance(p, str) else p)["channel"] for (p,) in attribution}
    assert len(channels) >= 4
    anonymous = _scalar(
        engine, "SELECT COUNT(DISTINCT distinct_id) FROM analytics_event WHERE event = 'page_viewed'"
    )
    assert anonymous > 2 * len(seen)  # most visitors never sign up

    # Subscriptions and invoices tell one story.
    subs = {
        r[0]: r
        for r in _rows(
            engine,
            "SELECT stripe_subscription_id, status, latest_invoice_id, plan_id, current_period_end, user_id "
            "FROM billing_subscription",
        )
    }
    invoices: dict[str, dict[str, Any]] = {}
    deleted: set[str] = set()
    for kind, payload in _rows(engine, "SELECT type, payload FROM billing_webhook_event ORDER BY id"):
        data = (json.loads(payload) if isinstance(payload, str) else payload)["data"]["object"]
        if kind.startswith("invoice."):
            assert data["subscription"] in subs
            invoices[data["id"]] = data
        elif kind == "customer.subscription.deleted":
            deleted.add(data["id"])
    for sub_id, (_sid, status, latest, _plan, period_end, user_id) in subs.items():
        assert latest in invoices and invoices[latest]["subscription"] == sub_id
        assert (status == "canceled") == (sub_id in deleted)
        if status in ("trialing", "active", "past_due"):
            assert _when(period_end) >= END_AT
        assert _scalar(engine, "SELECT COUNT(*) FROM billing_customer WHERE user_id = :u", u=user_id) == 1
    from sayzhong.billing import catalog

    for inv in invoices.values():
        plan = catalog.plan(inv["lines"]["data"][0]["plan"]["id"])
        assert plan is not None and 0 <= inv["amount_due"] <= plan.amount
        assert inv["amount_paid"] in (0, inv["amount_due"])
    assert {"invoice.paid"} <= {
        k for (k,) in _rows(engine, "SELECT DISTINCT type FROM billing_webhook_event")
    }

    # Free learners stayed within the daily limit the entitlement check counts.
    assert (
        0 < _scalar(engine, "SELECT MAX(scored) FROM billing_daily_usage") <= settings.free_daily_scored_takes
    )

    # The home page's running tone tallies hold every generated take's judged syllables.
    tallied = dict(_rows(engine, "SELECT user_id, SUM(count) FROM practice_tone_tally GROUP BY user_id"))
    judged = dict(
        _rows(
            engine,
            "SELECT user_id, COUNT(*) FROM practice_syllable_result WHERE expected_tone IN (1, 2, 3, 4)"
            " GROUP BY user_id",
        )
    )
    assert tallied == judged and len(judged) > 100

    # The app's own services on generated learners.
    from sayzhong.billing.entitlements import entitlement_for
    from sayzhong.practice import service as practice
    from sayzhong.privacy.export import build_export_zip
    from sayzhong.support import service as support

    learners = [
        r[0] for r in _rows(engine, "SELECT user_id FROM learner_profile ORDER BY xp_total DESC LIMIT 6")
    ]
    payer = next(iter(subs.values()))[5]
    with session_scope() as session:
        for user_id in [*learners, payer]:
            home = practice.home_summary(session=session, user_id=user_id)
            assert home is not None
            stats = practice.tone_stats(session=session, user_id=user_id)
            assert stats is not None
            practice.review_queue(session=session, user_id=user_id, now=END_AT)
            assert practice.reviews_due_count(session=session, user_id=user_id, now=END_AT) >= 0
            assert practice.list_attempts(session=session, user_id=user_id)
            entitlement_for(session=session, user_id=user_id, now=END_AT)
            support.list_my_tickets(session=session, user_id=user_id, now=END_AT)
        assert build_export_zip(session=session, user_id=learners[0])[:2] == b"PK"
        plans = {
            entitlement_for(session=session, user_id=u, now=END_AT).plan
            for (u,) in _rows(
                engine, "SELECT user_id FROM billing_subscription WHERE status IN ('active', 'trialing')"
            )
        }
        assert plans <= {"plus"}


def _digest(engine: Engine) -> dict[str, str]:
    out = {}
    for table in WRITTEN:
        rows = _rows(engine, f'SELECT * FROM "{table}"')  # noqa: S608 - our own table names
        text_rows = sorted(repr(tuple(_normal(v) for v in row)) for row in rows)
        out[table] = hashlib.sha256("\n".join(text_rows).encode()).hexdigest()
    return out


def _normal(value: Any) -> Any:
    if isinstance(value, datetime):
        return as_utc(value).isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True)
    if isinstance(value, str) and value.startswith(("{", "[")):
        try:
            return json.dumps(json.loads(value), sort_keys=True)
        except ValueError:
            return value
    return value


def test_the_same_seed_gives_the_same_rows(settings: Settings) -> None:
    engine = _fresh_schema()
    options = GenerateOptions(learners=80, seed=11, end=END)
    generate(engine=engine, options=options)
    first = _digest(engine)
    SQLModel.metadata.drop_all(engine)
    SQLModel.metadata.create_all(engine)
    generate(engine=engine, options=options)
    assert _digest(engine) == first
    SQLModel.metadata.drop_all(engine)
    SQLModel.metadata.create_all(engine)
    generate(engine=engine, options=GenerateOptions(learners=80, seed=12, end=END))
    assert _digest(engine)["practice_attempt"] != first["practice_attempt"]


def test_a_database_with_learners_is_refused_unless_forced(settings: Settings) -> None:
    from sayzhong.accounts import users

    engine = _fresh_schema()
    with session_scope() as session:
        real = users.sign_up(
            session=session,
            email="real.person@example.org",
            password="learning tones daily",
            display_name="Real",
        )
    with pytest.raises(GenerateRefusedError) as refused:
        generate(engine=engine, options=GenerateOptions(learners=10, end=END))
    assert "1 learner account" in refused.value.user_message and "--force" in refused.value.user_message
    assert _scalar(engine, "SELECT COUNT(*) FROM user_account") == 1  # nothing was written

    summary = generate(engine=engine, options=GenerateOptions(learners=10, end=END, force=True))
    assert summary.counts["user_account"] == 17
    # The real account is untouched and new rows made by the app after the run get fresh ids.
    assert (
        _scalar(engine, "SELECT email FROM user_account WHERE id = :i", i=real.id)
        == "real.person@example.org"
    )
    with session_scope() as session:
        later = users.sign_up(
            session=session, email="later@example.org", password="learning tones daily", display_name="Later"
        )
    top = _scalar(engine, "SELECT MAX(id) FROM user_account WHERE email LIKE :d", d=f"%@{SYNTHETIC_DOMAIN}")
    assert later.id is not None and later.id > top


def test_a_database_without_tables_is_refused(settings: Settings) -> None:
    load_all_models()
    with pytest.raises(GenerateRefusedError) as refused:
        generate(engine=get_engine(), options=GenerateOptions(learners=5, end=END))
    assert "migrations" in refused.value.user_message


def test_the_command_prints_a_summary_and_refuses_plainly(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    from sayzhong.cli import main

    _fresh_schema()
    assert main(["bi", "generate", "--learners", "15", "--seed", "2", "--end", "2026-10-01"]) == 0
    out = capsys.readouterr().out
    assert "practice_attempt" in out and "rows/s" in out
    assert main(["bi", "generate", "--learners", "15", "--end", "2026-10-01"]) == 1
    assert "already has 15 learner account(s)" in capsys.readouterr().out
    assert main(["bi", "generate", "--learners", "15", "--end", "next tuesday"]) == 2
    assert "--end must be a date" in capsys.readouterr().out
