"""Append-only audit log of security-relevant actions (sign-in, password and role changes, …).

Features call `record_audit(...)` inside their own unit of work, so the audit row commits or rolls
back with the change it describes. Staff pages read it through `list_audit_events`; there is
deliberately no update or delete function.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, Column, DateTime, delete, func, update
from sqlmodel import Field, Session, SQLModel, col, select

from sayzhong.db import as_utc, utcnow

# Every action the log records, with what it means: the one list. docs/operations.md repeats it
# for operators, and a test holds the two equal; `record_audit` refuses a name not listed here.
AUDIT_ACTIONS: dict[str, str] = {
    "user.signed_up": "an account was created (password or OpenID Connect)",
    "admin.created": "an admin account was created from the command line",
    "sign_in.succeeded": "a sign-in succeeded (password or OpenID Connect)",
    "sign_in.failed": "a sign-in failed (wrong password, unknown e-mail, refused provider answer)",
    "sign_in.throttled": "a sign-in was refused because of too many recent failures",
    "sign_out": "a user signed out",
    "sessions.revoked_one": "a user ended one of their other sessions",
    "sessions.revoked_others": "a user ended all their other sessions",
    "password.changed": "a user changed their password",
    "password.reset_requested": "a reset link was asked for (known or unknown address)",
    "password.reset_throttled": "a reset e-mail was not sent: too many in the window",
    "password.reset": "a password was set through a reset link (all sessions ended)",
    "role.changed": "an admin changed a user's role",
    # support centre (issue 13): every staff action on tickets and articles
    "help.article_edited": "a staff member saved a new revision of a help article",
    "ticket.created": "a learner opened a support ticket (queue and priority from routing)",
    "ticket.replied": "a staff member replied to a ticket (e-mailed to the learner)",
    "ticket.noted": "a staff member added an internal note to a ticket",
    "ticket.status_changed": "a staff member changed a ticket's status",
    "ticket.assigned": "a ticket was assigned to an agent (by hand or round-robin)",
    "ticket.rerouted": "a staff member corrected a ticket's queue or priority",
    "ticket.merged": "a staff member merged a duplicate ticket into another",
    "ticket.attachment_viewed": "a staff member opened a ticket's attachment or attached take",
    "ticket.rated": "a learner rated the support they got (CSAT)",
    "oidc.linked": "a provider identity was linked to an account",
    "oidc.link_failed": "linking a provider identity failed",
    "oidc.unlinked": "a provider identity was unlinked",
    "api_token.created": "an API access token was created",
    "api_token.revoked": "an API access token was revoked",
    "api_token.revoked_all": "all of a user's API access tokens were revoked",
    # e-mail verification and two-factor sign-in (issue 9)
    "email.verification_sent": "an e-mail address confirmation link was sent",
    "email.verification_throttled": "a confirmation link was not sent: asked again too soon or too often",
    "email.verified": "an e-mail address was confirmed (link, or a provider vouching for it)",
    "email.verification_failed": "a confirmation link was refused (tampered, expired, used or stale)",
    "sign_in.second_factor_required": "password or provider was right; the authenticator code was asked",
    "two_factor.enabled": "a user turned on two-factor sign-in (authenticator app confirmed)",
    "two_factor.disabled": "two-factor sign-in was turned off (by the user, or reset by an operator)",
    "two_factor.recovery_codes_regenerated": "a user replaced their recovery codes",
    "two_factor.recovery_code_used": "a recovery code was spent to sign in",
    # privacy (issue 11)
    "privacy.export_requested": "a data export was requested (by the learner, staff or the CLI)",
    "privacy.export_downloaded": "a finished data export was downloaded through its signed link",
    "privacy.erasure_requested": "an account deletion was requested (grace period starts)",
    "privacy.erasure_cancelled": "a pending account deletion was cancelled",
    "privacy.erasure_completed": "an account and its data were erased (subject pseudonymised)",
    "legal.terms_accepted": "a learner re-accepted a new version of the terms",
    "dsr.created": "staff logged a data-subject request received by e-mail",
    "dsr.identity_verified": "staff verified the identity of a data-subject requester",
    "dsr.action": "staff ran an export or erasure for a data-subject request",
    "dsr.closed": "staff closed a data-subject request (done or rejected)",
    "billing.grant_created": (
        "an admin (or, with no actor, the referral programme) gave an account a complimentary plan for a "
        "period, with a reason"
    ),
    "billing.grant_revoked": "an admin ended a complimentary plan early",
    "marketing.tag_saved": "marketing added or changed an advertising tag (loaded after marketing consent)",
    "marketing.tag_deleted": "marketing removed an advertising tag",
    # issue 14: referrals
    "referral.rewarded": "a referral's first scored take gave both learners their Plus days (system)",
    "referral.staff_viewed": "a staff member opened the referrals list (both learners' e-mails)",
    # Support desk (issue 10): staff looking after one learner.
    "support.user_viewed": "a staff member opened a learner's detail page",
    "support.user_deactivated": "a staff member deactivated an account (sessions and API tokens ended)",
    "support.user_reactivated": "a staff member reactivated an account",
    "support.signed_out_everywhere": "a staff member ended every session of a learner",
    "support.verification_resent": "a staff member sent a learner a new e-mail confirmation link",
    # experiments (issue 14): marketing's definitions and QA overrides
    "experiment.created": "marketing defined a new A/B experiment (variants, audience, metrics)",
    "experiment.updated": "marketing changed an experiment that had not started",
    "experiment.started": "marketing started an experiment (visitors begin to see its variants)",
    "experiment.stopped": "marketing stopped an experiment (everyone sees the control again)",
    "experiment.override_set": "staff forced a variant for one visitor or learner (QA; never counted)",
    "experiment.override_removed": "staff removed a QA override",
    # business intelligence (issue 15): KPI alert rules and campaign spend (before/after in detail)
    "bi.alert_rule_created": "an admin created a KPI alert rule",
    "bi.alert_rule_updated": "an admin changed a KPI alert rule (metric, comparison, threshold or window)",
    "bi.alert_rule_enabled": "an admin turned a KPI alert rule back on",
    "bi.alert_rule_disabled": "an admin turned a KPI alert rule off (kept, not evaluated)",
    "bi.alert_rule_deleted": "an admin deleted a KPI alert rule (and its alert history)",
    "bi.campaign_spend_saved": "marketing or an admin entered or changed a month's campaign spend",
    # product-news e-mail and the suppression list (leftovers of issue 14)
    "email.product_news_sent": (
        "marketing, an admin or the command line (no actor) sent a product-news campaign (counts in detail)"
    ),
    "email.suppression_lifted": "support or an admin took an address off the e-mail suppression list",
}


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_event"

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False, index=True)
    )
    actor_id: int | None = Field(default=None, index=True)
    """User who acted (None for anonymous, e.g. a failed sign-in). No foreign key: audit outlives users."""
    action: str = Field(max_length=64, index=True)
    target: str | None = Field(default=None, max_length=320)
    """What was acted on, e.g. "user:42" or the e-mail typed at a failed sign-in."""
    ip: str | None = Field(default=None, max_length=64)
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


@dataclass(frozen=True, slots=True)
class AuditEventInfo:
    id: int
    created_at: datetime
    actor_id: int | None
    action: str
    target: str | None
    ip: str | None
    detail: dict[str, Any]


@dataclass(frozen=True, slots=True)
class AuditPage:
    items: list[AuditEventInfo]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def record_audit(
    *,
    session: Session,
    action: str,
    actor_id: int | None = None,
    target: str | None = None,
    ip: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append one audit row to the caller's unit of work (flushed, not committed)."""
    if action not in AUDIT_ACTIONS:
        raise ValueError(f"unknown audit action {action!r}: list it in AUDIT_ACTIONS and docs/operations.md")
    session.add(
        AuditEvent(
            action=action,
            actor_id=actor_id,
            target=target[:320] if target else None,
            ip=ip[:64] if ip else None,
            detail=dict(detail or {}),
        )
    )
    session.flush()
    from sayzhong.ops.logs import security_event

    security_event(action=action, actor_id=actor_id, target=target, ip=ip)


