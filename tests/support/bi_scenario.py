"""A small hand-made history for the BI tests: every expected number in those tests is worked out
by hand from the rows written here (see the comments), never read back from the implementation.

Learners (reporting time zone UTC unless a test says otherwise):
- A: signed up 2026-01-05 (channel ads, campaign spring), takes on 01-05, 03-01, 03-02.
- B: signed up 2026-03-02 (channel organic, referred), takes on 03-02 (scores 40 then 70, item u1.p1).
- C: signed up 2026-02-02 (no sign-up event: channel unknown), takes on 02-20 and 03-02 (score 50, u1.p1).
- D: signed up 2026-02-02, take on 02-27.
- E: signed up 2026-01-05, take on 01-10.
- S: a support agent with a take on 03-02 — staff never count.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session

from sayzhong.accounts.models import User
from sayzhong.analytics.models import AnalyticsEvent
from sayzhong.billing.models import BillingCustomer, BillingWebhookEvent
from sayzhong.practice.models import Attempt, SyllableResult


def at(text: str) -> datetime:
    """'2026-03-02 10:00' → aware UTC."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def add_user(
    session: Session, name: str, signed_up: str, *, role: str = "learner", props: dict[str, Any] | None = None
) -> int:
    user = User(email=f"{name.lower()}@example.com", display_name=name, role=role, created_at=at(signed_up))
    session.add(user)
    session.flush()
    assert user.id is not None
    if props is not None:
        session.add(
            AnalyticsEvent(
                event="signed_up", distinct_id=str(user.id), properties=props, created_at=at(signed_up)
            )
        )
    return user.id


def add_take(
    session: Session,
    user_id: int,
    when: str,
    *,
    score: float = 80.0,
    item: str = "u1.p1",
    mode: str = "practice",
    profile: bool = False,
    syllables: tuple[tuple[int, int | None, str], ...] = (),
) -> int:
    """`syllables`: (expected tone, previous expected tone, verdict)."""
    attempt = Attempt(
        user_id=user_id,
        item_id=item,
        mode=mode,
        text="你好",
        engine="offline",
        pron_score=score,
        speaker_profile_used=profile,
        created_at=at(when),
    )
    session.add(attempt)
    session.flush()
    assert attempt.id is not None
    for position, (tone, prev, verdict) in enumerate(syllables):
        session.add(
            SyllableResult(
                attempt_id=attempt.id,
                user_id=user_id,
                position=position,
                grapheme="好",
                pinyin="hao",
                expected_tone=tone,
                prev_expected_tone=prev,
                verdict=verdict,
                correct=verdict == "correct",
                created_at=at(when),
            )
        )
    session.flush()
    return attempt.id


def build_learners(session: Session) -> dict[str, int]:
    ids = {
        "A": add_user(session, "A", "2026-01-05 09:00", props={"channel": "ads", "campaign": "spring"}),
        "B": add_user(
            session, "B", "2026-03-02 08:00", props={"channel": "organic", "referral_code": "MEI7"}
        ),
        "C": add_user(session, "C", "2026-02-02 12:00"),
        "D": add_user(session, "D", "2026-02-02 13:00", props={"channel": "ads", "campaign": "spring"}),
        "E": add_user(session, "E", "2026-01-05 10:00", props={"channel": "organic"}),
        "S": add_user(session, "S", "2026-01-01 10:00", role="support"),
    }
    add_take(session, ids["A"], "2026-01-05 09:30")
    add_take(session, ids["A"], "2026-03-01 12:00")
    add_take(session, ids["A"], "2026-03-02 12:00", mode="review", score=90)
    add_take(
        session,
        ids["B"],
        "2026-03-02 09:00",
        score=40,
        syllables=((3, None, "correct"), (3, 3, "wrong_tone"), (5, 3, "neutral")),
    )
    add_take(session, ids["B"], "2026-03-02 09:05", score=70, profile=True, syllables=((3, None, "correct"),))
    add_take(session, ids["C"], "2026-02-20 10:00")
    add_take(session, ids["C"], "2026-03-02 23:30", score=50)
    add_take(session, ids["D"], "2026-02-27 10:00")
    add_take(session, ids["E"], "2026-01-10 10:00")
    add_take(session, ids["S"], "2026-03-02 10:00")
    return ids


