"""Billing states: the pricing page, the in-app billing portal (/billing) and the staff billing page.

Thin: each handler re-resolves the caller, validates its arguments, calls `sayzhong.billing` in a
worker thread and copies plain strings into vars. Card entry runs in the browser with Stripe.js
(`confirmCardSetup`); only the SetupIntent's client secret reaches the page, its id stays in a
backend-only var, and the server checks the card's confirmation with Stripe before anything starts.
The browser half is the StripeCard component (components/stripe_card.py), driven by the `stripe_*`,
`card_nonce` and `confirm_*` vars below — no `rx.call_script`, so the CSP needs no 'unsafe-eval'.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

import reflex as rx

from sayzhong.accounts import access
from sayzhong.accounts import schemas as accounts
from sayzhong.billing import catalog, service, webhooks
from sayzhong.billing.entitlements import PLUS
from sayzhong.errors import SayZhongError
from state.admin import StaffState
from state.session import SessionState, run_in_session

STATUS_WORDS = {
    "trialing": "Free trial",
    "active": "Active",
    "past_due": "Payment failed — retrying",
    "unpaid": "Unpaid",
    "canceled": "Ended",
    "incomplete": "Waiting for payment confirmation",
    "incomplete_expired": "Not started (payment not confirmed)",
}
CARD_FORM_ID = "card-element"


def _day(value: datetime | None) -> str:
    return value.strftime("%d %b %Y") if value else ""


class PricingState(rx.State):
    monthly: str = catalog.format_money(catalog.PLUS_MONTHLY.amount, catalog.PLUS_MONTHLY.currency)
    annual: str = catalog.format_money(catalog.PLUS_ANNUAL.amount, catalog.PLUS_ANNUAL.currency)
    annual_per_month: str = catalog.format_money(
        catalog.PLUS_ANNUAL.amount // 12, catalog.PLUS_ANNUAL.currency
    )
    trial_days: int = catalog.TRIAL_DAYS


class BillingState(rx.State):
    loaded: bool = False
    busy: bool = False
    payments_configured: bool = False
    is_plus: bool = False
    plan_name: str = "Free"
    plan_id: str = ""
    status: str = ""
    status_words: str = ""
    trial_end: str = ""
    period_end: str = ""
    cancel_at_period_end: bool = False
    pending: str = ""
    grace: bool = False
    source: str = "free"
    grant_ends: str = ""
    takes_today: int = 0
    daily_limit: int = 0
    resets_at: str = ""
    next_invoice: str = ""
    card: str = ""
    invoices: list[dict[str, str]] = []
    trial_available: bool = True
    needs_confirmation: bool = False
    confirm_renewal: bool = False
    held_takes: int = 0
    message: str = ""
    error: str = ""
    # subscribe / card form
    chosen_plan: str = catalog.PLUS_MONTHLY.id
    coupon: str = ""
    """A discount code checked at Stripe (applied when Plus starts); "" = none."""
    coupon_words: str = ""
    card_mode: str = ""
    """"" (closed), "subscribe" or "update"."""
    client_secret: str = ""
    _setup_intent_id: str = ""
    # the StripeCard component: Stripe.js for this key, a fresh card Element per new `card_nonce`,
    # and one confirmation ("setup" or "payment") per new `confirm_nonce`
    stripe_key: str = ""
    stripe_js_url: str = ""
    card_nonce: int = 0
    confirm_kind: str = ""
    confirm_secret: str = ""
    confirm_nonce: int = 0
    # plan change and cancel
    preview_plan: str = ""
    preview_lines: list[dict[str, str]] = []
    preview_total: str = ""
    cancel_reason: str = ""

    async def _user(self) -> accounts.UserInfo | None:
        return await (await self.get_state(SessionState)).current_user()

    async def _refresh(self) -> None:
        user = await self._user()
        if user is None:
            return
        view = await run_in_session(lambda s: service.portal(session=s, user_id=user.id))
        ent = view.entitlement
        self.payments_configured = view.payments_configured
        self.is_plus = ent.plan == PLUS
        self.source = ent.source
        self.grant_ends = _day(ent.grant_ends_at)
        self.grace = ent.grace
        self.plan_name = view.plan_name if self.is_plus else "Free"
        self.plan_id = view.plan_id or ""
        self.status = view.status or ""
        self.status_words = STATUS_WORDS.get(self.status, self.status)
        self.trial_end = _day(view.trial_end)
        self.period_end = _day(view.current_period_end)
        self.cancel_at_period_end = view.cancel_at_period_end
        self.pending = view.pending or ""
        self.takes_today = ent.takes_today
        self.daily_limit = ent.daily_limit or 0
        self.resets_at = ent.resets_at.astimezone(_zone(user.timezone)).strftime("%H:%M")
        self.next_invoice = (
            f"{catalog.format_money(view.next_invoice.amount_due, view.next_invoice.currency)} on "
            f"{_day(view.next_invoice.next_payment_at)}"
            if view.next_invoice
            else ""
        )
        self.card = (
            f"{view.card.brand.title()} •••• {view.card.last4}, "
            f"expires {view.card.exp_month:02d}/{view.card.exp_year}"
            if view.card
            else ""
        )
        self.invoices = [
            {
                "id": inv.id,
                "date": _day(inv.created),
                "amount": catalog.format_money(inv.amount_due, inv.currency),
                "status": inv.status,
                "url": inv.hosted_invoice_url or "",
                "pdf": inv.invoice_pdf or "",
            }
            for inv in view.invoices
        ]
        self.trial_available = view.trial_available
        self.needs_confirmation = view.needs_payment_confirmation
        self.confirm_renewal = view.confirmation_is_renewal
        self.held_takes = view.held_takes
        self.loaded = True

    def _confirm(self, kind: str, secret: str) -> None:
        """Ask the StripeCard component to confirm this intent; it answers via card_/payment_confirmed."""
        self.confirm_kind, self.confirm_secret = kind, secret
        self.confirm_nonce += 1

    def _confirmed(self) -> None:
        """The component has answered: forget the secret, so nothing is confirmed twice."""
        self.confirm_kind = self.confirm_secret = ""

    async def _guard(self, work: Any) -> bool:
        """Run `work` (an awaitable); show a plain message instead of any error. True on success."""
        try:
            await work
            return True
        except SayZhongError as exc:
            self.error = exc.user_message
        except Exception:
            self.error = "Something went wrong on our side. Nothing was charged; please try again."
        return False

    @rx.event
    async def load(self):
        self.message = self.error = ""
        self.card_mode = self.client_secret = self._setup_intent_id = ""
        self._confirmed()
        self.preview_plan = ""
        await self._guard(self._refresh())
        if self.pending or self.needs_confirmation:
            return BillingState.watch_changes
        return None

    @rx.event(background=True)
    async def watch_changes(self) -> None:
        """While a change waits for Stripe (pending, SCA), re-read every 2 s for up to 30 s, so the
        page shows the webhook's result within seconds without a reload."""
        for _ in range(15):
            await asyncio.sleep(2)
            async with self:
                await self._guard(self._refresh())
                if not self.pending and not self.needs_confirmation:
                    return

    @rx.event
    def choose_plan(self, plan_id: str) -> None:
        if catalog.plan(str(plan_id)) is not None:
            self.chosen_plan = str(plan_id)

    @rx.event
    async def apply_coupon(self, form: dict[str, Any]):
        code = str(form.get("coupon", ""))[:100]
        self.message = self.error = ""
        if not code.strip():
            self.coupon = self.coupon_words = ""
            return
        self.busy = True
        yield
        found: list[Any] = []

        async def _check() -> None:
            found.append(await asyncio.to_thread(service.check_coupon, code))

        ok = await self._guard(_check())
        self.busy = False
        if ok and found:
            self.coupon = found[0].id
            self.coupon_words = f"{found[0].id}: {service.describe_coupon(found[0])}"
        else:
            self.coupon = self.coupon_words = ""

    @rx.event
    def remove_coupon(self) -> None:
        self.coupon = self.coupon_words = ""

    @rx.event
    async def open_card_form(self, mode: str):
        self.message = self.error = ""
        if mode not in ("subscribe", "update"):
            return
        user = await self._user()
        if user is None:
            return
        self.busy = True
        yield
        entry = None

        async def _start() -> None:
            nonlocal entry
            entry = await run_in_session(lambda s: service.start_card_entry(session=s, user_id=user.id))

        ok = await self._guard(_start())
        self.busy = False
        if not ok or entry is None:
            return
        self._setup_intent_id = entry.setup_intent_id
        self.client_secret = entry.client_secret
        self.card_mode = mode
        self.stripe_key, self.stripe_js_url = entry.publishable_key, entry.js_url
        self.card_nonce += 1

    @rx.event
    def close_card_form(self) -> None:
        self.card_mode = self.client_secret = self._setup_intent_id = ""

    @rx.event
    def submit_card(self):
        if not self.client_secret:
            return None
        self.busy = True
        self.error = ""
        self._confirm("setup", self.client_secret)
        return None

    @rx.event
    async def card_confirmed(self, result: dict[str, Any]):
        self._confirmed()
        result = result if isinstance(result, dict) else {}
        if result.get("error"):
            self.busy = False
            self.error = f"{str(result['error'])[:300]} Nothing was charged."
            return
        user = await self._user()
        if user is None or not self._setup_intent_id:
            self.busy = False
            return
        seti, plan_id, mode, coupon = self._setup_intent_id, self.chosen_plan, self.card_mode, self.coupon
        outcome: dict[str, Any] = {}

        async def _apply() -> None:
            if mode == "update":
                await run_in_session(
                    lambda s: service.update_card(session=s, user_id=user.id, setup_intent_id=seti)
                )
                outcome["message"] = "Your card is updated."
            else:
                res = await run_in_session(
                    lambda s: service.subscribe(
                        session=s, user_id=user.id, plan_id=plan_id, setup_intent_id=seti, coupon_code=coupon
                    )
                )
                outcome["secret"] = res.payment_client_secret
                outcome["message"] = (
                    f"Your {res.trial_days}-day free trial of Plus has started."
                    if res.trial_days
                    else "Welcome to Plus!"
                )

        ok = await self._guard(_apply())
        self.busy = False
        self.card_mode = self.client_secret = self._setup_intent_id = ""
        if ok:
            self.message = str(outcome.get("message", ""))
        await self._guard(self._refresh())
        if ok and outcome.get("secret"):
            self.message = "Your bank asks you to confirm this payment."
            self._confirm("payment", str(outcome["secret"]))

    @rx.event
    async def confirm_payment(self):
        user = await self._user()
        if user is None:
            return
        secret = None

        async def _get() -> None:
            nonlocal secret
            secret = await run_in_session(
                lambda s: service.pending_payment_secret(session=s, user_id=user.id)
            )

        if not await self._guard(_get()) or not secret:
            await self._guard(self._refresh())
            return
        entry = await run_in_session(lambda s: service.start_card_entry(session=s, user_id=user.id))
        self.stripe_key, self.stripe_js_url = entry.publishable_key, entry.js_url
        self._confirm("payment", secret)

    @rx.event
    async def payment_confirmed(self, result: dict[str, Any]):
        self._confirmed()
        result = result if isinstance(result, dict) else {}
        if result.get("error"):
            self.error = f"{str(result['error'])[:300]} Plus has not started; you can try again."
        else:
            self.message = "Payment confirmed. Plus is active as soon as Stripe tells us (a few seconds)."
        user = await self._user()
        if user is not None:
            sub = await run_in_session(lambda s: service.latest_subscription_id(session=s, user_id=user.id))
            if sub:
                await self._guard(
                    run_in_session(lambda s: service.refresh_subscription(session=s, subscription_id=sub))
                )
        await self._guard(self._refresh())
        return BillingState.watch_changes

    @rx.event
    async def preview_change(self, plan_id: str) -> None:
        self.message = self.error = ""
        user = await self._user()
        if user is None or catalog.plan(str(plan_id)) is None:
            return
        plan_id = str(plan_id)
        preview = None

        async def _get() -> None:
            nonlocal preview
            preview = await run_in_session(
                lambda s: service.preview_plan_change(session=s, user_id=user.id, plan_id=plan_id)
            )

        if await self._guard(_get()) and preview is not None:
            self.preview_plan = plan_id
            self.preview_lines = [
                {"label": label, "amount": catalog.format_money(amount, preview.currency)}
                for label, amount in preview.lines
            ]
            self.preview_total = catalog.format_money(preview.amount_due, preview.currency)

    @rx.event
    def cancel_preview(self) -> None:
        self.preview_plan = ""

    @rx.event
    async def confirm_change(self):
        user = await self._user()
        plan_id = self.preview_plan
        if user is None or not plan_id:
            return
        self.busy, self.pending = True, "plan:" + plan_id
        yield
        if await self._guard(
            run_in_session(lambda s: service.change_plan(session=s, user_id=user.id, plan_id=plan_id))
        ):
            plan = catalog.plan(plan_id)
            self.message = f"You are now on {plan.nickname if plan else plan_id}."
        self.busy, self.preview_plan = False, ""
        await self._guard(self._refresh())

    @rx.event
    async def cancel_subscription(self, form: dict[str, Any]):
        user = await self._user()
        if user is None:
            return
        reason = str(form.get("reason", ""))[:500]
        self.busy, self.pending, self.message, self.error = True, "cancel", "", ""
        yield
        if await self._guard(
            run_in_session(lambda s: service.cancel(session=s, user_id=user.id, reason=reason))
        ):
            self.message = "Plus will end at the end of this period. You can resume any time before then."
        self.busy = False
        await self._guard(self._refresh())

    @rx.event
    async def resume_subscription(self):
        user = await self._user()
        if user is None:
            return
        self.busy, self.pending, self.message, self.error = True, "resume", "", ""
        yield
        if await self._guard(run_in_session(lambda s: service.resume(session=s, user_id=user.id))):
            self.message = "Plus continues — your subscription will renew as before."
        self.busy = False
        await self._guard(self._refresh())

    @rx.event
    async def score_held(self) -> None:
        user = await self._user()
        if user is None:
            return
        count = 0

        async def _score() -> None:
            nonlocal count
            count = await run_in_session(lambda s: service.score_held_takes(session=s, user_id=user.id))

        if await self._guard(_score()):
            self.message = f"{count} saved take{'s' if count != 1 else ''} scored — see them in your history."
        await self._guard(self._refresh())


