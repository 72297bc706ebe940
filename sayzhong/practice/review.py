"""Review scheduling with FSRS: which items to say again, and when.

Every practised item (phrase, dialogue line, drill) gets a review card per learner. Each scored
attempt is one FSRS review whose rating comes from the scores: a missed tone is `Again`, which
puts the item back in the learning steps (due within minutes). A missed tone also schedules the
tone drill for that tone pair (or single tone), so weak syllables get practised on their own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from fsrs import Card, Rating, Scheduler, State
from sqlalchemy import BindParameter, ColumnElement, ScalarSelect, and_, bindparam, func
from sqlmodel import Session, col, select

from sayzhong.curriculum import service as curriculum
from sayzhong.curriculum.models import SpeakableItem
from sayzhong.curriculum.pinyin import with_tone_marks
from sayzhong.db import as_utc, utcnow
from sayzhong.errors import NotFoundError
from sayzhong.practice.models import ReviewCard
from sayzhong.practice.results import DECIDED, ParsedResult, ParsedSyllable
from sayzhong.practice.schemas import ReviewItemView

# Fuzzing spreads intervals randomly; off so a learner's schedule is reproducible and testable.
_SCHEDULER = Scheduler(enable_fuzzing=False)
RECENT_ERROR_WINDOW = timedelta(days=7)
MAX_DRILL_CARDS_PER_ATTEMPT = 2


@dataclass(frozen=True, slots=True)
class ReviewUpdate:
    item_id: str
    rating: Rating
    tone_error: str | None


def rating_for(parsed: ParsedResult) -> Rating:
    """FSRS rating of one take: confident tone verdicts first, then the pronunciation score.

    "Unclear" verdicts (the engine was not sure) say nothing about the learner and do not lower
    the rating; a partly said phrase is at most Hard.
    """
    verdicts = [s.verdict for s in parsed.syllables]
    if "wrong_tone" in verdicts or parsed.pron < 50:
        return Rating.Again
    if "not_said" in verdicts or parsed.pron < 70:
        return Rating.Hard
    if parsed.pron >= 90 and (parsed.tone is None or parsed.tone >= 90):
        return Rating.Easy
    return Rating.Good


def describe_error(syl: ParsedSyllable) -> str:
    heard = f"heard tone {syl.detected_tone}" if syl.detected_tone else "tone unclear"
    label = f"{syl.grapheme} ({syl.pinyin})" if syl.grapheme and syl.pinyin else syl.grapheme or syl.pinyin
    return f"{label}: expected tone {syl.expected_tone}, {heard}"[:200]


def describe_drill_error(drill_id: str, syl: ParsedSyllable, prev: ParsedSyllable | None) -> str:
    """The reason on a drill card, in the drill's own syllables: a pair drill names its second
    syllable and the tone before it ("题 (ti2): tone 2 after tone 4"), a single-syllable drill
    its one syllable. The phrase where the tone was missed is another card with its own reason."""
    try:
        drill = curriculum.get_item(drill_id)
    except NotFoundError:
        return f"tone {syl.expected_tone}"
    graphemes = [c for c in drill.hanzi if not c.isspace()]
    syllables = drill.pinyin.split()
    own = len(syllables) - 1 if len(syllables) > 1 else 0
    label = syllables[own] if own < len(syllables) else ""
    if own < len(graphemes) and len(graphemes) == len(syllables):
        label = f"{graphemes[own]} ({label})"
    if prev is not None and own > 0:
        return f"{label}: tone {syl.expected_tone} after tone {prev.expected_tone}"[:200]
    return f"{label}: tone {syl.expected_tone}"[:200]


def _drill_for(syl: ParsedSyllable, prev: ParsedSyllable | None) -> str | None:
    drills = curriculum.tone_drills()
    if prev is not None and 1 <= prev.expected_tone <= 4:
        wanted = (prev.expected_tone, syl.expected_tone)
        for pair in (*drills.pairs, *drills.sandhi):
            if tuple(pair.surface_tones) == wanted:
                return pair.id
    same_tone = [d for d in drills.syllables if d.pinyin.endswith(str(syl.expected_tone))]
    for drill in same_tone:
        if drill.pinyin == syl.pinyin:
            return drill.id
    return same_tone[0].id if same_tone else None


def updates_for(item: SpeakableItem, parsed: ParsedResult) -> list[ReviewUpdate]:
    """The item's own review, plus `Again` for the drills matching each missed tone; nothing at
    all when the phrase was not said or no syllable got a confident verdict."""
    if not parsed.counted or not any(s.verdict in DECIDED for s in parsed.syllables):
        return []
    errors = [s for s in parsed.syllables if s.verdict == "wrong_tone"]
    updates = [ReviewUpdate(item.id, rating_for(parsed), describe_error(errors[0]) if errors else None)]
    seen = {item.id}
    for syl in errors:
        prev = parsed.syllables[syl.position - 1] if syl.position > 0 else None
        drill_id = _drill_for(syl, prev)
        if drill_id is None or drill_id in seen:
            continue
        seen.add(drill_id)
        updates.append(ReviewUpdate(drill_id, Rating.Again, describe_drill_error(drill_id, syl, prev)))
        if len(updates) > MAX_DRILL_CARDS_PER_ATTEMPT:
            break
    return updates


def _card_of(row: ReviewCard) -> Card:
    return Card(
        card_id=row.id,
        state=State(row.state),
        step=row.step,
        stability=row.stability,
        difficulty=row.difficulty,
        due=as_utc(row.due),
        last_review=as_utc(row.last_review) if row.last_review else None,
    )


def apply_updates(*, session: Session, user_id: int, updates: Sequence[ReviewUpdate], now: datetime) -> None:
    for update in updates:
        row = session.exec(
            select(ReviewCard).where(ReviewCard.user_id == user_id, ReviewCard.item_id == update.item_id)
        ).first()
        if row is None:
            row = ReviewCard(user_id=user_id, item_id=update.item_id, due=now, created_at=now)
            card = Card(due=now)
        else:
            card = _card_of(row)
        was_review = card.state == State.Review
        card, _log = _SCHEDULER.review_card(card, update.rating, review_datetime=now)
        row.state = int(card.state)
        row.step = card.step
        row.stability = card.stability
        row.difficulty = card.difficulty
        row.due = card.due
        row.last_review = card.last_review
        row.reps += 1
        if was_review and update.rating == Rating.Again:
            row.lapses += 1
        row.last_rating = int(update.rating)
        if update.tone_error is not None:
            row.last_tone_error = update.tone_error
            row.last_tone_error_at = now
        row.updated_at = now
        session.add(row)


def _item_or_none(item_id: str) -> SpeakableItem | None:
    try:
        return curriculum.get_item(item_id)
    except NotFoundError:
        return None  # content removed since the card was made


def _missed_not_due(
    now: datetime | BindParameter[datetime], missed_since: datetime | BindParameter[datetime]
) -> ColumnElement[bool]:
    """A card whose tone was missed since `missed_since` (a week before `now`) and that is not due
    yet."""
    return and_(
        col(ReviewCard.due) > now,
        col(ReviewCard.last_tone_error_at) >= missed_since,
        col(ReviewCard.last_rating) == int(Rating.Again),
    )


_IDS_SEPARATOR = "\n"
"""Between the item ids a count column aggregates (content ids are slugs: no line breaks)."""


def _ids_column(where: ColumnElement[bool], user_id: ColumnElement[int]) -> ScalarSelect[Any]:
    return (
        select(func.aggregate_strings(col(ReviewCard.item_id), _IDS_SEPARATOR))
        .where(col(ReviewCard.user_id) == user_id, where)
        .scalar_subquery()
    )


def due_ids_column(user_id: ColumnElement[int]) -> ScalarSelect[Any]:
    """The due cards' item ids of the learner `user_id` names (a bind parameter, or `User.id` in
    a statement that reads the account) as one string, bound with `count_params`: a column the home
    page reads beside its other figures, so its counts cost no statement of their own."""
    return _ids_column(col(ReviewCard.due) <= bindparam("now"), user_id)


def missed_ids_column(user_id: ColumnElement[int]) -> ScalarSelect[Any]:
    """The recently missed, not yet due cards' item ids, likewise."""
    return _ids_column(_missed_not_due(bindparam("now"), bindparam("missed_since")), user_id)


