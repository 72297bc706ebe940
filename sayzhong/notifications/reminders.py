"""Practice reminders, streak-at-risk reminders and the weekly progress summary (issue 14).

`run_reminders` is what the `reminders` job calls every few minutes. For each learner who opted in
to a category, has a verified address that is not suppressed, and whose account is neither
deactivated nor waiting for erasure, it asks whether a message is due *now* in the learner's own
time zone (`user_account.timezone`):

- daily: from the chosen reminder time until `DAILY_WINDOW` after it, unless they practised today;
- streak: from `STREAK_FROM` until local midnight, when a streak of `STREAK_MIN_DAYS` or more
  would end at midnight (practised yesterday, not today);
- weekly: on Mondays from the reminder time until midnight, summarising the seven days before.

Local wall-clock times become UTC instants with zoneinfo, so a learner at 08:00 gets the reminder at
08:00 on both sides of a daylight-saving change. A send is claimed first: an `email_delivery` row
(unique per learner, category and local day — the Monday for the weekly summary) is committed
before the message goes out, so a restarted or concurrently running job finds it taken and sends
nothing twice. A failed send releases its claim for the next run to retry; a run that dies after
sending keeps it (at most once, never twice).
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, or_
from sqlalchemy import select as sa_select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from sayzhong.accounts.models import User
from sayzhong.db import as_utc, session_scope, utcnow
from sayzhong.notifications.models import EmailDelivery, EmailPreference, ProductNewsDelivery
from sayzhong.notifications.ports import EmailAttachment, EmailMessageData, Mailer
from sayzhong.notifications.preferences import (
    CATEGORIES,
    list_unsubscribe_headers,
    parse_reminder_time,
    preferences_url,
    suppressed_addresses,
    unsubscribe_url,
)
from sayzhong.practice.models import Attempt, LearnerProfile
from sayzhong.practice.progress import current_streak, zone
from sayzhong.settings import Settings, get_settings

log = logging.getLogger(__name__)

SessionFactory = Callable[[], AbstractContextManager[Session]]
MailerFactory = Callable[[Session], Mailer]

DAILY_WINDOW = timedelta(hours=2)
"""How long after the chosen time a daily reminder may still go (a job down for a while catches up;
a learner who moves their time earlier in the evening is not reminded of the morning)."""
STREAK_FROM = time(21, 0)
STREAK_MIN_DAYS = 3
WEEKLY_WEEKDAY = 0  # Monday
CLAIM_RETENTION = timedelta(days=60)
REMINDER_CATEGORIES = ("daily", "streak", "weekly")


# --- when is something due (pure) ------------------------------------------------------------------


def local_instant(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The UTC instant of wall-clock `at` on `day` in `tz`. A time skipped by a spring-forward change
    (02:30 in New York on its change day) maps to the instant an hour later on the clock (03:30);
    a repeated time in autumn to its first occurrence."""
    return datetime.combine(day, at, tzinfo=tz).astimezone(ZoneInfo("UTC"))


def _next_midnight(day: date, tz: ZoneInfo) -> datetime:
    return local_instant(day + timedelta(days=1), time(0, 0), tz)


def daily_due(now: datetime, tz: ZoneInfo, reminder: time) -> date | None:
    """The local day whose daily reminder is due at `now`, or None."""
    now = as_utc(now)
    today = now.astimezone(tz).date()
    for day in (today, today - timedelta(days=1)):  # a late-evening time's window may cross midnight
        start = local_instant(day, reminder, tz)
        if start <= now < start + DAILY_WINDOW:
            return day
    return None


def streak_due(now: datetime, tz: ZoneInfo) -> date | None:
    """The local day whose streak-at-risk window (STREAK_FROM until midnight) contains `now`."""
    now = as_utc(now)
    today = now.astimezone(tz).date()
    if local_instant(today, STREAK_FROM, tz) <= now < _next_midnight(today, tz):
        return today
    return None


def weekly_due(now: datetime, tz: ZoneInfo, reminder: time) -> date | None:
    """The Monday whose summary is due at `now` (from the reminder time until that day ends)."""
    now = as_utc(now)
    today = now.astimezone(tz).date()
    if today.weekday() != WEEKLY_WEEKDAY:
        return None
    if local_instant(today, reminder, tz) <= now < _next_midnight(today, tz):
        return today
    return None


# --- who ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Recipient:
    user_id: int
    email: str
    display_name: str
    timezone: str
    reminder_time: time
    categories: frozenset[str]
    streak_days: int
    last_practice_date: date | None
    longest_streak_days: int


