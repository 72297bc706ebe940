"""Referral links: codes, attribution at sign-up, abuse checks and the reward after the first take.

Flow: the invite link `/r/<code>` (sayzhong/http/growth.py) leaves an HttpOnly `sz_ref` cookie and
sends the visitor to sign-up; whoever creates the account (password form or OpenID Connect callback)
calls `attribute_sign_up` with that cookie's value. The referral is stored `pending`, or `refused`
with a reason (self-referral, same device, disposable e-mail domain, monthly cap). When the referred
learner's first take is scored, the practice service calls `reward_after_first_take`, which flips
`pending` → `rewarded` with one conditional UPDATE — only the caller that wins it grants Plus to
both, so retries and races grant once; `referral.referred_id` is unique, so a learner is attributed
once. A reward that failed at the take (its savepoint rolled back, still `pending`) is retried by the
`referral_rewards` job (`retry_pending_rewards`). Services never commit (except that job's loop, one
unit of work per referral).
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path

from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from sayzhong.accounts.access import Role, require_role
from sayzhong.accounts.models import User
from sayzhong.accounts.schemas import UserInfo
from sayzhong.analytics import service as analytics
from sayzhong.audit import record_audit
from sayzhong.db import as_utc, utcnow
from sayzhong.growth import events
from sayzhong.growth.models import Referral, ReferralCode, ShareCard
from sayzhong.privacy.models import ConsentRecord
from sayzhong.settings import Settings, get_settings

log = logging.getLogger(__name__)

REF_COOKIE = "sz_ref"
REF_COOKIE_MAX_AGE = 30 * 24 * 3600
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{8,32}$")
PENDING, REWARDED, REFUSED = "pending", "rewarded", "refused"
REFUSAL_WORDS = {
    "self_referral": "the same person as the inviter",
    "same_device": "signed up from the inviter's own browser",
    "disposable_email": "a throw-away e-mail address",
    "monthly_cap": "over the monthly limit of rewarded invitations",
}
CAP_WINDOW = timedelta(days=30)
DISPOSABLE_FILE = Path(__file__).with_name("disposable_domains.txt")


# --- codes and links -------------------------------------------------------------------------------


def valid_token(value: str | None) -> str | None:
    return value if value and _TOKEN.match(value) else None


def referral_link(code: str, settings: Settings | None = None) -> str:
    from sayzhong import routes

    return (settings or get_settings()).backend_url.rstrip("/") + routes.referral_path(code)


def code_for(*, session: Session, user_id: int, visitor_id: str | None = None) -> str:
    """The learner's invite code (created on first use); remembers the browser they opened it in."""
    row = session.exec(select(ReferralCode).where(ReferralCode.user_id == user_id)).first()
    if row is None:
        row = ReferralCode(user_id=user_id, code=secrets.token_urlsafe(12))
    if visitor_id:
        row.visitor_id = visitor_id
    session.add(row)
    session.flush()
    return row.code


def ref_cookie_value(*, code: str | None = None, share_slug: str | None = None) -> str:
    """`c.<code>` for an invite link, `s.<slug>` for a share page's "try it" link."""
    return f"c.{code}" if code else f"s.{share_slug}"


def ref_from_cookie_header(header: str | None) -> str | None:
    """The `sz_ref` value from a Cookie header. Split by hand: one malformed cookie from another
    app on the same host makes `SimpleCookie` drop the whole header."""
    for part in (header or "").split(";"):
        name, sep, value = part.strip().partition("=")
        if sep and name == REF_COOKIE:
            return value.strip().strip('"')[:80] or None
    return None


# --- abuse checks ----------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def disposable_domains() -> frozenset[str]:
    lines = DISPOSABLE_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(s.strip().lower() for s in lines if s.strip() and not s.strip().startswith("#"))


def is_disposable(email: str) -> bool:
    domain = email.rpartition("@")[2].strip().lower().rstrip(".")
    parts = domain.split(".")
    known = disposable_domains()
    return any(".".join(parts[i:]) in known for i in range(len(parts) - 1))


def canonical_email(email: str) -> str:
    """One mailbox, however it is spelled: lower case, no `+tag`, and no dots for Gmail."""
    local, _, domain = email.strip().lower().rpartition("@")
    local = local.split("+", 1)[0]
    if domain in ("gmail.com", "googlemail.com"):
        local, domain = local.replace(".", ""), "gmail.com"
    return f"{local}@{domain}"


def _referrer_visitors(session: Session, referrer_id: int) -> set[str]:
    ids = set(
        session.exec(select(ConsentRecord.visitor_id).where(ConsentRecord.user_id == referrer_id)).all()
    )
    own = session.exec(select(ReferralCode.visitor_id).where(ReferralCode.user_id == referrer_id)).first()
    if own:
        ids.add(own)
    return {v for v in ids if v}


