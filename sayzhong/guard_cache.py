"""Page-load guards a web worker answers from memory (issue 16: page loads per worker).

Every signed-in page load resolves its session cookie: the session, the account, the privacy gate and,
for the pages whose loader is their guard, the page's own figures — one statement (state/session.py).
Measured on one worker, that unit of work was about half of a home navigation's CPU
(bench/RESULTS-load.md, run 11). Its answer changes only when one of the learner's rows changes, or with
the clock. So, with REDIS_URL set, a worker keeps each answer and serves the tab's next load of the
same page from memory after one Redis round trip that checks nothing changed since:

- every committed unit of work that wrote a row of a table the guards read (`GUARD_TABLES`) increments
  that learner's *generation* in Redis after the commit (the `user_id` of each row the ORM flushed; the
  id itself for the account); a bulk INSERT, UPDATE or DELETE on those tables, whose rows the ORM never
  sees, increments everyone's;
- a remembered answer is served only while both generations are the ones read *before* its database
  read, and before the session's own expiry and idle deadline.

The clock alone is left to `GUARD_CACHE_SECONDS` (default 120 s): a review card falling due, a grant
ending, a new local day, the session's last-seen time (slid at most that late, far inside the idle
timeout). So are writes made outside the app's ORM: after a change made with psql, `python -m sayzhong
guard-cache-reset` increments everyone's generation (`python -m sayzhong backup restore` and `alembic
upgrade` do it themselves). Without REDIS_URL (`make run`: one process, no shared store) nothing is
remembered. Only page-load guards use this, and not the staff pages': every handler after a page has
loaded, and every staff action, still resolves the session from the database.
"""

from __future__ import annotations

import itertools
import re
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import event, inspect
from sqlalchemy.orm import ORMExecuteState
from sqlalchemy.orm import Session as OrmSession

from sayzhong.settings import get_settings

if TYPE_CHECKING:
    from sayzhong.accounts.schemas import UserInfo

GUARD_TABLES = frozenset(
    {
        "billing_grant",
        "billing_subscription",
        "erasure_request",
        "learner_profile",
        "legal_acceptance",
        "practice_attempt",
        "practice_review_card",
        "practice_syllable_result",
        "practice_tone_tally",
        "support_nps_response",
        "user_account",
        "user_session",
    }
)
"""Every table a cached guard reads (a test records them from the statements a guard sends). Each has
a `user_id` column (or is the account itself), so a flushed row names the learner it changes."""

ACCOUNT_TABLE = "user_account"
GEN_ALL = "sayzhong:guard:gen:all"
MAX_ENTRIES = 5_000
"""Answers kept per worker, least recently used out first. A home answer measured 2.7 KB for a learner
with two days of history (its 30-day chart grows it a few kilobytes more): tens of megabytes at most,
for ten times the tabs a worker serves at 10x."""
EVERYONE = -1
"""In a unit of work's pending bumps: a write whose learners are not known (a bulk statement)."""


def gen_key(user_id: int) -> str:
    return f"sayzhong:guard:gen:u:{user_id}"


def enabled() -> bool:
    settings = get_settings()
    return bool(settings.redis_url) and settings.guard_cache_seconds > 0


@dataclass(frozen=True, slots=True)
class Answer:
    """A page-load guard's answer: who (None: no live session), where the privacy gate sends them
    first (or None), the page's own reads, and when the session itself ends (expiry or idle)."""

    user: UserInfo | None
    redirect: str | None
    data: Any
    session_ends: datetime | None


@dataclass(slots=True)
class _Entry:
    answer: Answer
    generations: tuple[str | None, str | None]
    until: float


class GuardCache:
    """One worker's remembered answers, keyed by (session token, page). Used on the event loop only."""

    def __init__(self, *, ttl_s: float, max_entries: int = MAX_ENTRIES) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._entries: OrderedDict[tuple[str, str], _Entry] = OrderedDict()
        self._users: OrderedDict[str, int] = OrderedDict()

    def user_of(self, token: str) -> int | None:
        """The account a session token belongs to, once a guard has resolved it (it never changes)."""
        return self._users.get(token)

    def lookup(
        self, token: str, page: str, generations: tuple[str | None, str | None], now: float
    ) -> Answer | None:
        entry = self._entries.get((token, page))
        if entry is None:
            return None
        if entry.generations != generations or now >= entry.until:
            del self._entries[(token, page)]
            return None
        self._entries.move_to_end((token, page))
        return entry.answer

    def store(
        self,
        token: str,
        page: str,
        answer: Answer,
        generations: tuple[str | None, str | None] | None,
        now: float,
    ) -> None:
        """Remember `answer` if it may be (a live session, generations read before its database read
        for the account it answered); always remember whose token it is."""
        user = answer.user
        if user is None:
            self._users.pop(token, None)
            self._entries.pop((token, page), None)
            return
        known = self._users.get(token)
        self._users[token] = user.id
        self._users.move_to_end(token)
        if len(self._users) > self.max_entries:
            self._users.popitem(last=False)
        if generations is None or known != user.id or answer.session_ends is None:
            return
        until = min(now + self.ttl_s, answer.session_ends.timestamp())
        if until <= now:
            return
        self._entries[(token, page)] = _Entry(answer, generations, until)
        self._entries.move_to_end((token, page))
        if len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)


