"""Reflex wrapper for assets/components/BrowserTimeZone.jsx: the browser's time zone, on mount.

Used by the e-mail preference pages (issue 14) so reminders follow the learner's clock. The JSX reads
`Intl.DateTimeFormat().resolvedOptions().timeZone`; no `rx.call_script` (the CSP forbids eval).
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from components.props import Handler


def _zone_arg(zone: rx.Var[str]) -> list[rx.Var[Any]]:
    return [zone]


# `rx.EventHandler[spec]` declares a custom component's event arguments; typed for pyright, hence
# the ignore (as in components/consent_signals.py).
class BrowserTimeZone(rx.Component):
    library = "$/public/components/BrowserTimeZone.jsx"
    tag = "BrowserTimeZone"

    on_detect: rx.EventHandler[_zone_arg]  # type: ignore[type-arg, valid-type]


def browser_timezone(*, on_detect: Handler) -> rx.Component:
    return BrowserTimeZone.create(on_detect=on_detect)
