"""XP, streak and daily goal: the learner-profile counters updated by every scored attempt.

Calendar days are the learner's own: a take at 23:30 in Shanghai and one at 00:10 the next
morning are two days of streak even though both fall on one UTC date.

- XP per scored take: 5 for speaking, up to 5 more for the overall score (PronScore / 20), and
  5 more when every judged tone was right. Calibration takes earn nothing.
- Streak: +1 on the first take of a local day that follows a day with practice; reset to 1
  after a missed day. Shown as 0 once a whole local day has been missed.
- Daily goal (minutes): active practice time estimated from the gaps between takes. A gap of up
  to 5 minutes counts (capped at 2 minutes); the first take of a sitting counts 30 seconds.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlmodel import Session, select

from sayzhong.db import as_utc, utcnow
from sayzhong.practice.models import LearnerProfile
from sayzhong.practice.results import ParsedResult

XP_BASE = 5
XP_ALL_TONES = 5
SITTING_GAP = timedelta(minutes=5)
MAX_GAP_CREDIT_S = 120.0
FIRST_TAKE_CREDIT_S = 30.0


def zone(name: str | None) -> ZoneInfo:
    """The learner's time zone; unknown names fall back to UTC rather than failing a take."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local_date(moment: datetime, tz: ZoneInfo) -> date:
    return as_utc(moment).astimezone(tz).date()


def get_profile(session: Session, user_id: int) -> LearnerProfile | None:
    return session.exec(select(LearnerProfile).where(LearnerProfile.user_id == user_id)).first()


def get_or_create_profile(session: Session, user_id: int) -> LearnerProfile:
    row = get_profile(session, user_id)
    if row is None:
        row = LearnerProfile(user_id=user_id)
        session.add(row)
        session.flush()
    return row


def xp_for(parsed: ParsedResult, mode: str) -> int:
    if mode == "calibration":
        return 0
    judged = [s for s in parsed.syllables if s.judged and s.verdict != "unclear"]
    all_tones = bool(judged) and all(s.verdict == "correct" for s in judged)
    return XP_BASE + round(parsed.pron / 20) + (XP_ALL_TONES if all_tones else 0)


def record_practice(profile: LearnerProfile, *, now: datetime, tz: ZoneInfo, xp: int) -> None:
    """Count one scored take: XP, streak, today's counters and active time."""
    now = as_utc(now)
    today = local_date(now, tz)
    if profile.today_date != today:
        profile.today_date = today
        profile.today_xp = 0
        profile.today_attempts = 0
        profile.today_active_seconds = 0.0
    last_at = as_utc(profile.last_attempt_at) if profile.last_attempt_at else None
    if last_at is not None and timedelta(0) <= now - last_at <= SITTING_GAP:
        profile.today_active_seconds += min((now - last_at).total_seconds(), MAX_GAP_CREDIT_S)
    else:
        profile.today_active_seconds += FIRST_TAKE_CREDIT_S
    last_day = profile.last_practice_date
    if last_day is None or last_day < today - timedelta(days=1):
        profile.streak_days = 1
    elif last_day == today - timedelta(days=1):
        profile.streak_days += 1
    # last_day == today: already counted; last_day > today: the learner moved west, keep it.
    if last_day is None or last_day < today:
        profile.last_practice_date = today
    profile.longest_streak_days = max(profile.longest_streak_days, profile.streak_days)
    profile.xp_total += xp
    profile.today_xp += xp
    profile.today_attempts += 1
    profile.last_attempt_at = now
    profile.updated_at = utcnow()


def current_streak(profile: LearnerProfile | None, today: date) -> int:
    if profile is None or profile.last_practice_date is None:
        return 0
    return profile.streak_days if profile.last_practice_date >= today - timedelta(days=1) else 0


def today_counters(profile: LearnerProfile | None, today: date) -> tuple[int, int, float]:
    """(xp, attempts, active seconds) for the learner's local `today`."""
    if profile is None or profile.today_date != today:
        return 0, 0, 0.0
    return profile.today_xp, profile.today_attempts, profile.today_active_seconds
