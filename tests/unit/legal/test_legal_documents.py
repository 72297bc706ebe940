"""The documents under legal/: strict front matter, versions 1..n, readable diffs (pure, no DB)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sayzhong.errors import NotFoundError
from sayzhong.legal import documents


def test_the_shipped_documents_are_valid_and_specific() -> None:
    assert documents.check_documents() == []
    for doc in documents.DOCUMENTS:
        current = documents.current(doc)
        assert current.summary and current.body.startswith("# ")
        assert "lorem" not in current.body.lower()
    privacy = documents.current("privacy").body
    for must in (
        "voice take",
        "pitch contour",
        "180 days",
        "24 hours",
        "VACUUM",
        "35 days",
        "Global Privacy Control",
    ):
        assert must.lower() in privacy.lower(), must
    subprocessors = documents.current("subprocessors").body
    for vendor in ("Azure", "Stripe", "PostHog", "e-mail provider"):
        assert vendor in subprocessors


def test_past_versions_stay_readable_and_diff_shows_the_change() -> None:
    versions = documents.versions("terms")
    assert [v.version for v in versions] == list(range(1, len(versions) + 1))
    assert len(versions) >= 2
    first = documents.get_version("terms", 1)
    assert "Paid plans" not in first.body
    lines = documents.diff("terms", 2)
    assert any(line.kind == "added" and "Paid plans" in line.text for line in lines)
    assert any(line.kind == "removed" for line in lines)
    with pytest.raises(NotFoundError):
        documents.get_version("terms", 99)
    with pytest.raises(NotFoundError):
        documents.current("secret-plans")


def _write(root: Path, doc: str, n: int, front: str) -> None:
    (root / doc).mkdir(parents=True, exist_ok=True)
    (root / doc / f"v{n}.md").write_text(front + "\n# Body\n\ntext\n", encoding="utf-8")


def _valid(doc: str, n: int, material: str = "true") -> str:
    return f"---\ntitle: {doc}\nversion: {n}\neffective: 2026-12-01\nmaterial: {material}\nsummary: s\n---"


@pytest.mark.parametrize(
    ("front", "problem"),
    [
        ("no front matter", "missing front matter"),
        ("---\ntitle: x\nversion: 1\neffective: 2026-12-01\nmaterial: maybe\nsummary: s\n---", "material"),
        ("---\ntitle: x\nversion: 2\neffective: 2026-12-01\nmaterial: true\nsummary: s\n---", "disagree"),
        ("---\ntitle: x\nversion: 1\neffective: 1 Dec\nmaterial: true\nsummary: s\n---", "Invalid isoformat"),
        ("---\ntitle: x\nversion: 1\nmaterial: true\nsummary: s\n---", "lacks effective"),
    ],
)
def test_malformed_documents_are_reported(tmp_path: Path, front: str, problem: str) -> None:
    for doc in documents.DOCUMENTS:
        _write(tmp_path, doc, 1, _valid(doc, 1))
    _write(tmp_path, "terms", 1, front)
    problems = documents.check_documents(tmp_path)
    assert len(problems) == 1 and problem in problems[0]
