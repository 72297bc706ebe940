"""Billing services: card entry, subscriptions (trial, plan change, cancel, resume), the portal view,
staff grants, the catalogue sync, held takes and erasure.

Keyword-only functions taking the caller's `Session`; they never commit. The payments adapter is a
keyword argument defaulting from `sayzhong.wiring.get_payments`. Every local subscription row is a
copy of what Stripe said when last asked — never of what a webhook's snapshot claimed.
Webhooks and the reconciler live in `sayzhong.billing.webhooks`.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from sayzhong.accounts.access import Role, require_role
from sayzhong.accounts.models import User
from sayzhong.accounts.schemas import UserInfo
from sayzhong.audit import record_audit
from sayzhong.billing import catalog
from sayzhong.billing.entitlements import (
    Entitlement,
    active_subscription,
    effective_status,
    entitlement_for,
    held_dir,
)
from sayzhong.billing.models import (
    BillingCustomer,
    BillingDailyUsage,
    BillingGrant,
    BillingHeldTake,
    BillingSubscription,
    BillingTrialClaim,
)
from sayzhong.billing.ports import (
    CardInfo,
    CouponInfo,
    InvoiceInfo,
    InvoicePreview,
    PaymentsError,
    PaymentsGateway,
    SubscriptionSnapshot,
)
from sayzhong.db import as_utc, utcnow
from sayzhong.errors import NotFoundError, ValidationError
from sayzhong.settings import get_settings

log = logging.getLogger(__name__)

MAX_GRANT_DAYS = 366 * 2


def payments_or_default(payments: PaymentsGateway | None) -> PaymentsGateway:
    if payments is not None:
        return payments
    from sayzhong.wiring import get_payments

    return get_payments(get_settings())


def _user(session: Session, user_id: int) -> User:
    row = session.get(User, user_id)
    if row is None:
        raise NotFoundError("That account does not exist.", code="user_not_found")
    return row


def email_hash(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode("utf-8")).hexdigest()


def track_billing_event(
    session: Session, user_id: int, event: str, plan_id: str, **properties: int | str
) -> None:
    """Issue 14: trial and payment events for the funnel (catalogued; consent-gated by analytics)."""
    from sayzhong.analytics import service as analytics

    interval = "annual" if plan_id.endswith("annual") else "monthly"
    analytics.track(
        session=session, user_id=user_id, event=event, properties={"plan": interval, **properties}
    )


def record_paid_conversion(*, session: Session, user_id: int) -> bool:
    """The learner's first paid Plus invoice: marks the customer converted (a conditional update, so
    redelivered or concurrent webhooks convert once) and emits `ad_conversion` with the account's
    last-touch channel and campaign — no personal data; the consent gate passes it on only under the
    *marketing* category. True when this call was the conversion."""
    from sayzhong.analytics import catalog as events
    from sayzhong.analytics import service as analytics
    from sayzhong.analytics.attribution import Touch, account_attribution

    converted = session.exec(
        update(BillingCustomer)
        .where(col(BillingCustomer.user_id) == user_id, col(BillingCustomer.converted_at).is_(None))
        .values(converted_at=utcnow())
    )
    if int(converted.rowcount or 0) != 1:
        return False
    last = [a for a in account_attribution(session=session, user_id=user_id) if a.touch == "last"]
    touch = Touch(channel=last[0].channel, campaign=last[0].campaign) if last else Touch()
    analytics.track(
        session=session, user_id=user_id, event=events.AD_CONVERSION, properties=touch.event_properties()
    )
    return True


def trial_available(*, session: Session, email: str) -> bool:
    """Once per person: a claim by this e-mail (kept through erasure) means no second trial."""
    return (
        session.exec(
            select(BillingTrialClaim).where(BillingTrialClaim.email_hash == email_hash(email))
        ).first()
        is None
    )


def customer_id_for(*, session: Session, user_id: int) -> str | None:
    row = session.exec(select(BillingCustomer).where(BillingCustomer.user_id == user_id)).first()
    return row.stripe_customer_id if row else None


def _ensure_customer(session: Session, user: User, payments: PaymentsGateway) -> str:
    assert user.id is not None
    existing = customer_id_for(session=session, user_id=user.id)
    if existing:
        return existing
    customer_id = payments.create_customer(email=user.email, user_id=user.id)
    session.add(BillingCustomer(user_id=user.id, stripe_customer_id=customer_id))
    session.flush()
    return customer_id


# --- local mirror ---------------------------------------------------------------------------------


def store_snapshot(
    *, session: Session, snap: SubscriptionSnapshot, user_id: int | None = None
) -> BillingSubscription | None:
    """Upsert the local copy of a subscription as Stripe reports it; None for an unknown customer."""
    row = session.exec(
        select(BillingSubscription).where(BillingSubscription.stripe_subscription_id == snap.id)
    ).first()
    if row is None:
        if user_id is None:
            owner = session.exec(
                select(BillingCustomer).where(BillingCustomer.stripe_customer_id == snap.customer_id)
            ).first()
            if owner is None:
                return None
            user_id = owner.user_id
        row = BillingSubscription(
            user_id=user_id, stripe_subscription_id=snap.id, plan_id=snap.plan_id, status=snap.status
        )
    changed = (row.plan_id, row.status, row.cancel_at_period_end) != (
        snap.plan_id,
        snap.status,
        snap.cancel_at_period_end,
    )
    row.plan_id = snap.plan_id
    row.status = snap.status
    row.trial_end = snap.trial_end
    row.current_period_end = snap.current_period_end
    row.cancel_at_period_end = snap.cancel_at_period_end
    row.latest_invoice_id = snap.latest_invoice_id
    if changed or _pending_settled(row):
        row.pending = None
        row.pending_since = None
    row.synced_at = utcnow()
    session.add(row)
    session.flush()
    return row


def _pending_settled(row: BillingSubscription) -> bool:
    """The change the learner asked for is what Stripe now reports."""
    wanted = row.pending or ""
    return (
        (wanted == "cancel" and row.cancel_at_period_end)
        or (wanted == "resume" and not row.cancel_at_period_end)
        or (wanted.startswith("plan:") and row.plan_id == wanted[5:])
    )


def refresh_subscription(
    *, session: Session, subscription_id: str, payments: PaymentsGateway | None = None
) -> BillingSubscription | None:
    """Re-read one subscription from Stripe and store it (webhooks and the reconciler call this).

    A subscription Stripe no longer has is stored as canceled.
    """
    payments = payments_or_default(payments)
    # Take the row's write lock before asking Stripe (PostgreSQL: row lock; SQLite: the write lock),
    # so concurrent handlers of one subscription take turns and the last to write is the last to
    # have read Stripe — an older answer can never overwrite a newer one.
    session.execute(
        update(BillingSubscription)
        .where(col(BillingSubscription.stripe_subscription_id) == subscription_id)
        .values(synced_at=utcnow())
    )
    snap = payments.get_subscription(subscription_id)
    if snap is None:
        row = session.exec(
            select(BillingSubscription).where(BillingSubscription.stripe_subscription_id == subscription_id)
        ).first()
        if row is not None and row.status != "canceled":
            row.status = "canceled"
            row.synced_at = utcnow()
            session.add(row)
            session.flush()
        return row
    return store_snapshot(session=session, snap=snap)


def _mark_pending(session: Session, row: BillingSubscription, pending: str) -> None:
    if not _pending_settled(row):
        row.pending = pending
        row.pending_since = utcnow()
        session.add(row)
        session.flush()


def _current(session: Session, user_id: int) -> BillingSubscription:
    found = active_subscription(session, user_id, utcnow())
    if found is None:
        raise NotFoundError("You have no active subscription.", code="no_subscription")
    return found[0]


# --- card entry and subscribing ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CardEntry:
    setup_intent_id: str
    client_secret: str
    publishable_key: str
    js_url: str


def start_card_entry(*, session: Session, user_id: int, payments: PaymentsGateway | None = None) -> CardEntry:
    """A SetupIntent for Stripe.js Elements (the customer is created on first use)."""
    payments = payments_or_default(payments)
    customer_id = _ensure_customer(session, _user(session, user_id), payments)
    seti_id, secret = payments.create_setup_intent(customer_id)
    return CardEntry(seti_id, secret, payments.publishable_key, payments.js_url)


COUPON_CODE = re.compile(r"^[A-Z0-9_-]{1,64}$")


def describe_coupon(coupon: CouponInfo) -> str:
    """What a discount code gives, in plain words ("20 % off the first invoice")."""
    if coupon.percent_off is not None:
        amount = f"{coupon.percent_off:g} % off"
    else:
        amount = f"{catalog.format_money(coupon.amount_off or 0, coupon.currency or 'eur')} off"
    if coupon.duration == "forever":
        return f"{amount} every invoice"
    if coupon.duration == "repeating" and coupon.duration_in_months:
        return f"{amount} for {coupon.duration_in_months} months"
    return f"{amount} the first invoice"


def check_coupon(code: str, *, payments: PaymentsGateway | None = None) -> CouponInfo:
    """The coupon a learner's discount code names, or a plain-words ValidationError (nothing changes)."""
    payments = payments_or_default(payments)
    normal = code.strip().upper()
    if not COUPON_CODE.fullmatch(normal):
        raise ValidationError(
            "A discount code is letters, digits, - and _ (up to 64). Check the code and try again.",
            code="coupon_invalid",
        )
    coupon = payments.find_coupon(normal)
    if coupon is None:
        raise ValidationError(
            f"There is no discount code {normal}. Check the spelling.", code="coupon_unknown"
        )
    if not coupon.valid:
        raise ValidationError(
            f"The discount code {normal} has expired or been used up.", code="coupon_expired"
        )
    return coupon


