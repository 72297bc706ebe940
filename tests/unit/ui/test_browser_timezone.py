"""The e-mail preference pages learn the browser's time zone through the BrowserTimeZone component
(the Intl API, read in JSX), never `rx.call_script` (eval, blocked by the Content-Security-Policy)."""

from __future__ import annotations

import re
from pathlib import Path

import sayzhong.sayzhong  # noqa: F401  (registers every page)
from pages.template import REGISTERED_PAGES
from sayzhong import routes

ASSET = Path(__file__).resolve().parents[3] / "assets" / "components" / "BrowserTimeZone.jsx"


def test_both_preference_pages_render_the_component_wired_to_detect_timezone() -> None:
    for route in (routes.ACCOUNT_EMAIL, routes.EMAIL_PREFERENCES):
        rendered = str(REGISTERED_PAGES[route]().render())
        found = re.search(
            r"'name': 'BrowserTimeZone', 'props': \['onDetect:"
            r"\(\((\w+)\) => \(addEvents\(\[\(ReflexEvent\(\"([^\"]+)\"",
            rendered,
        )
        assert found, route
        assert found.group(2).endswith("email_preferences_state.detect_timezone")
        assert "_call_script" not in rendered and "_call_function" not in rendered


def test_the_component_reads_intl_and_evaluates_no_strings() -> None:
    source = ASSET.read_text(encoding="utf-8")
    code = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith("//"))
    assert "Intl.DateTimeFormat().resolvedOptions().timeZone" in code
    assert not re.search(r"\beval\b|new\s+Function|setTimeout\(\s*['\"`]|innerHTML", code)
