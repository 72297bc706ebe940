"""Every feature's part in account erasure, in the order they run (the account row goes last).

Each entry is (step name, "module:function"); the function has the `ErasureParticipant` shape.
Adding a feature that stores personal data means adding a line here and a test row in
tests/integration/privacy/test_privacy_erasure.py's every-table scan (which fails until you do).
"""

from __future__ import annotations

import importlib
import shutil
from typing import Any

from sqlalchemy import delete, or_, update
from sqlmodel import Session, col, select

from sayzhong import audit
from sayzhong.accounts.models import (
    LoginAttempt,
    OidcIdentity,
    OidcLoginState,
    PasswordResetToken,
    User,
    UserSession,
)
from sayzhong.api.models import ApiToken
from sayzhong.legal.models import LegalAcceptance
from sayzhong.notifications import service as notifications
from sayzhong.practice import storage
from sayzhong.practice.models import Attempt, LearnerProfile, ReviewCard, SyllableResult, ToneTally
from sayzhong.privacy import consent
from sayzhong.privacy.models import DataExport, DsrRequest
from sayzhong.privacy.ports import ErasureParticipant, ErasureSubject
from sayzhong.settings import get_settings

ERASURE_PARTICIPANTS: tuple[tuple[str, str], ...] = (
    # Billing first: cancel the subscription and delete the Stripe customer while the account exists.
    ("billing", "sayzhong.privacy.participants:erase_billing"),
    ("support", "sayzhong.privacy.participants:erase_support"),
    ("bi", "sayzhong.privacy.participants:erase_bi"),  # issue 15: report subscription, tone progress
    ("growth", "sayzhong.privacy.participants:erase_growth"),  # issue 14: referrals, share cards
    ("practice_audio", "sayzhong.privacy.participants:erase_practice_audio"),
    ("practice", "sayzhong.privacy.participants:erase_practice"),
    ("analytics", "sayzhong.privacy.participants:erase_analytics"),
    ("experiments", "sayzhong.privacy.participants:erase_experiments"),  # issue 14
    ("sessions_tokens", "sayzhong.privacy.participants:erase_sessions_and_tokens"),
    ("outbox", "sayzhong.privacy.participants:erase_outbox"),
    ("email_preferences", "sayzhong.privacy.participants:erase_email_preferences"),  # issue 14
    ("exports", "sayzhong.privacy.participants:erase_exports"),
    ("consent", "sayzhong.privacy.participants:unlink_consent"),
    ("dsr", "sayzhong.privacy.participants:pseudonymise_dsr"),
    ("audit", "sayzhong.privacy.participants:pseudonymise_audit"),
    ("account", "sayzhong.privacy.participants:erase_account"),
)


def load_participant(path: str) -> ErasureParticipant:
    module, _, name = path.partition(":")
    participant: ErasureParticipant = getattr(importlib.import_module(module), name)
    return participant


def _delete(session: Session, statement: Any) -> int:
    result = session.execute(statement, execution_options={"synchronize_session": "fetch"})
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def erase_billing(*, session: Session, subject: ErasureSubject) -> int:
    """Subscriptions cancelled now, the Stripe customer deleted (invoices stay with Stripe, as the
    law requires), local billing rows and held takes deleted; the trial-claim hash stays."""
    from sayzhong.billing.service import erase_billing_data

    return sum(erase_billing_data(session=session, user_id=subject.user_id).values())


def erase_support(*, session: Session, subject: ErasureSubject) -> int:
    """Tickets, messages, attachments (rows and stored files), chats, "Was this right?" and survey
    answers, help-centre visits; as staff, their name is taken off replies, edits and assignments."""
    from sayzhong.support.privacy import erase_support_data

    return erase_support_data(session=session, user_id=subject.user_id)


def erase_bi(*, session: Session, subject: ErasureSubject) -> int:
    """The weekly-report subscription of a staff member and a learner's saved way to tone mastery (BI
    aggregates hold no person)."""
    from sayzhong.bi.models import BiReportSubscription, BiToneProgress

    uid = subject.user_id
    return _delete(
        session, delete(BiReportSubscription).where(col(BiReportSubscription.user_id) == uid)
    ) + _delete(session, delete(BiToneProgress).where(col(BiToneProgress.user_id) == uid))


def erase_growth(*, session: Session, subject: ErasureSubject) -> int:
    """Invite code, share cards (their public pages go 404) and referrals on either side."""
    from sayzhong.growth.privacy import erase_growth_data

    return erase_growth_data(session=session, user_id=subject.user_id)