def list_audit_events(
    *,
    session: Session,
    action: str | None = None,
    actor_id: int | None = None,
    target: str | None = None,
    page: int = 1,
    page_size: int = 50,
) -> AuditPage:
    """Newest first. Access control is the caller's job (see sayzhong.accounts.access)."""
    page = max(1, page)
    page_size = min(max(1, page_size), 200)
    conditions = []
    if action:
        conditions.append(col(AuditEvent.action) == action)
    if actor_id is not None:
        conditions.append(col(AuditEvent.actor_id) == actor_id)
    if target:
        conditions.append(col(AuditEvent.target) == target)
    total = session.exec(select(func.count()).select_from(AuditEvent).where(*conditions)).one()
    rows = session.exec(
        select(AuditEvent)
        .where(*conditions)
        .order_by(col(AuditEvent.id).desc())
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).all()
    items = [
        AuditEventInfo(
            id=row.id or 0,
            created_at=as_utc(row.created_at),
            actor_id=row.actor_id,
            action=row.action,
            target=row.target,
            ip=row.ip,
            detail=dict(row.detail or {}),
        )
        for row in rows
    ]
    return AuditPage(items=items, total=int(total), page=page, page_size=page_size)


AUDIT_RETENTION = timedelta(days=365)
ERASED = "erased"


def pseudonymise_audit_email(*, session: Session, email: str) -> int:
    """For erasure requests: replace an e-mail used as audit target (failed sign-ins, reset requests).

    The only change ever made to audit rows; actor ids stay (they point at nothing once the user row
    is deleted). Returns the number of rows changed.
    """
    result = session.execute(
        update(AuditEvent).where(col(AuditEvent.target) == email.strip().lower()).values(target=ERASED),
        execution_options={"synchronize_session": "fetch"},
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def pseudonymise_audit_user(*, session: Session, user_id: int, pseudonym: str) -> int:
    """For erasure: the account's rows keep what happened and when, under a pseudonym instead of the id.

    `actor_id` is cleared, a `user:<id>` target becomes the pseudonym, and the pseudonym is kept in
    `detail["subject"]` so one erased account's trail stays readable as one trail.
    """
    rows = session.exec(
        select(AuditEvent).where(
            (col(AuditEvent.actor_id) == user_id) | (col(AuditEvent.target) == f"user:{user_id}")
        )
    ).all()
    for row in rows:
        row.actor_id = None
        if row.target == f"user:{user_id}":
            row.target = pseudonym
        row.detail = {
            **{k: v for k, v in (row.detail or {}).items() if k not in ("email", "subject")},
            "subject": pseudonym,
        }
        session.add(row)
    session.flush()
    return len(rows)


def purge_audit_events(*, session: Session, older_than: timedelta = AUDIT_RETENTION) -> int:
    """Delete audit rows past retention (jobs runner)."""
    result = session.execute(
        delete(AuditEvent).where(col(AuditEvent.created_at) < utcnow() - older_than),
        execution_options={"synchronize_session": "fetch"},
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