@dataclass(frozen=True, slots=True)
class SubscribeResult:
    status: str
    trial_days: int
    payment_client_secret: str | None
    """Set when the first payment needs the learner's confirmation (SCA)."""


def subscribe(
    *,
    session: Session,
    user_id: int,
    plan_id: str,
    setup_intent_id: str,
    coupon_code: str | None = None,
    payments: PaymentsGateway | None = None,
) -> SubscribeResult:
    """Start Plus with the card just confirmed: a 7-day trial the first time per person, else paid now.
    An optional discount code is checked before anything is created and applied to the subscription."""
    payments = payments_or_default(payments)
    plan = catalog.plan(plan_id)
    if plan is None:
        raise ValidationError("Choose the monthly or the annual plan.", code="unknown_plan")
    coupon = check_coupon(coupon_code, payments=payments) if coupon_code and coupon_code.strip() else None
    user = _user(session, user_id)
    if active_subscription(session, user_id, utcnow()) is not None:
        raise ValidationError(
            "You already have Plus. Change or cancel it on the billing page.", code="already_subscribed"
        )
    customer_id = _ensure_customer(session, user, payments)
    payments.use_payment_method(customer_id=customer_id, setup_intent_id=setup_intent_id)
    trial_days = catalog.TRIAL_DAYS if trial_available(session=session, email=user.email) else 0
    snap = payments.create_subscription(
        customer_id=customer_id,
        plan_id=plan.id,
        trial_days=trial_days,
        coupon_id=coupon.id if coupon else None,
        promotion_code_id=coupon.promotion_code if coupon else None,
    )
    if trial_days:
        try:
            with session.begin_nested():
                session.add(BillingTrialClaim(email_hash=email_hash(user.email)))
        except IntegrityError:
            log.warning("trial claimed twice concurrently for user %s", user_id)
    row = store_snapshot(session=session, snap=snap, user_id=user_id)
    assert row is not None
    if trial_days:
        track_billing_event(session, user_id, "trial_started", plan.id, trial_days=trial_days)
    secret = None
    if effective_status(row, utcnow()) == "incomplete" and snap.latest_invoice_id:
        pending = payments.pending_payment(snap.latest_invoice_id)
        secret = pending.client_secret if pending else None
        if pending is None:
            raise PaymentsError(
                "The first payment did not go through, so Plus did not start. Try another card."
            )
    return SubscribeResult(
        status=effective_status(row, utcnow()), trial_days=trial_days, payment_client_secret=secret
    )


