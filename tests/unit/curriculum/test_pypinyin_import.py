"""pypinyin is imported lazily, and its modules import each other in a circle: two threads importing
parts of it at once can fail half-initialised (a clean-clone run saw it). Every function that
imports it must first call `import_pypinyin`, which imports it whole, one thread at a time."""

from __future__ import annotations

import ast
from pathlib import Path

import sayzhong
from sayzhong.curriculum.pinyin import import_pypinyin

PACKAGE = Path(sayzhong.__file__).parent


def _lazy_pypinyin_imports() -> list[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef, ast.ImportFrom]]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for func in ast.walk(tree):
            if not isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef) or func.name == "import_pypinyin":
                continue
            for node in ast.walk(func):
                if isinstance(node, ast.ImportFrom | ast.Import):
                    names = (
                        [node.module or ""]
                        if isinstance(node, ast.ImportFrom)
                        else [a.name for a in node.names]
                    )
                    if any(n == "pypinyin" or n.startswith("pypinyin.") for n in names):
                        found.append((f"{path.relative_to(PACKAGE)}:{node.lineno}", func, node))
    return found


def test_every_lazy_pypinyin_import_first_imports_it_whole_under_the_lock() -> None:
    lazy = _lazy_pypinyin_imports()
    assert len(lazy) >= 5  # the scanner finds the imports it is about
    unguarded = []
    for where, func, node in lazy:
        guarded = any(
            isinstance(call, ast.Call)
            and isinstance(call.func, ast.Name)
            and call.func.id == "import_pypinyin"
            and call.lineno < node.lineno
            for call in ast.walk(func)
        )
        if not guarded:
            unguarded.append(where)
    assert unguarded == []


def test_import_pypinyin_leaves_the_whole_package_imported() -> None:
    import sys

    import_pypinyin()
    assert {"pypinyin", "pypinyin.contrib.tone_convert", "pypinyin.pinyin_dict"} <= set(sys.modules)
