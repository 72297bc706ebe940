"""The help centre: articles (seeded from the repo, edited by staff with stored revisions),
full-text search, contextual help per page, "Was this helpful?" and the self-service rate.

Keyword-only functions taking a `Session`, never committing, returning frozen dataclasses.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from sqlalchemy import func
from sqlmodel import Session, col, select

from sayzhong import wiring
from sayzhong.accounts.access import HasRole, Role, require_role
from sayzhong.audit import record_audit
from sayzhong.db import as_utc, utcnow
from sayzhong.errors import NotFoundError, ValidationError
from sayzhong.settings import get_settings
from sayzhong.support import text
from sayzhong.support.articles import CATEGORIES, ArticleSource, load_article_sources
from sayzhong.support.models import (
    HelpArticle,
    HelpArticleRevision,
    HelpFeedback,
    HelpSearch,
    HelpSession,
    SupportTicket,
)
from sayzhong.support.ports import HelpSearchIndex

HELP_SESSION_GAP = timedelta(minutes=30)
SELF_SERVICE_WINDOW = timedelta(hours=24)
MAX_ARTICLE_CHARS = 20_000
EDITOR_ROLES = (Role.SUPPORT, Role.ADMIN)
# Articles that come first in the practice drawer when the learner's last take failed.
MICROPHONE_FIRST = ("allow-microphone-access", "no-microphone-found", "recording-too-quiet", "upload-failed")


@dataclass(frozen=True, slots=True)
class ArticleSummary:
    slug: str
    title: str
    category: str
    summary: str


@dataclass(frozen=True, slots=True)
class ArticleInfo:
    slug: str
    title: str
    category: str
    category_label: str
    summary: str
    body: str
    """Markdown as stored (staff editor)."""
    html: str
    """Sanitised HTML rendered from `body` (what the page shows)."""
    revision: int
    source: str
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class CategoryInfo:
    key: str
    label: str
    articles: list[ArticleSummary]


@dataclass(frozen=True, slots=True)
class SearchResultItem:
    slug: str
    title: str
    category_label: str
    snippet: list[text.SnippetPart]


@dataclass(frozen=True, slots=True)
class SearchResult:
    query: str
    items: list[SearchResultItem]
    suggestion: str | None
    """A corrected query when nothing matched and a spelling fix did."""
    partial: bool
    """True when no article had every word and these match some of them."""
    engine: str


@dataclass(frozen=True, slots=True)
class RevisionInfo:
    revision: int
    title: str
    author_id: int | None
    note: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class SelfServiceStats:
    sessions: int
    followed_by_ticket: int

    @property
    def rate(self) -> float | None:
        """Share of help sessions not followed by a ticket within 24 h (None with no sessions)."""
        if not self.sessions:
            return None
        return 1 - self.followed_by_ticket / self.sessions


# --- rendering -------------------------------------------------------------------------------------

_ALLOWED_TAGS = {
    "p", "h1", "h2", "h3", "h4", "ul", "ol", "li", "strong", "em", "code", "pre", "blockquote", "a",
    "table", "thead", "tbody", "tr", "th", "td", "hr", "br",
}  # fmt: skip


@lru_cache(maxsize=1)
def _markdown():
    from markdown_it import MarkdownIt

    # html=False: raw HTML in the Markdown is shown as text, never passed through.
    return MarkdownIt("commonmark", {"html": False}).enable("table")


def render_markdown(markdown: str) -> str:
    """Markdown → HTML, then sanitised by nh3 (allow-list of tags, http(s)/mailto/relative links)."""
    import nh3

    html = _markdown().render(markdown[:MAX_ARTICLE_CHARS])
    return nh3.clean(
        html,
        tags=_ALLOWED_TAGS,
        attributes={"a": {"href", "title"}, "th": {"align"}, "td": {"align"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
    )


# --- articles --------------------------------------------------------------------------------------


def _summary(row: HelpArticle) -> ArticleSummary:
    return ArticleSummary(slug=row.slug, title=row.title, category=row.category, summary=row.summary)


def _info(row: HelpArticle) -> ArticleInfo:
    return ArticleInfo(
        slug=row.slug,
        title=row.title,
        category=row.category,
        category_label=CATEGORIES.get(row.category, row.category),
        summary=row.summary,
        body=row.body,
        html=render_markdown(row.body),
        revision=row.revision,
        source=row.source,
        updated_at=as_utc(row.updated_at),
    )


def _index_text(*, title: str, keywords: str, body: str) -> str:
    return text.search_text(title=title, keywords=keywords, body=body)


def seed_articles(*, session: Session, sources: list[ArticleSource] | None = None) -> int:
    """Add the repository's articles that the database lacks, and refresh those staff never edited.

    Returns how many articles were added or refreshed. An article a staff member edited keeps the
    staff text; the repository's change then waits for staff to merge it by hand.
    """
    sources = load_article_sources() if sources is None else sources
    existing = {row.slug: row for row in session.exec(select(HelpArticle)).all()}
    changed = 0
    for src in sources:
        row = existing.get(src.slug)
        pages = ",".join(src.pages)
        if row is None:
            row = HelpArticle(
                slug=src.slug,
                category=src.category,
                title=src.title,
                summary=src.summary,
                pages=pages,
                keywords=src.keywords,
                body=src.body,
                search_text=_index_text(title=src.title, keywords=src.keywords, body=src.body),
            )
            session.add(row)
            session.flush()
            session.add(
                HelpArticleRevision(
                    article_id=row.id or 0, revision=1, title=src.title, body=src.body, note="repository seed"
                )
            )
            changed += 1
            continue
        same = (row.title, row.body, row.category, row.summary, row.pages, row.keywords) == (
            src.title, src.body, src.category, src.summary, pages, src.keywords,
        )  # fmt: skip
        if row.source != "repo" or same:
            continue
        row.title, row.body, row.category = src.title, src.body, src.category
        row.summary, row.pages, row.keywords = src.summary, pages, src.keywords
        row.search_text = _index_text(title=src.title, keywords=src.keywords, body=src.body)
        row.revision += 1
        row.updated_at = utcnow()
        session.add(row)
        session.add(
            HelpArticleRevision(
                article_id=row.id or 0,
                revision=row.revision,
                title=src.title,
                body=src.body,
                note="repository update",
            )
        )
        changed += 1
    session.flush()
    return changed


def ensure_articles(*, session: Session) -> None:
    """Seed on first use, so a fresh install has a help centre without an extra command."""
    if session.exec(select(func.count()).select_from(HelpArticle)).one() == 0:
        seed_articles(session=session)


def list_categories(*, session: Session) -> list[CategoryInfo]:
    ensure_articles(session=session)
    rows = session.exec(select(HelpArticle).order_by(col(HelpArticle.title))).all()
    by_category: dict[str, list[ArticleSummary]] = {key: [] for key in CATEGORIES}
    for row in rows:
        by_category.setdefault(row.category, []).append(_summary(row))
    return [
        CategoryInfo(key=key, label=CATEGORIES.get(key, key), articles=items)
        for key, items in by_category.items()
        if items
    ]


def get_article(*, session: Session, slug: str) -> ArticleInfo:
    ensure_articles(session=session)
    row = session.exec(select(HelpArticle).where(col(HelpArticle.slug) == slug[:80])).first()
    if row is None:
        raise NotFoundError("We could not find that help article.", code="article_not_found")
    return _info(row)


def articles_for_page(*, session: Session, page: str, last_take_failed: bool = False) -> list[ArticleSummary]:
    """The drawer's articles for `page`, most useful first; microphone fixes first after a failed take."""
    ensure_articles(session=session)
    every = session.exec(select(HelpArticle)).all()
    rows = [r for r in every if page in r.pages.split(",")]
    if not rows:  # a page without its own articles: the general ones
        rows = [r for r in every if r.category in ("getting-started", "troubleshooting")]
    order = {"practice": ("scoring", "tones", "microphone"), "dialogue": ("scoring", "getting-started")}
    preferred = order.get(page, ())

    def rank(row: HelpArticle) -> tuple[int, int, str]:
        mic_first = last_take_failed and row.slug in MICROPHONE_FIRST
        first = MICROPHONE_FIRST.index(row.slug) if mic_first else len(MICROPHONE_FIRST)
        category = preferred.index(row.category) if row.category in preferred else len(preferred)
        return (first, category, row.title)

    return [_summary(r) for r in sorted(rows, key=rank)]


