"""Experiments: marketing's definitions, who sees which variant, exposures, QA overrides, results.

Rules (docs/experiments.md):
- Bucketing is deterministic: the variant source (local SHA-256 bucketing by default, PostHog flags
  when configured) maps "<key>:<unit id>" onto the weights. Assigning writes nothing.
- Exposure is recorded when the component that renders a variant reports it (`record_exposure`),
  only for a unit inside the audience whose latest cookie decision accepts analytics. The report is
  checked against the assignment, so a forged variant records nothing.
- Sticky: a unit keeps the variant it was first exposed to; at sign-up the visitor's exposures move
  to the new account, so the learner keeps their variant on every device.
- QA overrides (a staff-set override, or `?variant=<key>:<variant>` on the page) show a variant and
  record nothing; units with an override are left out of the results.
Services never commit; the caller's unit of work does.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import func
from sqlmodel import Session, col, select

from sayzhong.accounts import access
from sayzhong.accounts.models import User
from sayzhong.audit import record_audit
from sayzhong.db import as_utc, utcnow
from sayzhong.errors import NotFoundError, ValidationError
from sayzhong.experiments import metrics, stats
from sayzhong.experiments.models import Experiment, ExperimentExposure, ExperimentOverride
from sayzhong.experiments.offline import HashBucketing
from sayzhong.experiments.ports import VariantSource

log = logging.getLogger(__name__)

AUDIENCES: dict[str, str] = {
    "new_visitors": "Visitors who are not signed in",
    "new_learners": "Learners who signed up after the experiment started",
    "all_learners": "Every signed-in learner",
    "everyone": "Visitors and signed-in learners",
}
DEVICES: dict[str, str] = {
    "any": "Any device",
    "desktop": "Desktop only",
    "mobile": "Phones and tablets only",
}
STATUSES = ("draft", "running", "stopped")
SURFACES: dict[str, tuple[str, ...]] = {
    "landing_headline": ("control", "fix_tones"),
}
"""Experiment keys the product renders today, with the variants its code knows how to show."""

_KEY = re.compile(r"^[a-z][a-z0-9_]{1,63}$")
_VARIANT = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_VISITOR = re.compile(r"^[A-Za-z0-9_-]{16,40}$")
_MOBILE = re.compile(r"Mobi|Android|iPhone|iPad|iPod", re.IGNORECASE)
MAX_VARIANTS = 5


# --- definitions ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VariantSpec:
    key: str
    weight: int


@dataclass(frozen=True, slots=True)
class ExperimentDraft:
    key: str
    name: str
    variants: tuple[VariantSpec, ...]
    audience: str
    primary_metric: str
    guardrail_metrics: tuple[str, ...] = ()
    minimum_sample: int = 1000
    device: str = "any"
    hypothesis: str = ""


@dataclass(frozen=True, slots=True)
class ExperimentView:
    id: int
    key: str
    name: str
    hypothesis: str
    variants: tuple[VariantSpec, ...]
    audience: str
    device: str
    primary_metric: str
    guardrail_metrics: tuple[str, ...]
    minimum_sample: int
    status: str
    created_at: datetime
    started_at: datetime | None
    stopped_at: datetime | None

    @property
    def control(self) -> str:
        return self.variants[0].key

    @property
    def weighted(self) -> list[tuple[str, int]]:
        return [(v.key, v.weight) for v in self.variants]


def _view(row: Experiment) -> ExperimentView:
    return ExperimentView(
        id=row.id or 0,
        key=row.key,
        name=row.name,
        hypothesis=row.hypothesis,
        variants=tuple(VariantSpec(str(v["key"]), int(v["weight"])) for v in row.variants),
        audience=row.audience,
        device=row.device,
        primary_metric=row.primary_metric,
        guardrail_metrics=tuple(row.guardrail_metrics),
        minimum_sample=row.minimum_sample,
        status=row.status,
        created_at=as_utc(row.created_at),
        started_at=as_utc(row.started_at) if row.started_at else None,
        stopped_at=as_utc(row.stopped_at) if row.stopped_at else None,
    )


def parse_variants(text: str) -> tuple[VariantSpec, ...]:
    """Marketing types one variant per line (or comma-separated): `key weight`, e.g. "control 50"."""
    specs = []
    for raw in re.split(r"[\n,;]+", text or ""):
        parts = raw.replace(":", " ").split()
        if not parts:
            continue
        if len(parts) != 2 or not parts[1].isdigit():
            raise ValidationError(
                f"Write each variant as a name and a weight, like “control 50” (got “{raw.strip()[:40]}”).",
                code="experiment_bad_variant",
            )
        specs.append(VariantSpec(parts[0].lower(), int(parts[1])))
    return tuple(specs)


def validate_draft(draft: ExperimentDraft) -> ExperimentDraft:
    """Every rule a definition must meet, with a sentence marketing can act on."""

    def bad(message: str, code: str) -> ValidationError:
        return ValidationError(message, code=code)

    key = draft.key.strip().lower()
    if not _KEY.match(key):
        raise bad(
            "The key is 2–64 lowercase letters, digits or _, starting with a letter.", "experiment_bad_key"
        )
    name = draft.name.strip()
    if not 1 <= len(name) <= 120:
        raise bad("Give the experiment a name (up to 120 characters).", "experiment_bad_name")
    variants = draft.variants
    if not 2 <= len(variants) <= MAX_VARIANTS:
        raise bad(f"An experiment has between 2 and {MAX_VARIANTS} variants.", "experiment_bad_variants")
    names = [v.key for v in variants]
    if len(set(names)) != len(names):
        raise bad("Each variant needs a different name.", "experiment_duplicate_variant")
    for v in variants:
        if not _VARIANT.match(v.key):
            raise bad(
                f"Variant “{v.key[:40]}”: use lowercase letters, digits or _, starting with a letter.",
                "experiment_bad_variant",
            )
        if not 1 <= v.weight <= 1000:
            raise bad(
                f"Variant “{v.key}”: its weight must be a whole number from 1 to 1000.",
                "experiment_bad_weight",
            )
    if key in SURFACES and set(names) != set(SURFACES[key]):
        raise bad(
            f"The product shows “{key}” with the variants {', '.join(SURFACES[key])}; use exactly those "
            f"(the first listed is the control).",
            "experiment_unknown_variant",
        )
    if key in SURFACES and names[0] != SURFACES[key][0]:
        raise bad(f"List “{SURFACES[key][0]}” first: it is the control.", "experiment_control_first")
    if draft.audience not in AUDIENCES:
        raise bad("Choose who takes part (the audience).", "experiment_bad_audience")
    if draft.device not in DEVICES:
        raise bad("Choose the devices that take part.", "experiment_bad_device")
    if draft.primary_metric not in metrics.METRICS:
        raise bad("Choose the primary metric from the list.", "experiment_bad_metric")
    guardrails = tuple(dict.fromkeys(g for g in draft.guardrail_metrics if g != draft.primary_metric))
    if any(g not in metrics.METRICS for g in guardrails):
        raise bad("Choose guardrail metrics from the list.", "experiment_bad_metric")
    if not isinstance(draft.minimum_sample, int) or not 10 <= draft.minimum_sample <= 10_000_000:
        raise bad(
            "The minimum sample is a whole number of units per variant, from 10.", "experiment_bad_sample"
        )
    hypothesis = draft.hypothesis.strip()
    if len(hypothesis) > 1000:
        raise bad("Keep the hypothesis under 1,000 characters.", "experiment_bad_hypothesis")
    return ExperimentDraft(
        key=key,
        name=name,
        variants=variants,
        audience=draft.audience,
        primary_metric=draft.primary_metric,
        guardrail_metrics=guardrails,
        minimum_sample=draft.minimum_sample,
        device=draft.device,
        hypothesis=hypothesis,
    )


def _require_marketing(actor: access.HasRole | None) -> None:
    access.require_role(actor, access.Role.MARKETING, access.Role.ADMIN)


def _row(session: Session, key: str) -> Experiment:
    row = session.exec(select(Experiment).where(col(Experiment.key) == key)).first()
    if row is None:
        raise NotFoundError("There is no experiment with that key.", code="experiment_not_found")
    return row


def _apply(row: Experiment, draft: ExperimentDraft) -> None:
    row.name, row.hypothesis = draft.name, draft.hypothesis
    row.variants = [{"key": v.key, "weight": v.weight} for v in draft.variants]
    row.audience, row.device = draft.audience, draft.device
    row.primary_metric, row.guardrail_metrics = draft.primary_metric, list(draft.guardrail_metrics)
    row.minimum_sample = draft.minimum_sample
    row.updated_at = utcnow()


def _audit_detail(draft: ExperimentDraft) -> dict[str, object]:
    return {
        "variants": {v.key: v.weight for v in draft.variants},
        "audience": draft.audience,
        "device": draft.device,
        "primary_metric": draft.primary_metric,
        "guardrails": list(draft.guardrail_metrics),
        "minimum_sample": draft.minimum_sample,
    }


def save_experiment(
    *, session: Session, actor: access.HasRole, actor_id: int, draft: ExperimentDraft, ip: str | None = None
) -> ExperimentView:
    """Create a draft, or change one that has not started (a running experiment's plan is frozen)."""
    _require_marketing(actor)
    clean = validate_draft(draft)
    row = session.exec(select(Experiment).where(col(Experiment.key) == clean.key)).first()
    if row is not None and row.status != "draft":
        raise ValidationError(
            "This experiment has started: its plan can no longer change. Stop it and create a new one.",
            code="experiment_frozen",
        )
    created = row is None
    row = row or Experiment(key=clean.key, name=clean.name, audience=clean.audience, primary_metric="")
    _apply(row, clean)
    session.add(row)
    session.flush()
    target, detail = f"experiment:{clean.key}", _audit_detail(clean)
    if created:
        record_audit(
            session=session,
            action="experiment.created",
            actor_id=actor_id,
            target=target,
            ip=ip,
            detail=detail,
        )
    else:
        record_audit(
            session=session,
            action="experiment.updated",
            actor_id=actor_id,
            target=target,
            ip=ip,
            detail=detail,
        )
    return _view(row)


def set_status(
    *, session: Session, actor: access.HasRole, actor_id: int, key: str, status: str, ip: str | None = None
) -> ExperimentView:
    """draft → running → stopped; nothing else (a stopped experiment is never restarted)."""
    _require_marketing(actor)
    row = _row(session, key)
    allowed = {("draft", "running"), ("running", "stopped"), ("draft", "stopped")}
    if (row.status, status) not in allowed:
        raise ValidationError(
            f"An experiment that is {row.status} cannot become {status}.", code="experiment_bad_transition"
        )
    row.status = status
    now = utcnow()
    if status == "running":
        row.started_at = now
    else:
        row.stopped_at = now
    row.updated_at = now
    session.add(row)
    session.flush()
    if status == "running":
        record_audit(
            session=session,
            action="experiment.started",
            actor_id=actor_id,
            target=f"experiment:{row.key}",
            ip=ip,
        )
    else:
        record_audit(
            session=session,
            action="experiment.stopped",
            actor_id=actor_id,
            target=f"experiment:{row.key}",
            ip=ip,
        )
    return _view(row)


def list_experiments(*, session: Session) -> list[ExperimentView]:
    rows = session.exec(select(Experiment).order_by(col(Experiment.id).desc())).all()
    return [_view(row) for row in rows]


def get_experiment(*, session: Session, key: str) -> ExperimentView:
    return _view(_row(session, key))


# --- who sees what -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Visitor:
    """Who is looking: the visitor id from the `sz_consent` cookie and/or the signed-in user."""

    visitor_id: str | None
    user_id: int | None
    user_agent: str = ""

    @property
    def device(self) -> str:
        return "mobile" if _MOBILE.search(self.user_agent or "") else "desktop"

    @property
    def distinct_id(self) -> str | None:
        return str(self.user_id) if self.user_id else self.visitor_id


@dataclass(frozen=True, slots=True)
class Assignment:
    variant: str
    enrolled: bool
    """True when showing this variant should be recorded as an exposure."""
    reason: str
    """assigned | sticky | override | qa | not_running | no_consent | outside_audience | unknown"""
    unit_id: str | None = None


def _valid_visitor(value: str | None) -> str | None:
    return value if value and _VISITOR.match(value) else None


def _user_unit(user_id: int) -> str:
    return f"user:{user_id}"


def _existing_exposure(session: Session, experiment_id: int, who: Visitor) -> ExperimentExposure | None:
    if who.user_id:
        row = session.exec(
            select(ExperimentExposure).where(
                col(ExperimentExposure.experiment_id) == experiment_id,
                col(ExperimentExposure.user_id) == who.user_id,
            )
        ).first()
        if row is not None:
            return row
    visitor = _valid_visitor(who.visitor_id)
    if visitor:
        return session.exec(
            select(ExperimentExposure).where(
                col(ExperimentExposure.experiment_id) == experiment_id,
                col(ExperimentExposure.unit_id) == visitor,
            )
        ).first()
    return None


def _override(session: Session, experiment_id: int, who: Visitor) -> str | None:
    units = [
        u for u in (_user_unit(who.user_id) if who.user_id else None, _valid_visitor(who.visitor_id)) if u
    ]
    if not units:
        return None
    row = session.exec(
        select(ExperimentOverride).where(
            col(ExperimentOverride.experiment_id) == experiment_id, col(ExperimentOverride.unit_id).in_(units)
        )
    ).first()
    return row.variant if row else None


def _in_audience(session: Session, exp: ExperimentView, who: Visitor) -> bool:
    if exp.device != "any" and who.device != exp.device:
        return False
    if who.user_id is None:
        return exp.audience in ("new_visitors", "everyone") and _valid_visitor(who.visitor_id) is not None
    user = session.get(User, who.user_id)
    if user is None or user.role != access.Role.LEARNER:
        return False  # staff see the control and never count
    if exp.audience == "new_learners":
        return exp.started_at is not None and as_utc(user.created_at) >= exp.started_at
    return exp.audience in ("all_learners", "everyone")


def _consents(session: Session, who: Visitor) -> bool:
    from sayzhong.privacy.consent import analytics_allowed

    distinct = who.distinct_id
    return bool(distinct) and analytics_allowed(session=session, distinct_id=str(distinct))


def assign(
    *,
    session: Session,
    key: str,
    who: Visitor,
    qa_variant: str | None = None,
    source: VariantSource | None = None,
) -> Assignment:
    """Which variant this visitor sees now, and whether showing it counts. Writes nothing."""
    row = session.exec(select(Experiment).where(col(Experiment.key) == key)).first()
    fallback = SURFACES.get(key, ("control",))[0]
    if row is None:
        return Assignment(fallback, False, "unknown")
    exp = _view(row)
    if qa_variant and qa_variant in {v.key for v in exp.variants}:
        return Assignment(qa_variant, False, "qa")
    if exp.status != "running":
        return Assignment(exp.control, False, "not_running")
    forced = _override(session, exp.id, who)
    if forced and forced in {v.key for v in exp.variants}:
        return Assignment(forced, False, "override")
    if not _consents(session, who):
        return Assignment(exp.control, False, "no_consent")
    existing = _existing_exposure(session, exp.id, who)
    if existing is not None:
        return Assignment(existing.variant, True, "sticky", existing.unit_id)
    if not _in_audience(session, exp, who):
        return Assignment(exp.control, False, "outside_audience")
    unit = _valid_visitor(who.visitor_id) if who.user_id is None else _user_unit(who.user_id)
    if unit is None:
        return Assignment(exp.control, False, "outside_audience")
    return Assignment(_bucket(exp, unit, source), True, "assigned", unit)


def _bucket(exp: ExperimentView, unit: str, source: VariantSource | None) -> str:
    names = {v.key for v in exp.variants}
    if source is None:
        from sayzhong import wiring
        from sayzhong.settings import get_settings

        source = wiring.get_variant_source(get_settings())
    try:
        chosen = source.variant(key=exp.key, unit_id=unit, variants=exp.weighted)
    except Exception:
        log.exception("variant source %s failed for %s", getattr(source, "name", "?"), exp.key)
        chosen = None
    if chosen in names:
        return str(chosen)
    return str(HashBucketing().variant(key=exp.key, unit_id=unit, variants=exp.weighted))


def record_exposure(
    *,
    session: Session,
    key: str,
    shown: str,
    who: Visitor,
    qa_variant: str | None = None,
    source: VariantSource | None = None,
) -> bool:
    """The component that rendered `shown` reports it. Records (or refreshes) the unit's exposure
    when the unit is enrolled and `shown` is what it was assigned; returns whether it counted."""
    assignment = assign(session=session, key=key, who=who, qa_variant=qa_variant, source=source)
    if not assignment.enrolled or assignment.variant != shown or assignment.unit_id is None:
        return False
    exp = _row(session, key)
    now = utcnow()
    existing = session.exec(
        select(ExperimentExposure).where(
            col(ExperimentExposure.experiment_id) == exp.id,
            col(ExperimentExposure.unit_id) == assignment.unit_id,
        )
    ).first()
    if existing is not None:
        existing.views += 1
        existing.last_exposed_at = now
        if existing.user_id is None and who.user_id:
            existing.user_id = who.user_id
        session.add(existing)
        session.flush()
        return True
    session.add(
        ExperimentExposure(
            experiment_id=exp.id or 0,
            unit_id=assignment.unit_id,
            user_id=who.user_id,
            variant=shown,
            device=who.device,
            first_exposed_at=now,
            last_exposed_at=now,
        )
    )
    session.flush()
    from sayzhong.analytics import catalog
    from sayzhong.analytics import service as analytics

    analytics.track(
        session=session,
        user_id=who.user_id,
        anonymous_id=_valid_visitor(who.visitor_id),
        event=catalog.EXPERIMENT_EXPOSED,
        properties={"key": key, "variant": shown},
    )
    return True


def link_visitor_to_user(*, session: Session, visitor_id: str | None, user_id: int) -> int:
    """At sign-up (or sign-in): this browser's exposures become the account's, so the variant sticks."""
    visitor = _valid_visitor(visitor_id)
    if visitor is None:
        return 0
    rows = session.exec(
        select(ExperimentExposure).where(
            col(ExperimentExposure.unit_id) == visitor, col(ExperimentExposure.user_id).is_(None)
        )
    ).all()
    for row in rows:
        taken = session.exec(
            select(ExperimentExposure.id).where(
                col(ExperimentExposure.experiment_id) == row.experiment_id,
                col(ExperimentExposure.user_id) == user_id,
            )
        ).first()
        if taken is None:
            row.user_id = user_id
            session.add(row)
    session.flush()
    return len(rows)


# --- QA overrides --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OverrideView:
    id: int
    experiment: str
    target: str
    variant: str
    created_at: datetime


def _override_target(session: Session, target: str) -> tuple[str, int | None, str]:
    """(unit id, user id, label) for an e-mail address or a visitor id."""
    target = (target or "").strip()
    if "@" in target:
        user = session.exec(select(User).where(col(User.email) == target.lower())).first()
        if user is None or user.id is None:
            raise NotFoundError("No account uses that e-mail address.", code="experiment_override_no_user")
        return _user_unit(user.id), user.id, user.email
    visitor = _valid_visitor(target)
    if visitor is None:
        raise ValidationError(
            "Enter a learner's e-mail address or a visitor id (16–40 letters, digits, - or _).",
            code="experiment_override_bad_target",
        )
    return visitor, None, visitor


def set_override(
    *,
    session: Session,
    actor: access.HasRole,
    actor_id: int,
    key: str,
    target: str,
    variant: str,
    ip: str | None = None,
) -> OverrideView:
    _require_marketing(actor)
    exp = _row(session, key)
    if variant not in {str(v["key"]) for v in exp.variants}:
        raise ValidationError("Choose one of the experiment's variants.", code="experiment_unknown_variant")
    unit, user_id, label = _override_target(session, target)
    row = session.exec(
        select(ExperimentOverride).where(
            col(ExperimentOverride.experiment_id) == exp.id, col(ExperimentOverride.unit_id) == unit
        )
    ).first() or ExperimentOverride(experiment_id=exp.id or 0, unit_id=unit, user_id=user_id, variant=variant)
    row.variant = variant
    session.add(row)
    session.flush()
    record_audit(
        session=session,
        action="experiment.override_set",
        actor_id=actor_id,
        target=f"experiment:{exp.key}",
        ip=ip,
        detail={"unit": f"user:{user_id}" if user_id else "visitor", "variant": variant},
    )
    return OverrideView(row.id or 0, exp.key, label, variant, as_utc(row.created_at))


def remove_override(
    *, session: Session, actor: access.HasRole, actor_id: int, override_id: int, ip: str | None = None
) -> None:
    _require_marketing(actor)
    row = session.get(ExperimentOverride, override_id)
    if row is None:
        raise NotFoundError("That override is already gone.", code="experiment_override_not_found")
    exp = session.get(Experiment, row.experiment_id)
    session.delete(row)
    session.flush()
    record_audit(
        session=session,
        action="experiment.override_removed",
        actor_id=actor_id,
        target=f"experiment:{exp.key if exp else row.experiment_id}",
        ip=ip,
    )


def list_overrides(*, session: Session, key: str | None = None) -> list[OverrideView]:
    query = select(ExperimentOverride, Experiment.key, User.email).join(
        Experiment, col(Experiment.id) == col(ExperimentOverride.experiment_id)
    )
    query = query.outerjoin(User, col(User.id) == col(ExperimentOverride.user_id))
    if key:
        query = query.where(col(Experiment.key) == key)
    rows = session.exec(query.order_by(col(ExperimentOverride.id).desc())).all()
    return [
        OverrideView(row.id or 0, exp_key, email or row.unit_id, row.variant, as_utc(row.created_at))
        for row, exp_key, email in rows
    ]


# --- results ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VariantCount:
    variant: str
    planned_share: float
    units: int
    share: float


@dataclass(frozen=True, slots=True)
class Comparison:
    """One variant against control on one metric."""

    variant: str
    control_value: float
    variant_value: float
    units_control: int
    units_variant: int
    relative_lift: float | None
    bayes: stats.BayesResult | None
    sequential: stats.SequentialResult | None
    welch_p: float | None
    cuped: stats.CupedResult | None
    verdict: str
    """better | worse | no_difference_yet | not_enough_data"""


@dataclass(frozen=True, slots=True)
class MetricResult:
    metric: metrics.Metric
    role: str
    """primary | guardrail"""
    values: dict[str, float]
    """Variant → conversion rate or mean."""
    comparisons: tuple[Comparison, ...]


@dataclass(frozen=True, slots=True)
class ExperimentResults:
    experiment: ExperimentView
    counts: tuple[VariantCount, ...]
    total_units: int
    srm: stats.SrmResult
    progress: float
    """Smallest variant's units / minimum sample (capped at 1)."""
    metrics: tuple[MetricResult, ...] = field(default_factory=tuple)
    excluded_overrides: int = 0


def _compare(
    metric: metrics.Metric,
    values: dict[str, np.ndarray],
    covariate: dict[str, np.ndarray],
    control: str,
    n_planned: float,
) -> tuple[Comparison, ...]:
    out = []
    y_c, x_c = values[control], covariate[control]
    for variant, y_v in values.items():
        if variant == control:
            continue
        x_v = covariate[variant]
        n_c, n_v = int(y_c.size), int(y_v.size)
        m_c = float(y_c.mean()) if n_c else 0.0
        m_v = float(y_v.mean()) if n_v else 0.0
        lift = (m_v - m_c) / m_c if m_c else None
        if n_c < 2 or n_v < 2:
            out.append(
                Comparison(variant, m_c, m_v, n_c, n_v, lift, None, None, None, None, "not_enough_data")
            )
            continue
        lower = not metric.higher_is_better
        if metric.kind == "conversion":
            bayes = stats.beta_binomial(int(y_c.sum()), n_c, int(y_v.sum()), n_v, lower_is_better=lower)
            welch_p = stats.two_proportion_z(int(y_c.sum()), n_c, int(y_v.sum()), n_v)
        else:
            bayes = stats.normal_means(
                m_c, float(y_c.var(ddof=1)), n_c, m_v, float(y_v.var(ddof=1)), n_v, lower_is_better=lower
            )
            welch_p = stats.welch_t_test(y_c, y_v).p_value
        sequential = stats.msprt(
            m_c, float(y_c.var(ddof=1)), n_c, m_v, float(y_v.var(ddof=1)), n_v, n_planned=n_planned
        )
        cuped = stats.cuped(y_c, x_c, y_v, x_v)
        if sequential.significant:
            better = (sequential.difference > 0) == metric.higher_is_better
            verdict = "better" if better else "worse"
        else:
            verdict = "no_difference_yet"
        out.append(Comparison(variant, m_c, m_v, n_c, n_v, lift, bayes, sequential, welch_p, cuped, verdict))
    return tuple(out)


def experiment_results(*, session: Session, key: str) -> ExperimentResults:
    """Exposures per variant, the SRM check, and every metric compared with control."""
    exp = _view(_row(session, key))
    overridden = set(
        session.exec(
            select(ExperimentOverride.unit_id).where(col(ExperimentOverride.experiment_id) == exp.id)
        ).all()
    )
    overridden_users = {
        uid
        for uid in session.exec(
            select(ExperimentOverride.user_id).where(
                col(ExperimentOverride.experiment_id) == exp.id, col(ExperimentOverride.user_id).is_not(None)
            )
        ).all()
        if uid is not None
    }
    rows = session.exec(
        select(ExperimentExposure)
        .where(col(ExperimentExposure.experiment_id) == exp.id)
        .order_by(col(ExperimentExposure.id))
    ).all()
    kept = [r for r in rows if r.unit_id not in overridden and r.user_id not in overridden_users]
    names = [v.key for v in exp.variants]
    counts = {name: 0 for name in names}
    for r in kept:
        if r.variant in counts:
            counts[r.variant] += 1
    total = sum(counts.values())
    weights = [v.weight for v in exp.variants]
    srm = stats.sample_ratio_mismatch([counts[n] for n in names], weights)
    variant_counts = tuple(
        VariantCount(n, w / sum(weights), counts[n], counts[n] / total if total else 0.0)
        for n, w in zip(names, weights, strict=True)
    )
    progress = min(1.0, min(counts.values()) / exp.minimum_sample) if exp.minimum_sample else 1.0
    units = [
        metrics.Unit(r.variant, r.user_id, as_utc(r.first_exposed_at)) for r in kept if r.variant in counts
    ]
    read, covariate = metrics.unit_values(session, units)
    labels = np.array([u.variant for u in units])
    by_variant = {n: labels == n for n in names}
    # The mixture is tuned for the planned sample: n_eff = m / 2 for two arms of m units each.
    n_planned = exp.minimum_sample / 2.0
    results = []
    for role, metric_key in [("primary", exp.primary_metric)] + [
        ("guardrail", g) for g in exp.guardrail_metrics
    ]:
        metric = metrics.METRICS[metric_key]
        per_unit = read(metric_key) if units else np.array([], dtype=float)
        values = {n: per_unit[by_variant[n]] if units else np.array([], dtype=float) for n in names}
        cov = {n: covariate[by_variant[n]] if units else np.array([], dtype=float) for n in names}
        results.append(
            MetricResult(
                metric,
                role,
                {n: float(v.mean()) if v.size else 0.0 for n, v in values.items()},
                _compare(metric, values, cov, exp.control, n_planned),
            )
        )
    return ExperimentResults(
        experiment=exp,
        counts=variant_counts,
        total_units=total,
        srm=srm,
        progress=progress,
        metrics=tuple(results),
        excluded_overrides=len(rows) - len(kept),
    )


def exposure_counts(*, session: Session) -> dict[int, int]:
    """Units exposed per experiment id (for the list page)."""
    rows = session.exec(
        select(ExperimentExposure.experiment_id, func.count()).group_by(col(ExperimentExposure.experiment_id))
    ).all()
    return {int(exp_id): int(n) for exp_id, n in rows}


def erase_user_experiments(*, session: Session, user_id: int) -> int:
    """Account erasure: the learner's exposures and overrides go (results lose one unit)."""
    from sqlalchemy import delete

    removed = 0
    for model in (ExperimentExposure, ExperimentOverride):
        result = session.exec(delete(model).where(col(model.user_id) == user_id))
        removed += int(result.rowcount or 0)
    return removed


def variants_text(variants: Sequence[VariantSpec]) -> str:
    return "\n".join(f"{v.key} {v.weight}" for v in variants)


EXPOSURE_RETENTION = timedelta(days=395)


def purge_exposures(*, session: Session, older_than: timedelta = EXPOSURE_RETENTION) -> int:
    """Retention: exposures and overrides of experiments stopped more than 13 months ago go (the
    definition stays, with no unit rows; its results page then shows no data)."""
    from sqlalchemy import delete

    cutoff = utcnow() - older_than
    old = select(Experiment.id).where(
        col(Experiment.status) == "stopped", col(Experiment.stopped_at) < cutoff
    )
    removed = 0
    for model in (ExperimentExposure, ExperimentOverride):
        result = session.exec(delete(model).where(col(model.experiment_id).in_(old)))
        removed += int(result.rowcount or 0)
    return removed
