"""The help articles shipped in the repository (`articles/*.md`): reading and checking them.

Each file is Markdown with a small front matter block:

    ---
    title: Allow SayZhong to use your microphone
    category: microphone
    pages: practice, onboarding
    summary: One sentence shown in lists and search results.
    keywords: extra search words (synonyms, hanzi, pinyin)
    ---

The file name (without `.md`) is the article's address: `/help/<slug>`. The repository's text is the
seed; staff edits are stored as revisions in the database (see `sayzhong.support.help`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ARTICLES_DIR = Path(__file__).with_name("articles")

CATEGORIES: dict[str, str] = {
    "getting-started": "Getting started",
    "microphone": "Microphone and audio",
    "scoring": "Scores and verdicts",
    "tones": "Tones, sandhi and the neutral tone",
    "profile": "Speaker profile and mic check",
    "review": "Review, streaks and XP",
    "terminal": "Terminal client",
    "billing": "Plans and billing",
    "privacy": "Privacy and your data",
    "account": "Account and sign-in",
    "troubleshooting": "Troubleshooting",
}
# Pages whose help drawer lists articles (the `pages:` keys of the front matter).
PAGE_KEYS = frozenset({"home", "practice", "dialogue", "review", "account", "onboarding"})
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


@dataclass(frozen=True, slots=True)
class ArticleSource:
    slug: str
    title: str
    category: str
    pages: tuple[str, ...]
    summary: str
    keywords: str
    body: str


class ArticleFormatError(ValueError):
    pass


def parse_article(slug: str, text: str) -> ArticleSource:
    """One article file; ArticleFormatError names the file's problem in plain words."""
    if not _SLUG.match(slug):
        raise ArticleFormatError(f"{slug}: file names must be lower-case words joined by hyphens")
    if not text.startswith("---\n") or "\n---\n" not in text[4:]:
        raise ArticleFormatError(f"{slug}: the file must start with a --- front matter block ---")
    head, body = text[4:].split("\n---\n", 1)
    meta: dict[str, str] = {}
    for line in head.splitlines():
        if not line.strip():
            continue
        key, sep, value = line.partition(":")
        if not sep:
            raise ArticleFormatError(f"{slug}: front matter line {line!r} is not 'key: value'")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        meta[key.strip()] = value
    for required in ("title", "category", "summary"):
        if not meta.get(required):
            raise ArticleFormatError(f"{slug}: front matter needs a {required}")
    if meta["category"] not in CATEGORIES:
        raise ArticleFormatError(f"{slug}: unknown category {meta['category']!r}")
    pages = tuple(p.strip() for p in meta.get("pages", "").split(",") if p.strip())
    unknown = [p for p in pages if p not in PAGE_KEYS]
    if unknown:
        raise ArticleFormatError(f"{slug}: unknown pages {unknown}")
    if len(body.strip()) < 200:
        raise ArticleFormatError(f"{slug}: the article is too short to help anyone")
    return ArticleSource(
        slug=slug,
        title=meta["title"][:200],
        category=meta["category"],
        pages=pages,
        summary=meta["summary"][:400],
        keywords=meta.get("keywords", "")[:400],
        body=body.strip() + "\n",
    )


def load_article_sources(directory: Path = ARTICLES_DIR) -> list[ArticleSource]:
    return [
        parse_article(path.stem, path.read_text(encoding="utf-8")) for path in sorted(directory.glob("*.md"))
    ]
