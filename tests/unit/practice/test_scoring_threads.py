"""Takes are scored on threads of their own, a few at a time, in arrival order (issue 16).

A burst of uploads used to take every thread of asyncio's default pool, which the pages' event
handlers also need for their database calls. These tests hold scoring threads busy with events (no
clocks) and check what the rest of the worker can still do.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading

import pytest
from prometheus_client import REGISTRY

from sayzhong.practice import scoring_pool
from sayzhong.settings import Settings, reset_settings_cache

REQUEST_ID: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")


def _queued() -> float:
    return REGISTRY.get_sample_value("sayzhong_scoring_queue") or 0.0


@pytest.fixture()
def two_threads(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setenv("SCORING_THREADS", "2")
    reset_settings_cache()
    return 2


def test_scoring_runs_at_most_n_at_once_in_arrival_order_and_leaves_the_default_pool_free(
    two_threads: int,
) -> None:
    release = threading.Event()
    all_busy = threading.Event()
    started: list[int] = []
    running = 0
    most = 0
    lock = threading.Lock()

    def score(n: int) -> tuple[int, str]:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
            started.append(n)
            if len(started) == two_threads:
                all_busy.set()
        release.wait()
        with lock:
            running -= 1
        return n, threading.current_thread().name

    async def scenario() -> tuple[list[tuple[int, str]], float, str]:
        before = _queued()
        takes = []
        for n in range(6):
            takes.append(asyncio.create_task(scoring_pool.run_scoring(score, n)))
            await asyncio.sleep(0)  # arrival order: each submitted before the next
        await asyncio.to_thread(all_busy.wait)  # no clock: the two scoring threads have started
        waiting = _queued() - before
        # Every scoring thread is busy and four takes wait, yet a page's database call still runs.
        page_call = await asyncio.to_thread(lambda: threading.current_thread().name)
        release.set()
        return await asyncio.gather(*takes), waiting, page_call

    done, waiting, page_call = asyncio.run(scenario())
    assert [n for n, _ in done] == list(range(6))
    assert all(name.startswith("scoring") for _, name in done)
    assert not page_call.startswith("scoring")
    assert waiting == 6 - two_threads
    assert most == two_threads
    assert started == list(range(6))


def test_the_callers_context_travels_with_the_take_and_the_queue_empties(two_threads: int) -> None:
    def read() -> str:
        return REQUEST_ID.get()

    async def scenario() -> str:
        REQUEST_ID.set("req-42")
        return await scoring_pool.run_scoring(read)

    before = _queued()
    assert asyncio.run(scenario()) == "req-42"
    assert _queued() == before


def test_a_take_given_up_while_waiting_leaves_the_queue_and_is_never_scored(two_threads: int) -> None:
    release = threading.Event()
    scored: list[str] = []

    def hold() -> None:
        release.wait()

    def score(name: str) -> None:
        scored.append(name)

    async def scenario() -> float:
        before = _queued()
        busy = [asyncio.create_task(scoring_pool.run_scoring(hold)) for _ in range(two_threads)]
        await asyncio.sleep(0)
        waiting = asyncio.create_task(scoring_pool.run_scoring(score, "given up"))
        await asyncio.sleep(0)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        release.set()
        await asyncio.gather(*busy)
        await scoring_pool.run_scoring(score, "next")
        return _queued() - before

    assert asyncio.run(scenario()) == 0
    assert scored == ["next"]
