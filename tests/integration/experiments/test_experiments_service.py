"""Experiments on a real database: definitions and their audit trail, who sees what, exposure only when
shown, stickiness across sign-up, QA overrides that never count, and results on hand-computed data."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import pytest
from sqlmodel import Session, col, select

from sayzhong.analytics.models import AnalyticsEvent
from sayzhong.audit import AuditEvent
from sayzhong.db import utcnow
from sayzhong.errors import PermissionDeniedError, ValidationError
from sayzhong.experiments import service as exp
from sayzhong.experiments.models import ExperimentExposure
from sayzhong.experiments.offline import HashBucketing
from sayzhong.privacy import consent
from tests.factories import AttemptFactory, UserFactory

PHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148"


def _visitor(session: Session, n: int, *, accept: bool = True) -> str:
    visitor = f"visitor-{n:012d}"
    consent.record_consent(
        session=session, visitor_id=visitor, user_id=None, analytics=accept, marketing=False, source="banner"
    )
    return visitor


def _start(
    session: Session,
    marketer,
    *,
    key: str = "landing_headline",
    variants: Sequence[tuple[str, int]] = (("control", 50), ("fix_tones", 50)),
    audience: str = "new_visitors",
    primary: str = "signed_up",
    guardrails: tuple[str, ...] = ("takes_7d",),
    device: str = "any",
    minimum_sample: int = 100,
) -> exp.ExperimentView:
    draft = exp.ExperimentDraft(
        key=key,
        name="Landing headline",
        variants=tuple(exp.VariantSpec(k, w) for k, w in variants),
        audience=audience,
        primary_metric=primary,
        guardrail_metrics=guardrails,
        minimum_sample=minimum_sample,
        device=device,
    )
    exp.save_experiment(session=session, actor=marketer, actor_id=marketer.id, draft=draft)
    return exp.set_status(session=session, actor=marketer, actor_id=marketer.id, key=key, status="running")


@pytest.fixture
def marketer(make_user: UserFactory):
    return make_user(role="marketing")


def test_definitions_are_marketings_and_audited(
    db_session: Session, make_user: UserFactory, marketer
) -> None:
    learner = make_user()
    draft = exp.ExperimentDraft(
        key="landing_headline",
        name="Landing headline",
        variants=(exp.VariantSpec("control", 50), exp.VariantSpec("fix_tones", 50)),
        audience="new_visitors",
        primary_metric="signed_up",
    )
    with pytest.raises(PermissionDeniedError):
        exp.save_experiment(session=db_session, actor=learner, actor_id=learner.id, draft=draft)
    exp.save_experiment(session=db_session, actor=marketer, actor_id=marketer.id, draft=draft)
    exp.save_experiment(
        session=db_session, actor=marketer, actor_id=marketer.id, draft=draft
    )  # still a draft
    exp.set_status(
        session=db_session, actor=marketer, actor_id=marketer.id, key="landing_headline", status="running"
    )
    with pytest.raises(ValidationError) as frozen:
        exp.save_experiment(session=db_session, actor=marketer, actor_id=marketer.id, draft=draft)
    assert frozen.value.code == "experiment_frozen"
    stopped = exp.set_status(
        session=db_session, actor=marketer, actor_id=marketer.id, key="landing_headline", status="stopped"
    )
    assert stopped.status == "stopped" and stopped.stopped_at is not None
    with pytest.raises(ValidationError):
        exp.set_status(
            session=db_session, actor=marketer, actor_id=marketer.id, key="landing_headline", status="running"
        )
    actions = db_session.exec(
        select(AuditEvent.action)
        .where(col(AuditEvent.target) == "experiment:landing_headline")
        .order_by(col(AuditEvent.id))
    ).all()
    assert actions == ["experiment.created", "experiment.updated", "experiment.started", "experiment.stopped"]


def test_exposure_is_recorded_only_when_the_assigned_variant_is_shown(db_session: Session, marketer) -> None:
    _start(db_session, marketer)
    visitor = _visitor(db_session, 1)
    who = exp.Visitor(visitor_id=visitor, user_id=None)
    assignment = exp.assign(session=db_session, key="landing_headline", who=who)
    expected = HashBucketing().variant(
        key="landing_headline", unit_id=visitor, variants=[("control", 50), ("fix_tones", 50)]
    )
    assert assignment.variant == expected and assignment.enrolled and assignment.reason == "assigned"
    # Assigning wrote nothing.
    assert db_session.exec(select(ExperimentExposure)).all() == []
    other = "fix_tones" if expected == "control" else "control"
    assert not exp.record_exposure(session=db_session, key="landing_headline", shown=other, who=who)
    assert db_session.exec(select(ExperimentExposure)).all() == []
    assert exp.record_exposure(session=db_session, key="landing_headline", shown=expected, who=who)
    assert exp.record_exposure(session=db_session, key="landing_headline", shown=expected, who=who)
    rows = db_session.exec(select(ExperimentExposure)).all()
    assert [(r.unit_id, r.variant, r.views, r.user_id) for r in rows] == [(visitor, expected, 2, None)]
    events = db_session.exec(
        select(AnalyticsEvent).where(col(AnalyticsEvent.event) == "experiment_exposed")
    ).all()
    assert [(e.distinct_id, e.properties) for e in events] == [
        (visitor, {"key": "landing_headline", "variant": expected})
    ]


def test_no_consent_not_running_or_outside_the_audience_sees_control_and_counts_nothing(
    db_session: Session, make_user: UserFactory, marketer
) -> None:
    refused = exp.Visitor(visitor_id=_visitor(db_session, 2, accept=False), user_id=None)
    assert exp.assign(session=db_session, key="landing_headline", who=refused).reason == "unknown"
    _start(db_session, marketer, device="mobile")
    assert exp.assign(session=db_session, key="landing_headline", who=refused).reason == "no_consent"
    desktop = exp.Visitor(
        visitor_id=_visitor(db_session, 3), user_id=None, user_agent="Mozilla/5.0 (X11; Linux)"
    )
    assert exp.assign(session=db_session, key="landing_headline", who=desktop).reason == "outside_audience"
    learner = make_user()
    signed_in = exp.Visitor(visitor_id=None, user_id=learner.id, user_agent=PHONE)
    assert exp.assign(session=db_session, key="landing_headline", who=signed_in).reason == "outside_audience"
    staff_view = exp.Visitor(visitor_id=None, user_id=marketer.id, user_agent=PHONE)
    for who in (refused, desktop, signed_in, staff_view):
        assignment = exp.assign(session=db_session, key="landing_headline", who=who)
        assert assignment.variant == "control" and not assignment.enrolled
        assert not exp.record_exposure(session=db_session, key="landing_headline", shown="control", who=who)
    phone = exp.Visitor(visitor_id=_visitor(db_session, 4), user_id=None, user_agent=PHONE)
    assert exp.assign(session=db_session, key="landing_headline", who=phone).enrolled
    assert db_session.exec(select(ExperimentExposure)).all() == []


def test_the_variant_sticks_across_sign_up_and_devices(
    db_session: Session, make_user: UserFactory, marketer
) -> None:
    _start(db_session, marketer)
    # Find a visitor bucketed into the non-control arm, so "sticky" cannot pass by chance.
    n = 10
    while True:
        visitor = _visitor(db_session, n)
        who = exp.Visitor(visitor_id=visitor, user_id=None)
        if exp.assign(session=db_session, key="landing_headline", who=who).variant == "fix_tones":
            break
        n += 1
    assert exp.record_exposure(session=db_session, key="landing_headline", shown="fix_tones", who=who)
    learner = make_user()
    assert exp.link_visitor_to_user(session=db_session, visitor_id=visitor, user_id=learner.id) == 1
    # Signed in on another browser (no visitor id, then a fresh one): still fix_tones, and it counts.
    for other_visitor in (None, _visitor(db_session, 9999)):
        later = exp.Visitor(visitor_id=other_visitor, user_id=learner.id)
        assignment = exp.assign(session=db_session, key="landing_headline", who=later)
        assert (assignment.variant, assignment.enrolled, assignment.reason) == ("fix_tones", True, "sticky")
    assert exp.record_exposure(
        session=db_session, key="landing_headline", shown="fix_tones", who=exp.Visitor(None, learner.id)
    )
    results = exp.experiment_results(session=db_session, key="landing_headline")
    assert results.total_units == 1
    primary = results.metrics[0]
    assert primary.metric.key == "signed_up" and primary.values["fix_tones"] == 1.0


def test_qa_overrides_show_a_variant_and_never_count(
    db_session: Session, make_user: UserFactory, marketer
) -> None:
    _start(db_session, marketer)
    visitor = _visitor(db_session, 20)
    who = exp.Visitor(visitor_id=visitor, user_id=None)
    natural = exp.assign(session=db_session, key="landing_headline", who=who).variant
    forced = "fix_tones" if natural == "control" else "control"
    qa = exp.assign(session=db_session, key="landing_headline", who=who, qa_variant=forced)
    assert (qa.variant, qa.enrolled, qa.reason) == (forced, False, "qa")
    assert not exp.record_exposure(
        session=db_session, key="landing_headline", shown=forced, who=who, qa_variant=forced
    )
    # An exposed learner later given a staff override is left out of the results.
    learner = make_user(email="qa.learner@example.com")
    learner_who = exp.Visitor(visitor_id=None, user_id=learner.id)
    _start(
        db_session,
        marketer,
        key="practice_nudge",
        variants=(("control", 50), ("nudge", 50)),
        audience="all_learners",
    )
    shown = exp.assign(session=db_session, key="practice_nudge", who=learner_who).variant
    assert exp.record_exposure(session=db_session, key="practice_nudge", shown=shown, who=learner_who)
    assert exp.experiment_results(session=db_session, key="practice_nudge").total_units == 1
    other = "nudge" if shown == "control" else "control"
    override = exp.set_override(
        session=db_session,
        actor=marketer,
        actor_id=marketer.id,
        key="practice_nudge",
        target="QA.Learner@example.com ",
        variant=other,
    )
    assert override.target == "qa.learner@example.com"
    assignment = exp.assign(session=db_session, key="practice_nudge", who=learner_who)
    assert (assignment.variant, assignment.enrolled, assignment.reason) == (other, False, "override")
    results = exp.experiment_results(session=db_session, key="practice_nudge")
    assert results.total_units == 0 and results.excluded_overrides == 1
    with pytest.raises(ValidationError):
        exp.set_override(
            session=db_session,
            actor=marketer,
            actor_id=marketer.id,
            key="practice_nudge",
            target="x",
            variant="nudge",
        )
    exp.remove_override(session=db_session, actor=marketer, actor_id=marketer.id, override_id=override.id)
    assert exp.list_overrides(session=db_session) == []


class _Source:
    name = "fake"

    def __init__(self, answer: str | None, fail: bool = False) -> None:
        self.answer, self.fail = answer, fail

    def variant(self, *, key: str, unit_id: str, variants: Sequence[tuple[str, int]]) -> str | None:
        if self.fail:
            raise ConnectionError("flag service down")
        return self.answer


def test_a_variant_source_is_used_and_local_bucketing_is_the_fallback(db_session: Session, marketer) -> None:
    _start(db_session, marketer)
    who = exp.Visitor(visitor_id=_visitor(db_session, 30), user_id=None)
    local = exp.assign(session=db_session, key="landing_headline", who=who).variant
    remote = "fix_tones" if local == "control" else "control"
    assert (
        exp.assign(session=db_session, key="landing_headline", who=who, source=_Source(remote)).variant
        == remote
    )
    for broken in (_Source("not_a_variant"), _Source(None), _Source(remote, fail=True)):
        assert exp.assign(session=db_session, key="landing_headline", who=who, source=broken).variant == local


def test_results_on_hand_computed_data(
    db_session: Session, make_user: UserFactory, make_attempt: AttemptFactory, marketer
) -> None:
    """8 learners: control 4 units (1 with a take after exposure), variant 4 units (3 with takes)."""
    _start(
        db_session,
        marketer,
        key="practice_nudge",
        variants=(("control", 50), ("nudge", 50)),
        audience="all_learners",
        primary="first_scored_take",
        guardrails=("takes_7d",),
        minimum_sample=10,
    )
    arms: dict[str, list[int]] = {"control": [], "nudge": []}
    n = 0
    before = utcnow() - timedelta(days=3)
    while min(len(v) for v in arms.values()) < 4:
        n += 1
        learner = make_user()
        who = exp.Visitor(visitor_id=None, user_id=learner.id)
        variant = exp.assign(session=db_session, key="practice_nudge", who=who).variant
        if len(arms[variant]) >= 4:
            continue
        make_attempt(learner.id, now=before)  # practice before exposure: the CUPED covariate
        assert exp.record_exposure(session=db_session, key="practice_nudge", shown=variant, who=who)
        arms[variant].append(learner.id)
    after = utcnow() + timedelta(hours=1)
    make_attempt(arms["control"][0], now=after)
    for uid, takes in zip(arms["nudge"][:3], (1, 2, 3), strict=True):
        for _ in range(takes):
            make_attempt(uid, now=after)
    results = exp.experiment_results(session=db_session, key="practice_nudge")
    assert [(c.variant, c.units) for c in results.counts] == [("control", 4), ("nudge", 4)]
    assert not results.srm.alarm and results.srm.chi2 == 0.0
    assert results.progress == pytest.approx(4 / 10)
    primary, guardrail = results.metrics
    assert primary.values == {"control": 0.25, "nudge": 0.75}
    assert guardrail.values == {"control": 0.25, "nudge": 1.5}  # (1+2+3+0)/4
    comparison = primary.comparisons[0]
    assert comparison.relative_lift == pytest.approx(2.0)
    assert comparison.bayes is not None and comparison.bayes.chance_to_beat > 0.8
    assert comparison.sequential is not None and not comparison.sequential.significant  # 8 units: too few
    assert comparison.cuped is not None and comparison.cuped.theta == 0.0  # everyone had one take before
    assert comparison.verdict == "no_difference_yet"


def test_erasure_and_retention(db_session: Session, make_user: UserFactory, marketer) -> None:
    _start(
        db_session,
        marketer,
        audience="all_learners",
        key="practice_nudge",
        variants=(("control", 1), ("nudge", 1)),
    )
    learner = make_user()
    who = exp.Visitor(visitor_id=None, user_id=learner.id)
    variant = exp.assign(session=db_session, key="practice_nudge", who=who).variant
    exp.record_exposure(session=db_session, key="practice_nudge", shown=variant, who=who)
    assert exp.erase_user_experiments(session=db_session, user_id=learner.id) == 1
    assert db_session.exec(select(ExperimentExposure)).all() == []
    other = make_user()
    who = exp.Visitor(visitor_id=None, user_id=other.id)
    exp.record_exposure(
        session=db_session,
        key="practice_nudge",
        shown=exp.assign(session=db_session, key="practice_nudge", who=who).variant,
        who=who,
    )
    exp.set_status(
        session=db_session, actor=marketer, actor_id=marketer.id, key="practice_nudge", status="stopped"
    )
    assert exp.purge_exposures(session=db_session) == 0  # stopped just now: kept
    assert exp.purge_exposures(session=db_session, older_than=timedelta(seconds=-1)) == 1
