"""The scoring engine's BLAS runs single-threaded in every SayZhong process (issue 16: an upload cost
≈ 40 ms of CPU with OpenBLAS's thread pool spinning against the scoring threads, ≈ 12 ms without)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from sayzhong.settings import REPO_ROOT

PROBE = (
    "{imports}\n"
    "import json, numpy\n"
    "from threadpoolctl import threadpool_info\n"
    "print(json.dumps([p['num_threads'] for p in threadpool_info() if p['user_api'] == 'blas']))\n"
)


def _blas_threads(imports: str) -> list[int]:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(imports=imports)],
        cwd=REPO_ROOT,
        env={**env, "ENV": "test"},
        capture_output=True,
        text=True,
        check=True,
    )
    return list(json.loads(out.stdout))


def test_the_server_and_the_cli_load_numpy_with_one_blas_thread() -> None:
    for first_import in ("import rxconfig", "import sayzhong", "import jobs.__main__"):
        threads = _blas_threads(first_import)
        assert threads, f"numpy's BLAS not found after {first_import!r}"
        assert threads == [1] * len(threads), (first_import, threads)


def test_an_operators_own_setting_wins() -> None:
    threads = _blas_threads("import os; os.environ['OPENBLAS_NUM_THREADS'] = '2'; import sayzhong")
    assert threads == [2] * len(threads) and threads
