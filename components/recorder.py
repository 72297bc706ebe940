"""Reflex wrapper for the local React recorder (assets/components/Recorder.jsx).

Events reach Reflex through ordinary event triggers — no server-sent scripts.
"""

from __future__ import annotations

from typing import Any

import reflex as rx


def _one_arg(value: rx.Var[str]) -> list[rx.Var[Any]]:
    return [value]


def _two_args(message: rx.Var[str], code: rx.Var[str]) -> list[rx.Var[Any]]:
    return [message, code]


# `rx.EventHandler[spec]` is how Reflex declares a custom component's event arguments; its typing is
# written for pyright, hence the ignores on those three lines.
class Recorder(rx.Component):
    library = "$/public/components/Recorder.jsx"
    tag = "Recorder"

    upload_url: rx.Var[str]
    item_id: rx.Var[str]
    mode: rx.Var[str]
    max_seconds: rx.Var[float]
    silence_seconds: rx.Var[float]
    label: rx.Var[str]
    disabled: rx.Var[bool]

    on_scored: rx.EventHandler[_one_arg]  # type: ignore[type-arg, valid-type]
    on_error: rx.EventHandler[_two_args]  # type: ignore[type-arg, valid-type]
    on_status: rx.EventHandler[_one_arg]  # type: ignore[type-arg, valid-type]


recorder = Recorder.create