def eligible_recipients(
    *, session: Session, categories: tuple[str, ...] = REMINDER_CATEGORIES
) -> list[Recipient]:
    """Learners who may get non-transactional mail now: opted in to one of `categories`, verified,
    active, not waiting for erasure, address not suppressed."""
    from sayzhong.privacy.models import ErasureRequest

    pending = set(
        session.exec(
            select(ErasureRequest.user_id).where(col(ErasureRequest.status).in_(("pending", "erasing")))
        ).all()
    )
    suppressed = suppressed_addresses(session=session)
    any_opt_in = or_(*(col(getattr(EmailPreference, CATEGORIES[key].field)).is_(True) for key in categories))
    # Plain columns, one query (a tick reads every opted-in learner; ORM objects cost 10x more).
    rows = session.execute(
        sa_select(
            col(User.id),
            col(User.email),
            col(User.display_name),
            col(User.timezone),
            col(EmailPreference.reminder_time),
            *(col(getattr(EmailPreference, c.field)) for c in CATEGORIES.values()),
            col(LearnerProfile.streak_days),
            col(LearnerProfile.last_practice_date),
            col(LearnerProfile.longest_streak_days),
        )
        .join(EmailPreference, col(EmailPreference.user_id) == col(User.id))
        .outerjoin(LearnerProfile, col(LearnerProfile.user_id) == col(User.id))
        .where(any_opt_in, col(User.email_verified).is_(True), col(User.deactivated_at).is_(None))
        .order_by(col(User.id))
    ).all()
    out = []
    for user_id, email, name, tz, at, *flags, streak, last_day, longest in rows:
        if user_id in pending or email.lower() in suppressed:
            continue
        out.append(
            Recipient(
                user_id=user_id,
                email=email,
                display_name=name,
                timezone=tz,
                reminder_time=parse_reminder_time(at),
                categories=frozenset(k for k, on in zip(CATEGORIES, flags, strict=True) if on),
                streak_days=streak or 0,
                last_practice_date=last_day,
                longest_streak_days=longest or 0,
            )
        )
    return out


# --- what --------------------------------------------------------------------------------------------


def _footer(settings: Settings, r: Recipient, category: str) -> tuple[str, str]:
    prefs = preferences_url(user_id=r.user_id, settings=settings)
    unsub = unsubscribe_url(user_id=r.user_id, category=category, settings=settings)
    label = CATEGORIES[category].label.lower()
    text = (
        f"\n--\nYou get this because you turned on: {label}.\n"
        f"Unsubscribe from these: {unsub}\nAll e-mail settings: {prefs}\n"
    )
    markup = (
        '<hr><p style="color:#555;font-size:13px">You get this because you turned on: '
        f"{html.escape(label)}. "
        f'<a href="{html.escape(unsub)}">Unsubscribe from these</a> · '
        f'<a href="{html.escape(prefs)}">All e-mail settings</a></p>'
    )
    return text, markup


def _message(
    settings: Settings,
    r: Recipient,
    category: str,
    *,
    subject: str,
    text: str,
    markup: str,
    images: tuple[EmailAttachment, ...] = (),
) -> EmailMessageData:
    foot_text, foot_html = _footer(settings, r, category)
    return EmailMessageData(
        to=r.email,
        subject=subject,
        text_body=text + foot_text,
        html_body=f'<div style="font-family:sans-serif;max-width:600px">{markup}{foot_html}</div>',
        headers=list_unsubscribe_headers(user_id=r.user_id, category=category, settings=settings),
        attachments=images,
    )


def daily_message(settings: Settings, r: Recipient, today: date) -> EmailMessageData:
    home = settings.app_url.rstrip("/") + "/home"
    streak = current_streak_days(r, today)
    streak_line = f"You are on a {streak}-day streak. " if streak >= 2 else ""
    name = r.display_name
    return _message(
        settings,
        r,
        "daily",
        subject="Time for today's Mandarin practice",
        text=f"Hi {name},\n\n{streak_line}A few phrases now keeps your tones sharp.\n\nPractise: {home}\n",
        markup=(
            f"<p>Hi {html.escape(name)},</p><p>{html.escape(streak_line)}A few phrases now keeps your tones "
            f'sharp.</p><p><a href="{html.escape(home)}">Practise now</a></p>'
        ),
    )


def streak_message(settings: Settings, r: Recipient, today: date) -> EmailMessageData:
    home = settings.app_url.rstrip("/") + "/home"
    days = current_streak_days(r, today)
    return _message(
        settings,
        r,
        "streak",
        subject=f"Your {days}-day streak ends at midnight",
        text=(
            f"Hi {r.display_name},\n\nYou have practised {days} days in a row. One scored take before "
            f"midnight keeps the streak going.\n\nPractise: {home}\n"
        ),
        markup=(
            f"<p>Hi {html.escape(r.display_name)},</p><p>You have practised <strong>{days} days</strong> in "
            f"a row. One scored take before midnight keeps the streak going.</p>"
            f'<p><a href="{html.escape(home)}">Practise now</a></p>'
        ),
    )


