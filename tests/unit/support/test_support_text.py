"""Search text normalisation, snippets, spelling suggestions and the Markdown sanitiser (pure)."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from sayzhong.support import text
from sayzhong.support.help import render_markdown


def test_tone_marks_and_tone_digits_fold_to_the_same_word() -> None:
    assert text.tokens("Shēngdiào") == ["shengdiao"]
    assert text.tokens("sheng1diao4") == ["shengdiao"]
    assert text.fold("Nǚ lǜ") == "nu lu"


def test_hanzi_are_indexed_as_word_characters_and_pinyin() -> None:
    words = text.tokens("声调")
    assert text.hanzi_token("声调") in words
    assert text.hanzi_token("声") in words and text.hanzi_token("调") in words
    assert "shengdiao" in words and "sheng" in words and "diao" in words
    assert all(w.isascii() and w.isalnum() for w in words)


def test_queries_drop_stop_words_and_duplicates() -> None:
    assert text.query_tokens("my microphone is not working, microphone!") == ["microphone", "working"]
    assert len(text.query_tokens(" ".join(f"w{i}" for i in range(50)))) == text.MAX_QUERY_TOKENS


def test_search_text_has_title_keywords_and_plain_body_lines() -> None:
    value = text.search_text(title="Tones", keywords="声调", body="# Heading\n\n**Bold** [link](/help/x)")
    title, keywords, body = text.split_search_text(value)
    assert title == "tones"
    assert text.hanzi_token("声调") in keywords.split()
    assert body == "heading bold link"


def test_snippet_highlights_english_and_hanzi_matches_as_text_parts() -> None:
    body = "Intro. " * 40 + "Tone sandhi changes 你好 to ní hǎo; the **third tone** rule."
    parts = text.snippet(body, "third 你好")
    highlighted = [p.text for p in parts if p.highlight]
    assert "你好" in highlighted and "third" in highlighted
    assert parts[0].text == "…"  # the window starts near the first match
    assert "**" not in "".join(p.text for p in parts)


def test_snippet_without_a_match_is_the_beginning() -> None:
    parts = text.snippet("Hello world. " * 30, "nothing")
    assert len(parts) == 1 and not parts[0].highlight and parts[0].text.startswith("Hello world.")


@pytest.mark.parametrize(
    ("query", "expected"),
    [("micrphone", "microphone"), ("micrphone permision", "microphone permission"), ("refnud", "refund")],
)
def test_typos_get_the_closest_indexed_word(query: str, expected: str) -> None:
    assert text.suggest(query, ["microphone", "permission", "refund", "allow"]) == expected


def test_known_words_prefixes_and_hanzi_are_not_corrected() -> None:
    vocab = ["microphone", "refund"]
    assert text.suggest("microphone", vocab) is None
    assert text.suggest("micro", vocab) is None
    assert text.suggest("声调", vocab) is None
    assert text.suggest("zzzzqqqq", vocab) is None


@pytest.mark.parametrize(
    "payload",
    [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        "[click](javascript:alert(1))",
        '<a href="javascript:alert(1)">x</a>',
        "<iframe src=//evil.example></iframe>",
        '<div style="background:url(javascript:alert(1))">x</div>',
    ],
)
def test_article_markdown_is_sanitised(payload: str) -> None:
    html = render_markdown(f"# Title\n\nText {payload} more.")
    elements = _elements(html)
    assert {tag for tag, _ in elements} <= {"h1", "p", "a"}
    for _tag, attrs in elements:
        for name, value in attrs:
            assert not name.startswith("on") and name != "style"
            assert not (value or "").strip().lower().startswith("javascript:")
    assert "<h1>Title</h1>" in html


def _elements(html: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    """Every element the browser would build from `html` (tags and attributes)."""
    found: list[tuple[str, list[tuple[str, str | None]]]] = []

    class Collect(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            found.append((tag, attrs))

    Collect().feed(html)
    return found


def test_article_markdown_keeps_links_tables_and_lists() -> None:
    html = render_markdown("- one\n- [two](/help/four-tones)\n\n| a | b |\n|---|---|\n| 1 | 2 |\n")
    assert '<a href="/help/four-tones" rel="noopener noreferrer">two</a>' in html
    assert "<table>" in html and "<li>one</li>" in html