def erase_practice_audio(*, session: Session, subject: ErasureSubject) -> int:
    """Every stored take and calibration recording (files), including any no row points at."""
    removed = 0
    paths = session.exec(
        select(Attempt.audio_path).where(
            col(Attempt.user_id) == subject.user_id, col(Attempt.audio_path).is_not(None)
        )
    ).all()
    for relative in paths:
        if relative:
            storage.delete_take(relative)
            removed += 1
    data_dir = get_settings().data_dir
    for folder in (
        storage.attempts_root() / str(subject.user_id),
        data_dir / "calibration" / str(subject.user_id),
    ):
        if folder.is_dir():
            removed += sum(1 for p in folder.rglob("*") if p.is_file())
            shutil.rmtree(folder)
    return removed


def erase_practice(*, session: Session, subject: ErasureSubject) -> int:
    uid = subject.user_id
    return (
        _delete(session, delete(SyllableResult).where(col(SyllableResult.user_id) == uid))
        + _delete(session, delete(ToneTally).where(col(ToneTally.user_id) == uid))
        + _delete(session, delete(Attempt).where(col(Attempt.user_id) == uid))
        + _delete(session, delete(ReviewCard).where(col(ReviewCard.user_id) == uid))
        + _delete(session, delete(LearnerProfile).where(col(LearnerProfile.user_id) == uid))
    )


def erase_analytics(*, session: Session, subject: ErasureSubject) -> int:
    """Local events, sign-up attribution, and the analytics processor's person (PostHog: the person
    and their events deleted through its API, see integrations/posthog_sink.py)."""
    from sayzhong import wiring
    from sayzhong.analytics import service as analytics
    from sayzhong.analytics.models import AccountAttribution

    removed = analytics.erase_user_events(session=session, user_id=subject.user_id)
    removed += _delete(
        session, delete(AccountAttribution).where(col(AccountAttribution.user_id) == subject.user_id)
    )
    sink = wiring.get_analytics_sink(get_settings(), session=session)
    return removed + sink.delete_person(distinct_id=str(subject.user_id))


def erase_experiments(*, session: Session, subject: ErasureSubject) -> int:
    """A/B exposures and QA overrides linked to the account (issue 14)."""
    from sayzhong.experiments.service import erase_user_experiments

    return erase_user_experiments(session=session, user_id=subject.user_id)


def erase_sessions_and_tokens(*, session: Session, subject: ErasureSubject) -> int:
    uid = subject.user_id
    return (
        _delete(session, delete(UserSession).where(col(UserSession.user_id) == uid))
        + _delete(session, delete(PasswordResetToken).where(col(PasswordResetToken.user_id) == uid))
        + _delete(session, delete(ApiToken).where(col(ApiToken.user_id) == uid))
        + _delete(session, delete(OidcIdentity).where(col(OidcIdentity.user_id) == uid))
        + _delete(session, delete(OidcLoginState).where(col(OidcLoginState.link_user_id) == uid))
        + _delete(session, delete(LoginAttempt).where(col(LoginAttempt.email_key) == subject.email))
    )


def erase_outbox(*, session: Session, subject: ErasureSubject) -> int:
    return notifications.delete_outbox_mail_to(session=session, to=subject.email)


def erase_email_preferences(*, session: Session, subject: ErasureSubject) -> int:
    """Reminder opt-ins, claimed deliveries, and the suppression of the account's address (issue 14)."""
    from sayzhong.notifications.preferences import erase_email_data

    return erase_email_data(session=session, user_id=subject.user_id, email=subject.email)


def erase_exports(*, session: Session, subject: ErasureSubject) -> int:
    from sayzhong.privacy.export import export_path

    rows = session.exec(select(DataExport).where(col(DataExport.user_id) == subject.user_id)).all()
    for row in rows:
        if row.file_name:
            export_path(row.file_name).unlink(missing_ok=True)
        session.delete(row)
    session.flush()
    return len(rows)


def unlink_consent(*, session: Session, subject: ErasureSubject) -> int:
    return consent.unlink_user(session=session, user_id=subject.user_id)


def pseudonymise_dsr(*, session: Session, subject: ErasureSubject) -> int:
    """Requests stay as proof that they were handled, without the requester's identity."""
    return _delete(
        session,
        update(DsrRequest)
        .where(
            or_(col(DsrRequest.user_id) == subject.user_id, col(DsrRequest.requester_email) == subject.email)
        )
        .values(requester_email=subject.pseudonym, requester_name="", details="(erased)", user_id=None),
    )


def pseudonymise_audit(*, session: Session, subject: ErasureSubject) -> int:
    return audit.pseudonymise_audit_email(
        session=session, email=subject.email
    ) + audit.pseudonymise_audit_user(session=session, user_id=subject.user_id, pseudonym=subject.pseudonym)


def erase_account(*, session: Session, subject: ErasureSubject) -> int:
    """Last step: legal acceptances and the account row; the tombstone is written by the runner."""
    removed = _delete(session, delete(LegalAcceptance).where(col(LegalAcceptance.user_id) == subject.user_id))
    return removed + _delete(session, delete(User).where(col(User.id) == subject.user_id))