def update_article(
    *,
    session: Session,
    actor: HasRole | None,
    actor_id: int,
    slug: str,
    title: str,
    body: str,
    note: str = "",
) -> ArticleInfo:
    """A staff edit: stored as a new revision (the previous text stays in the history)."""
    require_role(actor, *EDITOR_ROLES)
    title, body = title.strip(), body.strip()
    if not 3 <= len(title) <= 200:
        raise ValidationError("The title must be 3 to 200 characters.", code="article_title")
    if not 50 <= len(body) <= MAX_ARTICLE_CHARS:
        raise ValidationError(
            f"The article text must be 50 to {MAX_ARTICLE_CHARS:,} characters.", code="article_body"
        )
    row = session.exec(select(HelpArticle).where(col(HelpArticle.slug) == slug[:80])).first()
    if row is None:
        raise NotFoundError("We could not find that help article.", code="article_not_found")
    if (row.title, row.body.strip()) == (title, body):
        return _info(row)
    row.title, row.body = title, body + "\n"
    row.search_text = _index_text(title=title, keywords=row.keywords, body=row.body)
    row.revision += 1
    row.source = "staff"
    row.updated_at = utcnow()
    session.add(row)
    session.add(
        HelpArticleRevision(
            article_id=row.id or 0,
            revision=row.revision,
            title=title,
            body=row.body,
            author_id=actor_id,
            note=note.strip()[:200],
        )
    )
    record_audit(
        session=session,
        action="help.article_edited",
        actor_id=actor_id,
        target=f"article:{row.slug}",
        detail={"revision": row.revision},
    )
    return _info(row)


