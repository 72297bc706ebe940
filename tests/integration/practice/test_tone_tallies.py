"""The home page's tone figures come from running tallies; they must equal the figures computed
directly from every stored syllable, for any history (issue 16: home page load)."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, col, select

from sayzhong.practice import service
from sayzhong.practice.models import SyllableResult, ToneTally
from sayzhong.practice.results import DECIDED
from sayzhong.practice.stats import TONES, add_to_tallies
from tests.factories import AttemptFactory, UserFactory
from tests.support.practice_fakes import result, syllable

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
PINYIN = {1: "ma1", 2: "ma2", 3: "ma3", 4: "ma4", 5: "ma5"}


def _random_take(rng: random.Random) -> dict:
    syllables = []
    for _ in range(rng.randint(1, 5)):
        expected = rng.choice((1, 2, 3, 4, 4, 5))
        kind = rng.random()
        if kind < 0.55:
            detected: int | None = expected
        elif kind < 0.85:
            detected = rng.choice([t for t in TONES if t != expected])
        else:
            detected = None  # undecidable: counted as unclear
        syllables.append(syllable("妈", PINYIN[expected], expected, None if expected == 5 else detected))
    return result(syllables)


def _direct(session: Session, user_id: int) -> tuple[dict, dict]:
    """The statistics computed from every syllable row, the slow way (the oracle)."""
    per_tone: dict[int, list[int]] = {t: [0, 0, 0] for t in TONES}  # correct, decided, unclear
    pairs: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0])
    rows = session.exec(select(SyllableResult).where(col(SyllableResult.user_id) == user_id)).all()
    for row in rows:
        if row.expected_tone not in TONES:
            continue
        if row.verdict in DECIDED:
            per_tone[row.expected_tone][1] += 1
            per_tone[row.expected_tone][0] += row.verdict == "correct"
        elif row.verdict == "unclear":
            per_tone[row.expected_tone][2] += 1
        if row.prev_expected_tone in TONES and row.prev_verdict in DECIDED and row.verdict in DECIDED:
            entry = pairs[(row.prev_expected_tone, row.expected_tone)]
            entry[1] += 1
            entry[0] += row.prev_verdict == "correct" and row.verdict == "correct"
    return {t: tuple(v) for t, v in per_tone.items()}, {k: tuple(v) for k, v in pairs.items()}


def _from_service(stats: service.ToneStats) -> tuple[dict, dict]:
    tones = {t.tone: (t.correct, t.total, t.unclear) for t in stats.tones}
    pairs = {(p.first, p.second): (p.correct, p.total) for p in stats.pairs}
    return tones, pairs


def test_tallied_statistics_equal_the_direct_computation_over_a_random_history(
    db_session: Session, make_user: UserFactory
) -> None:
    rng = random.Random(16)
    user, other = make_user().id, make_user().id
    take = AttemptFactory(db_session)
    for n in range(120):
        mode = rng.choice(("practice", "practice", "review", "dialogue", "calibration"))
        when = NOW - timedelta(days=rng.randint(0, 40), minutes=rng.randint(0, 1400))
        take(user if n % 7 else other, _random_take(rng), mode=mode, now=when)
    # A take of something else is stored but counts for nothing.
    take(user, result([syllable("妈", "ma1", 1, 1)], status="different_text"), now=NOW)

    for learner in (user, other):
        stats = service.tone_stats(session=db_session, user_id=learner)
        assert _from_service(stats) == _direct(db_session, learner)
        assert stats.total_syllables == sum(c[1] + c[2] for c in _direct(db_session, learner)[0].values())
    assert sum(_direct(db_session, user)[0][t][1] for t in TONES) > 100  # the history is not trivial


def test_the_home_page_reads_the_same_figures_as_each_service(
    db_session: Session, make_user: UserFactory
) -> None:
    rng = random.Random(7)
    account = make_user(timezone="Asia/Kolkata")  # +5:30: local days do not start on a UTC hour
    user = account.id
    take = AttemptFactory(db_session)
    real_now = datetime.now(UTC)
    for _ in range(60):  # the last 40 days: some before the chart's 30-day window
        ago = timedelta(days=rng.randint(0, 40), minutes=rng.randint(0, 1439))
        take(user, _random_take(rng), now=real_now - ago)
    take(user, _random_take(rng), now=real_now + timedelta(days=2))  # a clock ahead: its own day
    # The page passes the account as its guard read it; the summary is the one read from the database.
    summary, stats, points = service.home_page(session=db_session, user=account)
    assert stats == service.tone_stats(session=db_session, user_id=user)
    assert summary == service.home_summary(session=db_session, user_id=user, user_timezone="Asia/Kolkata")
    assert points == service.accuracy_over_time(
        session=db_session, user_id=user, days=30, user_timezone="Asia/Kolkata"
    )

    # The daily chart, recomputed from every syllable in the learner's zone.
    from sayzhong.practice.progress import local_date, zone

    tz = zone("Asia/Kolkata")
    today = local_date(datetime.now(UTC), tz)
    expected: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    for row in db_session.exec(select(SyllableResult).where(col(SyllableResult.user_id) == user)).all():
        day = local_date(row.created_at, tz)
        if row.expected_tone in TONES and row.verdict in DECIDED and day > today - timedelta(days=30):
            expected[(day, row.expected_tone)][1] += 1
            expected[(day, row.expected_tone)][0] += row.verdict == "correct"
    assert {(p.date, p.tone): (p.count, p.accuracy) for p in points} == {
        k: (n, round(c / n, 3)) for k, (c, n) in expected.items()
    }


def test_the_home_page_keeps_its_figures_until_a_new_take_or_a_new_day(
    db_session: Session, make_user: UserFactory
) -> None:
    """The statistics and chart are kept per learner (`FIGURES`) while their tally total is
    unchanged: a repeat visit reads one statement, a new take or a new local day reads afresh,
    and what is shown is always what the services compute now."""
    from sayzhong.practice.home import FIGURES
    from tests.support.statements import statements_sent

    rng = random.Random(11)
    account = make_user(timezone="America/New_York")
    take = AttemptFactory(db_session)
    for _ in range(25):
        take(account.id, _random_take(rng), now=NOW - timedelta(days=rng.randint(0, 20)))
    statements: list[str] = []

    def load(now: datetime) -> tuple:
        with statements_sent(db_session) as sent:
            page = service.home_page(session=db_session, user=account, now=now)
        statements[:] = sent
        return page

    def expected(now: datetime) -> tuple:
        return (
            service.tone_stats(session=db_session, user_id=account.id),
            service.accuracy_over_time(
                session=db_session, user_id=account.id, days=30, user_timezone=account.timezone, now=now
            ),
        )

    FIGURES.clear()
    first = load(NOW)
    assert len(statements) == 3  # profile + tally total + review cards, tallies, chart
    assert first[1:] == expected(NOW)
    again = load(NOW)
    assert len(statements) == 1 and FIGURES.hits == 1  # profile + tally total + review cards
    assert again == first

    # A new take (here: a neutral-tone one would not change the figures; this one has tones 1-4).
    take(account.id, result([syllable("妈", "ma1", 1, 1), syllable("妈", "ma4", 4, 2)]), now=NOW)
    after = load(NOW)
    assert len(statements) == 3
    assert after[1:] == expected(NOW) and after[1] != first[1]
    assert after[2] != first[2]  # today's tones on the chart

    # The next local day: the window moves, read afresh.
    tomorrow = NOW + timedelta(days=1)
    load(tomorrow)
    assert len(statements) == 3
    assert load(tomorrow)[1:] == expected(tomorrow)
    assert len(statements) == 1


def test_adding_to_the_tallies_accumulates_and_ignores_neutral_tones(
    db_session: Session, make_user: UserFactory
) -> None:
    user = make_user().id
    take = [(1, None, "correct", None), (4, 1, "wrong_tone", "correct"), (5, 4, "neutral", "wrong_tone")]
    add_to_tallies(session=db_session, user_id=user, syllables=take)
    add_to_tallies(session=db_session, user_id=user, syllables=take)
    add_to_tallies(session=db_session, user_id=user, syllables=[])
    rows = db_session.exec(select(ToneTally).where(col(ToneTally.user_id) == user)).all()
    assert sorted(
        (r.expected_tone, r.prev_expected_tone, r.verdict, r.prev_verdict, r.count) for r in rows
    ) == [
        (1, 0, "correct", "", 2),
        (4, 1, "wrong_tone", "correct", 2),
    ]


def test_the_migration_backfill_counts_existing_history_like_the_live_tallies(
    db_session: Session, make_user: UserFactory
) -> None:
    import importlib.util

    from sqlalchemy import delete, text

    from sayzhong.settings import REPO_ROOT

    path = REPO_ROOT / "alembic/versions/20261130_16_tone_tally.py"
    spec = importlib.util.spec_from_file_location("tone_tally_migration", path)
    assert spec is not None and spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)

    rng = random.Random(3)
    users = [make_user().id, make_user().id]
    take = AttemptFactory(db_session)
    for n in range(40):
        take(users[n % 2], _random_take(rng), now=NOW - timedelta(hours=n))
    live = {u: service.tone_stats(session=db_session, user_id=u) for u in users}
    db_session.execute(delete(ToneTally))
    assert service.tone_stats(session=db_session, user_id=users[0]).total_syllables == 0
    db_session.execute(text(migration.BACKFILL))
    for u in users:
        assert service.tone_stats(session=db_session, user_id=u) == live[u]


def test_a_home_page_load_reads_its_figures_in_the_guards_statement(
    db_session: Session, make_user: UserFactory
) -> None:
    """A home page load's guard reads the page's row too (`HOME_READS`): with the figures kept,
    the whole load is one statement, and the page equals the one read on its own — for a learner
    with history and for a new account with no profile yet."""
    from sayzhong.accounts import sessions
    from sayzhong.legal import service as legal
    from sayzhong.practice.home import FIGURES
    from sayzhong.privacy.gate import resolve_page_load
    from tests.support.statements import statements_sent

    rng = random.Random(5)
    learner = make_user(timezone="Europe/Berlin")
    newcomer = make_user(timezone="UTC")
    take = AttemptFactory(db_session)
    for _ in range(30):
        take(learner.id, _random_take(rng), now=NOW - timedelta(days=rng.randint(0, 25)))
    FIGURES.clear()
    for account in (learner, newcomer):
        legal.record_sign_up_acceptance(session=db_session, user_id=account.id)
        token = sessions.create_session(session=db_session, user_id=account.id, ip=None, user_agent=None)
        alone = service.home_page(session=db_session, user=account, now=NOW)  # figures now kept
        with statements_sent(db_session) as sent:
            user, redirect, row = resolve_page_load(
                session=db_session, token=token, page=service.HOME_READS, params=service.home_params(NOW)
            )
            assert user is not None and user.id == account.id and redirect is None
            page = service.home_page(session=db_session, user=user, now=NOW, row=row)
        assert len(sent) == 1, sent
        assert page == alone
        profile, total, _, _ = row
        assert (profile is None) == (account is newcomer)
        assert (total > 0) == (account is learner)
    assert page[0].reviews_due == 0 and page[0].xp_total == 0  # the newcomer's