def update_card(
    *, session: Session, user_id: int, setup_intent_id: str, payments: PaymentsGateway | None = None
) -> CardInfo | None:
    payments = payments_or_default(payments)
    customer_id = customer_id_for(session=session, user_id=user_id)
    if customer_id is None:
        raise NotFoundError("There is no card on file to replace.", code="no_customer")
    payments.use_payment_method(customer_id=customer_id, setup_intent_id=setup_intent_id)
    return payments.default_card(customer_id)


def latest_subscription_id(*, session: Session, user_id: int) -> str | None:
    row = session.exec(
        select(BillingSubscription)
        .where(BillingSubscription.user_id == user_id)
        .order_by(col(BillingSubscription.id).desc())
    ).first()
    return row.stripe_subscription_id if row else None


def pending_payment_secret(
    *, session: Session, user_id: int, payments: PaymentsGateway | None = None
) -> str | None:
    """The client secret of a payment waiting for SCA confirmation on the latest subscription, if any."""
    payments = payments_or_default(payments)
    row = session.exec(
        select(BillingSubscription)
        .where(BillingSubscription.user_id == user_id)
        .order_by(col(BillingSubscription.id).desc())
    ).first()
    if row is None or row.status not in ("incomplete", "past_due") or not row.latest_invoice_id:
        return None
    pending = payments.pending_payment(row.latest_invoice_id)
    return pending.client_secret if pending else None