def current_streak_days(r: Recipient, today: date) -> int:
    """The streak as the learner sees it on `today` (0 once a day was missed)."""
    profile = LearnerProfile(
        user_id=r.user_id, streak_days=r.streak_days, last_practice_date=r.last_practice_date
    )
    return current_streak(profile, today)


@dataclass(frozen=True, slots=True)
class WeeklyNumbers:
    first_day: date
    last_day: date
    takes: int
    tone_accuracy: dict[int, float | None]
    """Tone 1-4 → share of decided syllables right this week (None: no decided syllable)."""
    daily: dict[int, list[float | None]]
    """Tone → accuracy per day, first_day … last_day (None for days without that tone)."""
    streak_days: int
    longest_streak_days: int


def weekly_numbers(*, session: Session, r: Recipient, monday: date) -> WeeklyNumbers:
    """The seven local days before `monday`, from the practice statistics services."""
    from sayzhong.practice.stats import TONES, accuracy_over_time

    tz = zone(r.timezone)
    first, last = monday - timedelta(days=7), monday - timedelta(days=1)
    start, end = local_instant(first, time(0), tz), local_instant(monday, time(0), tz)
    points = accuracy_over_time(
        session=session, user_id=r.user_id, days=7, user_timezone=r.timezone, now=end - timedelta(seconds=1)
    )
    days = [first + timedelta(days=i) for i in range(7)]
    daily: dict[int, list[float | None]] = {t: [None] * 7 for t in TONES}
    totals: dict[int, list[int]] = {t: [0, 0] for t in TONES}
    for p in points:
        if first <= p.date <= last:
            daily[p.tone][days.index(p.date)] = p.accuracy
            totals[p.tone][0] += round(p.accuracy * p.count)
            totals[p.tone][1] += p.count
    takes = session.exec(
        select(func.count())
        .select_from(Attempt)
        .where(
            col(Attempt.user_id) == r.user_id,
            col(Attempt.mode) != "calibration",
            col(Attempt.created_at) >= start,
            col(Attempt.created_at) < end,
        )
    ).one()
    return WeeklyNumbers(
        first_day=first,
        last_day=last,
        takes=int(takes),
        tone_accuracy={t: (round(c / n, 3) if n else None) for t, (c, n) in totals.items()},
        daily=daily,
        streak_days=current_streak_days(r, monday),
        longest_streak_days=r.longest_streak_days,
    )


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{round(value * 100)} %"


def weekly_message(settings: Settings, r: Recipient, numbers: WeeklyNumbers) -> EmailMessageData:
    from sayzhong.notifications.chart import render_tone_chart

    span = f"{numbers.first_day:%d %b} – {numbers.last_day:%d %b %Y}"
    tone_lines = "\n".join(f"  Tone {t}: {_pct(a)}" for t, a in numbers.tone_accuracy.items())
    chart = EmailAttachment(
        filename="tone-chart.png",
        content_type="image/png",
        data=render_tone_chart(numbers),
        inline_id="tone-chart@sayzhong",
    )
    rows = "".join(
        f"<tr><th scope='row' style='text-align:left;padding:2px 12px 2px 0'>Tone {t}</th>"
        f"<td>{_pct(a)}</td></tr>"
        for t, a in numbers.tone_accuracy.items()
    )
    return _message(
        settings,
        r,
        "weekly",
        subject=f"Your week in tones: {numbers.takes} takes",
        text=(
            f"Hi {r.display_name},\n\nYour week ({span}):\n  Scored takes: {numbers.takes}\n"
            f"  Current streak: {numbers.streak_days} days (longest {numbers.longest_streak_days})\n"
            f"Tone accuracy this week:\n{tone_lines}\n\n"
            "The tone chart is in the HTML version of this e-mail.\n"
        ),
        markup=(
            f"<p>Hi {html.escape(r.display_name)},</p><p>Your week ({html.escape(span)}): "
            f"<strong>{numbers.takes}</strong> scored takes; current streak {numbers.streak_days} days "
            f"(longest {numbers.longest_streak_days}).</p>"
            f"<table><caption style='text-align:left'>Tone accuracy this week</caption>{rows}</table>"
            '<p><img src="cid:tone-chart@sayzhong" width="640" height="320" '
            'alt="Chart of your accuracy per tone on each day of the week"></p>'
        ),
        images=(chart,),
    )


# --- the run -----------------------------------------------------------------------------------------


