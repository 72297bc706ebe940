"""Retention for account records: one call for the jobs runner, numbers for the data inventory.

| record | kept |
|---|---|
| login_attempt | 2 days |
| user_session (ended: expired, idle or revoked) | 30 days after it ended |
| password_reset_token (expired or used) | 1 day after expiry |
| oidc_login_state | until its 10-minute expiry |
| email_verification_token | 1 day after expiry (48 hours by default) |
| two_factor_challenge | 1 day after it was used or expired (5 minutes) |
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete
from sqlmodel import Session, col

from sayzhong.accounts.models import PasswordResetToken
from sayzhong.accounts.oidc import purge_expired_oidc_states
from sayzhong.accounts.sessions import purge_ended_sessions
from sayzhong.accounts.throttle import purge_sign_in_attempts
from sayzhong.accounts.two_factor import purge_two_factor_challenges
from sayzhong.accounts.verification import purge_verification_tokens
from sayzhong.db import utcnow

RESET_TOKEN_RETENTION = timedelta(days=1)


def purge_reset_tokens(*, session: Session, older_than: timedelta = RESET_TOKEN_RETENTION) -> int:
    cutoff = utcnow() - older_than
    result = session.execute(
        delete(PasswordResetToken).where(col(PasswordResetToken.expires_at) < cutoff),
        execution_options={"synchronize_session": "fetch"},
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def purge_expired_account_records(*, session: Session) -> dict[str, int]:
    """Delete account records past retention; returns rows deleted per table. Caller commits."""
    return {
        "login_attempt": purge_sign_in_attempts(session=session),
        "user_session": purge_ended_sessions(session=session),
        "password_reset_token": purge_reset_tokens(session=session),
        "oidc_login_state": purge_expired_oidc_states(session=session),
        "email_verification_token": purge_verification_tokens(session=session),
        "two_factor_challenge": purge_two_factor_challenges(session=session),
    }
