"""Help centre on a real database: seeding, search with both adapters, staff edits, feedback and
the self-service rate."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from sayzhong import wiring
from sayzhong.audit import list_audit_events
from sayzhong.db import utcnow
from sayzhong.errors import AuthenticationError, NotFoundError, PermissionDeniedError, ValidationError
from sayzhong.settings import Settings
from sayzhong.support import help
from sayzhong.support.articles import load_article_sources
from sayzhong.support.models import HelpArticleRevision, HelpSearch, SupportTicket
from sayzhong.support.offline import SqliteFtsHelpSearch
from sayzhong.support.ports import HelpSearchIndex
from tests.factories import UserFactory


def test_wiring_picks_fts5_on_sqlite_and_postgres_search_on_postgresql(settings: Settings) -> None:
    from sayzhong.integrations.postgres_search import PostgresHelpSearch

    assert isinstance(
        wiring.get_help_search(settings.model_copy(update={"database_url": ""})), SqliteFtsHelpSearch
    )
    pg = settings.model_copy(update={"database_url": "postgresql://u:p@127.0.0.1/db"})
    assert isinstance(wiring.get_help_search(pg), PostgresHelpSearch)


def test_seeding_stores_every_article_once_with_a_first_revision(db_session: Session, articles: int) -> None:
    assert articles == len(load_article_sources()) >= 25
    assert help.seed_articles(session=db_session) == 0
    revisions = db_session.exec(select(HelpArticleRevision)).all()
    assert len(revisions) == articles and {r.revision for r in revisions} == {1}


@pytest.mark.parametrize(
    ("query", "first"),
    [
        ("microphone blocked", "allow-microphone-access"),
        ("声调", "four-tones"),
        ("shengdiao", "four-tones"),
        ("sheng diao", "four-tones"),
        ("Shēngdiào", "four-tones"),
        ("轻声", "neutral-tone"),
        ("qingsheng", "neutral-tone"),
        ("charged twice", "charged-twice-or-wrongly"),
        ("refund", "invoices-and-refunds"),
        ("gdpr export", "export-your-data"),
        ("sayzhong-client token", "terminal-client"),
        ("你好 sandhi", "tone-sandhi"),
    ],
)
def test_search_ranks_the_right_article_first_in_english_hanzi_and_pinyin(
    db_session: Session, articles: int, search_index: HelpSearchIndex, query: str, first: str
) -> None:
    result = help.search_help(session=db_session, query=query, index=search_index)
    assert result.items, query
    assert result.items[0].slug == first
    assert result.engine == search_index.name


def test_snippets_highlight_the_match(
    db_session: Session, articles: int, search_index: HelpSearchIndex
) -> None:
    result = help.search_help(session=db_session, query="声调", index=search_index)
    assert any(p.highlight and p.text == "声调" for p in result.items[0].snippet)


def test_a_typo_is_corrected_and_a_nonsense_query_finds_nothing_and_is_logged(
    db_session: Session, articles: int, search_index: HelpSearchIndex, make_user: UserFactory
) -> None:
    user = make_user()
    typo = help.search_help(session=db_session, query="micrphone", index=search_index, user_id=user.id)
    assert typo.suggestion == "microphone" and typo.items
    nothing = help.search_help(session=db_session, query="zxqv flurble", index=search_index, user_id=user.id)
    assert nothing.items == [] and nothing.suggestion is None and not nothing.partial
    assert help.top_failed_searches(session=db_session, since=utcnow() - timedelta(hours=1)) == [
        ("zxqv flurble", 1)
    ]


@pytest.mark.parametrize(
    "query", ['" OR 1=1 --', "NEAR(a b)", "'; DROP TABLE help_article; --", "*", "a:*|b"]
)
def test_search_syntax_and_injection_are_plain_words(
    db_session: Session, articles: int, search_index: HelpSearchIndex, query: str
) -> None:
    help.search_help(session=db_session, query=query, index=search_index)
    assert help.get_article(session=db_session, slug="four-tones").title


def test_a_partial_match_is_offered_when_no_article_has_every_word(
    db_session: Session, articles: int, search_index: HelpSearchIndex
) -> None:
    result = help.search_help(session=db_session, query="microphone zebra", index=search_index)
    assert result.partial and result.items


def test_staff_edits_are_stored_as_revisions_and_searchable(
    db_session: Session, articles: int, search_index: HelpSearchIndex, make_user: UserFactory
) -> None:
    agent = make_user(role="support")
    body = "A new explanation of the pitch chart that mentions a zeppelin so it can be found.\n"
    info = help.update_article(
        session=db_session,
        actor=agent,
        actor_id=agent.id,
        slug="four-tones",
        title="Tones",
        body=body,
        note="simpler",
    )
    assert info.revision == 2 and info.source == "staff" and "zeppelin" in info.html
    revisions = help.list_revisions(session=db_session, actor=agent, slug="four-tones")
    assert [r.revision for r in revisions] == [2, 1] and revisions[0].author_id == agent.id
    assert (
        help.search_help(session=db_session, query="zeppelin", index=search_index).items[0].slug
        == "four-tones"
    )
    # A staff edit is not overwritten by the repository's seed.
    help.seed_articles(session=db_session)
    assert help.get_article(session=db_session, slug="four-tones").title == "Tones"
    events = list_audit_events(session=db_session, action="help.article_edited").items
    assert events and events[0].target == "article:four-tones"


def test_only_support_staff_edit_articles_and_bad_edits_are_refused(
    db_session: Session, articles: int, make_user: UserFactory
) -> None:
    learner, marketing, agent = make_user(), make_user(role="marketing"), make_user(role="support")
    kwargs = {"slug": "four-tones", "title": "Hacked", "body": "x" * 100}
    with pytest.raises(AuthenticationError):
        help.update_article(session=db_session, actor=None, actor_id=0, **kwargs)
    for who in (learner, marketing):
        with pytest.raises(PermissionDeniedError):
            help.update_article(session=db_session, actor=who, actor_id=who.id, **kwargs)
    with pytest.raises(ValidationError):
        help.update_article(
            session=db_session, actor=agent, actor_id=agent.id, slug="four-tones", title="T", body="short"
        )
    with pytest.raises(NotFoundError):
        help.update_article(session=db_session, actor=agent, actor_id=agent.id, **(kwargs | {"slug": "nope"}))


def test_article_html_is_sanitised_even_after_a_malicious_edit(
    db_session: Session, articles: int, make_user: UserFactory
) -> None:
    agent = make_user(role="support")
    body = "Text <script>alert(1)</script> and <img src=x onerror=alert(2)> [x](javascript:alert(3))" * 2
    info = help.update_article(
        session=db_session, actor=agent, actor_id=agent.id, slug="four-tones", title="T T", body=body
    )
    assert "<script" not in info.html and "<img" not in info.html and 'href="javascript' not in info.html


def test_the_practice_drawer_puts_microphone_fixes_first_after_a_failed_take(
    db_session: Session, articles: int
) -> None:
    normal = help.articles_for_page(session=db_session, page="practice")
    failed = help.articles_for_page(session=db_session, page="practice", last_take_failed=True)
    assert normal[0].category == "scoring"
    assert [a.slug for a in failed[:4]] == list(help.MICROPHONE_FIRST)
    assert help.articles_for_page(session=db_session, page="support")  # general articles elsewhere


def test_helpful_votes_are_counted_per_article(
    db_session: Session, articles: int, make_user: UserFactory
) -> None:
    user = make_user()
    help.record_feedback(session=db_session, slug="four-tones", helpful=True, user_id=user.id)
    help.record_feedback(session=db_session, slug="four-tones", helpful=False, user_id=None)
    help.record_feedback(session=db_session, slug="four-tones", helpful=True, user_id=None)
    assert help.feedback_counts(session=db_session)["four-tones"] == (2, 1)
    with pytest.raises(NotFoundError):
        help.record_feedback(session=db_session, slug="nope", helpful=True, user_id=None)


def test_self_service_counts_help_sessions_not_followed_by_a_ticket_within_a_day(
    db_session: Session, make_user: UserFactory
) -> None:
    now = utcnow()
    helped, escalated, late = make_user(), make_user(), make_user()
    start = now - timedelta(days=3)
    for user in (helped, escalated, late):
        help.touch_help_session(session=db_session, user_id=user.id, now=start)
    # A second visit within 30 minutes is the same session; a visit a day later is another one.
    help.touch_help_session(session=db_session, user_id=helped.id, now=start + timedelta(minutes=10))
    help.touch_help_session(session=db_session, user_id=helped.id, now=now - timedelta(hours=30))
    for user, after in ((escalated, timedelta(hours=2)), (late, timedelta(hours=30))):
        db_session.add(
            SupportTicket(
                user_id=user.id,
                subject="s",
                body="b",
                category="other",
                queue="other",
                priority="low",
                created_at=start + after,
            )
        )
    db_session.flush()
    stats = help.self_service_stats(session=db_session, since=now - timedelta(days=7), now=now)
    assert (stats.sessions, stats.followed_by_ticket) == (4, 1)
    assert stats.rate == pytest.approx(0.75)
    assert help.self_service_stats(session=db_session, since=now, now=now).rate is None
    assert db_session.exec(select(HelpSearch)).all() == []
