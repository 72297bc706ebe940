"""A learner with every kind of data the product stores, built through the services (plus the
few rows no service writes yet), and a second learner whose data must survive."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlmodel import SQLModel, col, select

from sayzhong.accounts import password_reset, sign_in, users
from sayzhong.accounts.models import OidcIdentity, OidcLoginState, User
from sayzhong.analytics import attribution
from sayzhong.analytics import service as analytics
from sayzhong.api import tokens
from sayzhong.db import get_engine, session_scope, utcnow
from sayzhong.legal import service as legal
from sayzhong.models import load_all_models
from sayzhong.practice import storage
from sayzhong.practice.models import Attempt, LearnerProfile, ReviewCard, SyllableResult
from sayzhong.privacy import consent, dsr, export
from sayzhong.settings import Settings
from sayzhong.support import chat
from sayzhong.support import service as support
from sayzhong.support.models import HelpFeedback, HelpSearch, HelpSession, NpsResponse, VerdictFeedback

PASSWORD = "learning tones daily"
WEBM = b"\x1a\x45\xdf\xa3" + b"voice-take-bytes" * 32


@dataclass(frozen=True)
class Learner:
    id: int
    email: str
    visitor: str
    data_dir: Path


@pytest.fixture
def app_db(settings: Settings) -> Iterator[Settings]:
    load_all_models()
    SQLModel.metadata.create_all(get_engine())
    yield settings


def populate(settings: Settings, email: str, *, name: str = "Mei Lin") -> Learner:
    """Every kind of personal data: account, sessions, reset token, API token, provider link,
    attempts with stored audio, syllable results, review card, profile with calibration, calibration
    recordings on disk, consent, analytics events, legal acceptances, an export, a DSR, audit rows."""
    visitor = consent.new_visitor_id()
    with session_scope() as session:
        user = users.sign_up(
            session=session, email=email, password=PASSWORD, display_name=name, ip="10.1.1.1"
        )
        row = session.get(User, user.id)
        assert row is not None
        row.email_verified = True
        session.add(row)
        legal.record_sign_up_acceptance(session=session, user_id=user.id)
        consent.record_consent(
            session=session,
            visitor_id=visitor,
            user_id=None,
            analytics=True,
            marketing=False,
            source="banner",
        )
        consent.link_visitor_to_user(session=session, visitor_id=visitor, user_id=user.id)
        analytics.track(
            session=session, user_id=user.id, event="signed_up", properties={"method": "password"}
        )
        attribution.attach_to_account(session=session, user_id=user.id, cookie_header=None)
        tokens.create_token(session=session, user_id=user.id, name="laptop", scopes="practice:read")
        session.add(
            OidcIdentity(user_id=user.id, issuer="http://127.0.0.1:9", subject=f"sub-{user.id}", email=email)
        )
        session.add(
            OidcLoginState(
                state_hash=f"{user.id:064d}",
                nonce="n",
                code_verifier="v",
                redirect_uri="http://127.0.0.1/cb",
                purpose="link",
                link_user_id=user.id,
                expires_at=utcnow(),
            )
        )
        for n in range(3):
            stored = storage.save_take(user_id=user.id, data=WEBM)
            attempt = Attempt(
                user_id=user.id,
                item_id="greetings.hello",
                mode="practice",
                text="你好",
                engine="offline",
                result_json={"RecognitionStatus": "Success", "take": n},
                audio_path=stored.relative_path,
                audio_content_type=stored.content_type,
                audio_bytes=stored.size,
            )
            session.add(attempt)
            session.flush()
            assert attempt.id is not None
            session.add(
                SyllableResult(
                    attempt_id=attempt.id,
                    user_id=user.id,
                    position=0,
                    grapheme="你",
                    pinyin="ni3",
                    expected_tone=2,
                    verdict="correct",
                )
            )
        session.add(ReviewCard(user_id=user.id, item_id="greetings.hello"))
        session.add(
            LearnerProfile(
                user_id=user.id, goal="travel", level="some", speaker_profile_json={"median_st": 14}
            )
        )
        export.request_export(session=session, user_id=user.id)
        dsr.create_request(
            session=session,
            actor=_StaffStub(),
            actor_id=999_999,
            kind="access",
            requester_email=email,
            details=f"Please send my data, {name}",
        )
        uid = user.id
    folder = settings.data_dir / "calibration" / str(uid)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "0.take").write_bytes(WEBM)
    _support_data(uid, email, name)
    _email_data(uid, email)
    _growth_data(uid)
    with session_scope() as session:
        sign_in.authenticate(
            session=session, email=email, password=PASSWORD, ip="10.1.1.2", user_agent="Firefox"
        )
        sign_in.authenticate(
            session=session, email=email, password="wrong password!", ip="10.1.1.3", user_agent="x"
        )
        password_reset.request_password_reset(
            session=session, email=email, app_url="http://127.0.0.1:3000", ip="10.1.1.4"
        )
    export.build_queued_exports(session_factory=session_scope)
    return Learner(id=uid, email=email, visitor=visitor, data_dir=settings.data_dir)


def _email_data(uid: int, email: str) -> None:
    """Reminders (issue 14): opt-ins, a claimed delivery, and a suppression of the address."""
    from datetime import date

    from sayzhong.notifications import preferences
    from sayzhong.notifications.models import EmailDelivery

    with session_scope() as session:
        preferences.update_preferences(
            session=session, user_id=uid, enabled={"daily": True}, reminder_time="07:30"
        )
        session.add(EmailDelivery(user_id=uid, category="daily", local_day=date(2026, 3, 7), status="sent"))
        preferences.suppress(session=session, email=email, reason="bounce", source="webhook", detail="5.1.1")


def _growth_data(uid: int) -> None:
    """Referrals and share cards (issue 14): an invite code, a streak card showing the first name,
    and a (refused) referral row naming the learner on both sides."""
    from sayzhong.growth import referrals
    from sayzhong.growth.models import Referral, ShareCard

    with session_scope() as session:
        referrals.code_for(session=session, user_id=uid, visitor_id=consent.new_visitor_id())
        session.add(
            ShareCard(
                user_id=uid,
                slug=f"share-{uid:08d}",
                kind="streak",
                payload={"streak_days": 3},
                display_name="Mei",
            )
        )
        session.add(
            Referral(referrer_id=uid, referred_id=uid, status="refused", refused_reason="self_referral")
        )


def _support_data(uid: int, email: str, name: str) -> None:
    """Support centre (issue 13): a ticket with an uploaded file and the last take attached (files
    under DATA_DIR/support/<id>/), a live chat, an NPS answer, help feedback, searches and visits."""
    with session_scope() as session:
        support.create_ticket(
            session=session,
            user_id=uid,
            subject=f"Refund for {name}",
            body=f"Please refund me, write to {email}.",
            category="billing",
            attachment=support.UploadedFile("receipt.txt", b"receipt 42"),
            attach_last_take=True,
        )
        room = chat.start_chat(session=session, user_id=uid)
        learner = users.get_user(session=session, user_id=uid)
        chat.post_message(
            session=session,
            chat_id=room.id,
            viewer_id=uid,
            viewer=learner,
            body=f"Hello, I am {name}",
            client_key=f"key-{uid:08d}",
        )
        attempt_id = session.exec(select(Attempt.id).where(col(Attempt.user_id) == uid)).first()
        assert attempt_id is not None
        session.add(
            VerdictFeedback(
                user_id=uid,
                attempt_id=attempt_id,
                position=0,
                item_id="greetings.hello",
                text="你好",
                engine="offline",
                grapheme="你",
                expected_tone=2,
                verdict="correct",
                answer="no_other",
            )
        )
        session.add(NpsResponse(user_id=uid, score=9, comment=f"Great, says {name}"))
        session.add(HelpFeedback(article_slug="four-tones", user_id=uid, helpful=True))
        session.add(HelpSearch(query=f"refund {name}", results=0, user_id=uid))
        session.add(HelpSession(user_id=uid, searches=1, articles_viewed=2))


class _StaffStub:
    role = "support"
    two_factor_enabled = True  # staff act only with two-factor sign-in (issue 9)