def preview_plan_change(
    *, session: Session, user_id: int, plan_id: str, payments: PaymentsGateway | None = None
) -> InvoicePreview:
    payments = payments_or_default(payments)
    if catalog.plan(plan_id) is None:
        raise ValidationError("Choose the monthly or the annual plan.", code="unknown_plan")
    row = _current(session, user_id)
    if row.plan_id == plan_id:
        raise ValidationError("You are already on that plan.", code="same_plan")
    customer_id = customer_id_for(session=session, user_id=user_id) or ""
    return payments.preview_plan_change(
        customer_id=customer_id, subscription_id=row.stripe_subscription_id, plan_id=plan_id
    )


def change_plan(
    *, session: Session, user_id: int, plan_id: str, payments: PaymentsGateway | None = None
) -> BillingSubscription:
    payments = payments_or_default(payments)
    if catalog.plan(plan_id) is None:
        raise ValidationError("Choose the monthly or the annual plan.", code="unknown_plan")
    row = _current(session, user_id)
    _mark_pending(session, row, f"plan:{plan_id}")
    snap = payments.change_plan(row.stripe_subscription_id, plan_id)
    return store_snapshot(session=session, snap=snap) or row


def cancel(
    *, session: Session, user_id: int, reason: str = "", payments: PaymentsGateway | None = None
) -> BillingSubscription:
    """Cancel at the end of the paid period (Plus continues until then)."""
    payments = payments_or_default(payments)
    row = _current(session, user_id)
    row.cancel_reason = reason.strip()[:500] or None
    _mark_pending(session, row, "cancel")
    snap = payments.set_cancel_at_period_end(row.stripe_subscription_id, True)
    return store_snapshot(session=session, snap=snap) or row


