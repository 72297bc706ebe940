"""Plans and billing: the public pricing page, the in-app billing portal, the staff billing page."""

import reflex as rx

from components.forms import error_message, success_message
from components.layout import data_table, link_button
from components.notices import notice
from components.props import Row, VarOr
from components.stripe_card import stripe_card
from pages.admin import _denied, _staff_nav
from pages.template import template
from sayzhong import routes
from sayzhong.billing import catalog
from state.billing import CARD_FORM_ID, AdminBillingState, BillingState, PricingState
from state.session import SessionState

PLUS_FEATURES = (
    "Every lesson and role-play conversation",
    "Unlimited scored takes",
    "Azure pronunciation scores when the server has them",
    "The terminal client (sayzhong-client)",
)
FREE_FEATURES = (
    "The first three lessons and their conversations",
    "Tone drills and review",
    "20 scored takes a day",
)


def _feature_list(items: tuple[str, ...]) -> rx.Component:
    return rx.el.ul(
        *[
            rx.el.li(
                rx.hstack(
                    rx.icon("check", size=16, aria_hidden="true", flex_shrink="0"), rx.text(i), spacing="2"
                )
            )
            for i in items
        ],
        style={"listStyle": "none", "padding": 0, "display": "grid", "gap": "6px"},
    )


def _plan_card(
    title: str, price: rx.Component, features: tuple[str, ...], action: rx.Component
) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(title, size="5", as_="h2"),
            price,
            _feature_list(features),
            action,
            spacing="3",
            width="100%",
        ),
        size="3",
        width="100%",
    )


@template(routes.PRICING, "Plans", access="public")
def pricing() -> rx.Component:
    upgrade = rx.cond(
        SessionState.signed_in,
        link_button("Upgrade on the billing page", routes.BILLING),
        link_button("Create a free account", routes.SIGN_UP),
    )
    return rx.vstack(
        rx.heading("Plans", size="8", as_="h1"),
        rx.text(
            "Start free. Plus unlocks every lesson and unlimited takes — try it free for ",
            PricingState.trial_days,
            " days (once per person). Cancel any time; Plus runs to the end of the period you paid for.",
            color=rx.color("gray", 11),
        ),
        rx.grid(
            _plan_card(
                "Free",
                rx.text("€0", size="7", weight="bold"),
                FREE_FEATURES,
                rx.cond(
                    SessionState.signed_in,
                    link_button("Go to your lessons", routes.LEARN, variant="outline"),
                    link_button("Start free", routes.SIGN_UP, variant="outline"),
                ),
            ),
            _plan_card(
                "Plus monthly",
                rx.text(PricingState.monthly, " / month", size="7", weight="bold"),
                PLUS_FEATURES,
                upgrade,
            ),
            _plan_card(
                "Plus annual",
                rx.vstack(
                    rx.text(PricingState.annual, " / year", size="7", weight="bold"),
                    rx.text(
                        "about ",
                        PricingState.annual_per_month,
                        " a month",
                        size="2",
                        color=rx.color("gray", 11),
                    ),
                    spacing="1",
                ),
                PLUS_FEATURES,
                upgrade,
            ),
            columns=rx.breakpoints(initial="1", md="3"),
            spacing="4",
            width="100%",
        ),
        spacing="5",
        width="100%",
    )


def _row(label: str, value: rx.Component | VarOr[str]) -> rx.Component:
    return rx.hstack(
        rx.text(label, weight="medium", min_width="10em", color=rx.color("gray", 11)),
        rx.text(value),
        spacing="3",
        flex_wrap="wrap",
    )


def _current_plan() -> rx.Component:
    s = BillingState
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading("Your plan: ", s.plan_name, size="5", as_="h2"),
                rx.cond(s.status_words != "", rx.badge(s.status_words, size="2")),
                rx.cond(
                    s.pending != "",
                    rx.badge(rx.spinner(size="1"), "Updating…", color_scheme="amber", role="status"),
                ),
                spacing="3",
                align="center",
                flex_wrap="wrap",
            ),
            rx.cond(s.trial_end != "", _row("Trial ends", s.trial_end)),
            rx.cond(
                s.period_end != "",
                _row(rx.cond(s.cancel_at_period_end, "Plus ends on", "Renews on"), s.period_end),
            ),
            rx.cond(s.next_invoice != "", _row("Next invoice", s.next_invoice)),
            rx.cond(s.grant_ends != "", _row("Complimentary until", s.grant_ends)),
            rx.cond(
                ~s.is_plus,
                _row(
                    "Scored takes today",
                    rx.text(s.takes_today, " of ", s.daily_limit, " (resets at ", s.resets_at, " your time)"),
                ),
            ),
            rx.cond(s.card != "", _row("Payment method", s.card)),
            spacing="2",
            width="100%",
        ),
        size="3",
        width="100%",
    )


