"""Share cards: a learner publishes one result (phrase, score, pitch contour) or their streak.

The card is a snapshot (`share_card.payload`) taken when it is created, holding only what the card
shows — never the e-mail, the recording or the account id; the first name only when the learner
ticks it. It lives at an unguessable slug until the learner revokes it (then: 404 everywhere).
The public page and the PNG are served by sayzhong/http/growth.py; the picture by `render.py`.
Services never commit.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from sayzhong import routes
from sayzhong.accounts.models import User
from sayzhong.analytics import service as analytics
from sayzhong.curriculum.pinyin import with_tone_marks
from sayzhong.db import as_utc, utcnow
from sayzhong.errors import NotFoundError, ValidationError
from sayzhong.growth import events
from sayzhong.growth.models import Referral, ShareCard
from sayzhong.growth.referrals import valid_token
from sayzhong.practice import progress
from sayzhong.practice.models import Attempt
from sayzhong.practice.results import parse_result
from sayzhong.settings import Settings, get_settings

RESULT, STREAK = "result", "streak"
MAX_CONTOUR_POINTS = 40
"""Per syllable and per line; enough for the picture, small enough for the row."""
MAX_ACTIVE_SHARES = 200


@dataclass(frozen=True, slots=True)
class ShareView:
    slug: str
    kind: str
    payload: dict[str, Any]
    display_name: str | None
    created_at: datetime
    revoked: bool
    visits: int
    sign_ups: int

    @property
    def title(self) -> str:
        if self.kind == STREAK:
            return f"{self.payload.get('streak_days', 0)}-day streak on SayZhong"
        return f"{self.payload.get('hanzi', '')} — {self.payload.get('score', 0)}/100 on SayZhong"


def first_name(display_name: str) -> str | None:
    name = display_name.strip().split(" ")[0][:40] if display_name.strip() else ""
    return name or None


def _thin(values: tuple[float, ...]) -> list[float | None]:
    """At most MAX_CONTOUR_POINTS values, evenly picked; non-finite values become gaps."""
    picked = list(values)
    if len(picked) > MAX_CONTOUR_POINTS:
        step = (len(picked) - 1) / (MAX_CONTOUR_POINTS - 1)
        picked = [picked[round(i * step)] for i in range(MAX_CONTOUR_POINTS)]
    return [
        round(v, 2) if isinstance(v, int | float) and v == v and abs(v) != float("inf") else None
        for v in picked
    ]


def result_payload(row: Attempt) -> dict[str, Any]:
    parsed = parse_result(row.result_json)
    if not parsed.counted or not parsed.syllables:
        raise ValidationError(
            "Only a scored take of the phrase can be shared — try the phrase again first.",
            code="share_not_scored",
        )
    return {
        "hanzi": "".join(s.grapheme for s in parsed.syllables)[:60],
        "pinyin": with_tone_marks(" ".join(s.pinyin for s in parsed.syllables))[:200],
        "score": round(parsed.pron),
        "tone_score": round(parsed.tone) if parsed.tone is not None else None,
        "syllables": [
            {
                "hanzi": s.grapheme[:4],
                "pinyin": with_tone_marks(s.pinyin)[:12],
                "verdict": s.verdict,
                "learner": _thin(s.learner_contour),
                "target": _thin(s.target_contour),
            }
            for s in parsed.syllables[:16]
        ],
    }


def _create(
    session: Session,
    *,
    user: User,
    kind: str,
    payload: dict[str, Any],
    attempt_id: int | None,
    show_name: bool,
) -> ShareView:
    assert user.id is not None
    active = session.exec(
        select(ShareCard.id).where(ShareCard.user_id == user.id, col(ShareCard.revoked_at).is_(None))
    ).all()
    if len(active) >= MAX_ACTIVE_SHARES:
        raise ValidationError(
            f"You have {MAX_ACTIVE_SHARES} live share links; revoke some before sharing more.",
            code="share_limit",
        )
    row = ShareCard(
        user_id=user.id,
        slug=secrets.token_urlsafe(12),
        kind=kind,
        attempt_id=attempt_id,
        payload=payload,
        display_name=first_name(user.display_name) if show_name else None,
    )
    session.add(row)
    session.flush()
    analytics.track(
        session=session,
        user_id=user.id,
        event=events.SHARE_CREATED,
        properties={"kind": kind, "signed": row.display_name is not None},
    )
    return _view(row, 0)


def share_result(*, session: Session, user_id: int, attempt_id: int, show_name: bool = False) -> ShareView:
    """Publish one of the learner's scored takes (another learner's take: NotFoundError)."""
    user = session.get(User, user_id)
    row = session.get(Attempt, attempt_id)
    if user is None or row is None or row.user_id != user_id:
        raise NotFoundError("That take does not exist.", code="attempt_not_found")
    return _create(
        session,
        user=user,
        kind=RESULT,
        payload=result_payload(row),
        attempt_id=attempt_id,
        show_name=show_name,
    )


def latest_shareable_attempt(*, session: Session, user_id: int) -> int | None:
    rows = session.exec(
        select(Attempt)
        .where(Attempt.user_id == user_id, col(Attempt.mode).not_in(("calibration", "placement")))
        .order_by(col(Attempt.id).desc())
        .limit(20)
    ).all()
    for row in rows:
        parsed = parse_result(row.result_json)
        if parsed.counted and parsed.syllables:
            return row.id
    return None


def share_streak(*, session: Session, user_id: int, show_name: bool = False) -> ShareView:
    user = session.get(User, user_id)
    if user is None:
        raise NotFoundError("That account does not exist.", code="user_not_found")
    profile = progress.get_profile(session, user_id)
    today = progress.local_date(utcnow(), progress.zone(user.timezone))
    streak = progress.current_streak(profile, today)
    if streak < 1:
        raise ValidationError("Practise today to start a streak you can share.", code="share_no_streak")
    payload = {
        "streak_days": streak,
        "longest_days": profile.longest_streak_days if profile else streak,
        "xp_total": profile.xp_total if profile else 0,
    }
    return _create(session, user=user, kind=STREAK, payload=payload, attempt_id=None, show_name=show_name)


def _view(row: ShareCard, sign_ups: int) -> ShareView:
    return ShareView(
        slug=row.slug,
        kind=row.kind,
        payload=dict(row.payload),
        display_name=row.display_name,
        created_at=as_utc(row.created_at),
        revoked=row.revoked_at is not None,
        visits=row.visits,
        sign_ups=sign_ups,
    )


def _live(session: Session, slug: str) -> ShareCard:
    token = valid_token(slug)
    row = session.exec(select(ShareCard).where(ShareCard.slug == token)).first() if token else None
    if row is None or row.revoked_at is not None:
        raise NotFoundError(
            "This shared result is not available (it may have been removed).", code="share_not_found"
        )
    return row


def public_share(*, session: Session, slug: str) -> ShareView:
    """A live share for the public page and its image; revoked or unknown → NotFoundError."""
    return _view(_live(session, slug), 0)


def record_visit(*, session: Session, slug: str, visitor_id: str | None) -> ShareView:
    """Count one public page view (and send `share_visited` for a visitor with a consent cookie)."""
    row = _live(session, slug)
    session.execute(update(ShareCard).where(col(ShareCard.id) == row.id).values(visits=ShareCard.visits + 1))
    if visitor_id:
        analytics.track(
            session=session,
            user_id=None,
            anonymous_id=visitor_id,
            event=events.SHARE_VISITED,
            properties={"kind": row.kind},
        )
    session.refresh(row)
    return _view(row, 0)


def revoke_share(*, session: Session, user_id: int, slug: str) -> None:
    token = valid_token(slug)
    row = session.exec(select(ShareCard).where(ShareCard.slug == token)).first() if token else None
    if row is None or row.user_id != user_id or row.revoked_at is not None:
        raise NotFoundError("That share link does not exist or was already removed.", code="share_not_found")
    row.revoked_at = utcnow()
    session.add(row)
    session.flush()


def list_shares(*, session: Session, user_id: int, limit: int = 50) -> list[ShareView]:
    """The learner's live shares, newest first, with the sign-ups each brought."""
    rows = session.exec(
        select(ShareCard)
        .where(ShareCard.user_id == user_id, col(ShareCard.revoked_at).is_(None))
        .order_by(col(ShareCard.id).desc())
        .limit(limit)
    ).all()
    ids = [r.id for r in rows]
    counts: dict[int, int] = {}
    if ids:
        for share_id in session.exec(select(Referral.share_id).where(col(Referral.share_id).in_(ids))).all():
            if share_id is not None:
                counts[share_id] = counts.get(share_id, 0) + 1
    return [_view(r, counts.get(r.id or 0, 0)) for r in rows]


def share_url(slug: str, settings: Settings | None = None) -> str:
    return (settings or get_settings()).backend_url.rstrip("/") + routes.share_path(slug)


def share_image_url(slug: str, settings: Settings | None = None) -> str:
    return (settings or get_settings()).backend_url.rstrip("/") + routes.share_image_path(slug)