def list_revisions(*, session: Session, actor: HasRole | None, slug: str) -> list[RevisionInfo]:
    require_role(actor, *EDITOR_ROLES)
    row = session.exec(select(HelpArticle).where(col(HelpArticle.slug) == slug[:80])).first()
    if row is None:
        raise NotFoundError("We could not find that help article.", code="article_not_found")
    revisions = session.exec(
        select(HelpArticleRevision)
        .where(col(HelpArticleRevision.article_id) == row.id)
        .order_by(col(HelpArticleRevision.revision).desc())
    ).all()
    return [
        RevisionInfo(
            revision=r.revision,
            title=r.title,
            author_id=r.author_id,
            note=r.note,
            created_at=as_utc(r.created_at),
        )
        for r in revisions
    ]


# --- search ----------------------------------------------------------------------------------------


def _vocabulary(session: Session) -> set[str]:
    words: set[str] = set()
    for value in session.exec(select(HelpArticle.search_text)).all():
        words.update(value.split())
    return words


def _items(session: Session, slugs: list[str], query: str) -> list[SearchResultItem]:
    rows = {
        r.slug: r for r in session.exec(select(HelpArticle).where(col(HelpArticle.slug).in_(slugs))).all()
    }
    return [
        SearchResultItem(
            slug=slug,
            title=rows[slug].title,
            category_label=CATEGORIES.get(rows[slug].category, rows[slug].category),
            snippet=text.snippet(rows[slug].body, query),
        )
        for slug in slugs
        if slug in rows
    ]


