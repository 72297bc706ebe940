"""Types for what components are given.

In a page, `SomeState.name` is a Var at run time, but mypy sees the Python type the state declares
(`str`, `bool`, `list[...]`). Components therefore accept either: `VarOr[str]` is a `rx.Var[str]` or
a plain `str`. `Row` is one element of `rx.foreach` over a list of dicts (indexable by key), and
`Handler` is an event handler: mypy types an `@rx.event` method as Reflex's `EventNamespace`
(Reflex's decorator typing is written for pyright), so that type is accepted too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeAlias, TypeVar

import reflex as rx
from reflex.vars import ObjectVar

if TYPE_CHECKING:  # `rx.event` is this class at run time; the module path only resolves for mypy
    from reflex_base.event import EventNamespace

T = TypeVar("T")

VarOr: TypeAlias = rx.Var[T] | T
Row: TypeAlias = ObjectVar[dict[str, Any]]
Handler: TypeAlias = "rx.EventHandler | EventNamespace | Callable[..., Any]"
