"""Service-level targets for tickets, measured on a business-hours calendar.

The clock runs Monday–Friday 09:00–17:00 in SUPPORT_TIMEZONE (default UTC) and is paused while a
ticket waits on the learner. Targets per priority (business time):

| priority | first response | resolution |
|---|---|---|
| urgent | 30 min | 2 h |
| high   | 1 h    | 4 h |
| normal | 4 h    | 16 h (two business days) |
| low    | 8 h    | 40 h (a business week) |

A target is "warning" from 80 % of its time and "breached" after it. Pure functions: `now` is
always passed in, so tests run them on a frozen clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

OPENS = time(9, 0)
CLOSES = time(17, 0)
WORKDAYS = frozenset(range(5))  # Monday=0 … Friday=4
WARNING_SHARE = 0.8

TARGETS: dict[str, tuple[timedelta, timedelta]] = {
    "urgent": (timedelta(minutes=30), timedelta(hours=2)),
    "high": (timedelta(hours=1), timedelta(hours=4)),
    "normal": (timedelta(hours=4), timedelta(hours=16)),
    "low": (timedelta(hours=8), timedelta(hours=40)),
}


@dataclass(frozen=True, slots=True)
class Calendar:
    timezone: str = "UTC"

    def business_seconds(self, start: datetime, end: datetime) -> int:
        """Seconds of business time between two aware datetimes (0 if end <= start)."""
        if end <= start:
            return 0
        zone = ZoneInfo(self.timezone)
        local_start, local_end = start.astimezone(zone), end.astimezone(zone)
        total = 0.0
        day = local_start.date()
        while day <= local_end.date():
            if day.weekday() in WORKDAYS:
                opens = datetime.combine(day, OPENS, tzinfo=zone)
                closes = datetime.combine(day, CLOSES, tzinfo=zone)
                lo, hi = max(opens, local_start), min(closes, local_end)
                if hi > lo:
                    total += (hi - lo).total_seconds()
            day += timedelta(days=1)
        return int(total)


@dataclass(frozen=True, slots=True)
class SlaClock:
    target_s: int
    elapsed_s: int
    done: bool
    """The target was met or missed for good (responded / resolved)."""

    @property
    def state(self) -> str:
        """ "ok", "warning" (≥ 80 % used) or "breached"."""
        if self.elapsed_s > self.target_s:
            return "breached"
        if not self.done and self.elapsed_s >= self.target_s * WARNING_SHARE:
            return "warning"
        return "ok"

    @property
    def remaining_s(self) -> int:
        return self.target_s - self.elapsed_s


@dataclass(frozen=True, slots=True)
class TicketClock:
    """What the SLA functions need from a ticket (so they never touch the database)."""

    priority: str
    created_at: datetime
    first_response_at: datetime | None
    resolved_at: datetime | None
    paused_since: datetime | None
    paused_seconds: int


def _elapsed(ticket: TicketClock, until: datetime, calendar: Calendar) -> int:
    """Business seconds from creation to `until`, minus the time spent waiting on the learner."""
    paused = ticket.paused_seconds
    if ticket.paused_since is not None and ticket.paused_since < until:
        paused += calendar.business_seconds(ticket.paused_since, until)
    return max(0, calendar.business_seconds(ticket.created_at, until) - paused)


def first_response_clock(ticket: TicketClock, now: datetime, calendar: Calendar) -> SlaClock:
    target = int(TARGETS[ticket.priority][0].total_seconds())
    if ticket.first_response_at is not None:
        # Waiting on the learner only starts after a first response, so no pause applies here.
        elapsed = calendar.business_seconds(ticket.created_at, ticket.first_response_at)
        return SlaClock(target_s=target, elapsed_s=elapsed, done=True)
    return SlaClock(target_s=target, elapsed_s=calendar.business_seconds(ticket.created_at, now), done=False)


def resolution_clock(ticket: TicketClock, now: datetime, calendar: Calendar) -> SlaClock:
    target = int(TARGETS[ticket.priority][1].total_seconds())
    until = ticket.resolved_at or now
    return SlaClock(
        target_s=target, elapsed_s=_elapsed(ticket, until, calendar), done=ticket.resolved_at is not None
    )


def pause_seconds_to_add(paused_since: datetime, resumed_at: datetime, calendar: Calendar) -> int:
    """Business seconds a pause lasted (added to the ticket's total when the learner answers)."""
    return calendar.business_seconds(paused_since, resumed_at)
