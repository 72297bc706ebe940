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


class ResultFocus(rx.Component):
    """A <section> that takes focus and scrolls into view whenever `focus_key` changes
    (assets/components/ResultFocus.jsx) — no server-sent scripts."""

    library = "$/public/components/ResultFocus.jsx"
    tag = "ResultFocus"

    focus_key: rx.Var[str]


result_focus = ResultFocus.create


class PlayButton(rx.Component):
    """A button that plays `src` when pressed (assets/components/PlayButton.jsx)."""

    library = "$/public/components/PlayButton.jsx"
    tag = "PlayButton"

    src: rx.Var[str]
    label: rx.Var[str]


play_button = PlayButton.create


class CopyButton(rx.Component):
    """Copies `text` to the clipboard and announces it (assets/components/CopyButton.jsx)."""

    library = "$/public/components/CopyButton.jsx"
    tag = "CopyButton"

    text: rx.Var[str]
    label: rx.Var[str]
    announce: rx.Var[str]
    """Said by the live region once copied (default: "Token copied to the clipboard")."""
    source: rx.Var[str]
    """Id of the element to select when the clipboard is refused (default: [data-copy-source])."""


copy_button = CopyButton.create