Claim = EmailDelivery | ProductNewsDelivery
"""A claimed send: a reminder's row (per learner, category, day) or a campaign's (per campaign, learner)."""


def _claim(session_factory: SessionFactory, row: Claim) -> int | None:
    """Insert and commit the claim row; None when another run has it already."""
    try:
        with session_factory() as session:
            session.add(row)
            session.flush()
            return row.id
    except IntegrityError:
        return None


def _release(session_factory: SessionFactory, model: type[Claim], claim_id: int) -> None:
    with session_factory() as session:
        session.execute(
            delete(model).where(col(model.id) == claim_id),
            execution_options={"synchronize_session": "fetch"},
        )


def _default_mailer(session: Session) -> Mailer:
    from sayzhong import wiring

    return wiring.get_mailer(get_settings(), session=session)


def _deliver(
    *,
    session_factory: SessionFactory,
    mailer_factory: MailerFactory,
    r: Recipient,
    category: str,
    claim: Claim,
    build: Callable[[Session], EmailMessageData],
) -> str:
    """Claim, send, mark sent: "sent", "taken" (claimed before) or "failed" (claim released)."""
    model = type(claim)
    claim_id = _claim(session_factory, claim)
    if claim_id is None:
        return "taken"
    handed_over = False
    try:
        with session_factory() as session:
            mailer_factory(session).send(build(session))
            handed_over = True
            row = session.get(model, claim_id)
            if row is not None:
                row.status, row.sent_at = "sent", utcnow()
                session.add(row)
    except Exception:
        if handed_over:
            # The relay may have the message already: keep the claim (at most once, never twice).
            log.exception("e-mail %s to user %s: sent, but recording it failed", category, r.user_id)
            return "sent"
        log.exception("e-mail %s to user %s failed; released for the next run", category, r.user_id)
        _release(session_factory, model, claim_id)
        return "failed"
    return "sent"


def _practised_on(r: Recipient, day: date) -> bool:
    return r.last_practice_date is not None and r.last_practice_date >= day


def run_reminders(
    *,
    session_factory: SessionFactory = session_scope,
    now: datetime | None = None,
    mailer_factory: MailerFactory | None = None,
    settings: Settings | None = None,
) -> dict[str, int]:
    """Send every reminder and summary due at `now` (default: the clock); counts per outcome."""
    now = as_utc(now or utcnow())
    settings = settings or get_settings()
    mailer_factory = mailer_factory or _default_mailer
    with session_factory() as session:
        recipients = eligible_recipients(session=session)
    counts = {"daily": 0, "streak": 0, "weekly": 0, "taken": 0, "failed": 0}
    zones: dict[str, ZoneInfo] = {}  # ZoneInfo's own cache keeps only 8 zones strongly
    for r in recipients:
        if r.timezone not in zones:
            zones[r.timezone] = zone(r.timezone)
        tz = zones[r.timezone]
        today = now.astimezone(tz).date()
        practised_today = _practised_on(r, today)
        due: list[tuple[str, date, Callable[[Session], EmailMessageData]]] = []
        if "daily" in r.categories:
            day = daily_due(now, tz, r.reminder_time)
            if day is not None and not _practised_on(r, day):
                due.append(("daily", day, lambda _s, r=r, d=day: daily_message(settings, r, d)))  # type: ignore[misc]
        if (
            "streak" in r.categories
            and not practised_today
            and current_streak_days(r, today) >= STREAK_MIN_DAYS
        ):
            day = streak_due(now, tz)
            if day is not None:
                due.append(("streak", day, lambda _s, r=r, d=day: streak_message(settings, r, d)))  # type: ignore[misc]
        if "weekly" in r.categories:
            monday = weekly_due(now, tz, r.reminder_time)
            if monday is not None:
                due.append(
                    (
                        "weekly",
                        monday,
                        lambda s, r=r, m=monday: weekly_message(  # type: ignore[misc]
                            settings, r, weekly_numbers(session=s, r=r, monday=m)
                        ),
                    )
                )
        for category, day, build in due:
            outcome = _deliver(
                session_factory=session_factory,
                mailer_factory=mailer_factory,
                r=r,
                category=category,
                claim=EmailDelivery(user_id=r.user_id, category=category, local_day=day, claimed_at=now),
                build=build,
            )
            counts[category if outcome == "sent" else outcome] += 1
    return counts


def purge_deliveries(*, session: Session, older_than: timedelta = CLAIM_RETENTION) -> int:
    """Claims older than any window they guard against are no longer needed."""
    result = session.execute(
        delete(EmailDelivery).where(col(EmailDelivery.claimed_at) < utcnow() - older_than),
        execution_options={"synchronize_session": "fetch"},
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
