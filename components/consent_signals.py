"""Reflex wrapper for the consent signals component (assets/components/ConsentSignals.jsx).

Rendered inside the consent banner on every page. On mount it reports the browser's Global Privacy
Control signal through `on_gpc`; the page-view beacon is sent when the consent state yields
`rx.set_value(<id>, json)` after checking the stored decision. Neither uses `rx.call_script`, whose
string the browser would run through `eval` (blocked by the Content-Security-Policy).
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from components.props import Handler


def _gpc_arg(gpc: rx.Var[bool]) -> list[rx.Var[Any]]:
    return [gpc]


# `rx.EventHandler[spec]` is how Reflex declares a custom component's event arguments; its typing is
# written for pyright, hence the ignore (as in components/recorder.py).
class ConsentSignals(rx.Component):
    library = "$/public/components/ConsentSignals.jsx"
    tag = "ConsentSignals"

    on_gpc: rx.EventHandler[_gpc_arg]  # type: ignore[type-arg, valid-type]


def consent_signals(*, signals_id: str, on_gpc: Handler) -> rx.Component:
    return ConsentSignals.create(id=signals_id, on_gpc=on_gpc)
