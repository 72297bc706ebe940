"""What the help centre needs from a full-text search engine.

Adapters: `SqliteFtsHelpSearch` (sayzhong.support.offline, SQLite FTS5 — the default) and
`PostgresHelpSearch` (sayzhong.integrations.postgres_search, PostgreSQL full-text search, used when
DATABASE_URL is PostgreSQL). `sayzhong.wiring.get_help_search` chooses. Both receive words already
normalised by `sayzhong.support.text` and search the `help_article.search_text` column (three
lines: title, keywords, body), title words weighing most.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from sqlmodel import Session


@dataclass(frozen=True, slots=True)
class SearchHit:
    slug: str
    score: float
    """Higher is better; only comparable within one search."""


class HelpSearchIndex(Protocol):
    name: str

    def search(
        self, *, session: Session, words: Sequence[str], limit: int, match_all: bool = True
    ) -> list[SearchHit]:
        """Articles containing every word (any word when `match_all` is False), best first.

        A word also matches as a prefix ("micro" finds "microphone")."""
        ...