DUE_IDS = due_ids_column(bindparam("user_id"))
"""`due_ids_column` for the learner bound as `user_id` (`count_params`)."""
MISSED_IDS = missed_ids_column(bindparam("user_id"))
"""`missed_ids_column` for the learner bound as `user_id`."""


def count_params(*, now: datetime, user_id: int | None = None) -> dict[str, Any]:
    """The values the id columns are bound with (`user_id`: for `DUE_IDS` and `MISSED_IDS`)."""
    params: dict[str, Any] = {"now": now, "missed_since": now - RECENT_ERROR_WINDOW}
    if user_id is not None:
        params["user_id"] = user_id
    return params


def counts_from(due_ids: str | None, missed_ids: str | None) -> tuple[int, int]:
    """(due, recently missed) from the two id columns: cards whose content still exists."""

    def live(ids: str | None) -> int:
        return sum(1 for i in (ids or "").split(_IDS_SEPARATOR) if i and _item_or_none(i) is not None)

    return live(due_ids), live(missed_ids)


_REVIEW_COUNTS = select(DUE_IDS, MISSED_IDS)
"""`review_counts`'s statement, built once: compiled and hashed once."""


def _recently_missed(user_id: int, now: datetime):
    """Cards whose tone was missed in the last week and that are not due yet."""
    return select(ReviewCard).where(
        ReviewCard.user_id == user_id, _missed_not_due(now, now - RECENT_ERROR_WINDOW)
    )