def _refusal(
    session: Session, *, referrer: User, referred: User, visitor_id: str | None, settings: Settings
) -> str | None:
    assert referrer.id is not None
    if referrer.id == referred.id or canonical_email(referrer.email) == canonical_email(referred.email):
        return "self_referral"
    if visitor_id and visitor_id in _referrer_visitors(session, referrer.id):
        return "same_device"
    if is_disposable(referred.email):
        return "disposable_email"
    since = utcnow() - CAP_WINDOW
    counted = session.exec(
        select(func.count())
        .select_from(Referral)
        .where(
            Referral.referrer_id == referrer.id,
            col(Referral.status).in_((PENDING, REWARDED)),
            col(Referral.created_at) >= since,
        )
    ).one()
    if int(counted) >= settings.referral_monthly_cap:
        return "monthly_cap"
    return None


# --- attribution -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Attribution:
    referral_id: int
    referrer_id: int
    status: str
    reason: str | None
    source: str


def _resolve(session: Session, ref: str) -> tuple[int, str, int | None] | None:
    """(referrer id, source, share id) for a cookie value, or None when it names nothing live."""
    kind, _, token = ref.partition(".")
    if valid_token(token) is None:
        return None
    if kind == "c":
        code = session.exec(select(ReferralCode).where(ReferralCode.code == token)).first()
        return (code.user_id, "link", None) if code else None
    if kind == "s":
        share = session.exec(select(ShareCard).where(ShareCard.slug == token)).first()
        if share is None or share.revoked_at is not None:
            return None
        return share.user_id, "share", share.id
    return None


def attribute_sign_up(
    *,
    session: Session,
    user_id: int,
    ref: str | None,
    visitor_id: str | None = None,
    settings: Settings | None = None,
) -> Attribution | None:
    """Record who invited this new account (None when `ref` names no live invite). A refused
    referral is stored too, with its reason, so staff can see abuse."""
    if not ref:
        return None
    settings = settings or get_settings()
    found = _resolve(session, ref[:80])
    referred = session.get(User, user_id)
    if found is None or referred is None:
        return None
    referrer_id, source, share_id = found
    referrer = session.get(User, referrer_id)
    if referrer is None:
        return None
    reason = _refusal(session, referrer=referrer, referred=referred, visitor_id=visitor_id, settings=settings)
    row = Referral(
        referrer_id=referrer_id,
        referred_id=user_id,
        status=REFUSED if reason else PENDING,
        refused_reason=reason,
        source=source,
        share_id=share_id,
    )
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        # Already attributed (a retried sign-up): the first attribution stands.
        return None
    assert row.id is not None
    analytics.track(
        session=session,
        user_id=user_id,
        event=events.REFERRAL_SIGNED_UP,
        properties={"source": source, "status": row.status, "reason": reason},
    )
    return Attribution(row.id, referrer_id, row.status, reason, source)


# --- reward ----------------------------------------------------------------------------------------


def reward_after_first_take(*, session: Session, user_id: int, settings: Settings | None = None) -> bool:
    """Grant Plus to both sides of this learner's pending referral; True only for the one call that
    does it. Safe to call on every scored take (a no-op without a pending referral)."""
    from sayzhong.billing.service import grant_plus_reward

    settings = settings or get_settings()
    row = session.exec(select(Referral).where(Referral.referred_id == user_id)).first()
    if row is None or row.status != PENDING:
        return False
    now = utcnow()
    won = session.execute(
        update(Referral)
        .where(col(Referral.id) == row.id, col(Referral.status) == PENDING)
        .values(status=REWARDED, rewarded_at=now)
    )
    if int(won.rowcount or 0) != 1:  # type: ignore[attr-defined]
        return False
    days = settings.referral_reward_days
    referrer_grant = grant_plus_reward(
        session=session, user_id=row.referrer_id, days=days, reason=f"Referral reward (referral {row.id})"
    )
    referred_grant = grant_plus_reward(
        session=session, user_id=user_id, days=days, reason=f"Referral welcome (referral {row.id})"
    )
    session.execute(
        update(Referral)
        .where(col(Referral.id) == row.id)
        .values(referrer_grant_id=referrer_grant, referred_grant_id=referred_grant)
    )
    record_audit(
        session=session,
        action="referral.rewarded",
        target=f"user:{row.referrer_id}",
        detail={"referral_id": row.id, "referred": f"user:{user_id}", "days": days},
    )
    for uid, role in ((row.referrer_id, "referrer"), (user_id, "referred")):
        analytics.track(
            session=session,
            user_id=uid,
            event=events.REFERRAL_REWARDED,
            properties={"role": role, "days": days},
        )
    session.expire(row)
    return True


RETRY_BATCH = 500


