"""Referrals: attribution at sign-up, the abuse checks (each refusal stored with its reason), and
the reward — 7 days of Plus for both, granted only after the referred learner's first scored take
(through the practice service), exactly once under retries and concurrent calls."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, SQLModel, func, select

from sayzhong.analytics import service as analytics
from sayzhong.billing.entitlements import PLUS, entitlement_for
from sayzhong.billing.models import BillingGrant
from sayzhong.db import get_engine, session_scope, utcnow
from sayzhong.growth import events, referrals
from sayzhong.growth.models import Referral
from sayzhong.models import load_all_models
from sayzhong.privacy import consent
from sayzhong.settings import Settings
from tests.factories import AttemptFactory, UserFactory
from tests.support.practice_fakes import result, syllable

VISITOR_B = "visitorB_0123456789abcdef"


def _grants(session: Session, user_id: int) -> list[BillingGrant]:
    return list(session.exec(select(BillingGrant).where(BillingGrant.user_id == user_id)).all())


def _invite(session: Session, make_user: UserFactory, email: str = "ana@example.com") -> tuple[int, str]:
    referrer = make_user(email, name="Ana Referrer")
    code = referrals.code_for(session=session, user_id=referrer.id, visitor_id="visitorA_0123456789abcdef")
    return referrer.id, referrals.ref_cookie_value(code=code)


def test_reward_is_granted_once_and_only_after_the_first_scored_take(
    db_session: Session, make_user: UserFactory, make_attempt: AttemptFactory, settings: Settings
) -> None:
    referrer_id, ref = _invite(db_session, make_user)
    bo = make_user("bo@example.org", name="Bo")
    attribution = referrals.attribute_sign_up(
        session=db_session, user_id=bo.id, ref=ref, visitor_id=VISITOR_B
    )
    assert (
        attribution is not None and attribution.status == "pending" and attribution.referrer_id == referrer_id
    )
    assert entitlement_for(session=db_session, user_id=bo.id).plan == "free"

    # Neither a microphone check nor a take of something else (not counted) releases the reward.
    make_attempt(bo.id, mode="calibration")
    make_attempt(
        bo.id, result([syllable("你", "ni3", 2, 2), syllable("好", "hao3", 3, 3)], status="no_speech")
    )
    assert _grants(db_session, bo.id) == [] and _grants(db_session, referrer_id) == []
    assert db_session.exec(select(Referral)).one().status == "pending"

    make_attempt(bo.id)  # the first scored take
    for uid in (bo.id, referrer_id):
        (grant,) = _grants(db_session, uid)
        assert grant.ends_at - grant.starts_at == timedelta(days=settings.referral_reward_days)
        assert entitlement_for(session=db_session, user_id=uid).plan == PLUS
    row = db_session.exec(select(Referral)).one()
    assert row.status == "rewarded" and row.rewarded_at is not None
    assert {row.referrer_grant_id, row.referred_grant_id} == {
        _grants(db_session, referrer_id)[0].id,
        _grants(db_session, bo.id)[0].id,
    }

    # Later takes and a retried reward call give nothing more.
    make_attempt(bo.id)
    assert referrals.reward_after_first_take(session=db_session, user_id=bo.id) is False
    assert len(_grants(db_session, bo.id)) == 1 and len(_grants(db_session, referrer_id)) == 1
    rewarded = analytics.list_events(session=db_session, event=events.REFERRAL_REWARDED)
    assert sorted(e.properties["role"] for e in rewarded) == ["referred", "referrer"]
    for event in rewarded:
        assert "@" not in str(event.properties)


def test_a_second_reward_for_the_same_inviter_starts_when_the_first_ends(
    db_session: Session, make_user: UserFactory, make_attempt: AttemptFactory
) -> None:
    referrer_id, ref = _invite(db_session, make_user)
    for n in (1, 2):
        friend = make_user(f"friend{n}@example.org")
        referrals.attribute_sign_up(session=db_session, user_id=friend.id, ref=ref, visitor_id=None)
        make_attempt(friend.id)
    first, second = sorted(_grants(db_session, referrer_id), key=lambda g: g.id or 0)
    assert second.starts_at == first.ends_at


def test_a_learner_is_attributed_once(db_session: Session, make_user: UserFactory) -> None:
    _, ref = _invite(db_session, make_user)
    _, other_ref = _invite(db_session, make_user, "carla@example.com")
    bo = make_user("bo@example.org")
    assert referrals.attribute_sign_up(session=db_session, user_id=bo.id, ref=ref) is not None
    assert referrals.attribute_sign_up(session=db_session, user_id=bo.id, ref=other_ref) is None
    assert db_session.exec(select(func.count()).select_from(Referral)).one() == 1


@pytest.mark.parametrize(
    ("email", "visitor", "reason"),
    [
        ("Ana+second@example.com", None, "self_referral"),
        ("bo@example.org", "visitorA_0123456789abcdef", "same_device"),
        ("bo@mailinator.com", None, "disposable_email"),
        ("bo@eu.yopmail.com", None, "disposable_email"),
    ],
)
def test_abuse_is_refused_with_a_reason_and_never_rewarded(
    db_session: Session,
    make_user: UserFactory,
    make_attempt: AttemptFactory,
    email: str,
    visitor: str | None,
    reason: str,
) -> None:
    referrer_id, ref = _invite(db_session, make_user)
    bo = make_user(email)
    attribution = referrals.attribute_sign_up(session=db_session, user_id=bo.id, ref=ref, visitor_id=visitor)
    assert attribution is not None and (attribution.status, attribution.reason) == ("refused", reason)
    make_attempt(bo.id)
    assert _grants(db_session, bo.id) == [] and _grants(db_session, referrer_id) == []
    row = db_session.exec(select(Referral)).one()
    assert (row.status, row.refused_reason) == ("refused", reason)


def test_a_browser_the_inviter_used_for_consent_counts_as_the_same_device(
    db_session: Session, make_user: UserFactory
) -> None:
    referrer_id, ref = _invite(db_session, make_user)
    other_browser = consent.new_visitor_id()
    consent.record_consent(
        session=db_session,
        visitor_id=other_browser,
        user_id=referrer_id,
        analytics=True,
        marketing=False,
        source="banner",
    )
    bo = make_user("bo@example.org")
    attribution = referrals.attribute_sign_up(
        session=db_session, user_id=bo.id, ref=ref, visitor_id=other_browser
    )
    assert attribution is not None and attribution.reason == "same_device"


def test_the_monthly_cap_refuses_further_referrals(
    db_session: Session, make_user: UserFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REFERRAL_MONTHLY_CAP", "2")
    from sayzhong.settings import get_settings, reset_settings_cache

    reset_settings_cache()
    _, ref = _invite(db_session, make_user)
    outcomes = []
    for n in range(4):
        friend = make_user(f"friend{n}@example.org")
        found = referrals.attribute_sign_up(
            session=db_session, user_id=friend.id, ref=ref, settings=get_settings()
        )
        assert found is not None
        outcomes.append(found.reason)
    assert outcomes == [None, None, "monthly_cap", "monthly_cap"]
    # Referrals older than the window no longer count.
    for row in db_session.exec(select(Referral)).all():
        row.created_at = utcnow() - timedelta(days=31)
        db_session.add(row)
    db_session.flush()
    late = make_user("late@example.org")
    found = referrals.attribute_sign_up(session=db_session, user_id=late.id, ref=ref, settings=get_settings())
    assert found is not None and found.status == "pending"


@pytest.mark.parametrize("ref", ["c.doesnotexist1", "x.whatever", "c.", "c.<script>alert(1)</script>", ""])
def test_unknown_or_malformed_invites_attribute_nothing(
    db_session: Session, make_user: UserFactory, ref: str
) -> None:
    bo = make_user("bo@example.org")
    assert referrals.attribute_sign_up(session=db_session, user_id=bo.id, ref=ref) is None
    assert db_session.exec(select(func.count()).select_from(Referral)).one() == 0


def test_concurrent_reward_calls_grant_exactly_once(settings: Settings) -> None:
    load_all_models()
    SQLModel.metadata.create_all(get_engine())
    with session_scope() as session:
        make_user = UserFactory(session)
        referrer_id, ref = _invite(session, make_user)
        bo = make_user("bo@example.org")
        referrals.attribute_sign_up(session=session, user_id=bo.id, ref=ref)
    barrier = threading.Barrier(4)
    outcomes: list[str] = []

    def call() -> None:
        barrier.wait()
        try:
            with session_scope() as session:
                won = referrals.reward_after_first_take(session=session, user_id=bo.id)
            outcomes.append("won" if won else "no-op")
        except OperationalError:  # SQLite refuses a second writer outright; PostgreSQL waits
            outcomes.append("refused")

    threads = [threading.Thread(target=call) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("won") == 1, outcomes
    with session_scope() as session:
        assert len(_grants(session, bo.id)) == 1 and len(_grants(session, referrer_id)) == 1


def test_staff_see_referrals_with_reasons_and_each_look_is_audited(
    db_session: Session, make_user: UserFactory
) -> None:
    from sayzhong.audit import AuditEvent
    from sayzhong.errors import PermissionDeniedError

    _, ref = _invite(db_session, make_user)
    bo = make_user("bo@mailinator.com")
    referrals.attribute_sign_up(session=db_session, user_id=bo.id, ref=ref)
    learner = make_user("curious@example.org")
    with pytest.raises(PermissionDeniedError):
        referrals.staff_referrals(session=db_session, actor=learner)
    support = make_user("support@example.org", role="support")
    (row,) = referrals.staff_referrals(session=db_session, actor=support, ip="10.0.0.9")
    assert (row.referrer_email, row.referred_email) == ("ana@example.com", "bo@mailinator.com")
    assert (row.status, row.reason) == ("refused", "disposable_email")
    assert referrals.staff_referrals(session=db_session, actor=support, status="rewarded") == []
    looks = db_session.exec(select(AuditEvent).where(AuditEvent.action == "referral.staff_viewed")).all()
    assert [e.actor_id for e in looks] == [support.id, support.id]


def test_a_reward_that_failed_at_the_first_take_is_retried_by_the_job_and_granted_once(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from jobs.growth import run_referral_rewards
    from sayzhong.billing import service as billing
    from sayzhong.ops.jobs import list_runs

    load_all_models()
    SQLModel.metadata.create_all(get_engine())
    with session_scope() as session:
        make_user = UserFactory(session)
        referrer_id, ref = _invite(session, make_user)
        bo = make_user("bo@example.org")
        waiting = make_user("waiting@example.org")  # pending, but no scored take yet: not retried
        referrals.attribute_sign_up(session=session, user_id=bo.id, ref=ref)
        referrals.attribute_sign_up(session=session, user_id=waiting.id, ref=ref)
    real_grant = billing.grant_plus_reward

    def billing_down(**_kwargs: object) -> int:
        raise RuntimeError("billing database unavailable")

    monkeypatch.setattr(billing, "grant_plus_reward", billing_down)
    with session_scope() as session:
        AttemptFactory(session)(bo.id)  # the first scored take: kept, the reward left pending
    with session_scope() as session:
        assert {r.referred_id: r.status for r in session.exec(select(Referral)).all()} == {
            bo.id: "pending",
            waiting.id: "pending",
        }
        assert referrals.rewards_to_retry(session=session) == [bo.id]
        # Still down at the next run: counted as failed, nothing half-granted, still pending.
        assert referrals.retry_pending_rewards() == {"due": 1, "rewarded": 0, "failed": 1}
        assert _grants(session, bo.id) == [] and _grants(session, referrer_id) == []

    monkeypatch.setattr(billing, "grant_plus_reward", real_grant)
    assert run_referral_rewards() == {"due": 1, "rewarded": 1, "failed": 0}
    assert run_referral_rewards() == {"due": 0, "rewarded": 0, "failed": 0}
    with session_scope() as session:
        AttemptFactory(session)(bo.id)  # a later take gives nothing more either
        assert len(_grants(session, bo.id)) == 1 and len(_grants(session, referrer_id)) == 1
        row = session.exec(select(Referral).where(Referral.referred_id == bo.id)).one()
        assert row.status == "rewarded" and row.referred_grant_id == _grants(session, bo.id)[0].id
        assert [r.job for r in list_runs(session=session)][:2] == ["referral_rewards", "referral_rewards"]
