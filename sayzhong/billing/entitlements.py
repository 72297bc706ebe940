"""The one entitlement check: what a learner's plan lets them do right now.

Pages, the browser upload route, the JSON API and (through the API) the terminal client all ask
here — never a UI-only gate. Free: the first FREE_UNIT_COUNT units (and their dialogues), tone
drills, review and a daily number of *scored* takes that resets at the learner's local midnight.
Plus (an entitled subscription or a staff grant): every unit and dialogue, unlimited takes.

When a limit is reached the take is kept (`guard_take` stores it as a held take) and the error says
what the limit is, when it resets and where to upgrade.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast
from zoneinfo import ZoneInfo

from sqlalchemy import BindParameter, ColumnElement, and_, bindparam, case, exists, func, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from sayzhong import routes
from sayzhong.accounts.models import User
from sayzhong.accounts.sessions import PageReads
from sayzhong.billing.models import BillingDailyUsage, BillingGrant, BillingHeldTake, BillingSubscription
from sayzhong.curriculum import service as curriculum
from sayzhong.db import as_utc, session_scope, utcnow
from sayzhong.errors import NotFoundError, SayZhongError
from sayzhong.practice.models import Attempt
from sayzhong.settings import Settings, get_settings

FREE, PLUS = "free", "plus"
ENTITLED_STATUSES = frozenset({"trialing", "active", "past_due"})
"""past_due is the dunning grace period: still Plus, with a banner, while Stripe retries."""
UNLIMITED_MODES = frozenset({"calibration", "placement"})
"""Onboarding takes (mic check, placement) are never counted nor refused."""


class EntitlementError(SayZhongError):
    """A plan limit. 402 Payment Required, with the limit, the reset time and the upgrade path."""

    http_status = 402
    code = "plan_required"

    def __init__(
        self,
        user_message: str,
        *,
        code: str | None = None,
        limit: int | None = None,
        resets_at: datetime | None = None,
        held_take_id: int | None = None,
    ) -> None:
        super().__init__(user_message, code=code)
        self.limit = limit
        self.resets_at = resets_at
        self.held_take_id = held_take_id
        self.upgrade_path = routes.PRICING


class PlanRequiredError(EntitlementError):
    """A lesson (or feature) that needs Plus."""

    code = "plan_required"


class DailyLimitError(EntitlementError):
    """The Free plan's scored takes for today are used up; the take is held, not lost."""

    code = "daily_limit"


@dataclass(frozen=True, slots=True)
class Entitlement:
    plan: str
    """free | plus"""
    source: str
    """free | subscription | grant"""
    status: str | None
    """The subscription's effective status when the plan comes from one."""
    daily_limit: int | None
    """None = unlimited."""
    takes_today: int
    resets_at: datetime
    """Next local midnight of the learner, in UTC."""
    grace: bool
    """past_due: payment failed, Stripe is retrying; Plus continues with a banner."""
    grant_ends_at: datetime | None = None

    @property
    def unlimited(self) -> bool:
        return self.daily_limit is None

    @property
    def takes_left(self) -> int | None:
        return None if self.daily_limit is None else max(0, self.daily_limit - self.takes_today)


def effective_status(row: BillingSubscription, now: datetime) -> str:
    """Stripe's status, except a trial localstripe reports as `incomplete` (it never says `trialing`):
    a trial end in the future with no invoice yet is a trial on either server."""
    trial_end = as_utc(row.trial_end) if row.trial_end else None
    if row.status == "incomplete" and trial_end and trial_end > now and not row.latest_invoice_id:
        return "trialing"
    return row.status


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError):
        return ZoneInfo("UTC")


def local_day_bounds(tz_name: str, now: datetime) -> tuple[datetime, datetime]:
    """(start, end) of the learner's current local day, in UTC."""
    zone = _zone(tz_name)
    local = now.astimezone(zone)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    end = (start + timedelta(days=1)).replace(tzinfo=None).replace(tzinfo=zone)  # wall-clock midnight (DST)
    return start.astimezone(ZoneInfo("UTC")), end.astimezone(ZoneInfo("UTC"))


def _scored_takes_query(user_id: int, start: datetime, end: datetime) -> SelectOfScalar[int]:
    return (
        select(func.count())
        .select_from(Attempt)
        .where(
            col(Attempt.user_id) == user_id,
            col(Attempt.created_at) >= start,
            col(Attempt.created_at) < end,
            col(Attempt.mode).not_in(tuple(UNLIMITED_MODES)),
        )
    )


def scored_takes_between(session: Session, user_id: int, start: datetime, end: datetime) -> int:
    return int(session.exec(_scored_takes_query(user_id, start, end)).one())