def recently_missed_count(*, session: Session, user_id: int, now: datetime | None = None) -> int:
    """How many "also worth another go" items the review page lists after the due ones."""
    return review_counts(session=session, user_id=user_id, now=now)[1]


def review_queue(
    *, session: Session, user_id: int, now: datetime | None = None, limit: int = 20
) -> list[ReviewItemView]:
    """Due items (most overdue first), then items whose tone was missed in the last week."""
    now = now or utcnow()
    limit = max(1, min(limit, 100))
    due_rows = session.exec(
        select(ReviewCard)
        .where(ReviewCard.user_id == user_id, col(ReviewCard.due) <= now)
        .order_by(col(ReviewCard.due), col(ReviewCard.id))
        .limit(limit * 2)
    ).all()
    recent_rows = session.exec(
        _recently_missed(user_id, now)
        .order_by(col(ReviewCard.last_tone_error_at).desc(), col(ReviewCard.id))
        .limit(limit * 2)
    ).all()
    out: list[ReviewItemView] = []
    for row in (*due_rows, *recent_rows):
        item = _item_or_none(row.item_id)
        if item is None:
            continue
        out.append(
            ReviewItemView(
                item_id=item.id,
                kind=item.kind,
                hanzi=item.hanzi,
                pinyin=item.pinyin,
                english=item.english,
                due=as_utc(row.due),
                reason=_reason(row, item),
                due_now=as_utc(row.due) <= now,
            )
        )
        if len(out) >= limit:
            break
    return out


def _reason(row: ReviewCard, item: SpeakableItem) -> str:
    """Why the card is back, in terms of the card's own syllables. A stored tone error that names
    none of them (cards made before reasons were per card) becomes a plain reason instead."""
    if row.last_rating == int(Rating.Again) and row.last_tone_error:
        label = row.last_tone_error.split(":", 1)[0]
        grapheme = label.split(" (", 1)[0].strip()
        own = grapheme != "" and (grapheme in item.hanzi or grapheme in with_tone_marks(item.pinyin))
        return f"Tone to fix — {row.last_tone_error}" if own else "Tone to fix — a tone you missed last time"
    if row.reps <= 1 or row.state != int(State.Review):
        return "Still learning"
    return "Due for review"


def review_counts(*, session: Session, user_id: int, now: datetime | None = None) -> tuple[int, int]:
    """(due, recently missed) in one query: the one definition of "due" — cards due by `now` whose
    content still exists — and the missed-but-not-yet-due cards the review page lists after them
    (`_recently_missed`). Home shows both on every load; the review page shows the same numbers."""
    now = now or utcnow()
    due_ids, missed_ids = session.exec(_REVIEW_COUNTS, params=count_params(user_id=user_id, now=now)).one()
    return counts_from(due_ids, missed_ids)


def reviews_due_count(*, session: Session, user_id: int, now: datetime | None = None) -> int:
    """Cards due by `now` whose content still exists (see `review_counts`)."""
    return review_counts(session=session, user_id=user_id, now=now)[0]


def card_due(*, session: Session, user_id: int, item_id: str) -> datetime | None:
    """When `item_id` is next due for this learner (None if never practised)."""
    row = session.exec(
        select(ReviewCard).where(ReviewCard.user_id == user_id, ReviewCard.item_id == item_id)
    ).first()
    return as_utc(row.due) if row else None