def _card_form() -> rx.Component:
    """Always rendered (hidden while no card is being entered): its StripeCard keeps Stripe.js and the
    card Element for the bank's confirmation step that follows a subscription (SCA)."""
    s = BillingState
    return rx.card(
        rx.vstack(
            rx.heading(rx.cond(s.card_mode == "update", "New card", "Card details"), size="4", as_="h2"),
            rx.text(
                "Your card goes straight to our payment provider (Stripe); SayZhong never sees the number.",
                size="2",
                color=rx.color("gray", 11),
            ),
            stripe_card(
                card_id=CARD_FORM_ID,
                label="Card number, expiry and security code",
                publishable_key=s.stripe_key,
                js_url=s.stripe_js_url,
                card_nonce=s.card_nonce,
                confirm_secret=s.confirm_secret,
                confirm_kind=s.confirm_kind,
                confirm_nonce=s.confirm_nonce,
                on_setup_result=s.card_confirmed,
                on_payment_result=s.payment_confirmed,
                style={
                    "padding": "10px",
                    "border": f"1px solid {rx.color('gray', 7)}",
                    "borderRadius": "6px",
                    "minHeight": "44px",
                    "width": "100%",
                },
            ),
            rx.hstack(
                rx.button(
                    rx.cond(
                        s.card_mode == "update",
                        "Save card",
                        rx.cond(s.trial_available, "Start free trial", "Subscribe"),
                    ),
                    on_click=s.submit_card,
                    loading=s.busy,
                ),
                rx.button("Cancel", variant="soft", color_scheme="gray", on_click=s.close_card_form),
                spacing="3",
            ),
            spacing="3",
            width="100%",
        ),
        size="3",
        width="100%",
        display=rx.cond(s.card_mode != "", "block", "none"),
    )


def _choose_plan() -> rx.Component:
    s = BillingState

    def option(plan: catalog.PlanDef, price: VarOr[str], per: str) -> rx.Component:
        chosen = s.chosen_plan == plan.id
        return rx.button(
            rx.vstack(
                rx.text(plan.nickname, weight="bold"),
                rx.text(price, per, size="2"),
                spacing="0",
                align="start",
            ),
            variant=rx.cond(chosen, "solid", "outline"),
            aria_pressed=chosen,
            on_click=s.choose_plan(plan.id),  # type: ignore[operator]  # see components/props.py
            height="auto",
            padding="10px 16px",
        )

    return rx.card(
        rx.vstack(
            rx.heading("Upgrade to Plus", size="5", as_="h2"),
            rx.text(
                rx.cond(
                    s.trial_available,
                    f"Try Plus free for {catalog.TRIAL_DAYS} days. "
                    "You can cancel before the trial ends and pay nothing.",
                    "You have had the free trial already, so Plus starts with the first payment.",
                ),
            ),
            rx.hstack(
                option(catalog.PLUS_MONTHLY, PricingState.monthly, " / month"),
                option(catalog.PLUS_ANNUAL, PricingState.annual, " / year"),
                spacing="3",
                flex_wrap="wrap",
            ),
            rx.cond(
                s.coupon_words != "",
                rx.hstack(
                    rx.badge("Discount", color_scheme="green"),
                    rx.text(s.coupon_words, size="2"),
                    rx.button("Remove code", variant="ghost", size="1", on_click=s.remove_coupon),
                    spacing="2",
                    align="center",
                ),
                rx.form(
                    rx.hstack(
                        rx.vstack(
                            rx.el.label("Discount code (optional)", html_for="coupon-code"),
                            rx.input(id="coupon-code", name="coupon", max_length=64, autocomplete="off"),
                            spacing="1",
                        ),
                        rx.button("Apply code", type="submit", variant="soft", loading=s.busy),
                        spacing="2",
                        align="end",
                    ),
                    on_submit=s.apply_coupon,
                    reset_on_submit=True,
                ),
            ),
            rx.cond(
                s.card_mode == "",
                rx.button(
                    rx.cond(s.trial_available, "Start free trial", "Continue to payment"),
                    on_click=s.open_card_form("subscribe"),  # type: ignore[operator]  # see components/props.py
                    loading=s.busy,
                    size="3",
                ),
            ),
            spacing="3",
            width="100%",
        ),
        size="3",
        width="100%",
    )