def resume(*, session: Session, user_id: int, payments: PaymentsGateway | None = None) -> BillingSubscription:
    payments = payments_or_default(payments)
    row = _current(session, user_id)
    if not row.cancel_at_period_end:
        raise ValidationError("Your subscription is not set to end.", code="not_canceling")
    row.cancel_reason = None
    _mark_pending(session, row, "resume")
    snap = payments.set_cancel_at_period_end(row.stripe_subscription_id, False)
    return store_snapshot(session=session, snap=snap) or row


# --- the portal page -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PortalView:
    payments_configured: bool
    entitlement: Entitlement
    plan_id: str | None
    plan_name: str
    status: str | None
    trial_end: datetime | None
    current_period_end: datetime | None
    cancel_at_period_end: bool
    pending: str | None
    next_invoice: InvoicePreview | None
    card: CardInfo | None
    invoices: tuple[InvoiceInfo, ...]
    trial_available: bool
    needs_payment_confirmation: bool
    confirmation_is_renewal: bool
    """The payment to confirm renews Plus (after the trial or a period), rather than starting it."""
    held_takes: int


def portal(*, session: Session, user_id: int, payments: PaymentsGateway | None = None) -> PortalView:
    payments = payments_or_default(payments)
    user = _user(session, user_id)
    now = utcnow()
    ent = entitlement_for(session=session, user_id=user_id, now=now)
    latest = session.exec(
        select(BillingSubscription)
        .where(BillingSubscription.user_id == user_id)
        .order_by(col(BillingSubscription.id).desc())
    ).first()
    customer_id = customer_id_for(session=session, user_id=user_id)
    card = payments.default_card(customer_id) if customer_id and payments.configured else None
    invoices = tuple(payments.list_invoices(customer_id)) if customer_id and payments.configured else ()
    status = effective_status(latest, now) if latest else None
    next_invoice = None
    if (
        latest
        and customer_id
        and status in ("trialing", "active", "past_due")
        and not latest.cancel_at_period_end
    ):
        next_invoice = payments.upcoming_invoice(
            customer_id=customer_id, subscription_id=latest.stripe_subscription_id
        )
    plan = catalog.plan(latest.plan_id) if latest else None
    needs_confirmation = bool(latest and status == "incomplete" and latest.latest_invoice_id)
    if latest and status == "past_due" and latest.latest_invoice_id:
        # A renewal the bank wants confirmed (SCA off-session): live Stripe marks the subscription
        # past_due and the invoice's payment waits for the learner's action.
        pending_payment = payments.pending_payment(latest.latest_invoice_id)
        needs_confirmation = pending_payment is not None and pending_payment.status == "requires_action"
    renewal = bool(
        latest
        and (status == "past_due" or (latest.trial_end is not None and as_utc(latest.trial_end) <= now))
    )
    held = len(
        session.exec(
            select(BillingHeldTake.id).where(
                BillingHeldTake.user_id == user_id, col(BillingHeldTake.scored_attempt_id).is_(None)
            )
        ).all()
    )
    return PortalView(
        payments_configured=payments.configured,
        entitlement=ent,
        plan_id=latest.plan_id if latest else None,
        plan_name=plan.nickname if plan else ("Plus (complimentary)" if ent.source == "grant" else "Free"),
        status=status,
        trial_end=as_utc(latest.trial_end) if latest and latest.trial_end else None,
        current_period_end=as_utc(latest.current_period_end)
        if latest and latest.current_period_end
        else None,
        cancel_at_period_end=bool(latest and latest.cancel_at_period_end),
        pending=latest.pending if latest else None,
        next_invoice=next_invoice,
        card=card,
        invoices=invoices,
        trial_available=trial_available(session=session, email=user.email),
        needs_payment_confirmation=needs_confirmation,
        confirmation_is_renewal=needs_confirmation and renewal,
        held_takes=held,
    )


# --- staff grants ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GrantInfo:
    id: int
    user_id: int
    email: str
    plan: str
    starts_at: datetime
    ends_at: datetime
    reason: str
    granted_by: int | None
    revoked_at: datetime | None


