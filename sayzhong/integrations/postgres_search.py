"""PostgreSQL full-text search over the help articles (`HelpSearchIndex` on PostgreSQL).

Uses the `english` configuration (stemming, stop words) on `help_article.search_text`, whose three
lines (title, keywords, body) get weights A, B and D; words match as prefixes (`word:*`) and all
must occur. Ranking is `ts_rank_cd`. Hanzi arrive as ASCII tokens (see sayzhong.support.text), so
the server's locale does not matter.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import text
from sqlmodel import Session

from sayzhong.support.ports import SearchHit

_SQL = text(
    """
    WITH doc AS (
      SELECT slug,
             setweight(to_tsvector('english', split_part(search_text, E'\\n', 1)), 'A') ||
             setweight(to_tsvector('english', split_part(search_text, E'\\n', 2)), 'B') ||
             setweight(to_tsvector('english', split_part(search_text, E'\\n', 3)), 'D') AS vec
      FROM help_article
    )
    SELECT slug, ts_rank_cd(vec, q) AS rank
    FROM doc, to_tsquery('english', :query) AS q
    WHERE vec @@ q
    ORDER BY rank DESC, slug
    LIMIT :limit
    """
)


def tsquery(words: Sequence[str], *, match_all: bool = True) -> str:
    """`word:*` terms joined by `&` (or `|`); only [a-z0-9] words reach the query text."""
    return (" & " if match_all else " | ").join(f"{w}:*" for w in words if w.isascii() and w.isalnum())


class PostgresHelpSearch:
    name = "postgresql"

    def search(
        self, *, session: Session, words: Sequence[str], limit: int, match_all: bool = True
    ) -> list[SearchHit]:
        query = tsquery(words, match_all=match_all)
        if not query:
            return []
        rows = session.execute(_SQL, {"query": query, "limit": limit}).all()
        return [SearchHit(slug=str(slug), score=float(rank)) for slug, rank in rows]