def search_help(
    *,
    session: Session,
    query: str,
    user_id: int | None = None,
    index: HelpSearchIndex | None = None,
    limit: int = 10,
    now: datetime | None = None,
) -> SearchResult:
    """Ranked articles for `query` with highlighted snippets; a spelling suggestion when none match.

    Every word must occur; failing that, the closest indexed spelling of each unknown word is tried
    (`suggestion`); failing that too, articles with some of the words are offered (`partial`). The search is
    logged (query and result count) for the staff's "searches with no result".
    """
    ensure_articles(session=session)
    index = index or wiring.get_help_search(get_settings())
    query = " ".join(query.split())[: text.MAX_QUERY_CHARS]
    words = text.query_tokens(query)
    limit = min(max(1, limit), 25)
    hits = index.search(session=session, words=words, limit=limit) if words else []
    partial = False
    suggestion = None
    shown_query = query
    if not hits and words:
        suggestion = text.suggest(query, _vocabulary(session))
        if suggestion:
            hits = index.search(session=session, words=text.query_tokens(suggestion), limit=limit)
            if hits:
                shown_query = suggestion
            else:
                suggestion = None
    if not hits and len(words) > 1:
        hits = index.search(session=session, words=words, limit=limit, match_all=False)
        partial = bool(hits)
    items = _items(session, [h.slug for h in hits], shown_query)
    if query:
        session.add(HelpSearch(query=query, results=len(items), user_id=user_id, created_at=now or utcnow()))
        if user_id:
            touch_help_session(session=session, user_id=user_id, searched=True, now=now)
        session.flush()
    return SearchResult(query=query, items=items, suggestion=suggestion, partial=partial, engine=index.name)


# --- feedback and self-service ---------------------------------------------------------------------


def record_feedback(*, session: Session, slug: str, helpful: bool, user_id: int | None) -> None:
    if session.exec(select(HelpArticle.id).where(col(HelpArticle.slug) == slug[:80])).first() is None:
        raise NotFoundError("We could not find that help article.", code="article_not_found")
    session.add(HelpFeedback(article_slug=slug[:80], helpful=bool(helpful), user_id=user_id))
    session.flush()


def feedback_counts(*, session: Session) -> dict[str, tuple[int, int]]:
    """slug → (helpful, not helpful)."""
    rows = session.exec(
        select(HelpFeedback.article_slug, HelpFeedback.helpful, func.count()).group_by(
            col(HelpFeedback.article_slug), col(HelpFeedback.helpful)
        )
    ).all()
    out: dict[str, list[int]] = {}
    for slug, helpful, n in rows:
        out.setdefault(slug, [0, 0])[0 if helpful else 1] += int(n)
    return {slug: (v[0], v[1]) for slug, v in out.items()}


def touch_help_session(
    *,
    session: Session,
    user_id: int,
    searched: bool = False,
    viewed_article: bool = False,
    now: datetime | None = None,
) -> None:
    """Count a signed-in learner's help activity; a gap of 30 minutes starts a new help session."""
    now = now or utcnow()
    latest = session.exec(
        select(HelpSession)
        .where(col(HelpSession.user_id) == user_id)
        .order_by(col(HelpSession.last_activity_at).desc())
        .limit(1)
    ).first()
    if latest is None or now - as_utc(latest.last_activity_at) > HELP_SESSION_GAP:
        latest = HelpSession(user_id=user_id, started_at=now, last_activity_at=now)
    latest.last_activity_at = now
    latest.searches += int(searched)
    latest.articles_viewed += int(viewed_article)
    session.add(latest)
    session.flush()


def self_service_stats(*, session: Session, since: datetime, now: datetime | None = None) -> SelfServiceStats:
    """Help sessions started since `since` whose 24 hours are over, and how many a ticket followed."""
    now = now or utcnow()
    sessions = session.exec(
        select(HelpSession).where(
            col(HelpSession.started_at) >= since, col(HelpSession.started_at) <= now - SELF_SERVICE_WINDOW
        )
    ).all()
    followed = 0
    for help_session in sessions:
        started = as_utc(help_session.started_at)
        ticket = session.exec(
            select(SupportTicket.id).where(
                col(SupportTicket.user_id) == help_session.user_id,
                col(SupportTicket.created_at) >= started,
                col(SupportTicket.created_at) <= started + SELF_SERVICE_WINDOW,
            )
        ).first()
        followed += ticket is not None
    return SelfServiceStats(sessions=len(sessions), followed_by_ticket=followed)


def top_failed_searches(*, session: Session, since: datetime, limit: int = 10) -> list[tuple[str, int]]:
    """The most frequent searches that found nothing (case-insensitive)."""
    rows = session.exec(
        select(HelpSearch.query).where(col(HelpSearch.results) == 0, col(HelpSearch.created_at) >= since)
    ).all()
    return Counter(q.lower() for q in rows).most_common(limit)
