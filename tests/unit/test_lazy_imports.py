"""Heavy packages imported inside functions go through `import_whole` (sayzhong/lazy_imports.py):
two threads importing parts of a package whose modules import each other in a circle can fail
half-initialised, and a clean-clone run saw it happen with SciPy and with pypinyin."""

from __future__ import annotations

import ast
import sys
import threading
from functools import lru_cache
from pathlib import Path

import pytest

import sayzhong
from sayzhong import lazy_imports
from sayzhong.lazy_imports import GUARDED, PYPINYIN, import_whole

PACKAGE = Path(sayzhong.__file__).parent
ROOTS = [PACKAGE, PACKAGE.parent / "state", PACKAGE.parent / "pages", PACKAGE.parent / "jobs"]

Function = ast.FunctionDef | ast.AsyncFunctionDef


def _imported(node: ast.Import | ast.ImportFrom) -> list[str]:
    if isinstance(node, ast.ImportFrom):
        return [node.module or ""] if node.level == 0 else []
    return [alias.name for alias in node.names]


def _is_guarded(name: str) -> bool:
    return name.split(".")[0] in GUARDED


def _covered_by(call: ast.Call) -> set[str]:
    """The module names an `import_whole(...)` call names: string literals and `*CONSTANT`s."""
    names: set[str] = set()
    for arg in call.args:
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            names.add(arg.value)
        elif isinstance(arg, ast.Starred) and isinstance(arg.value, ast.Name):
            names.update(getattr(lazy_imports, arg.value.id))
    return names


@lru_cache(maxsize=1)
def _sources() -> tuple[tuple[str, ast.Module], ...]:
    """Every Python file under ROOTS, parsed once for all the tests here."""
    return tuple(
        (str(path.relative_to(root.parent)), ast.parse(path.read_text(encoding="utf-8")))
        for root in ROOTS
        for path in sorted(root.rglob("*.py"))
    )


def _lazy_imports() -> list[tuple[str, Function, str, int]]:
    found = []
    for file, tree in _sources():
        for func in ast.walk(tree):
            if not isinstance(func, Function):
                continue
            for node in ast.walk(func):
                if isinstance(node, ast.Import | ast.ImportFrom):
                    where = f"{file}:{node.lineno}"
                    found += [(where, func, n, node.lineno) for n in _imported(node) if _is_guarded(n)]
    return found


def _top_level_guarded_imports() -> list[str]:
    return [
        f"{file}:{node.lineno}"
        for file, tree in _sources()
        for node in tree.body
        if isinstance(node, ast.Import | ast.ImportFrom) and any(map(_is_guarded, _imported(node)))
    ]


def test_every_function_level_import_of_a_guarded_package_is_imported_whole_first() -> None:
    lazy = _lazy_imports()
    assert {name.split(".")[0] for _, _, name, _ in lazy} >= {"scipy", "pypinyin", "jieba", "av"}
    unguarded = []
    for where, func, name, line in lazy:
        covered: set[str] = set()
        for call in ast.walk(func):
            if (
                isinstance(call, ast.Call)
                and isinstance(call.func, ast.Name)
                and call.func.id == "import_whole"
                and call.lineno < line
            ):
                covered |= _covered_by(call)
        # Importing a submodule completes its parent packages first.
        if not any(c == name or c.startswith(name + ".") for c in covered):
            unguarded.append(f"{where} {name}")
    assert unguarded == []


def test_guarded_packages_are_never_imported_at_module_level() -> None:
    """A module-level import runs in whichever thread first imports the module, outside the guard."""
    assert _top_level_guarded_imports() == []


def test_import_whole_leaves_every_named_module_imported() -> None:
    import_whole(*PYPINYIN)
    assert set(PYPINYIN) <= set(sys.modules)


def test_a_module_another_thread_is_still_importing_is_waited_for(monkeypatch: pytest.MonkeyPatch) -> None:
    """A module in `sys.modules` but still executing is not "imported": the caller takes the lock
    (and so waits for the importing thread) instead of using a half-made module."""
    from types import ModuleType, SimpleNamespace

    half = ModuleType("sayzhong_test_half_imported")
    half.__spec__ = SimpleNamespace(_initializing=True)  # type: ignore[assignment]
    monkeypatch.setitem(sys.modules, half.__name__, half)
    taken: list[bool] = []

    class _Recording:
        def __enter__(self) -> None:
            taken.append(True)

        def __exit__(self, *_exc: object) -> None:
            return None

    monkeypatch.setattr(lazy_imports, "_lock", _Recording())
    import_whole("json")  # fully imported long ago: no lock
    assert taken == []
    import_whole(half.__name__)
    assert taken == [True]


def test_the_guard_is_one_reentrant_lock_for_the_process() -> None:
    assert isinstance(lazy_imports._lock, type(threading.RLock()))
