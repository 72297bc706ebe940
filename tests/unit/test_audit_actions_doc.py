"""docs/operations.md names the same audit actions the code records (operators filter by them)."""

from __future__ import annotations

import ast
import re

import pytest
from sqlmodel import Session

from sayzhong.audit import AUDIT_ACTIONS, record_audit
from sayzhong.settings import REPO_ROOT

DOC = REPO_ROOT / "docs" / "operations.md"
# A backticked lower-case dotted name that is not a file (`sign_in.failed`, not `wiring.py`).
_ACTION_LIKE = re.compile(r"`([a-z_]+\.[a-z_]+)`")
_FILE_SUFFIXES = {"py", "md", "json", "db", "txt", "toml", "yaml", "yml", "sh", "wav"}


def _documented_table() -> list[str]:
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## Audit actions", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| `([^`]+)` \|", section, flags=re.MULTILINE)


def _recorded_in_code() -> set[str]:
    """Literal `action=` arguments of every `record_audit(...)` call under sayzhong/."""
    found: set[str] = set()
    for path in (REPO_ROOT / "sayzhong").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "record_audit":
                for kw in node.keywords:
                    if kw.arg == "action":
                        assert isinstance(kw.value, ast.Constant), f"{path}: action must be a literal"
                        found.add(str(kw.value.value))
    return found


def test_the_doc_table_lists_exactly_the_known_actions() -> None:
    documented = _documented_table()
    assert len(documented) == len(set(documented)), "an action is listed twice"
    assert set(documented) == set(AUDIT_ACTIONS)


def test_the_code_records_only_known_actions_and_every_known_action_is_recorded() -> None:
    assert _recorded_in_code() == set(AUDIT_ACTIONS)


def test_every_action_named_anywhere_in_the_doc_exists() -> None:
    named = {
        name
        for name in _ACTION_LIKE.findall(DOC.read_text(encoding="utf-8"))
        if name.rsplit(".", 1)[1] not in _FILE_SUFFIXES
    }
    assert named <= set(AUDIT_ACTIONS), sorted(named - set(AUDIT_ACTIONS))


def test_an_unlisted_action_is_refused(db_session: Session) -> None:
    with pytest.raises(ValueError, match="unknown audit action"):
        record_audit(session=db_session, action="login.failure")