def rewards_to_retry(*, session: Session, limit: int = RETRY_BATCH) -> list[int]:
    """Referred learners whose referral is still pending although they have scored a take: the
    reward failed at that take (e.g. a billing error rolled its savepoint back), oldest first."""
    from sayzhong.practice.models import LearnerProfile

    return list(
        session.exec(
            select(Referral.referred_id)
            .join(LearnerProfile, col(LearnerProfile.user_id) == col(Referral.referred_id))
            .where(col(Referral.status) == PENDING, col(LearnerProfile.first_attempt_at).is_not(None))
            .order_by(col(Referral.id))
            .limit(limit)
        ).all()
    )


def retry_pending_rewards(
    *,
    session_factory: Callable[[], AbstractContextManager[Session]] | None = None,
    settings: Settings | None = None,
) -> dict[str, int]:
    """Re-attempt each reward left pending after a first scored take, one unit of work each (one
    failing grant never blocks the others). `reward_after_first_take`'s conditional UPDATE keeps it
    exactly once, even racing a take being scored. Run by the `referral_rewards` job."""
    from sayzhong.db import session_scope

    factory = session_factory or session_scope
    with factory() as session:
        due = rewards_to_retry(session=session)
    counts = {"due": len(due), "rewarded": 0, "failed": 0}
    for user_id in due:
        try:
            with factory() as session:
                won = reward_after_first_take(session=session, user_id=user_id, settings=settings)
        except Exception:
            log.exception("referral reward retry failed for user %s (left pending)", user_id)
            counts["failed"] += 1
            continue
        counts["rewarded"] += int(won)
    return counts


# --- views -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InviteRow:
    created_at: datetime
    status: str
    source: str


@dataclass(frozen=True, slots=True)
class InviteSummary:
    link: str
    pending: int
    rewarded: int
    refused: int
    reward_days: int
    invites: list[InviteRow]
    invited_by_status: str | None
    """This learner's own referral: pending (reward after the first take) | rewarded | refused."""


def invite_summary(
    *, session: Session, user_id: int, visitor_id: str | None = None, settings: Settings | None = None
) -> InviteSummary:
    """What the learner's invite page shows. The invited people stay anonymous (date and status)."""
    settings = settings or get_settings()
    code = code_for(session=session, user_id=user_id, visitor_id=visitor_id)
    rows = session.exec(
        select(Referral).where(Referral.referrer_id == user_id).order_by(col(Referral.id).desc())
    ).all()
    own = session.exec(select(Referral).where(Referral.referred_id == user_id)).first()
    return InviteSummary(
        link=referral_link(code, settings),
        pending=sum(r.status == PENDING for r in rows),
        rewarded=sum(r.status == REWARDED for r in rows),
        refused=sum(r.status == REFUSED for r in rows),
        reward_days=settings.referral_reward_days,
        invites=[InviteRow(as_utc(r.created_at), r.status, r.source) for r in rows[:50]],
        invited_by_status=own.status if own else None,
    )


@dataclass(frozen=True, slots=True)
class StaffReferralRow:
    id: int
    created_at: datetime
    referrer_id: int
    referrer_email: str
    referred_id: int
    referred_email: str
    status: str
    reason: str | None
    source: str
    rewarded_at: datetime | None


def staff_referrals(
    *,
    session: Session,
    actor: UserInfo | None,
    status: str | None = None,
    limit: int = 200,
    ip: str | None = None,
) -> list[StaffReferralRow]:
    """Staff (admin or support): recent referrals with both e-mails; each look is audited."""
    require_role(actor, Role.ADMIN, Role.SUPPORT)
    assert actor is not None
    referrer, referred = User.__table__.alias("referrer"), User.__table__.alias("referred")  # type: ignore[attr-defined]
    query = (
        select(Referral, referrer.c.email, referred.c.email)
        .join(referrer, referrer.c.id == col(Referral.referrer_id))
        .join(referred, referred.c.id == col(Referral.referred_id))
    )
    if status in (PENDING, REWARDED, REFUSED):
        query = query.where(Referral.status == status)
    rows = session.exec(query.order_by(col(Referral.id).desc()).limit(max(1, min(limit, 500)))).all()
    record_audit(
        session=session,
        action="referral.staff_viewed",
        actor_id=actor.id,
        ip=ip,
        detail={"status": status or ""},
    )
    out = []
    for row, referrer_email, referred_email in rows:
        assert row.id is not None
        out.append(
            StaffReferralRow(
                id=row.id,
                created_at=as_utc(row.created_at),
                referrer_id=row.referrer_id,
                referrer_email=referrer_email,
                referred_id=row.referred_id,
                referred_email=referred_email,
                status=row.status,
                reason=row.refused_reason,
                source=row.source,
                rewarded_at=as_utc(row.rewarded_at) if row.rewarded_at else None,
            )
        )
    return out
