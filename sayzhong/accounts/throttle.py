"""Sign-in throttling per account (e-mail typed) and per client IP, over a sliding window.

Per account: failures since the last success inside the window (a success clears it).
Per IP: all failures inside the window (a success does not clear it, or one attacker-owned account
would reset the counter for guesses against everybody else). Throttled attempts are not recorded,
so the wait never grows beyond one window.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from sayzhong.accounts.models import LoginAttempt
from sayzhong.db import as_utc, utcnow
from sayzhong.errors import RateLimitedError
from sayzhong.settings import Settings

ATTEMPT_RETENTION = timedelta(days=2)


def _wait_message(scope: str, retry_after_s: int) -> str:
    minutes = max(1, math.ceil(retry_after_s / 60))
    unit = "minute" if minutes == 1 else "minutes"
    return f"Too many failed sign-in attempts {scope}. Please wait {minutes} {unit} and try again."


def _retry_after(failures: list[datetime], limit: int, window: timedelta, now: datetime) -> int:
    """Seconds until enough of the oldest failures leave the window to drop below `limit`."""
    oldest_blocking = sorted(failures)[len(failures) - limit]
    return max(1, math.ceil((as_utc(oldest_blocking) + window - now).total_seconds()))


def check_sign_in_allowed(*, session: Session, settings: Settings, email_key: str, ip: str | None) -> None:
    """Raise RateLimitedError (with retry_after_s) when this account or IP must wait."""
    now = utcnow()
    window = timedelta(minutes=settings.login_throttle_window_minutes)
    since = now - window

    last_success = session.exec(
        select(func.max(LoginAttempt.created_at)).where(
            col(LoginAttempt.email_key) == email_key,
            col(LoginAttempt.succeeded).is_(True),
            col(LoginAttempt.created_at) >= since,
        )
    ).one()
    after_window_start = (
        col(LoginAttempt.created_at) > as_utc(last_success)
        if last_success
        else col(LoginAttempt.created_at) >= since
    )
    account_failures = list(
        session.exec(
            select(LoginAttempt.created_at).where(
                col(LoginAttempt.email_key) == email_key,
                col(LoginAttempt.succeeded).is_(False),
                after_window_start,
            )
        ).all()
    )
    limit = settings.login_max_failures_per_account
    if len(account_failures) >= limit:
        retry = _retry_after(account_failures, limit, window, now)
        raise RateLimitedError(_wait_message("for this account", retry), retry_after_s=retry)

    if ip:
        ip_failures = list(
            session.exec(
                select(LoginAttempt.created_at).where(
                    col(LoginAttempt.ip) == ip,
                    col(LoginAttempt.succeeded).is_(False),
                    col(LoginAttempt.created_at) >= since,
                )
            ).all()
        )
        limit = settings.login_max_failures_per_ip
        if len(ip_failures) >= limit:
            retry = _retry_after(ip_failures, limit, window, now)
            raise RateLimitedError(_wait_message("from your network", retry), retry_after_s=retry)


def record_sign_in_attempt(*, session: Session, email_key: str, ip: str | None, succeeded: bool) -> None:
    session.add(LoginAttempt(email_key=email_key[:320], ip=ip[:64] if ip else None, succeeded=succeeded))
    session.flush()


def purge_sign_in_attempts(*, session: Session, older_than: timedelta = ATTEMPT_RETENTION) -> int:
    cutoff = utcnow() - older_than
    result = session.execute(
        delete(LoginAttempt).where(col(LoginAttempt.created_at) < cutoff),
        execution_options={"synchronize_session": "fetch"},
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
