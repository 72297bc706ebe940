"""Heavy packages that functions import on first use: imported whole, one thread at a time.

SayZhong imports SciPy, pypinyin, jieba, Praat, PyAV and matplotlib inside the functions that need
them, so a web worker or a CLI starts without paying for what it never uses. But several of those
packages import their own modules in a circle, and two threads importing parts of such a package at
once can fail half-initialised: Python breaks the deadlock by handing one thread a partly executed
module. A clean-clone run proved it with pypinyin: the tone-notes warm-up and an API request imported
it together, and the request failed with "cannot import name 'tone_to_tone2' from partially
initialized module 'pypinyin.contrib.tone_convert'". CI's 500 on a fresh replica's first take, when
two scoring threads imported SciPy together, is very likely the same thing (its log was lost).

`import_whole(...)` is the one guard: called before a function-level `import` of such a package, it
imports the named modules completely under one process-wide lock (re-entrant, since importing one
may import another through here). Once a module is fully imported the call is a dictionary lookup.
`tests/unit/test_lazy_imports.py` checks that every function-level import of `GUARDED` is preceded
by a call that covers it.
"""

from __future__ import annotations

import importlib
import sys
import threading

GUARDED = ("scipy", "pypinyin", "jieba", "parselmouth", "av", "matplotlib")
"""Top-level packages that are only ever imported inside functions, through `import_whole`."""

PYPINYIN = ("pypinyin", "pypinyin.contrib.tone_convert", "pypinyin.pinyin_dict")
"""pypinyin's modules that import each other: import them together."""

_lock = threading.RLock()


def _complete(name: str) -> bool:
    module = sys.modules.get(name)
    return module is not None and not getattr(getattr(module, "__spec__", None), "_initializing", False)


def import_whole(*modules: str) -> None:
    """Import each of `modules` completely, one importing thread at a time in this process."""
    if all(_complete(name) for name in modules):
        return
    with _lock:
        for name in modules:
            importlib.import_module(name)