def active_subscription(
    session: Session, user_id: int, now: datetime
) -> tuple[BillingSubscription, str] | None:
    rows = session.exec(
        select(BillingSubscription)
        .where(BillingSubscription.user_id == user_id)
        .order_by(col(BillingSubscription.id).desc())
    ).all()
    for row in rows:
        status = effective_status(row, now)
        if status in ENTITLED_STATUSES:
            return row, status
    return None


def active_grant(session: Session, user_id: int, now: datetime) -> BillingGrant | None:
    rows = session.exec(
        select(BillingGrant).where(BillingGrant.user_id == user_id, col(BillingGrant.revoked_at).is_(None))
    ).all()
    live = [g for g in rows if as_utc(g.starts_at) <= now < as_utc(g.ends_at)]
    return max(live, key=lambda g: as_utc(g.ends_at)) if live else None


def plus_column(user_id: ColumnElement[int]) -> ColumnElement[bool]:
    """Whether the learner `user_id` names (a bind parameter, or `User.id` in a statement that
    reads the account) has Plus at the bound `now` — `has_plus` as one column, so a page's guard
    reads it in its session lookup (issue 16: the lesson pages, one statement per load). Bound with
    `plus_params`; `tests/integration/billing/test_plus_column.py` holds it to `has_plus`."""
    now: BindParameter[datetime] = bindparam("now")
    trial = and_(
        col(BillingSubscription.status) == "incomplete",
        col(BillingSubscription.trial_end) > now,
        or_(
            col(BillingSubscription.latest_invoice_id).is_(None),
            col(BillingSubscription.latest_invoice_id) == "",
        ),
    )
    subscribed = exists().where(
        col(BillingSubscription.user_id) == user_id,
        or_(col(BillingSubscription.status).in_(sorted(ENTITLED_STATUSES)), trial),  # `effective_status`
    )
    granted = exists().where(
        col(BillingGrant.user_id) == user_id,
        col(BillingGrant.revoked_at).is_(None),
        col(BillingGrant.starts_at) <= now,
        col(BillingGrant.ends_at) > now,
    )
    return or_(subscribed, granted).label("plus")


PLUS_READS = PageReads(columns=(plus_column(cast(ColumnElement[int], col(User.id))),))
"""`plus_column` for the signed-in account, read in the page guard's session lookup (bound with
`plus_params`): a lesson page's load is one statement."""


def plus_params(now: datetime) -> dict[str, datetime]:
    """The values `plus_column` is bound with, for a read at `now`."""
    return {"now": now}


def locked_units_for(plus: bool, settings: Settings | None = None) -> frozenset[str]:
    """The units a plan without Plus does not include (none with Plus)."""
    if plus:
        return frozenset()
    free = free_unit_ids(settings or get_settings())
    return frozenset(u.id for u in curriculum.list_units() if u.id not in free)


def entitlement_for(
    *, session: Session, user_id: int, now: datetime | None = None, settings: Settings | None = None
) -> Entitlement:
    settings = settings or get_settings()
    now = now or utcnow()
    user = session.get(User, user_id)
    if user is None:
        raise NotFoundError("That account does not exist.", code="user_not_found")
    start, end = local_day_bounds(user.timezone, now)
    takes = scored_takes_between(session, user_id, start, end)
    sub = active_subscription(session, user_id, now)
    if sub is not None:
        return Entitlement(PLUS, "subscription", sub[1], None, takes, end, grace=sub[1] == "past_due")
    grant = active_grant(session, user_id, now)
    if grant is not None:
        return Entitlement(
            PLUS, "grant", None, None, takes, end, grace=False, grant_ends_at=as_utc(grant.ends_at)
        )
    return Entitlement(FREE, FREE, None, settings.free_daily_scored_takes, takes, end, grace=False)


def free_unit_ids(settings: Settings | None = None) -> frozenset[str]:
    count = (settings or get_settings()).free_unit_count
    return frozenset(u.id for u in sorted(curriculum.list_units(), key=lambda u: u.order)[:count])


def _locked_unit_message(title: str, settings: Settings) -> str:
    return (
        f"“{title}” is part of SayZhong Plus. Free includes the first {settings.free_unit_count} lessons, "
        f"tone drills and review. See the plans at {routes.PRICING}."
    )


def locked_unit_message(unit_id: str, settings: Settings | None = None) -> str:
    return _locked_unit_message(curriculum.get_unit(unit_id).title, settings or get_settings())


def require_unit(*, session: Session, user_id: int, unit_id: str, settings: Settings | None = None) -> None:
    """EntitlementError (plan_required) when the unit is not in the learner's plan."""
    settings = settings or get_settings()
    unit = curriculum.get_unit(unit_id)
    if unit.id in free_unit_ids(settings):
        return
    if entitlement_for(session=session, user_id=user_id, settings=settings).plan == PLUS:
        return
    raise PlanRequiredError(_locked_unit_message(unit.title, settings))