class GenerationStore(Protocol):
    """Where the generations live (`sayzhong/integrations/redis_generations.py`, chosen by wiring)."""

    async def read(self, user_id: int) -> tuple[str | None, str | None] | None:
        """(everyone's generation, this learner's), or None when the store did not answer."""
        ...

    def bump(self, user_ids: set[int]) -> None:
        """Increment the generations of `user_ids` (`EVERYONE`: the shared one). Never raises."""
        ...


@lru_cache(maxsize=4)
def _store_for(url: str) -> GenerationStore:
    from sayzhong import wiring

    store = wiring.get_guard_generations(get_settings().model_copy(update={"redis_url": url}))
    assert store is not None
    return store


def generations() -> GenerationStore | None:
    """This process's generation store, or None when the guard cache is off."""
    if not enabled():
        return None
    return _store_for(get_settings().redis_url)


@lru_cache(maxsize=1)
def _cache_for(ttl_s: float) -> GuardCache:
    return GuardCache(ttl_s=ttl_s)


def worker_cache() -> GuardCache | None:
    """This worker's cache, or None when the guard cache is off."""
    if not enabled():
        return None
    return _cache_for(float(get_settings().guard_cache_seconds))


def bump_everyone() -> bool:
    """Make every worker's remembered answers stale (after a write made outside the ORM: a restore,
    psql). False when nothing is cached (no REDIS_URL, or GUARD_CACHE_SECONDS=0)."""
    store = generations()
    if store is None:
        return False
    store.bump({EVERYONE})
    return True


def reset() -> None:
    """Forget every answer in this process, and make every other worker's stale (tests)."""
    _cache_for.cache_clear()
    bump_everyone()


async def resolve(
    token: str, page: str, read: Callable[[], Awaitable[Answer]], clock: Callable[[], float] = time.time
) -> Answer:
    """The guard's answer for `token` on `page`: remembered, or what `read()` (the database) answers,
    then remembered when it may be. `clock`: Unix time now (tests pass a fixed instant)."""
    from sayzhong.ops.metrics import GUARD_CACHE

    cache, store = worker_cache(), generations()
    if cache is None or store is None:
        return await read()
    user_id = cache.user_of(token)
    gens = await store.read(user_id) if user_id is not None else None
    if user_id is not None and gens is None:
        GUARD_CACHE.labels("error").inc()
    elif gens is not None:
        hit = cache.lookup(token, page, gens, clock())
        if hit is not None:
            GUARD_CACHE.labels("hit").inc()
            return hit
    if gens is not None or user_id is None:
        GUARD_CACHE.labels("miss").inc()
    answer = await read()
    cache.store(token, page, answer, gens, clock())
    return answer


# --- the writes that end remembered answers ---------------------------------------------------

_PENDING = "sayzhong.guard_cache.pending"
_DML = re.compile(
    r"^\s*(?:insert\s+(?:or\s+\w+\s+)?into|update|delete\s+from|truncate(?:\s+table)?)\s+\"?(\w+)", re.I
)


def _pending(session: OrmSession) -> set[int]:
    pending: set[int] = session.info.setdefault(_PENDING, set())
    return pending


@event.listens_for(OrmSession, "after_flush")
def _note_flushed_rows(session: OrmSession, _context: object) -> None:
    if not enabled():
        return
    pending = _pending(session)
    for obj in itertools.chain(session.new, session.dirty, session.deleted):
        table = getattr(type(obj), "__tablename__", None)
        if table not in GUARD_TABLES:
            continue
        if obj in session.dirty and _only_unguarded_changes(table, obj):
            continue
        user_id = getattr(obj, "id" if table == ACCOUNT_TABLE else "user_id", None)
        pending.add(user_id if isinstance(user_id, int) else EVERYONE)


UNGUARDED_COLUMNS: dict[str, frozenset[str]] = {"user_session": frozenset({"last_seen_at"})}
"""Changes that end no remembered answer: a session's last-seen time, slid by the guard itself once
a minute, only moves its idle deadline later (an answer keeps the earlier one)."""


def _only_unguarded_changes(table: str, obj: object) -> bool:
    unguarded = UNGUARDED_COLUMNS.get(table)
    if not unguarded:
        return False
    changed = {attr.key for attr in inspect(obj).attrs if attr.history.has_changes()}
    return changed <= unguarded


def _statement_table(state: ORMExecuteState) -> str | None:
    """The table a write statement changes, or None when it cannot be told."""
    statement: Any = state.statement
    table = getattr(statement, "table", None)
    name = getattr(table, "name", None)
    if isinstance(name, str):
        return name
    text = getattr(statement, "text", None)
    if isinstance(text, str):
        found = _DML.match(text)
        return found.group(1).lower() if found else None
    return None


@event.listens_for(OrmSession, "do_orm_execute")
def _note_bulk_writes(state: ORMExecuteState) -> None:
    if state.is_select or not enabled():
        return
    text = getattr(state.statement, "text", None)
    if isinstance(text, str) and not _DML.match(text):
        return  # a read or a setting sent as text (SELECT, PRAGMA, SET ...)
    table = _statement_table(state)
    if table is None or table in GUARD_TABLES:
        _pending(state.session).add(EVERYONE)


@event.listens_for(OrmSession, "after_commit")
def _publish_after_commit(session: OrmSession) -> None:
    pending = session.info.pop(_PENDING, None)
    if pending:
        store = generations()
        if store is not None:
            store.bump(pending)


@event.listens_for(OrmSession, "after_rollback")
def _forget_after_rollback(session: OrmSession) -> None:
    session.info.pop(_PENDING, None)
