"""Migrations are applied by a job *before* the new release takes traffic, so while a migration runs
and until the canary is promoted, the previous release still serves on the new schema. Each
migration's upgrade must therefore be additive (expand); destructive steps (contract) ship in a
later release, marked with a module constant ``CONTRACT = "<why the running release no longer
reads it>"``. This test reads every upgrade() and refuses unmarked destructive operations."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from sayzhong.settings import REPO_ROOT

MIGRATIONS = sorted((REPO_ROOT / "alembic/versions").glob("*.py"))
DESTRUCTIVE_OPS = {"drop_table", "drop_column", "rename_table", "drop_constraint", "drop_index"}


def destructive_steps(source: str) -> list[str]:
    tree = ast.parse(source)
    marked = any(
        isinstance(node, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == "CONTRACT" for t in node.targets)
        for node in tree.body
    )
    if marked:
        return []
    upgrade = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "upgrade")
    found = []
    for node in ast.walk(upgrade):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        name = node.func.attr
        keywords = {k.arg: k.value for k in node.keywords}
        if name in DESTRUCTIVE_OPS:
            found.append(f"{name} (line {node.lineno})")
        elif name == "alter_column" and (
            "new_column_name" in keywords or _is_false(keywords.get("nullable"))
        ):
            found.append(f"alter_column renaming or tightening (line {node.lineno})")
        elif name == "add_column" and node.args:
            column = node.args[-1]
            if isinstance(column, ast.Call):
                ck = {k.arg: k.value for k in column.keywords}
                if _is_false(ck.get("nullable")) and "server_default" not in ck:
                    found.append(f"add_column NOT NULL without a server default (line {node.lineno})")
        elif name == "execute" and node.args and isinstance(node.args[0], ast.Constant):
            sql = str(node.args[0].value).upper()
            if any(word in sql for word in ("DROP ", "RENAME ", "TRUNCATE ")):
                found.append(f"execute({sql[:40]!r}) (line {node.lineno})")
    return found


def _is_false(node: ast.expr | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is False


@pytest.mark.parametrize("migration", MIGRATIONS, ids=lambda p: p.name)
def test_upgrades_are_additive_unless_marked_as_a_contract_step(migration: Path) -> None:
    assert destructive_steps(migration.read_text()) == []


def test_the_check_catches_destructive_upgrades() -> None:
    bad = """
def upgrade():
    op.drop_column("user_account", "nickname")
    op.alter_column("user_account", "email", new_column_name="mail")
    op.add_column("user_account", sa.Column("age", sa.Integer(), nullable=False))
def downgrade():
    pass
"""
    assert len(destructive_steps(bad)) == 3
    assert destructive_steps('CONTRACT = "v1.4 stopped reading nickname"\n' + bad) == []
    fine = 'def upgrade():\n    op.add_column("t", sa.Column("c", sa.Integer(), nullable=True))\n'
    assert destructive_steps(fine) == []
