"""`plus_column` is `has_plus` as one SQL column: the lesson pages read the plan in their guard's
session lookup (issue 16: one statement per load), so the column must agree with the service's
check for every kind of subscription and grant, on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import bindparam, select
from sqlmodel import Session

from sayzhong.accounts import sessions
from sayzhong.billing.entitlements import (
    PLUS_READS,
    has_plus,
    locked_units_for,
    plus_column,
    plus_params,
)
from sayzhong.billing.models import BillingGrant, BillingSubscription
from sayzhong.legal import service as legal
from sayzhong.privacy.gate import resolve_page_load
from tests.factories import UserFactory
from tests.support.statements import statements_sent

NOW = datetime(2026, 3, 9, 15, 30, tzinfo=UTC)
DAY = timedelta(days=1)


def _sub(status: str, *, trial_end: datetime | None = None, invoice: str | None = None):  # type: ignore[no-untyped-def]
    def add(session: Session, user_id: int, n: int) -> None:
        session.add(
            BillingSubscription(
                user_id=user_id,
                stripe_subscription_id=f"sub_{user_id}_{n}",
                plan_id="plus-monthly",
                status=status,
                trial_end=trial_end,
                latest_invoice_id=invoice,
            )
        )

    return add


def _grant(starts: datetime, ends: datetime, *, revoked: bool = False):  # type: ignore[no-untyped-def]
    def add(session: Session, user_id: int, n: int) -> None:
        session.add(
            BillingGrant(
                user_id=user_id,
                starts_at=starts,
                ends_at=ends,
                reason="tests",
                revoked_at=NOW - DAY if revoked else None,
            )
        )

    return add


Row = Callable[[Session, int, int], None]

CASES: dict[str, tuple[list[Row], bool]] = {
    "nothing": ([], False),
    "active": ([_sub("active")], True),
    "trialing": ([_sub("trialing")], True),
    "past due (dunning grace)": ([_sub("past_due")], True),
    "canceled": ([_sub("canceled")], False),
    "unpaid": ([_sub("unpaid")], False),
    "incomplete, trial ahead, no invoice (localstripe's trial)": (
        [_sub("incomplete", trial_end=NOW + DAY)],
        True,
    ),
    "incomplete, trial ahead, empty invoice id": (
        [_sub("incomplete", trial_end=NOW + DAY, invoice="")],
        True,
    ),
    "incomplete, trial ahead, invoiced": ([_sub("incomplete", trial_end=NOW + DAY, invoice="in_1")], False),
    "incomplete, trial over": ([_sub("incomplete", trial_end=NOW - DAY)], False),
    "incomplete, no trial": ([_sub("incomplete")], False),
    "canceled, then active again": ([_sub("canceled"), _sub("active")], True),
    "live grant": ([_grant(NOW - DAY, NOW + DAY)], True),
    "grant starting later": ([_grant(NOW + DAY, NOW + 2 * DAY)], False),
    "grant that ended": ([_grant(NOW - 2 * DAY, NOW - DAY)], False),
    "grant ending this instant": ([_grant(NOW - DAY, NOW)], False),
    "grant starting this instant": ([_grant(NOW, NOW + DAY)], True),
    "revoked grant": ([_grant(NOW - DAY, NOW + DAY, revoked=True)], False),
    "canceled subscription, live grant": ([_sub("canceled"), _grant(NOW - DAY, NOW + DAY)], True),
}

PLUS_FOR = select(plus_column(bindparam("user_id")))


@pytest.mark.parametrize("case", list(CASES))
def test_the_column_agrees_with_has_plus(db_session: Session, make_user: UserFactory, case: str) -> None:
    rows, expected = CASES[case]
    learner, other = make_user(), make_user()
    for n, add in enumerate(rows):
        add(db_session, learner.id, n)
    # Someone else's Plus never counts for this learner.
    _sub("active")(db_session, other.id, 0)
    db_session.flush()
    assert has_plus(session=db_session, user_id=learner.id, now=NOW) is expected
    column = db_session.execute(PLUS_FOR, {**plus_params(NOW), "user_id": learner.id}).scalar_one()
    assert bool(column) is expected


def test_a_lesson_page_load_reads_the_plan_in_the_guards_statement(
    db_session: Session, make_user: UserFactory
) -> None:
    """The guard's one statement carries the plan: Free marks the Plus units, a grant opens them."""
    learner = make_user()
    legal.record_sign_up_acceptance(session=db_session, user_id=learner.id)
    token = sessions.create_session(session=db_session, user_id=learner.id, ip=None, user_agent=None)
    db_session.flush()

    def load() -> frozenset[str]:
        with statements_sent(db_session) as sent:
            user, redirect, row = resolve_page_load(
                session=db_session, token=token, page=PLUS_READS, params=plus_params(NOW)
            )
        assert user is not None and user.id == learner.id and redirect is None
        assert len(sent) == 1, sent
        return locked_units_for(bool(row[0]))

    free_locked = load()
    assert free_locked and "greetings" not in free_locked  # the first units are free
    _grant(NOW - DAY, NOW + DAY)(db_session, learner.id, 0)
    db_session.flush()
    assert load() == frozenset()
