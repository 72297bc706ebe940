"""The `template` decorator: registers a page with the shared layout and its access rule."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Literal

import reflex as rx

from components.help import help_drawer
from components.layout import navbar, page_container, shell
from components.notices import verify_email_banner
from components.session_handoff import session_handoff
from state.account_security import VerificationBannerState
from state.session import HANDOFF_ID, SessionState
from state.support import HelpDrawerState

Access = Literal["public", "guest", "user", "staff"]

REGISTERED_ROUTES: list[str] = []
"""Every route registered through `template` (filled at import, read when pages render)."""
REGISTERED_PAGES: dict[str, Callable[[], rx.Component]] = {}
REGISTERED_ON_LOAD: dict[str, tuple[Access, list]] = {}
"""Each page's access and on-load handlers, in order, as registered with Reflex."""
"""Route → page function, for the smoke test that builds every page without starting the app."""

FOOTER_LINKS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Help", ("/help",)),
    ("Contact", ("/contact", "/help/contact", "/support")),
)
"""Footer entries with the paths their pages may live at; an entry shows once its page exists.
Terms, Privacy and Cookie settings come from `components.legal.legal_links` (issue 11)."""


def _route_matches(route: str, path: str) -> bool:
    pattern = re.sub(r"\\\[[^/]+?\\\]", "[^/]+", re.escape(route.rstrip("/") or "/"))
    return re.fullmatch(pattern, path) is not None


def footer_links() -> tuple[tuple[str, str], ...]:
    """(label, href) for the footer entries whose pages are registered — no dead links."""
    out = []
    for label, paths in FOOTER_LINKS:
        found = next((p for p in paths if any(_route_matches(r, p) for r in REGISTERED_ROUTES)), None)
        if found is not None:
            out.append((label, found))
    return tuple(out)


def _access_events(access: Access) -> list:
    if access == "user":
        return [SessionState.require_login]
    if access == "staff":
        return [SessionState.require_staff]
    if access == "guest":
        return [SessionState.redirect_if_signed_in]
    return [SessionState.load]


def _help_button(route: str) -> rx.Component:
    """Support centre (issue 13): the help drawer for a learner page, keyed by its first path segment."""
    return help_drawer(
        page={"learn": "practice"}.get(route.strip("/").split("/")[0], route.strip("/").split("/")[0]),
        is_open=HelpDrawerState.open,
        articles=HelpDrawerState.articles,
        on_show=HelpDrawerState.show,
        on_open_change=HelpDrawerState.set_open,
        contact_href=HelpDrawerState.contact_href,
    )


def template(
    route: str,
    title: str,
    *,
    access: Access = "public",
    on_load: list | None = None,
    loader_guards: bool = False,
    max_width: str = "1100px",
    description: str = "SayZhong — learn to speak Mandarin with honest feedback on every tone.",
) -> Callable[[Callable[[], rx.Component]], Callable[[], rx.Component]]:
    if loader_guards and (access != "user" or not on_load):
        raise ValueError(f"{route}: loader_guards needs access='user' and the guarding loader first")

    def decorator(page_content: Callable[[], rx.Component]) -> Callable[[], rx.Component]:
        def page() -> rx.Component:
            nav = navbar(
                signed_in=SessionState.signed_in,
                is_staff=SessionState.is_staff,
                display_name=SessionState.display_name,
                on_sign_out=SessionState.sign_out,
                help_button=_help_button(route) if access == "user" else None,
            )
            banner = verify_email_banner(
                show=SessionState.signed_in & ~SessionState.email_verified,
                email=SessionState.email,
                message=VerificationBannerState.message,
                error=VerificationBannerState.error,
                busy=VerificationBannerState.busy,
                on_resend=VerificationBannerState.resend,
            )
            return shell(
                nav=nav,
                content=page_container(banner, page_content(), max_width=max_width),
                extra=session_handoff(handoff_id=HANDOFF_ID),
                footer_links=footer_links(),
            )

        page.__name__ = page_content.__name__
        # A loader that guards its page (`SessionState._guard_page`) replaces `require_login`: one
        # event and one unit of work per load instead of two, for the busiest page (issue 16).
        events = list(on_load or []) if loader_guards else _access_events(access) + list(on_load or [])
        REGISTERED_ROUTES.append(route)
        REGISTERED_PAGES[route] = page
        REGISTERED_ON_LOAD[route] = (access, events)
        rx.page(
            route=route,
            title=f"{title} · SayZhong" if title != "SayZhong" else title,
            description=description,
            on_load=events,
        )(page)
        return page

    return decorator
