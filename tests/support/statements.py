"""Counting the SQL statements a piece of code sends (issue 16: page loads read a known number)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlmodel import Session


@contextmanager
def statements_sent(session: Session) -> Iterator[list[str]]:
    """The statements sent through `session`'s bind while the block runs, in order."""
    sent: list[str] = []
    bind = session.get_bind()

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        sent.append(statement)

    event.listen(bind, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(bind, "before_cursor_execute", record)