def locked_unit_ids(*, session: Session, user_id: int, settings: Settings | None = None) -> frozenset[str]:
    """Units this learner's plan does not include (for pages that mark them)."""
    return locked_units_for(has_plus(session=session, user_id=user_id), settings)


def terminal_client_message(settings: Settings | None = None) -> str:
    settings = settings or get_settings()
    return (
        "The terminal client (and the API it uses) is part of SayZhong Plus. Free includes the first "
        f"{settings.free_unit_count} lessons, tone drills and review in the browser. "
        f"See the plans at {settings.app_url.rstrip('/')}{routes.PRICING}."
    )


def has_plus(*, session: Session, user_id: int, now: datetime | None = None) -> bool:
    """Whether the learner has Plus now (a live subscription or grant) — `entitlement_for`'s plan
    without the day's take count. The terminal client (and the API it uses) needs it: every
    token-authenticated API operation but `GET /me` checks it (`sayzhong.api.operations`)."""
    now = now or utcnow()
    subscribed = active_subscription(session, user_id, now) is not None
    return subscribed or active_grant(session, user_id, now) is not None


def require_unit_access(user_id: int, unit_id: str) -> None:
    """`require_unit` in its own unit of work (for routes running it in a worker thread)."""
    with session_scope() as session:
        require_unit(session=session, user_id=user_id, unit_id=unit_id)


def require_item(
    *, session: Session, user_id: int, item_id: str, mode: str = "practice", settings: Settings | None = None
) -> None:
    """The unit an item belongs to (a dialogue's unit for its lines) must be in the plan; drills,
    review of them and onboarding takes are free."""
    settings = settings or get_settings()
    item = curriculum.get_item(item_id)
    if item.kind == "drill" or mode in UNLIMITED_MODES:
        return
    if item.kind == "phrase":
        unit_id = curriculum.unit_of_phrase(item.id).id
    else:  # a dialogue line, `<dialogue id>.<line id>`: the dialogue's unit decides
        unit_id = curriculum.get_dialogue(item.id.split(".", 1)[0]).unit
    require_unit(session=session, user_id=user_id, unit_id=unit_id, settings=settings)


