"""The versioned legal documents in `legal/<doc>/v<n>.md`: load, list versions, diff two versions.

A version is immutable once published; a change is a new file whose front matter says what
changed and whether the change is material. Parsing is deliberately strict (a malformed file is a
deploy-time error, found by `check_documents`), so a typo cannot silently drop a version.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

from sayzhong.errors import NotFoundError

LEGAL_ROOT = Path(__file__).resolve().parents[2] / "legal"
DOCUMENTS: dict[str, str] = {
    "terms": "Terms of Service",
    "privacy": "Privacy Policy",
    "cookies": "Cookie Policy",
    "subprocessors": "Sub-processors",
}
_FILE = re.compile(r"^v(\d{1,4})\.md$")
_REQUIRED = ("title", "version", "effective", "material", "summary")


class LegalDocumentError(ValueError):
    """A file under legal/ is malformed (found at startup or by the check, never by a learner)."""


@dataclass(frozen=True, slots=True)
class LegalVersion:
    doc: str
    title: str
    version: int
    effective: date
    material: bool
    summary: str
    body: str


@dataclass(frozen=True, slots=True)
class DiffLine:
    kind: str
    """"same", "added", "removed" or "gap" (unchanged lines left out)."""
    text: str


def _parse(doc: str, path: Path) -> LegalVersion:
    text = path.read_text(encoding="utf-8")
    if not text.startswith("---\n"):
        raise LegalDocumentError(f"{path}: missing front matter")
    try:
        head, body = text[4:].split("\n---\n", 1)
    except ValueError:
        raise LegalDocumentError(f"{path}: front matter is not closed by ---") from None
    meta: dict[str, str] = {}
    for line in head.splitlines():
        if not line.strip():
            continue
        key, sep, value = line.partition(":")
        if not sep:
            raise LegalDocumentError(f"{path}: front-matter line without a colon: {line!r}")
        meta[key.strip()] = value.strip()
    missing = [k for k in _REQUIRED if not meta.get(k)]
    if missing:
        raise LegalDocumentError(f"{path}: front matter lacks {', '.join(missing)}")
    if meta["material"] not in ("true", "false"):
        raise LegalDocumentError(f"{path}: material must be true or false")
    try:
        version = int(meta["version"])
        effective = date.fromisoformat(meta["effective"])
    except ValueError as exc:
        raise LegalDocumentError(f"{path}: {exc}") from None
    match = _FILE.match(path.name)
    if match is None or int(match.group(1)) != version:
        raise LegalDocumentError(f"{path}: file name and version {version} disagree")
    return LegalVersion(
        doc=doc,
        title=meta["title"],
        version=version,
        effective=effective,
        material=meta["material"] == "true",
        summary=meta["summary"],
        body=body.strip() + "\n",
    )


@lru_cache(maxsize=16)
def _load(root: Path) -> dict[str, tuple[LegalVersion, ...]]:
    loaded: dict[str, tuple[LegalVersion, ...]] = {}
    for doc in DOCUMENTS:
        folder = root / doc
        files = sorted(folder.glob("v*.md")) if folder.is_dir() else []
        versions = sorted((_parse(doc, f) for f in files if _FILE.match(f.name)), key=lambda v: v.version)
        if not versions:
            raise LegalDocumentError(f"{folder}: no published version")
        numbers = [v.version for v in versions]
        if numbers != list(range(1, len(numbers) + 1)):
            raise LegalDocumentError(f"{folder}: versions must be 1..n without gaps, found {numbers}")
        loaded[doc] = tuple(versions)
    return loaded


def check_documents(root: Path = LEGAL_ROOT) -> list[str]:
    """Problems with the documents (empty when all is well)."""
    _load.cache_clear()
    try:
        _load(root)
    except LegalDocumentError as exc:
        return [str(exc)]
    return []


def _doc(doc: str) -> str:
    if doc not in DOCUMENTS:
        raise NotFoundError("There is no such legal document.", code="legal_unknown_document")
    return doc


def versions(doc: str, *, root: Path = LEGAL_ROOT) -> list[LegalVersion]:
    """Every published version, oldest first."""
    return list(_load(root)[_doc(doc)])


def current(doc: str, *, root: Path = LEGAL_ROOT) -> LegalVersion:
    return _load(root)[_doc(doc)][-1]


def current_versions(*, root: Path = LEGAL_ROOT) -> dict[str, int]:
    return {doc: current(doc, root=root).version for doc in DOCUMENTS}


def get_version(doc: str, version: int, *, root: Path = LEGAL_ROOT) -> LegalVersion:
    for item in versions(doc, root=root):
        if item.version == version:
            return item
    raise NotFoundError("That version of the document does not exist.", code="legal_unknown_version")


def diff(doc: str, version: int, *, root: Path = LEGAL_ROOT, context: int = 2) -> list[DiffLine]:
    """Line diff of `version` against the version before it (unchanged stretches shortened)."""
    new = get_version(doc, version, root=root)
    if version <= 1:
        return [DiffLine("added", line) for line in new.body.splitlines()]
    old = get_version(doc, version - 1, root=root)
    a, b = old.body.splitlines(), new.body.splitlines()
    out: list[DiffLine] = []
    for group in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_grouped_opcodes(context):
        if out:
            out.append(DiffLine("gap", "…"))
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                out.extend(DiffLine("same", line) for line in a[i1:i2])
                continue
            out.extend(DiffLine("removed", line) for line in a[i1:i2])
            out.extend(DiffLine("added", line) for line in b[j1:j2])
    return out
