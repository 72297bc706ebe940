"""Every page builds its component tree (a broken `rx.cond` or a missing prop fails here in
seconds, not after a front-end build), and carries the landmarks axe expects."""

from __future__ import annotations

import pytest
import reflex as rx

import sayzhong.sayzhong  # noqa: F401  (registers every page)
from pages.template import REGISTERED_PAGES


def test_the_known_pages_are_registered() -> None:
    for route in ("/", "/home", "/practice", "/review", "/account", "/admin/users", "/admin/user"):
        assert route in REGISTERED_PAGES


@pytest.mark.parametrize("route", sorted(REGISTERED_PAGES))
def test_every_page_builds_with_main_and_footer_landmarks(route: str) -> None:
    tree = REGISTERED_PAGES[route]()
    assert isinstance(tree, rx.Component)
    rendered = str(tree.render())
    assert '"main"' in rendered and '"footer"' in rendered and '"header"' in rendered


def test_every_signed_in_page_is_guarded_before_anything_else_loads() -> None:
    """A signed-in page's first on-load handler checks the session (and the privacy gate): the
    generic guard, or a loader that guards its own page through `SessionState._guard_page`."""
    import inspect

    from pages.template import REGISTERED_ON_LOAD
    from state.practice import guard_plan_page
    from state.session import SessionState

    assert "._guard_page(" in inspect.getsource(guard_plan_page)

    guards = {"user": SessionState.require_login, "staff": SessionState.require_staff}
    loader_guarded = []
    for route, (access, events) in REGISTERED_ON_LOAD.items():
        if access not in guards:
            continue
        first = events[0]
        if first is guards[access]:
            continue
        assert access == "user", route
        source = inspect.getsource(first.fn)
        assert "._guard_page(" in source or "await guard_plan_page(self)" in source, (
            f"{route}: {first.fn.__qualname__} does not guard"
        )
        loader_guarded.append(route)
    # The busiest pages (issue 16: home, the lesson list, a lesson, a role-play); each addition is
    # deliberate.
    assert sorted(loader_guarded) == ["/dialogue", "/home", "/learn", "/practice"]