def _zone(name: str) -> Any:
    from zoneinfo import ZoneInfo

    try:
        return ZoneInfo(name)
    except (KeyError, ValueError):
        return ZoneInfo("UTC")


class AdminBillingState(StaffState):
    is_admin: bool = False
    grants: list[dict[str, str]] = []
    findings: list[dict[str, str]] = []
    events: list[dict[str, str]] = []
    message: str = ""
    error: str = ""

    async def _reload(self) -> None:
        user = await self._staff(access.Role.ADMIN, access.Role.SUPPORT)
        if user is None:
            self.grants = self.findings = self.events = []
            return
        self.is_admin = access.is_admin(user)

        def _read(s: Any) -> tuple[Any, Any, Any]:
            return (
                service.list_grants(session=s, actor=user),
                webhooks.recent_findings(session=s),
                webhooks.recent_events(session=s),
            )

        grants, findings, events = await run_in_session(_read)
        self.grants = [
            {
                "id": str(g.id),
                "email": g.email,
                "period": f"{_day(g.starts_at)} – {_day(g.ends_at)}",
                "reason": g.reason,
                "state": "revoked" if g.revoked_at else "active",
            }
            for g in grants
        ]
        self.findings = [
            {
                "when": f.run_at.strftime("%Y-%m-%d %H:%M"),
                "subscription": f.stripe_subscription_id,
                "field": f.field,
                "change": f"{f.local_value} → {f.stripe_value}",
            }
            for f in findings
        ]
        self.events = [
            {
                "when": e.received_at.strftime("%Y-%m-%d %H:%M:%S"),
                "type": e.type,
                "status": e.status,
                "attempts": str(e.attempts),
                "error": e.last_error or "",
            }
            for e in events
        ]

    @rx.event
    async def load(self) -> None:
        self.message = self.error = ""
        await self._reload()

    @rx.event
    async def grant(self, form: dict[str, Any]) -> None:
        self.message = self.error = ""
        user = await self._staff(access.Role.ADMIN)
        if user is None:
            self.error = self.denied
            return
        email = str(form.get("email", ""))[:320]
        reason = str(form.get("reason", ""))[:500]
        try:
            days = int(str(form.get("days", "")).strip() or "0")
        except ValueError:
            days = 0
        session_state = await self.get_state(SessionState)
        ip = session_state.client_ip()
        try:
            info = await run_in_session(
                lambda s: service.grant_plus(
                    session=s, actor=user, email=email, days=days, reason=reason, ip=ip
                )
            )
            self.message = f"{info.email} has Plus until {_day(info.ends_at)}."
        except SayZhongError as exc:
            self.error = exc.user_message
        await self._reload()

    @rx.event
    async def revoke(self, grant_id: str) -> None:
        self.message = self.error = ""
        user = await self._staff(access.Role.ADMIN)
        if user is None:
            self.error = self.denied
            return
        try:
            gid = int(grant_id)
            await run_in_session(lambda s: service.revoke_grant(session=s, actor=user, grant_id=gid))
            self.message = "Grant revoked."
        except (SayZhongError, ValueError) as exc:
            self.error = exc.user_message if isinstance(exc, SayZhongError) else "Unknown grant."
        await self._reload()

    @rx.event
    async def run_reconciler(self) -> None:
        self.message = self.error = ""
        user = await self._staff(access.Role.ADMIN)
        if user is None:
            self.error = self.denied
            return
        try:
            found = await run_in_session(lambda s: webhooks.reconcile(session=s))
            self.message = f"Reconciler: {len(found)} difference(s) repaired."
        except SayZhongError as exc:
            self.error = exc.user_message
        await self._reload()