def grant_plus(
    *, session: Session, actor: UserInfo | None, email: str, days: int, reason: str, ip: str | None = None
) -> GrantInfo:
    """Admin only: Plus for `days` days, with a reason; audited."""
    require_role(actor, Role.ADMIN)
    assert actor is not None
    reason = reason.strip()
    if not reason:
        raise ValidationError(
            "Say why this plan is given (it is kept in the audit log).", code="reason_required"
        )
    if not 1 <= days <= MAX_GRANT_DAYS:
        raise ValidationError(f"A grant lasts 1 to {MAX_GRANT_DAYS} days.", code="invalid_days")
    user = session.exec(select(User).where(User.email == email.strip().lower())).first()
    if user is None or user.id is None:
        raise NotFoundError("No account has that e-mail address.", code="user_not_found")
    now = utcnow()
    row = BillingGrant(
        user_id=user.id,
        plan="plus",
        starts_at=now,
        ends_at=now + timedelta(days=days),
        reason=reason[:500],
        granted_by=actor.id,
    )
    session.add(row)
    session.flush()
    record_audit(
        session=session,
        action="billing.grant_created",
        actor_id=actor.id,
        target=f"user:{user.id}",
        ip=ip,
        detail={"grant_id": row.id, "plan": "plus", "days": days, "reason": reason[:500]},
    )
    return _grant_info(row, user.email)


def grant_plus_reward(*, session: Session, user_id: int, days: int, reason: str) -> int:
    """A system grant (no staff actor), e.g. a referral reward: Plus for `days` days, starting when
    the learner's latest live grant ends so rewards add up instead of overlapping. Audited; returns
    the grant id. The caller guarantees it is given once (see sayzhong.growth.referrals)."""
    if not 1 <= days <= MAX_GRANT_DAYS:
        raise ValidationError(f"A grant lasts 1 to {MAX_GRANT_DAYS} days.", code="invalid_days")
    now = utcnow()
    ends = [
        as_utc(g.ends_at)
        for g in session.exec(
            select(BillingGrant).where(
                BillingGrant.user_id == user_id, col(BillingGrant.revoked_at).is_(None)
            )
        ).all()
    ]
    starts = max([now, *ends])
    row = BillingGrant(
        user_id=user_id,
        plan="plus",
        starts_at=starts,
        ends_at=starts + timedelta(days=days),
        reason=reason[:500],
        granted_by=None,
    )
    session.add(row)
    session.flush()
    assert row.id is not None
    record_audit(
        session=session,
        action="billing.grant_created",
        target=f"user:{user_id}",
        detail={"grant_id": row.id, "plan": "plus", "days": days, "reason": reason[:500]},
    )
    return row.id


def revoke_grant(*, session: Session, actor: UserInfo | None, grant_id: int, ip: str | None = None) -> None:
    require_role(actor, Role.ADMIN)
    assert actor is not None
    row = session.get(BillingGrant, grant_id)
    if row is None or row.revoked_at is not None:
        raise NotFoundError("That grant does not exist or was already revoked.", code="grant_not_found")
    row.revoked_at = utcnow()
    row.revoked_by = actor.id
    session.add(row)
    record_audit(
        session=session,
        action="billing.grant_revoked",
        actor_id=actor.id,
        target=f"user:{row.user_id}",
        ip=ip,
        detail={"grant_id": grant_id},
    )


def _grant_info(row: BillingGrant, email: str) -> GrantInfo:
    assert row.id is not None
    return GrantInfo(
        id=row.id,
        user_id=row.user_id,
        email=email,
        plan=row.plan,
        starts_at=as_utc(row.starts_at),
        ends_at=as_utc(row.ends_at),
        reason=row.reason,
        granted_by=row.granted_by,
        revoked_at=as_utc(row.revoked_at) if row.revoked_at else None,
    )


