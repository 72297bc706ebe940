"""FSRS review scheduling: ratings from scores, failed items due sooner, the review queue."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fsrs import Rating
from sqlmodel import Session, select

from sayzhong.curriculum import service as curriculum
from sayzhong.db import as_utc
from sayzhong.practice import review, service
from sayzhong.practice.models import ReviewCard
from sayzhong.practice.results import parse_result
from tests.factories import AttemptFactory, UserFactory
from tests.support.practice_fakes import result, syllable

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
GOOD = result([syllable("你", "ni3", 2, 2), syllable("好", "hao3", 3, 3)], pron=85)
MISSED = result([syllable("你", "ni3", 2, 2), syllable("好", "hao3", 3, 2)], pron=80)


def _score(
    session: Session, user: int, res: dict, *, item: str = "greetings.hello", now: datetime = NOW
) -> None:
    AttemptFactory(session)(user, res, item_id=item, now=now)


def _card(session: Session, user: int, item: str) -> ReviewCard:
    return session.exec(
        select(ReviewCard).where(ReviewCard.user_id == user, ReviewCard.item_id == item)
    ).one()


def test_rating_comes_from_tones_first_then_scores() -> None:
    assert review.rating_for(parse_result(MISSED)) == Rating.Again
    assert review.rating_for(parse_result(GOOD)) == Rating.Good
    assert review.rating_for(parse_result(result([syllable("好", "hao3", 3, 3)], pron=95))) == Rating.Easy
    # An undecidable syllable says nothing about the learner: it does not lower the rating.
    assert review.rating_for(parse_result(result([syllable("好", "hao3", 3, None)], pron=95))) == Rating.Good
    part = result([syllable("你", "ni3", 2, 2), syllable("好", "hao3", 3, None, verdict="not_said")], pron=95)
    assert review.rating_for(parse_result(part)) == Rating.Hard
    assert review.rating_for(parse_result(result([syllable("好", "hao3", 3, 3)], pron=40))) == Rating.Again


def test_a_missed_tone_makes_the_item_due_much_sooner(db_session: Session, make_user: UserFactory) -> None:
    passed, failed = make_user().id, make_user().id
    for day in range(3):  # the same history, except the last take
        for user in (passed, failed):
            _score(db_session, user, GOOD, now=NOW + timedelta(days=day * 3))
    last = NOW + timedelta(days=9)
    _score(db_session, passed, GOOD, now=last)
    _score(db_session, failed, MISSED, now=last)
    passed_due = as_utc(_card(db_session, passed, "greetings.hello").due)
    failed_due = as_utc(_card(db_session, failed, "greetings.hello").due)
    assert failed_due <= last + timedelta(minutes=10)
    assert passed_due >= last + timedelta(days=1)
    assert _card(db_session, failed, "greetings.hello").lapses == 1


def test_a_missed_tone_also_schedules_the_matching_tone_pair_drill(
    db_session: Session, make_user: UserFactory
) -> None:
    user = make_user().id
    _score(db_session, user, MISSED)
    cards = db_session.exec(select(ReviewCard).where(ReviewCard.user_id == user)).all()
    drills = [c for c in cards if c.item_id.startswith("drill.")]
    assert len(drills) == 1
    content = curriculum.tone_drills()
    pair = next(p for p in (*content.pairs, *content.sandhi) if p.id == drills[0].item_id)
    assert tuple(pair.surface_tones) == (2, 3)
    assert drills[0].last_rating == int(Rating.Again)
    # The drill's reason names the drill's own syllable, never the phrase's 好.
    own_char, own_pinyin = pair.hanzi[-1], pair.pinyin.split()[-1]
    assert drills[0].last_tone_error == f"{own_char} ({own_pinyin}): tone 3 after tone 2"


def test_every_review_reason_describes_the_cards_own_syllables(
    db_session: Session, make_user: UserFactory
) -> None:
    user = make_user().id
    _score(db_session, user, MISSED, now=NOW)
    queue = service.review_queue(session=db_session, user_id=user, now=NOW + timedelta(hours=1))
    assert len(queue) >= 2  # the phrase and its tone-pair drill
    for entry in queue:
        assert entry.reason.startswith("Tone to fix — ")
        named = entry.reason.removeprefix("Tone to fix — ").split(" (", 1)[0]
        assert named in entry.hanzi, (entry.hanzi, entry.reason)


def test_a_stored_reason_naming_another_word_is_not_shown(
    db_session: Session, make_user: UserFactory
) -> None:
    user = make_user().id
    _score(db_session, user, MISSED, now=NOW)
    card = _card(db_session, user, "greetings.hello")
    card.last_tone_error = "王 (wang2): expected tone 2, heard tone 4"  # written by an older version
    db_session.add(card)
    db_session.flush()
    queue = service.review_queue(session=db_session, user_id=user, now=NOW + timedelta(hours=1))
    hello = next(r for r in queue if r.item_id == "greetings.hello")
    assert "王" not in hello.reason and hello.reason.startswith("Tone to fix")


def test_home_and_review_agree_on_what_is_due(db_session: Session, make_user: UserFactory) -> None:
    account = make_user()
    user = account.id
    _score(db_session, user, GOOD, item="greetings.hello", now=NOW)
    _score(db_session, user, MISSED, item="greetings.hello-polite", now=NOW + timedelta(days=5))
    later = NOW + timedelta(days=5, seconds=10)
    queue = service.review_queue(session=db_session, user_id=user, now=later)
    due = [r for r in queue if r.due_now]
    also = [r for r in queue if not r.due_now]
    assert due and also
    assert len(due) == service.reviews_due_count(session=db_session, user_id=user, now=later)
    assert len(also) == review.recently_missed_count(session=db_session, user_id=user, now=later)
    assert all(r.due <= later for r in due) and all(r.due > later for r in also)
    # A card whose content was removed is neither counted nor listed.
    db_session.add(ReviewCard(user_id=user, item_id="removed.item", due=NOW, created_at=NOW))
    db_session.flush()
    assert service.reviews_due_count(session=db_session, user_id=user, now=later) == len(due)
    # Home reads both numbers in one query; they are the review page's.
    assert review.review_counts(session=db_session, user_id=user, now=later) == (len(due), len(also))
    home = service.home_summary(session=db_session, user_id=user, user_timezone="UTC")
    assert (home.reviews_due, home.also_worth_another_go) == review.review_counts(
        session=db_session, user_id=user
    )
    # The home page reads them as columns beside the profile: the same numbers.
    page, _, _ = service.home_page(session=db_session, user=account, now=later)
    assert (page.reviews_due, page.also_worth_another_go) == (len(due), len(also))


def test_review_queue_lists_due_items_first_with_the_reason(
    db_session: Session, make_user: UserFactory
) -> None:
    user = make_user().id
    _score(db_session, user, GOOD, item="greetings.hello", now=NOW)
    _score(db_session, user, MISSED, item="greetings.hello-polite", now=NOW)
    queue = service.review_queue(session=db_session, user_id=user, now=NOW + timedelta(hours=1))
    ids = [r.item_id for r in queue]
    assert "greetings.hello-polite" in ids
    missed = next(r for r in queue if r.item_id == "greetings.hello-polite")
    assert missed.reason.startswith("Tone to fix — 好 (hao3): expected tone 3, heard tone 2")
    assert missed.hanzi == "您好" and missed.english
    assert ids == sorted(ids, key=lambda i: next(r.due for r in queue if r.item_id == i))


def test_recent_tone_errors_are_included_even_before_they_are_due(
    db_session: Session, make_user: UserFactory
) -> None:
    user = make_user().id
    _score(db_session, user, MISSED, now=NOW)
    # Right after the take nothing is due yet (FSRS's first step is a minute away) ...
    assert service.reviews_due_count(session=db_session, user_id=user, now=NOW) == 0
    # ... but the missed item is already offered for review.
    queue = service.review_queue(session=db_session, user_id=user, now=NOW)
    assert "greetings.hello" in [r.item_id for r in queue]


def test_review_queue_is_per_user_and_limited(db_session: Session, make_user: UserFactory) -> None:
    user, other = make_user().id, make_user().id
    for item in ("greetings.hello", "greetings.hello-polite", "greetings.how-are-you"):
        _score(db_session, user, GOOD, item=item)
    later = NOW + timedelta(days=30)
    assert service.reviews_due_count(session=db_session, user_id=user, now=later) == 3
    assert len(service.review_queue(session=db_session, user_id=user, now=later, limit=2)) == 2
    assert service.review_queue(session=db_session, user_id=other, now=later) == []


def test_calibration_takes_do_not_touch_reviews(
    db_session: Session, make_user: UserFactory, make_attempt: AttemptFactory
) -> None:
    user = make_user().id
    make_attempt(user, MISSED, mode="calibration")
    assert db_session.exec(select(ReviewCard)).all() == []


def test_only_confident_verdicts_feed_review() -> None:
    item = curriculum.get_item("greetings.hello")
    uncertain = result(
        [
            syllable("你", "ni3", 2, 3, verdict="uncertain"),
            syllable("好", "hao3", 3, None, verdict="uncertain"),
        ]
    )
    assert review.updates_for(item, parse_result(uncertain)) == []
    other = result(
        [
            syllable("你", "ni3", 2, None, verdict="not_said"),
            syllable("好", "hao3", 3, None, verdict="not_said"),
        ],
        pron=20,
        status="different_text",
    )
    assert review.updates_for(item, parse_result(other)) == []
    assert review.updates_for(item, parse_result(MISSED))[0].rating == Rating.Again


def test_a_take_of_another_phrase_is_kept_but_not_counted(
    db_session: Session, make_user: UserFactory
) -> None:
    from sayzhong.practice.models import SyllableResult
    from sayzhong.practice.progress import get_or_create_profile

    user = make_user().id
    assert user is not None
    other = result(
        [
            syllable("你", "ni3", 2, None, verdict="not_said"),
            syllable("好", "hao3", 3, None, verdict="not_said"),
        ],
        pron=20,
        status="different_text",
    )
    view = AttemptFactory(db_session)(user, other, now=NOW)
    assert view.counted is False and view.said_status == "different_text" and view.has_audio
    assert view.xp_awarded == 0
    assert db_session.exec(select(SyllableResult).where(SyllableResult.user_id == user)).all() == []
    assert db_session.exec(select(ReviewCard).where(ReviewCard.user_id == user)).all() == []
    assert get_or_create_profile(db_session, user).today_attempts == 0