def _manage() -> rx.Component:
    s = BillingState
    other = rx.cond(s.plan_id == catalog.PLUS_ANNUAL.id, catalog.PLUS_MONTHLY.id, catalog.PLUS_ANNUAL.id)
    other_name = rx.cond(s.plan_id == catalog.PLUS_ANNUAL.id, "monthly", "annual")
    return rx.card(
        rx.vstack(
            rx.heading("Manage Plus", size="5", as_="h2"),
            rx.cond(
                s.preview_plan == "",
                rx.button("Switch to ", other_name, on_click=s.preview_change(other), variant="outline"),  # type: ignore[operator]  # see components/props.py
                rx.vstack(
                    rx.heading("If you switch now", size="3", as_="h3"),
                    rx.el.ul(
                        rx.foreach(
                            s.preview_lines,
                            lambda line: rx.el.li(
                                rx.hstack(rx.text(line["label"]), rx.spacer(), rx.text(line["amount"]))
                            ),
                        ),
                        style={"listStyle": "none", "padding": 0, "width": "100%"},
                        aria_label="Proration preview",
                    ),
                    rx.hstack(
                        rx.text("Due now", weight="bold"),
                        rx.spacer(),
                        rx.text(s.preview_total, weight="bold"),
                        width="100%",
                    ),
                    rx.hstack(
                        rx.button("Confirm switch", on_click=s.confirm_change, loading=s.busy),
                        rx.button(
                            "Keep my plan", variant="soft", color_scheme="gray", on_click=s.cancel_preview
                        ),
                        spacing="3",
                    ),
                    spacing="2",
                    width="100%",
                    max_width="480px",
                ),
            ),
            rx.button("Update card", variant="outline", on_click=s.open_card_form("update")),  # type: ignore[operator]  # see components/props.py
            rx.cond(
                s.cancel_at_period_end,
                rx.vstack(
                    rx.text("Your subscription is set to end on ", s.period_end, "."),
                    rx.button("Resume Plus", on_click=s.resume_subscription, loading=s.busy),
                    spacing="2",
                ),
                rx.form(
                    rx.vstack(
                        rx.el.label("Why are you leaving? (optional)", html_for="cancel-reason"),
                        rx.text_area(id="cancel-reason", name="reason", max_length=500, width="100%"),
                        rx.button(
                            "Cancel at period end",
                            type="submit",
                            color_scheme="red",
                            variant="soft",
                            loading=s.busy,
                        ),
                        spacing="2",
                        width="100%",
                        max_width="480px",
                    ),
                    on_submit=s.cancel_subscription,
                    reset_on_submit=True,
                ),
            ),
            spacing="4",
            width="100%",
        ),
        size="3",
        width="100%",
    )


def _invoice_row(inv: Row) -> rx.Component:
    return rx.table.row(
        rx.table.cell(inv["date"]),
        rx.table.cell(inv["amount"]),
        rx.table.cell(rx.badge(inv["status"])),
        rx.table.cell(
            rx.hstack(
                rx.cond(inv["url"] != "", rx.link("View", href=inv["url"], is_external=True)),
                rx.cond(inv["pdf"] != "", rx.link("PDF", href=inv["pdf"], is_external=True)),
                rx.cond(
                    (inv["url"] == "") & (inv["pdf"] == ""),
                    rx.text(inv["id"], size="1", color=rx.color("gray", 11)),
                ),
                spacing="3",
            )
        ),
    )


def _invoices() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Invoices", size="5", as_="h2"),
            rx.cond(
                BillingState.invoices.length() > 0,  # type: ignore[attr-defined]
                data_table(
                    "Invoices", ["Date", "Amount", "Status", "Invoice"], BillingState.invoices, _invoice_row
                ),
                rx.text("No invoices yet.", color=rx.color("gray", 11)),
            ),
            spacing="3",
            width="100%",
        ),
        size="3",
        width="100%",
    )


