"""The help articles in the repository: enough of them, well formed, and their links resolve."""

from __future__ import annotations

import re

import pytest

from sayzhong.support.articles import (
    CATEGORIES,
    PAGE_KEYS,
    ArticleFormatError,
    load_article_sources,
    parse_article,
)

GOOD = "---\ntitle: T\ncategory: scoring\nsummary: S\npages: practice\n---\n" + "Body text. " * 30


def test_at_least_25_articles_cover_every_topic_the_issue_names() -> None:
    sources = load_article_sources()
    assert len(sources) >= 25
    slugs = {s.slug for s in sources}
    for needed in (
        "allow-microphone-access",
        "how-scoring-works",
        "four-tones",
        "tone-sandhi",
        "neutral-tone",
        "speaker-profile",
        "review-and-streaks",
        "terminal-client",
        "plans-and-trials",
        "delete-account",
        "export-your-data",
        "troubleshooting-page-not-loading",
    ):
        assert needed in slugs
    assert {s.category for s in sources} == set(CATEGORIES)


def test_every_learner_page_has_articles_and_internal_links_resolve() -> None:
    sources = load_article_sources()
    slugs = {s.slug for s in sources}
    for page in PAGE_KEYS:
        assert any(page in s.pages for s in sources), page
    for source in sources:
        for target in re.findall(r"\]\(/help/([a-z0-9-]+)\)", source.body):
            assert target in slugs, f"{source.slug} links to missing article {target}"


@pytest.mark.parametrize(
    ("slug", "text", "message"),
    [
        ("Bad_Name", GOOD, "lower-case"),
        ("ok", "no front matter", "front matter"),
        ("ok", GOOD.replace("title: T\n", ""), "needs a title"),
        ("ok", GOOD.replace("category: scoring", "category: nope"), "unknown category"),
        ("ok", GOOD.replace("pages: practice", "pages: nowhere"), "unknown pages"),
        ("ok", GOOD.split("---\n", 2)[0] + "---\n" + GOOD.split("---\n")[1] + "---\nshort", "too short"),
        ("ok", GOOD.replace("summary: S", "summary S"), "key: value"),
    ],
)
def test_malformed_articles_are_refused_with_a_plain_reason(slug: str, text: str, message: str) -> None:
    with pytest.raises(ArticleFormatError, match=message):
        parse_article(slug, text)
