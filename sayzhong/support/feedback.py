"""Feedback about scoring: "Was this right?" on every syllable verdict, the disagreement analysis
for staff, the export of disputed takes (with the learner's consent) as an evaluation set — and the
occasional in-app NPS question (at most once per 90 days).
"""

from __future__ import annotations

import json
import shutil
import threading
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from sayzhong.accounts.access import HasRole, Role, require_role
from sayzhong.accounts.models import User
from sayzhong.db import as_utc, utcnow
from sayzhong.errors import NotFoundError, ValidationError
from sayzhong.practice.models import Attempt, SyllableResult
from sayzhong.support.models import NpsResponse, VerdictFeedback

ANSWERS = {"yes": "Yes", "no_correct": "No, I said it correctly", "no_other": "No, something else"}
ANALYST_ROLES = (Role.SUPPORT, Role.ADMIN)


@dataclass(frozen=True, slots=True)
class DisagreementRow:
    key: str
    answers: int
    disputed: int

    @property
    def share(self) -> float:
        return self.disputed / self.answers if self.answers else 0.0


@dataclass(frozen=True, slots=True)
class DisagreementReport:
    by_tone: list[DisagreementRow]
    by_tone_pair: list[DisagreementRow]
    by_phrase: list[DisagreementRow]
    by_engine: list[DisagreementRow]
    answers: int
    disputed: int


def record_verdict_feedback(
    *,
    session: Session,
    user_id: int,
    attempt_id: int,
    position: int,
    answer: str,
    now: datetime | None = None,
) -> None:
    """Store (or change) the learner's answer for one syllable of their own attempt (no consent to
    share the take is implied: that is `share_disputed_take`)."""
    if answer not in ANSWERS:
        raise ValidationError("Please choose one of the answers.", code="feedback_answer")
    attempt = session.get(Attempt, attempt_id) if 0 < attempt_id < 2**31 else None
    if attempt is None or attempt.user_id != user_id:
        raise NotFoundError("We could not find that result.", code="attempt_not_found")
    syllable = session.exec(
        select(SyllableResult).where(
            col(SyllableResult.attempt_id) == attempt_id, col(SyllableResult.position) == position
        )
    ).first()
    if syllable is None:
        raise NotFoundError("We could not find that syllable.", code="syllable_not_found")
    row = session.exec(
        select(VerdictFeedback).where(
            col(VerdictFeedback.attempt_id) == attempt_id, col(VerdictFeedback.position) == position
        )
    ).first() or VerdictFeedback(
        user_id=user_id,
        attempt_id=attempt_id,
        position=position,
        item_id=attempt.item_id,
        text=attempt.text,
        engine=attempt.engine,
        grapheme=syllable.grapheme,
        expected_tone=syllable.expected_tone,
        detected_tone=syllable.detected_tone,
        prev_expected_tone=syllable.prev_expected_tone,
        verdict=syllable.verdict,
        answer=answer,
    )
    row.answer, row.created_at = answer, now or utcnow()
    if answer == "yes":
        row.consent = False
    session.add(row)
    session.flush()


def share_disputed_take(*, session: Session, user_id: int, attempt_id: int, position: int) -> None:
    """The learner lets us use a take they disputed to evaluate the engine (explicit consent)."""
    row = session.exec(
        select(VerdictFeedback).where(
            col(VerdictFeedback.attempt_id) == attempt_id,
            col(VerdictFeedback.position) == position,
            col(VerdictFeedback.user_id) == user_id,
        )
    ).first()
    if row is None or row.answer == "yes":
        raise NotFoundError("There is no disputed verdict to share.", code="feedback_not_found")
    row.consent = True
    session.add(row)
    session.flush()


def _rows(groups: dict[str, list[VerdictFeedback]]) -> list[DisagreementRow]:
    out = [
        DisagreementRow(key=key, answers=len(items), disputed=sum(i.answer != "yes" for i in items))
        for key, items in groups.items()
    ]
    return sorted(out, key=lambda r: (-r.share, -r.answers, r.key))


def disagreement_report(*, session: Session, actor: HasRole | None, since: datetime) -> DisagreementReport:
    require_role(actor, *ANALYST_ROLES)
    rows = session.exec(select(VerdictFeedback).where(col(VerdictFeedback.created_at) >= since)).all()
    by_tone: dict[str, list[VerdictFeedback]] = defaultdict(list)
    by_pair: dict[str, list[VerdictFeedback]] = defaultdict(list)
    by_phrase: dict[str, list[VerdictFeedback]] = defaultdict(list)
    by_engine: dict[str, list[VerdictFeedback]] = defaultdict(list)
    for row in rows:
        by_tone[f"tone {row.expected_tone}"].append(row)
        if row.prev_expected_tone:
            by_pair[f"{row.prev_expected_tone}-{row.expected_tone}"].append(row)
        by_phrase[row.text].append(row)
        by_engine[row.engine].append(row)
    return DisagreementReport(
        by_tone=_rows(by_tone),
        by_tone_pair=_rows(by_pair),
        by_phrase=_rows(by_phrase),
        by_engine=_rows(by_engine),
        answers=len(rows),
        disputed=sum(r.answer != "yes" for r in rows),
    )


