"""Assigning state fields without needless work for Reflex."""

from __future__ import annotations

from typing import Any

import reflex as rx

_MISSING = object()


def assign_changed(state: rx.State, values: dict[str, Any]) -> None:
    """Set each of `values` that differs from the field's current value.

    Reflex treats every assignment as a change, equal or not: the value is type-checked (a list of
    rows item by item), sent to the browser in the event's delta and the state written back to the
    state store. A page loader that re-reads the same figures (a learner coming back to the page)
    then costs the framework nothing.
    """
    current = state.__dict__
    for name, value in values.items():
        # A field never assigned on this instance still has its default, not in __dict__.
        old = current.get(name, _MISSING)
        if old is _MISSING:
            old = getattr(state, name)
        if old != value:
            setattr(state, name, value)