def list_grants(*, session: Session, actor: UserInfo | None, limit: int = 100) -> list[GrantInfo]:
    require_role(actor, Role.ADMIN, Role.SUPPORT)
    rows = session.exec(
        select(BillingGrant, User.email)
        .join(User, col(User.id) == col(BillingGrant.user_id))
        .order_by(col(BillingGrant.id).desc())
        .limit(limit)
    ).all()
    return [_grant_info(row, email) for row, email in rows]


# --- held takes -----------------------------------------------------------------------------------


def score_held_takes(*, session: Session, user_id: int, limit: int = 20) -> int:
    """Score takes kept at the daily limit while the plan allows (Plus, or after the reset); how many."""
    from sayzhong.billing.entitlements import EntitlementError, check_take
    from sayzhong.practice import service as practice

    rows = session.exec(
        select(BillingHeldTake)
        .where(BillingHeldTake.user_id == user_id, col(BillingHeldTake.scored_attempt_id).is_(None))
        .order_by(col(BillingHeldTake.id))
        .limit(limit)
    ).all()
    scored = 0
    base = Path(held_dir(user_id)).parent
    for row in rows:
        try:
            check_take(session=session, user_id=user_id, item_id=row.item_id, mode=row.mode, claim=True)
        except EntitlementError:
            break
        path = base / row.audio_path
        try:
            audio = path.read_bytes()
        except FileNotFoundError:
            session.delete(row)
            continue
        view = practice.score_attempt(
            session=session,
            user_id=user_id,
            item_id=row.item_id,
            audio=audio,
            content_type=row.content_type,
            mode=row.mode,
            idempotency_key=row.idempotency_key or f"held-take-{row.id}",
        )
        row.scored_attempt_id = view.id
        session.add(row)
        session.flush()
        path.unlink(missing_ok=True)
        scored += 1
    return scored


# --- catalogue and erasure ------------------------------------------------------------------------


def sync_catalog(*, payments: PaymentsGateway | None = None) -> list[str]:
    return payments_or_default(payments).sync_catalog(
        product=catalog.PLUS_PRODUCT, plans=catalog.PLANS, coupons=catalog.COUPONS
    )


def erase_billing_data(
    *, session: Session, user_id: int, payments: PaymentsGateway | None = None
) -> dict[str, int]:
    """Erasure participant: cancel subscriptions now, delete the Stripe customer, drop local billing rows.

    Invoices stay with Stripe (bookkeeping law requires keeping them; deleting a customer does not
    delete its invoices). The trial claim stays: it is a hash, and the tombstone that stops a second
    trial by re-registering. Grants are deleted with the user (their audit rows remain).
    """
    payments = payments_or_default(payments)
    counts = {"subscriptions_canceled": 0, "customers_deleted": 0, "held_takes_deleted": 0}
    subs = session.exec(select(BillingSubscription).where(BillingSubscription.user_id == user_id)).all()
    for sub in subs:
        if sub.status not in ("canceled", "incomplete_expired") and payments.configured:
            payments.cancel_now(sub.stripe_subscription_id)
            counts["subscriptions_canceled"] += 1
        session.delete(sub)
    customer = session.exec(select(BillingCustomer).where(BillingCustomer.user_id == user_id)).first()
    if customer is not None:
        if payments.configured:
            payments.delete_customer(customer.stripe_customer_id)
            counts["customers_deleted"] += 1
        session.delete(customer)
    for held in session.exec(select(BillingHeldTake).where(BillingHeldTake.user_id == user_id)).all():
        (Path(held_dir(user_id)).parent / held.audio_path).unlink(missing_ok=True)
        session.delete(held)
        counts["held_takes_deleted"] += 1
    for grant in session.exec(select(BillingGrant).where(BillingGrant.user_id == user_id)).all():
        session.delete(grant)
    for usage in session.exec(select(BillingDailyUsage).where(BillingDailyUsage.user_id == user_id)).all():
        session.delete(usage)
    session.flush()
    return counts