def export_disputed(*, session: Session, out_dir: Path) -> int:
    """Copy disputed takes the learners consented to share, plus `manifest.jsonl`, into `out_dir`.

    Each manifest line: take file, phrase text, syllable position, expected and detected tone,
    the engine's verdict and the learner's answer — an evaluation set for the tone engine.
    """
    from sayzhong.practice import storage

    out_dir.mkdir(parents=True, exist_ok=True)
    rows = session.exec(
        select(VerdictFeedback)
        .where(col(VerdictFeedback.consent).is_(True), col(VerdictFeedback.answer) != "yes")
        .order_by(col(VerdictFeedback.id))
    ).all()
    written = 0
    with (out_dir / "manifest.jsonl").open("w", encoding="utf-8") as manifest:
        for row in rows:
            attempt = session.get(Attempt, row.attempt_id)
            if attempt is None or not attempt.audio_path:
                continue
            source = storage.path_of(attempt.audio_path)
            if not source.exists():
                continue
            name = f"take-{row.attempt_id}{source.suffix}"
            shutil.copyfile(source, out_dir / name)
            record = {
                "take": name,
                "text": row.text,
                "item_id": row.item_id,
                "position": row.position,
                "grapheme": row.grapheme,
                "expected_tone": row.expected_tone,
                "detected_tone": row.detected_tone,
                "verdict": row.verdict,
                "answer": row.answer,
                "engine": row.engine,
            }
            manifest.write(json.dumps(record, ensure_ascii=False) + "\n")
            written += 1
    return written


# --- NPS ---------------------------------------------------------------------------------------------

NPS_INTERVAL = timedelta(days=90)
NPS_MIN_ACCOUNT_AGE = timedelta(days=3)
NPS_MIN_ATTEMPTS = 5


class _NpsFacts:
    """What the NPS check learned that can only stay true, kept by each worker so a learner's home
    loads stop re-reading it: that they have 5 takes (takes are only added; erasure removes the
    account), and that they answered at a time that rules the question out until a later date (a
    new answer only moves that date later). Keyed by database, learner and account creation."""

    def __init__(self, maxsize: int = 16384) -> None:
        self.maxsize = maxsize
        self.enough_takes: dict[tuple[object, ...], bool] = {}
        self.not_before: dict[tuple[object, ...], datetime] = {}
        self._lock = threading.Lock()

    def remember(self, table: dict[tuple[object, ...], Any], key: tuple[object, ...], value: Any) -> None:
        with self._lock:
            if len(table) >= self.maxsize:
                table.clear()  # a cache, not a record: start again rather than grow
            table[key] = value

    def clear(self) -> None:
        with self._lock:
            self.enough_takes.clear()
            self.not_before.clear()


NPS_FACTS = _NpsFacts()


def should_ask_nps(
    *, session: Session, user_id: int, now: datetime | None = None, signed_up_at: datetime | None = None
) -> bool:
    """Ask a learner who has used the app a little (3 days, 5 takes), at most once per 90 days
    (an answer or a dismissal both count as asked). `signed_up_at`: the account's creation time
    when the caller has just read the account (the home page's guard), instead of reading it again.

    Runs on every home page load: what can only stay true (5 takes; "asked recently, not before
    this date") is kept in `NPS_FACTS`, so most loads read nothing."""
    now = now or utcnow()
    if signed_up_at is None:
        user = session.get(User, user_id)
        if user is None:
            return False
        signed_up_at = user.created_at
    if now - as_utc(signed_up_at) < NPS_MIN_ACCOUNT_AGE:
        return False
    key = (str(session.get_bind().engine.url), user_id, as_utc(signed_up_at))
    not_before = NPS_FACTS.not_before.get(key)
    if not_before is not None and now < not_before:
        return False
    if not NPS_FACTS.enough_takes.get(key):
        # "At least 5 takes": read at most 5 ids, not a count over the learner's whole history.
        enough = session.exec(
            select(col(Attempt.id)).where(col(Attempt.user_id) == user_id).limit(NPS_MIN_ATTEMPTS)
        ).all()
        if len(enough) < NPS_MIN_ATTEMPTS:
            return False
        NPS_FACTS.remember(NPS_FACTS.enough_takes, key, True)
    last = session.exec(
        select(NpsResponse.created_at)
        .where(col(NpsResponse.user_id) == user_id)
        .order_by(col(NpsResponse.created_at).desc())
        .limit(1)
    ).first()
    if last is not None and now - as_utc(last) < NPS_INTERVAL:
        NPS_FACTS.remember(NPS_FACTS.not_before, key, as_utc(last) + NPS_INTERVAL)
        return False
    return True


def answer_nps(
    *, session: Session, user_id: int, score: int | None, comment: str = "", now: datetime | None = None
) -> None:
    """Store an answer (0–10) or a dismissal (None); refused when the question was not due."""
    if score is not None and (not isinstance(score, int) or not 0 <= score <= 10):
        raise ValidationError("Please choose a number from 0 to 10.", code="nps_score")
    if not should_ask_nps(session=session, user_id=user_id, now=now):
        raise ValidationError("Thanks — we already have your answer.", code="nps_not_due")
    session.add(
        NpsResponse(user_id=user_id, score=score, comment=comment.strip()[:1000], created_at=now or utcnow())
    )
    session.flush()


def nps_score(*, session: Session, actor: HasRole | None, since: datetime) -> tuple[float | None, int]:
    """(NPS from -100 to 100, number of answers) over answers since `since`."""
    require_role(actor, *ANALYST_ROLES)
    scores = [
        s
        for s in session.exec(select(NpsResponse.score).where(col(NpsResponse.created_at) >= since)).all()
        if s is not None
    ]
    if not scores:
        return None, 0
    promoters = sum(s >= 9 for s in scores)
    detractors = sum(s <= 6 for s in scores)
    return 100 * (promoters - detractors) / len(scores), len(scores)
