"""Reflex wrapper for the session hand-off form (assets/components/SessionHandoff.jsx).

Rendered once in the shared page shell under the id the session state targets. A handler makes
the browser POST a form to one of our server routes (a top-level navigation, so Set-Cookie
applies) by yielding `rx.set_value(<id>, json)` — see `state.session.post_form` — instead of
`rx.call_script`, whose string the browser would run through `eval`.
"""

from __future__ import annotations

import reflex as rx


class SessionHandoff(rx.Component):
    library = "$/public/components/SessionHandoff.jsx"
    tag = "SessionHandoff"


def session_handoff(*, handoff_id: str) -> rx.Component:
    return SessionHandoff.create(id=handoff_id)