def _in_words(delta: timedelta) -> str:
    minutes = max(1, int(delta.total_seconds() // 60))
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


def daily_limit_message(ent: Entitlement, tz_name: str, now: datetime) -> str:
    reset_local = ent.resets_at.astimezone(_zone(tz_name)).strftime("%H:%M")
    return (
        f"You have used today's {ent.daily_limit} scored takes on Free. Your take is saved and will be "
        f"scored after the limit resets at {reset_local} your time (in {_in_words(ent.resets_at - now)}). "
        f"With Plus, takes are unlimited — see the plans at {routes.PRICING}."
    )


def check_take(
    *,
    session: Session,
    user_id: int,
    item_id: str,
    mode: str,
    now: datetime | None = None,
    settings: Settings | None = None,
    claim: bool = False,
) -> Entitlement:
    """Raise EntitlementError if this take may not be scored now (locked item or daily limit reached).

    With ``claim=True`` a Free take also claims one of today's scored takes atomically
    (`claim_scored_take`): of two uploads racing for the last take, one is refused.
    """
    settings = settings or get_settings()
    now = now or utcnow()
    require_item(session=session, user_id=user_id, item_id=item_id, mode=mode, settings=settings)
    ent = entitlement_for(session=session, user_id=user_id, now=now, settings=settings)
    if mode in UNLIMITED_MODES or ent.daily_limit is None:
        return ent
    user = session.get(User, user_id)
    tz_name = user.timezone if user else "UTC"
    if claim:
        allowed = claim_scored_take(
            session=session, user_id=user_id, tz_name=tz_name, limit=ent.daily_limit, now=now
        )
    else:
        allowed = ent.takes_today < ent.daily_limit
    if allowed:
        return ent
    raise DailyLimitError(
        daily_limit_message(ent, tz_name, now),
        limit=ent.daily_limit,
        resets_at=ent.resets_at,
    )


def local_day(tz_name: str, now: datetime) -> str:
    """The learner's local date, the key of their daily-usage row."""
    return now.astimezone(_zone(tz_name)).date().isoformat()


def claim_scored_take(*, session: Session, user_id: int, tz_name: str, limit: int, now: datetime) -> bool:
    """Claim one of today's Free scored takes; False when none is left.

    One conditional UPDATE on the learner's row for their local day: the database serialises
    concurrent claims on that row (PostgreSQL row lock re-checking the WHERE; SQLite's single
    writer), so at most ``limit`` claims succeed. The count starts from the scored takes already
    stored today (takes scored before the row existed, or by paths that bypass the claim).
    """
    day = local_day(tz_name, now)
    if (
        session.exec(
            select(BillingDailyUsage.id).where(
                BillingDailyUsage.user_id == user_id, BillingDailyUsage.day == day
            )
        ).first()
        is None
    ):
        try:
            with session.begin_nested():
                session.add(BillingDailyUsage(user_id=user_id, day=day, scored=0))
        except IntegrityError:
            pass  # a concurrent upload created today's row first
    start, end = local_day_bounds(tz_name, now)
    stored = _scored_takes_query(user_id, start, end).scalar_subquery()
    scored = col(BillingDailyUsage.scored)
    used = case((scored >= stored, scored), else_=stored)
    result = session.execute(
        update(BillingDailyUsage)
        .where(col(BillingDailyUsage.user_id) == user_id, col(BillingDailyUsage.day) == day, used < limit)
        .values(scored=used + 1)
    )
    return bool(getattr(result, "rowcount", 0))


def release_scored_take(*, user_id: int, day: str) -> None:
    """Give back a claimed take whose scoring failed (bad audio, engine error): it was never scored."""
    with session_scope() as session:
        session.execute(
            update(BillingDailyUsage)
            .where(
                col(BillingDailyUsage.user_id) == user_id,
                col(BillingDailyUsage.day) == day,
                col(BillingDailyUsage.scored) > 0,
            )
            .values(scored=col(BillingDailyUsage.scored) - 1)
        )


def _received(session: Session, user_id: int, key: str) -> tuple[bool, int | None]:
    """(an attempt was already scored under this key, id of a take already held under it)."""
    attempt = session.exec(
        select(Attempt.id).where(Attempt.user_id == user_id, Attempt.idempotency_key == key)
    ).first()
    held = session.exec(
        select(BillingHeldTake.id).where(
            BillingHeldTake.user_id == user_id, BillingHeldTake.idempotency_key == key
        )
    ).first()
    return attempt is not None, held


def held_dir(user_id: int) -> str:
    return str(get_settings().data_dir / "held" / str(int(user_id)))


def scoring_engine(ent: Entitlement) -> str:
    """Plus is scored with Azure when the server has it ("auto"); Free by the offline engine."""
    return "auto" if ent.plan == PLUS else "offline"


@dataclass(frozen=True, slots=True)
class TakeClearance:
    """What `guard_take` allows: the engine, and the local day a Free take claimed (None: nothing claimed)."""

    engine: str
    user_id: int
    claimed_day: str | None = None

    @contextmanager
    def released_on_error(self) -> Iterator[None]:
        """Wrap the scoring: if it fails, the claimed take is given back (it was never scored)."""
        try:
            yield
        except BaseException:
            if self.claimed_day is not None:
                release_scored_take(user_id=self.user_id, day=self.claimed_day)
            raise


def guard_take(
    *,
    user_id: int,
    item_id: str,
    mode: str,
    audio: bytes,
    content_type: str,
    idempotency_key: str | None = None,
) -> TakeClearance:
    """For upload routes (one call before scoring): the engine the plan allows ("auto" = Azure when
    configured, else "offline") with the claimed Free take, or keep the take and raise EntitlementError.
    Score inside `clearance.released_on_error()` so a failed scoring gives the claimed take back.

    A take refused by the daily limit is stored as a held take (scored later by `score_held_takes`);
    a take for a locked unit is refused before anything is stored (it could never be scored on Free).
    """
    from pathlib import Path

    with session_scope() as session:
        scored, held_id = _received(session, user_id, idempotency_key) if idempotency_key else (False, None)
        if scored:
            return TakeClearance("auto", user_id)  # a re-sent take: scoring replays the stored attempt
        try:
            now = utcnow()
            ent = check_take(
                session=session, user_id=user_id, item_id=item_id, mode=mode, now=now, claim=True
            )
            counted = ent.daily_limit is not None and mode not in UNLIMITED_MODES
            user = session.get(User, user_id) if counted else None
            day = local_day(user.timezone if user else "UTC", now) if counted else None
            session.commit()  # the claim is visible to (and serialises) concurrent uploads from here
            return TakeClearance(scoring_engine(ent), user_id, day)
        except EntitlementError as exc:
            if exc.code != "daily_limit":
                raise
            if held_id is not None:  # re-sent while limited: it is held already, keep one copy
                exc.held_take_id = held_id
                raise
            folder = Path(held_dir(user_id))
            folder.mkdir(parents=True, exist_ok=True)
            name = f"{uuid.uuid4().hex}.take"
            (folder / name).write_bytes(audio)
            row = BillingHeldTake(
                user_id=user_id,
                item_id=item_id[:200],
                mode=mode[:20],
                audio_path=f"{user_id}/{name}",
                content_type=content_type[:64],
                reason="daily_limit",
                idempotency_key=idempotency_key,
            )
            session.add(row)
            session.flush()
            exc.held_take_id = row.id
            error = exc
        session.commit()
    raise error
