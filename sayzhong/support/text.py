"""Search text for the help centre: one normalisation for articles and queries, shared by both
search adapters, plus the highlighted snippet and the "did you mean" suggestion.

Words are folded (lower case, tone marks and tone digits removed), so "Shēngdiào", "sheng1diao4"
and "shengdiao" are the same word. Hanzi are segmented with jieba and indexed three ways: the
word and its single characters as ASCII tokens ("zh" + code points in hex — PostgreSQL's parser and
FTS5 then treat them as ordinary words whatever the server's locale), and their toneless pinyin,
joined and per syllable. So 声调, shengdiao and "sheng diao" all find the tones article.
"""

from __future__ import annotations

import difflib
import re
import threading
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sayzhong.lazy_imports import PYPINYIN, import_whole

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_WORD = re.compile(r"[a-z0-9]+|[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_PINYIN_WITH_TONE_DIGITS = re.compile(r"^(?:[a-z]+[1-5])+$")
_MARKDOWN_NOISE = re.compile(r"(^#+\s*|[*_`>|]+|^\s*[-\d.]+\s+)", re.MULTILINE)
_MARKDOWN_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
# Left out of queries (PostgreSQL's english configuration drops them too, FTS5 would demand them).
STOP_WORDS = frozenset(
    "a an and are as at be but by can do does for from has have how i in is it its me my no not of "
    "on or so that the this to was what when where which who why will with you your".split()
)
MAX_QUERY_CHARS = 200
MAX_QUERY_TOKENS = 12
_lock = threading.Lock()


def fold(text: str) -> str:
    """Lower case without tone marks or accents, character for character (same length as `text`)."""
    out = []
    for ch in text:
        decomposed = unicodedata.normalize("NFKD", ch)
        base = decomposed[0] if decomposed else ch
        out.append(base.lower() if len(base.lower()) == 1 else ch)
    return "".join(out)


@lru_cache(maxsize=1)
def _jieba() -> Any:
    with _lock:
        import_whole("jieba")
        import jieba

        jieba.setLogLevel(60)
        jieba.initialize()
        return jieba


def hanzi_token(word: str) -> str:
    return "zh" + "".join(f"{ord(ch):04x}" for ch in word)


def _pinyin(word: str) -> list[str]:
    import_whole(*PYPINYIN)
    from pypinyin import Style, lazy_pinyin

    return [p for p in lazy_pinyin(word, style=Style.NORMAL) if p.isascii() and p.isalpha()]


def _hanzi_tokens(run: str) -> list[str]:
    tokens: list[str] = []
    words = [w for w in _jieba().lcut_for_search(run) if _CJK.fullmatch(w)]
    for word in dict.fromkeys([*words, *run]):
        tokens.append(hanzi_token(word))
    for word in dict.fromkeys(words):
        syllables = _pinyin(word)
        if syllables:
            tokens.append("".join(syllables))
            tokens.extend(syllables)
    return tokens


def tokens(text: str) -> list[str]:
    """Normalised search words of `text`, in order (duplicates kept: they weigh in ranking)."""
    out: list[str] = []
    for match in _WORD.finditer(fold(text)):
        word = match.group(0)
        if _CJK.match(word):
            out.extend(_hanzi_tokens(word))
        elif _PINYIN_WITH_TONE_DIGITS.match(word):
            out.append(re.sub(r"[1-5]", "", word))
        else:
            out.append(word)
    return out


def search_text(*, title: str, keywords: str, body: str) -> str:
    """What the index stores for an article: three lines (title, keywords, body) of normalised words."""
    plain = plain_text(body)
    return "\n".join(" ".join(tokens(part)) for part in (title, keywords, plain))


def split_search_text(value: str) -> tuple[str, str, str]:
    parts = ([*value.split("\n"), "", "", ""])[:3]
    return parts[0], parts[1], parts[2]


def query_tokens(query: str) -> list[str]:
    """The words of a learner's query, at most MAX_QUERY_TOKENS, duplicates removed."""
    words = [w for w in tokens(query[:MAX_QUERY_CHARS]) if w not in STOP_WORDS]
    return list(dict.fromkeys(words))[:MAX_QUERY_TOKENS]


_TABLE_RULE = re.compile(r"^\s*\|?[\s:|-]*-{3,}[\s:|-]*$", re.MULTILINE)


def plain_text(markdown: str) -> str:
    """Markdown without its markup, for snippets and indexing."""
    text = _MARKDOWN_LINK.sub(r"\1", _TABLE_RULE.sub(" ", markdown))
    return re.sub(r"\s+", " ", _MARKDOWN_NOISE.sub(" ", text)).strip()


@dataclass(frozen=True, slots=True)
class SnippetPart:
    text: str
    highlight: bool


def _display_terms(query: str) -> list[str]:
    """What to highlight in the original text: folded latin words and hanzi runs of the query."""
    return [
        w for w in dict.fromkeys(_WORD.findall(fold(query[:MAX_QUERY_CHARS]))) if len(w) >= 2 or _CJK.match(w)
    ]


def snippet(body: str, query: str, *, width: int = 200) -> list[SnippetPart]:
    """A window of the article's plain text around the first match, matches marked for highlighting.

    Returned as parts (never HTML), so the page renders them as text: article text cannot inject markup.
    """
    text = plain_text(body)
    folded = fold(text)
    terms = _display_terms(query)
    spans: list[tuple[int, int]] = []
    for term in terms:
        if _CJK.match(term):
            pattern = re.escape(term)
        else:
            pattern = r"\b" + re.escape(term[:-1] if len(term) > 4 else term) + r"\w*"
        spans.extend((m.start(), m.end()) for m in re.finditer(pattern, folded))
    spans.sort()
    if not spans:
        cut = text[:width]
        return [SnippetPart(cut + ("…" if len(text) > width else ""), False)]
    first = spans[0][0]
    start = max(0, first - width // 3)
    if start > 0:
        space = text.find(" ", start)
        start = space + 1 if 0 <= space < first else start
    end = min(len(text), start + width)
    parts: list[SnippetPart] = []
    if start > 0:
        parts.append(SnippetPart("…", False))
    cursor = start
    for s, e in spans:
        if s < cursor or e > end:
            continue
        if s > cursor:
            parts.append(SnippetPart(text[cursor:s], False))
        parts.append(SnippetPart(text[s:e], True))
        cursor = e
    if cursor < end:
        parts.append(SnippetPart(text[cursor:end], False))
    if end < len(text):
        parts.append(SnippetPart("…", False))
    return parts


def suggest(query: str, vocabulary: Iterable[str]) -> str | None:
    """A corrected query when some of its latin words are not in the index, else None."""
    vocab = {w for w in vocabulary if w.isalpha() and len(w) >= 3}
    words = _WORD.findall(fold(query[:MAX_QUERY_CHARS]))
    if not words:
        return None
    changed = False
    fixed = []
    for word in words:
        if _CJK.match(word) or word in vocab or len(word) < 3 or not word.isalpha():
            fixed.append(word)
            continue
        # A prefix of a known word is not a typo ("micro" finds "microphone" by prefix search).
        if any(v.startswith(word) for v in vocab):
            fixed.append(word)
            continue
        close = difflib.get_close_matches(word, vocab, n=1, cutoff=0.72)
        if close:
            fixed.append(close[0])
            changed = True
        else:
            fixed.append(word)
    return " ".join(fixed) if changed else None
