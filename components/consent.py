"""Cookie consent banner (first layer with Accept all / Reject all / Choose of equal weight, and the
"Choose" layer with the categories) and the privacy-policy notice. Takes values and handlers.

The banner sits in the page flow above the navigation, so it never covers what the visitor is
reading, and closing the page without answering is not consent: nothing optional runs until a
choice is recorded.
"""

from __future__ import annotations

import reflex as rx

from components.consent_signals import consent_signals
from components.notices import notice
from components.props import Handler, VarOr
from sayzhong import routes

# Same size, style and layer for the three first-layer choices (measured by the e2e test).
_CHOICE = {"size": "2", "variant": "surface", "color_scheme": "gray", "width": "10em", "high_contrast": True}


def _category(title: str, body: str, control: rx.Component) -> rx.Component:
    return rx.hstack(
        control,
        rx.vstack(rx.text(title, weight="bold", size="2"), rx.text(body, size="2"), spacing="0"),
        align="start",
        spacing="3",
    )


def consent_banner(
    *,
    ask: VarOr[bool],
    choosing: VarOr[bool],
    analytics_on: VarOr[bool],
    marketing_on: VarOr[bool],
    on_accept: Handler,
    on_reject: Handler,
    on_choose: Handler,
    on_save: Handler,
    on_analytics: Handler,
    on_marketing: Handler,
) -> rx.Component:
    return rx.cond(
        ask,
        rx.el.section(
            rx.vstack(
                rx.heading("Your privacy choices", size="3", as_="h2", id="consent-title"),
                rx.text(
                    "We use necessary cookies to keep you signed in and to remember this choice. With your "
                    "permission we would also measure how the course is used (analytics). Marketing trackers "
                    "are not used today. Nothing optional runs until you choose; you can change your mind "
                    "any time under “Cookie settings” at the bottom of every page. ",
                    rx.link("Cookie Policy", href=routes.legal_url("cookies"), underline="always"),
                    size="2",
                ),
                rx.cond(
                    choosing,
                    choices_panel(
                        analytics_on=analytics_on,
                        marketing_on=marketing_on,
                        on_analytics=on_analytics,
                        on_marketing=on_marketing,
                        on_save=on_save,
                    ),
                ),
                rx.flex(
                    rx.button("Accept all", on_click=on_accept, **_CHOICE),
                    rx.button("Reject all", on_click=on_reject, **_CHOICE),
                    rx.button("Choose", on_click=on_choose, **_CHOICE),
                    spacing="3",
                    wrap="wrap",
                ),
                spacing="3",
                width="100%",
                max_width="1100px",
                margin_x="auto",
                padding="1em",
            ),
            aria_labelledby="consent-title",
            data_testid="consent-banner",
            style={"background": rx.color("accent", 2), "borderBottom": f"1px solid {rx.color('accent', 6)}"},
        ),
    )


def choices_panel(
    *,
    analytics_on: VarOr[bool],
    marketing_on: VarOr[bool],
    on_analytics: Handler,
    on_marketing: Handler,
    on_save: Handler,
) -> rx.Component:
    return rx.vstack(
        _category(
            "Necessary (always on)",
            "Your sign-in session and this choice (a random visitor id). Without them the site cannot work "
            "or prove what you chose. They never track you across sites.",
            rx.checkbox(checked=True, disabled=True, aria_label="Necessary (always on)"),
        ),
        _category(
            "Analytics",
            "Which pages you open and steps such as “finished onboarding”, linked to a random id — never "
            "to your e-mail or recordings. Kept 13 months.",
            rx.checkbox(checked=analytics_on, on_change=on_analytics, aria_label="Analytics"),
        ),
        _category(
            "Marketing",
            "Not used today. Saying no now means we will ask before ever adding such a tracker.",
            rx.checkbox(checked=marketing_on, on_change=on_marketing, aria_label="Marketing"),
        ),
        rx.button("Save my choices", on_click=on_save, size="2"),
        spacing="3",
        width="100%",
    )


def privacy_notice(*, version: VarOr[int], on_dismiss: Handler) -> rx.Component:
    return rx.cond(
        rx.Var.create(version).to(int) > 0,
        notice(
            rx.hstack(
                rx.text(
                    "We published a new version of our Privacy Policy. ",
                    rx.link("See what changed", href=f"{routes.LEGAL}/privacy/history", underline="always"),
                    ".",
                    size="2",
                ),
                rx.button("Dismiss", size="1", variant="soft", on_click=on_dismiss),
                align="center",
                spacing="3",
                flex_wrap="wrap",
            ),
            icon="info",
            role="status",
            width="100%",
        ),
    )


def mounted_consent_banner() -> rx.Component:
    """The banner and notice bound to ConsentState, checked on every page mount (the shared layout).

    The consent signals component reports the browser's GPC signal on mount (which starts the check)
    and sends the page-view beacon once the server allows it.
    """
    from state.privacy import SIGNALS_ID, ConsentState

    return rx.box(
        consent_banner(
            ask=ConsentState.ask,
            choosing=ConsentState.choosing,
            analytics_on=ConsentState.analytics_on,
            marketing_on=ConsentState.marketing_on,
            on_accept=ConsentState.accept_all,
            on_reject=ConsentState.reject_all,
            on_choose=ConsentState.open_choices,
            on_save=ConsentState.save_choices,
            on_analytics=ConsentState.set_analytics_choice,
            on_marketing=ConsentState.set_marketing_choice,
        ),
        rx.box(
            privacy_notice(version=ConsentState.notice_version, on_dismiss=ConsentState.dismiss_notice),
            max_width="1100px",
            margin_x="auto",
            padding_x="1em",
        ),
        consent_signals(signals_id=SIGNALS_ID, on_gpc=ConsentState.evaluate),
        width="100%",
    )


def legal_links() -> rx.Component:
    """Footer links to every legal document and the consent controls."""
    link = {"size": "2", "color": rx.color("gray", 11), "underline": "always"}
    return rx.el.nav(
        rx.flex(
            rx.link("Terms", href=routes.legal_url("terms"), **link),
            rx.link("Privacy", href=routes.legal_url("privacy"), **link),
            rx.link("Cookies", href=routes.legal_url("cookies"), **link),
            rx.link("Sub-processors", href=routes.legal_url("subprocessors"), **link),
            rx.link("Cookie settings", href=routes.COOKIE_SETTINGS, **link),
            rx.link("Do not sell or share my information", href=routes.DO_NOT_SELL, **link),
            spacing="4",
            wrap="wrap",
        ),
        aria_label="Legal",
        style={"width": "100%", "maxWidth": "1100px", "margin": "0 auto", "padding": "0 1em 1em"},
    )


def terms_acceptance_checkbox() -> rx.Component:
    """Sign-up: explicit, unticked acceptance of the current terms and privacy policy."""
    return rx.el.label(
        rx.el.input(type="checkbox", name="accept_terms", id="accept-terms", required=True),
        rx.text(
            " I accept the ",
            rx.link("Terms of Service", href=routes.legal_url("terms"), is_external=True, underline="always"),
            " and have read the ",
            rx.link("Privacy Policy", href=routes.legal_url("privacy"), is_external=True, underline="always"),
            ".",
            as_="span",
            size="2",
        ),
        html_for="accept-terms",
        style={"display": "flex", "gap": "8px", "alignItems": "baseline"},
    )
