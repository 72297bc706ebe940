"""Admission control for password hashing: a burst of sign-ins gets a clear "busy, try again"
instead of an unbounded queue holding the threads every other request needs (issue 16)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from prometheus_client import REGISTRY

from sayzhong.accounts import passwords
from sayzhong.accounts.passwords import HashGate, PasswordCheckBusyError


@contextmanager
def _held(gate: HashGate) -> Iterator[threading.Event]:
    """A thread inside the gate until the returned event is set."""
    inside, release = threading.Event(), threading.Event()

    def hold() -> None:
        with gate.admit():
            inside.set()
            release.wait(30)

    worker = threading.Thread(target=hold)
    worker.start()
    assert inside.wait(30)
    try:
        yield release
    finally:
        release.set()
        worker.join(30)


def _turned_away(reason: str) -> float:
    return REGISTRY.get_sample_value("sayzhong_password_checks_turned_away_total", {"reason": reason}) or 0.0


def test_a_full_queue_turns_callers_away_at_once_with_a_plain_message() -> None:
    gate = HashGate(slots=1, queue=0, wait_s=30)
    before = _turned_away("queue_full")
    with _held(gate), pytest.raises(PasswordCheckBusyError) as caught:
        with gate.admit():
            pass
    assert caught.value.http_status == 503
    assert "try again" in caught.value.user_message
    assert _turned_away("queue_full") == before + 1
    with gate.admit():  # the slot is free again
        pass


def test_a_waiting_caller_gets_the_slot_when_it_frees() -> None:
    gate = HashGate(slots=1, queue=1, wait_s=30)
    got_in = threading.Event()

    def wait_for_slot() -> None:
        with gate.admit():
            got_in.set()

    with _held(gate) as release:
        waiter = threading.Thread(target=wait_for_slot)
        waiter.start()
        while True:  # until the waiter is queued (the count is the gate's own)
            with gate._lock:
                if gate._inside == 2:
                    break
        with pytest.raises(PasswordCheckBusyError):  # slots + queue are taken: a third is refused
            with gate.admit():
                pass
        assert not got_in.is_set()
        release.set()
        waiter.join(30)
    assert got_in.is_set()


def test_waiting_longer_than_the_limit_is_refused() -> None:
    gate = HashGate(slots=1, queue=5, wait_s=0.01)
    before = _turned_away("waited_too_long")
    with _held(gate), pytest.raises(PasswordCheckBusyError):
        with gate.admit():
            pass
    assert _turned_away("waited_too_long") == before + 1


def test_hashing_and_verifying_still_work_through_the_gate(monkeypatch: pytest.MonkeyPatch) -> None:
    hashed = passwords.hash_password("learning tones daily")
    assert passwords.verify_password(hashed, "learning tones daily")
    assert not passwords.verify_password(hashed, "learning tones nightly")
    monkeypatch.setattr(passwords, "HASH_GATE", HashGate(slots=1, queue=0, wait_s=30))
    with _held(passwords.HASH_GATE), pytest.raises(PasswordCheckBusyError):
        passwords.verify_password(hashed, "learning tones daily")
