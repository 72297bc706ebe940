"""SQLite FTS5 search over the help articles (the default adapter of `HelpSearchIndex`).

The index is an in-memory FTS5 table built from `help_article.search_text` for each search: the
help centre has tens of articles, so building it costs a few milliseconds (see
bench/support_search_bench.py), and it can never be stale after a staff edit, needs no migration and
works whatever database holds the articles.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from sqlmodel import Session, select

from sayzhong.support.models import HelpArticle
from sayzhong.support.ports import SearchHit
from sayzhong.support.text import split_search_text

# Column weights for bm25: title, keywords, body.
_WEIGHTS = (10.0, 5.0, 1.0)


def fts5_query(words: Sequence[str], *, match_all: bool = True) -> str:
    """`"word"*` terms joined by AND (or OR); words are [a-z0-9] only, quoting keeps FTS5 syntax out."""
    return (" AND " if match_all else " OR ").join(f'"{w}"*' for w in words if w.isascii() and w.isalnum())


class SqliteFtsHelpSearch:
    name = "sqlite-fts5"

    def search(
        self, *, session: Session, words: Sequence[str], limit: int, match_all: bool = True
    ) -> list[SearchHit]:
        query = fts5_query(words, match_all=match_all)
        if not query:
            return []
        rows = session.exec(select(HelpArticle.slug, HelpArticle.search_text)).all()
        conn = sqlite3.connect(":memory:")
        try:
            conn.execute(
                "CREATE VIRTUAL TABLE doc USING fts5("
                "slug UNINDEXED, title, keywords, body, tokenize='porter unicode61 remove_diacritics 2')"
            )
            conn.executemany(
                "INSERT INTO doc(slug, title, keywords, body) VALUES (?, ?, ?, ?)",
                [(slug, *split_search_text(text)) for slug, text in rows],
            )
            found = conn.execute(
                "SELECT slug, bm25(doc, ?, ?, ?) AS rank FROM doc WHERE doc MATCH ? ORDER BY rank LIMIT ?",
                (*_WEIGHTS, query, limit),
            ).fetchall()
        finally:
            conn.close()
        # bm25 is lower-is-better and negative; flip it so higher is better like the port says.
        return [SearchHit(slug=slug, score=-float(rank)) for slug, rank in found]