@template(routes.BILLING, "Plan and billing", access="user", on_load=[BillingState.load])
def billing() -> rx.Component:
    s = BillingState
    return rx.vstack(
        rx.heading("Plan and billing", size="8", as_="h1"),
        error_message(s.error),
        success_message(s.message),
        rx.cond(
            ~s.payments_configured,
            rx.callout(
                "Payments are not set up on this SayZhong server, so plans cannot be bought here. "
                "Free includes the first three lessons, tone drills, review and a daily number of "
                "scored takes; "
                "staff can give an account Plus.",
                icon="info",
                role="status",
                width="100%",
            ),
        ),
        rx.cond(
            s.grace & ~s.needs_confirmation,  # a renewal waiting for the bank's step has its own prompt
            rx.callout(
                "Your last payment did not go through. Plus continues while we retry — "
                "please update your card.",
                icon="triangle-alert",
                color_scheme="amber",
                role="alert",
                width="100%",
            ),
        ),
        rx.cond(
            s.needs_confirmation,
            notice(
                rx.hstack(
                    rx.text(
                        rx.cond(
                            s.confirm_renewal,
                            "Your bank asks you to confirm your payment to renew Plus.",
                            "Your bank asks you to confirm the first payment before Plus starts.",
                        )
                    ),
                    rx.button("Confirm payment", on_click=s.confirm_payment, size="2"),
                    spacing="3",
                    align="center",
                    flex_wrap="wrap",
                ),
                icon="shield-check",
                color_scheme="amber",
                role="alert",
                width="100%",
            ),
        ),
        rx.cond(
            s.held_takes > 0,
            notice(
                rx.hstack(
                    rx.text(
                        s.held_takes, " saved take(s) from when you reached the daily limit are waiting."
                    ),
                    rx.cond(s.is_plus, rx.button("Score them now", size="2", on_click=s.score_held)),
                    spacing="3",
                    align="center",
                    flex_wrap="wrap",
                ),
                icon="mic",
                role="status",
                width="100%",
            ),
        ),
        rx.cond(s.loaded, _current_plan(), rx.spinner()),
        rx.cond(
            s.payments_configured,
            rx.cond(
                s.is_plus & (s.source == "subscription"),
                _manage(),
                rx.cond(s.is_plus, rx.fragment(), _choose_plan()),
            ),
        ),
        rx.cond(s.payments_configured, _card_form()),
        rx.cond(s.payments_configured, _invoices()),
        rx.link("Compare plans", href=routes.PRICING),
        spacing="4",
        width="100%",
        max_width="760px",
    )


def _grant_row(g: Row) -> rx.Component:
    return rx.table.row(
        rx.table.cell(g["email"]),
        rx.table.cell(g["period"]),
        rx.table.cell(g["reason"]),
        rx.table.cell(
            rx.cond(
                (g["state"] == "active") & AdminBillingState.is_admin,
                rx.button(
                    "Revoke",
                    size="1",
                    variant="outline",
                    color_scheme="red",
                    on_click=AdminBillingState.revoke(g["id"]),  # type: ignore[operator]  # see components/props.py
                ),
                rx.badge(g["state"]),
            )
        ),
    )


@template(routes.ADMIN_BILLING, "Billing (staff)", access="staff", on_load=[AdminBillingState.load])
def admin_billing() -> rx.Component:
    a = AdminBillingState
    return rx.vstack(
        rx.heading("Billing", size="8", as_="h1"),
        _staff_nav(),
        _denied(a.denied),
        error_message(a.error),
        success_message(a.message),
        rx.cond(
            a.is_admin,
            rx.card(
                rx.form(
                    rx.vstack(
                        rx.heading("Give Plus (complimentary)", size="4", as_="h2"),
                        rx.el.label("Learner's e-mail", html_for="grant-email"),
                        rx.input(id="grant-email", name="email", type="email", required=True, width="100%"),
                        rx.el.label("Days", html_for="grant-days"),
                        rx.input(
                            id="grant-days", name="days", type="number", min=1, max=732, default_value="30"
                        ),
                        rx.el.label("Reason (kept in the audit log)", html_for="grant-reason"),
                        rx.input(
                            id="grant-reason", name="reason", required=True, max_length=500, width="100%"
                        ),
                        rx.button("Give Plus", type="submit"),
                        spacing="2",
                        width="100%",
                        max_width="480px",
                    ),
                    on_submit=a.grant,
                    reset_on_submit=True,
                ),
                width="100%",
            ),
        ),
        rx.heading("Grants", size="5", as_="h2"),
        data_table("Grants", ("Learner", "Period", "Reason", ""), a.grants, _grant_row),
        rx.hstack(
            rx.heading("Reconciler findings", size="5", as_="h2"),
            rx.cond(
                a.is_admin,
                rx.button("Run reconciler now", size="1", variant="soft", on_click=a.run_reconciler),
            ),
            spacing="3",
            align="center",
        ),
        rx.text(
            "Differences between our copy of each subscription and Stripe, "
            "found and repaired by the daily job.",
            size="2",
        ),
        data_table(
            "Reconciler findings",
            ("When", "Subscription", "Field", "Change"),
            a.findings,
            lambda f: rx.table.row(
                rx.table.cell(f["when"]),
                rx.table.cell(rx.code(f["subscription"])),
                rx.table.cell(f["field"]),
                rx.table.cell(f["change"]),
            ),
        ),
        rx.heading("Recent webhook events", size="5", as_="h2"),
        data_table(
            "Recent webhook events",
            ("Received", "Type", "Status", "Attempts", "Last error"),
            a.events,
            lambda e: rx.table.row(
                rx.table.cell(e["when"]),
                rx.table.cell(rx.code(e["type"])),
                rx.table.cell(rx.badge(e["status"])),
                rx.table.cell(e["attempts"]),
                rx.table.cell(e["error"]),
            ),
        ),
        spacing="4",
        width="100%",
    )