def stripe_event(session: Session, event_id: str, kind: str, when: str, obj: dict[str, Any]) -> None:
    created = int(at(when).timestamp())
    session.add(
        BillingWebhookEvent(
            event_id=event_id,
            type=kind,
            payload={"id": event_id, "type": kind, "created": created, "data": {"object": obj}},
            status="handled",
            received_at=at(when),
        )
    )


def sub(sub_id: str, customer: str, status: str, plan: str) -> dict[str, Any]:
    return {
        "id": sub_id,
        "object": "subscription",
        "customer": customer,
        "status": status,
        "plan": {"id": plan},
    }


MONTHLY, ANNUAL = "sayzhong_plus_monthly", "sayzhong_plus_annual"


def build_billing(session: Session, ids: dict[str, int]) -> None:
    """cus_a (learner A): trial from 03-01, paid monthly from 03-08 (€9.99), annual from 03-15
    (€79.99/12 = 666.58 → 667 a month), cancelled 03-20, a new monthly subscription on 04-02.
    cus_d (learner D): annual from 03-08, invoice €79.99 paid 03-08, refunded €20 on 03-10 and the
    rest (total €79.99) on 03-12. One invoice of cus_a failed on 03-08 (delivered twice)."""
    session.add(BillingCustomer(user_id=ids["A"], stripe_customer_id="cus_a"))
    session.add(BillingCustomer(user_id=ids["D"], stripe_customer_id="cus_d"))
    stripe_event(
        session,
        "evt_1",
        "customer.subscription.created",
        "2026-03-01 10:00",
        sub("sub_1", "cus_a", "trialing", MONTHLY),
    )
    stripe_event(
        session,
        "evt_2",
        "customer.subscription.updated",
        "2026-03-08 10:00",
        sub("sub_1", "cus_a", "active", MONTHLY),
    )
    stripe_event(
        session,
        "evt_3",
        "invoice.paid",
        "2026-03-08 10:01",
        {"id": "in_a1", "amount_paid": 999, "currency": "eur"},
    )
    stripe_event(
        session,
        "evt_3b",
        "invoice.payment_succeeded",
        "2026-03-08 10:01",
        {"id": "in_a1", "amount_paid": 999, "currency": "eur"},
    )
    stripe_event(
        session, "evt_4", "invoice.payment_failed", "2026-03-08 11:00", {"id": "in_a0", "amount_due": 999}
    )
    stripe_event(
        session, "evt_5", "invoice.payment_failed", "2026-03-08 12:00", {"id": "in_a0", "amount_due": 999}
    )
    stripe_event(
        session,
        "evt_6",
        "customer.subscription.created",
        "2026-03-08 09:00",
        sub("sub_3", "cus_d", "active", ANNUAL),
    )
    stripe_event(
        session,
        "evt_7",
        "invoice.paid",
        "2026-03-08 09:01",
        {"id": "in_d1", "amount_paid": 7999, "currency": "eur"},
    )
    stripe_event(
        session, "evt_8", "charge.refunded", "2026-03-10 09:00", {"id": "ch_d1", "amount_refunded": 2000}
    )
    stripe_event(
        session, "evt_9", "charge.refunded", "2026-03-12 09:00", {"id": "ch_d1", "amount_refunded": 7999}
    )
    stripe_event(
        session,
        "evt_10",
        "customer.subscription.updated",
        "2026-03-15 10:00",
        sub("sub_1", "cus_a", "active", ANNUAL),
    )
    stripe_event(
        session,
        "evt_11",
        "customer.subscription.deleted",
        "2026-03-20 10:00",
        sub("sub_1", "cus_a", "canceled", ANNUAL),
    )
    stripe_event(
        session,
        "evt_12",
        "customer.subscription.created",
        "2026-04-02 10:00",
        sub("sub_2", "cus_a", "active", MONTHLY),
    )
    session.flush()
