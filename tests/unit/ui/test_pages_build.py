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
