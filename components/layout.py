"""Shared page chrome: navigation bar, footer and page container. Takes values and handlers only."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import reflex as rx

from components.consent import legal_links, mounted_consent_banner
from components.props import Handler, VarOr
from sayzhong import routes


def brand() -> rx.Component:
    return rx.link(
        rx.hstack(
            rx.image(src="/logo.svg", alt="", width="28px", height="28px"),
            rx.text("SayZhong", weight="bold", size="5"),
            rx.text(
                "说中",
                color=rx.color("accent", 11),
                size="4",
                weight="medium",
                display=["none", "inline", "inline"],
            ),
            align="center",
            spacing="2",
            white_space="nowrap",
        ),
        href=routes.LANDING,
        underline="none",
        color="inherit",
        aria_label="SayZhong home",
    )


def link_button(label: str | rx.Component, href: str, **props) -> rx.Component:
    """A link that looks like a button (one interactive element, announced as a link)."""
    # The anchor takes over the button's classes (as_child); give it the button's text colour.
    colour = "var(--accent-contrast)" if props.get("variant", "solid") == "solid" else "var(--accent-a11)"
    return rx.button(
        rx.link(label, href=href, underline="none", style={"color": colour}), as_child=True, **props
    )


def nav_link(label: str, href: str) -> rx.Component:
    return rx.link(label, href=href, size="3", weight="medium", color=rx.color("gray", 12), underline="hover")


LEARNER_NAV = (
    ("Home", routes.HOME, "house"),
    ("Lessons", routes.LEARN, "book-open"),
    ("Review", routes.REVIEW, "repeat"),
)


def bottom_nav(*, is_staff: VarOr[bool]) -> rx.Component:
    """Phones: a labelled tab bar fixed to the bottom of the screen (hidden from tablet width up,
    where the same links sit in the top bar)."""

    def tab(label: str, href: str, icon: str) -> rx.Component:
        return rx.link(
            rx.vstack(
                rx.icon(icon, size=20, aria_hidden="true"),
                rx.text(label, size="1", weight="medium"),
                align="center",
                spacing="0",
            ),
            href=href,
            underline="none",
            color=rx.color("gray", 12),
            padding_y="6px",
            flex="1",
            text_align="center",
        )

    return rx.el.nav(
        rx.hstack(
            *[tab(label, href, icon) for label, href, icon in LEARNER_NAV],
            rx.cond(is_staff, tab("Staff", routes.ADMIN, "shield")),
            tab("Account", routes.ACCOUNT, "circle-user"),
            width="100%",
            spacing="0",
        ),
        aria_label="Main",
        class_name="bottom-nav",
        style={
            "position": "fixed",
            "bottom": "0",
            "left": "0",
            "right": "0",
            "zIndex": "20",
            "background": rx.color("gray", 1),
            "borderTop": f"1px solid {rx.color('gray', 5)}",
            "paddingBottom": "env(safe-area-inset-bottom)",
        },
    )


def navbar(
    *,
    signed_in: VarOr[bool],
    is_staff: VarOr[bool],
    display_name: VarOr[str],
    on_sign_out: Handler,
    help_button: rx.Component | None = None,
) -> rx.Component:
    signed_in_links = rx.hstack(
        rx.el.nav(
            rx.hstack(
                *[nav_link(label, href) for label, href, _icon in LEARNER_NAV],
                rx.cond(is_staff, nav_link("Staff", routes.ADMIN)),
                spacing="4",
            ),
            aria_label="Main",
            class_name="top-nav",
        ),
        # Support centre (issue 13): the contextual help drawer on learner pages.
        *([help_button] if help_button is not None else []),
        rx.menu.root(
            rx.menu.trigger(
                rx.button(
                    rx.icon("circle-user", size=18, aria_hidden="true"),
                    rx.text(display_name, display=["none", "none", "inline"]),
                    variant="soft",
                    aria_label="Account menu",
                )
            ),
            rx.menu.content(
                rx.menu.item("Account settings", on_select=rx.redirect(routes.ACCOUNT)),
                rx.menu.item("Plan and billing", on_select=rx.redirect(routes.BILLING)),
                rx.menu.item("Help and support", on_select=rx.redirect(routes.SUPPORT)),
                rx.menu.separator(),
                rx.menu.item("Sign out", on_select=on_sign_out, color="red"),
            ),
        ),
        spacing="4",
        align="center",
    )
    signed_out_links = rx.hstack(
        link_button("Sign in", routes.SIGN_IN, variant="ghost"),
        link_button("Get started", routes.SIGN_UP),
        spacing="3",
        align="center",
    )
    return rx.fragment(
        rx.el.header(
            rx.hstack(
                brand(),
                rx.spacer(),
                rx.cond(signed_in, signed_in_links, signed_out_links),
                align="center",
                width="100%",
                max_width="1100px",
                margin_x="auto",
                padding_x="1em",
                padding_y="0.75em",
            ),
            style={
                "borderBottom": f"1px solid {rx.color('gray', 5)}",
                "background": rx.color("gray", 1),
                "position": "sticky",
                "top": "0",
                "zIndex": "10",
                "width": "100%",
            },
        ),
        rx.cond(signed_in, bottom_nav(is_staff=is_staff)),
    )


def footer(*, links: list[tuple[str, str]] | tuple[tuple[str, str], ...] = ()) -> rx.Component:
    """Site footer (a contentinfo landmark). `links` are (label, href) pairs of pages that exist."""
    return rx.el.footer(
        rx.hstack(
            rx.text(
                "© SayZhong — learn to speak Mandarin, tones first.", size="2", color=rx.color("gray", 11)
            ),
            rx.spacer(),
            rx.el.nav(
                rx.hstack(
                    *[
                        rx.link(label, href=href, size="2", color=rx.color("gray", 12), underline="always")
                        for label, href in links
                    ],
                    spacing="4",
                    flex_wrap="wrap",
                ),
                aria_label="Footer",
            )
            if links
            else rx.text("Made for learners everywhere", size="2", color=rx.color("gray", 11)),
            width="100%",
            max_width="1100px",
            margin_x="auto",
            padding="1em",
            flex_wrap="wrap",
            spacing="3",
        ),
        legal_links(),  # issue 11: terms, privacy, cookie settings on every page
        class_name="site-footer",
        style={"borderTop": f"1px solid {rx.color('gray', 5)}", "width": "100%", "marginTop": "3em"},
    )


def page_container(*children: rx.Component, max_width: str = "1100px") -> rx.Component:
    return rx.el.main(
        *children,
        id="main",
        # Set once the page's on-load handlers have run: the e2e suite waits on it before typing,
        # since a field filled before hydration ends can be re-rendered empty.
        custom_attrs={"data-hydrated": rx.cond(rx.State.is_hydrated, "true", "false")},
        style={
            "width": "100%",
            "maxWidth": max_width,
            "marginLeft": "auto",
            "marginRight": "auto",
            "padding": "2em 1em",
            "flex": "1",
        },
    )


def shell(
    *,
    nav: rx.Component,
    content: rx.Component,
    extra: rx.Component | None = None,
    footer_links: tuple[tuple[str, str], ...] = (),
) -> rx.Component:
    """`extra`: invisible helpers every page carries (the session hand-off form); `footer_links`:
    (label, href) of the footer pages that exist."""
    return rx.flex(
        rx.link("Skip to content", href="#main", class_name="skip-link"),
        mounted_consent_banner(),  # issue 11: cookie consent (gates analytics) and privacy notice
        nav,
        content,
        footer(links=footer_links),
        *([extra] if extra is not None else []),
        direction="column",
        min_height="100vh",
        width="100%",
    )


def table_frame(table: rx.Component, *, label: str | rx.Var) -> rx.Component:
    """A wide table in a keyboard-scrollable frame: on a phone the frame scrolls sideways, and as a
    focusable named region keyboard users can scroll it too (axe scrollable-region-focusable)."""
    return rx.box(
        table,
        overflow_x="auto",
        width="100%",
        tab_index=0,
        role="region",
        aria_label=label,
        class_name="table-frame",
    )


def data_table(
    label: str | rx.Var,
    headers: Sequence[str | rx.Component],
    rows: VarOr[Sequence[Any]],
    row: Callable[[Any], rx.Component],
    **props: Any,
) -> rx.Component:
    """A table of `rows` (one `row(item)` each) under `headers`, in a `table_frame` named `label`.

    A header may be a component, e.g. a visually hidden "Actions" for a column of buttons."""
    return table_frame(
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in headers])),
            rx.table.body(rx.foreach(rows, row)),
            width="100%",
            **props,
        ),
        label=label,
    )
