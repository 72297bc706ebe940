"""A/B experiments: marketing's staff pages, and the exposure reports of the pages that show variants.

Thin handlers: check the role (marketing or admin, with two-factor sign-in), validate arguments, call
`sayzhong.experiments.service` in a worker thread, copy plain rows into vars.
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from sayzhong import routes
from sayzhong.accounts import access, schemas
from sayzhong.errors import SayZhongError
from sayzhong.experiments import metrics, report
from sayzhong.experiments import service as exp_service
from sayzhong.privacy import consent
from state.admin import StaffState
from state.privacy import ConsentState
from state.session import SessionState, run_in_session

MARKETING = (access.Role.MARKETING, access.Role.ADMIN)
LANDING_HEADLINE = "landing_headline"


def _text(form: dict[str, Any], key: str, limit: int = 200) -> str:
    value = form.get(key, "")
    return value[:limit] if isinstance(value, str) else ""


def results_url(key: str) -> str:
    return f"{routes.ADMIN_EXPERIMENT_RESULTS}?key={key}"


class ExperimentsAdminState(StaffState):
    """/admin/experiments: define, start and stop experiments; QA overrides."""

    experiments: list[dict[str, str]] = []
    overrides: list[dict[str, str]] = []
    has_experiments: bool = False
    has_overrides: bool = False
    message: str = ""
    error: str = ""
    metric_options: list[dict[str, str]] = [
        {"key": m.key, "label": m.label, "about": m.description} for m in metrics.METRICS.values()
    ]
    audience_options: list[dict[str, str]] = [
        {"key": k, "label": v} for k, v in exp_service.AUDIENCES.items()
    ]
    device_options: list[dict[str, str]] = [{"key": k, "label": v} for k, v in exp_service.DEVICES.items()]
    surfaces: str = "; ".join(
        f"{key} (variants: {', '.join(names)})" for key, names in exp_service.SURFACES.items()
    )

    async def _actor(self) -> schemas.UserInfo | None:
        user = await self._staff(*MARKETING)
        if user is None:
            self.experiments, self.overrides = [], []
        return user

    async def _refresh(self) -> None:
        def _load(session):
            rows = exp_service.list_experiments(session=session)
            units = exp_service.exposure_counts(session=session)
            return rows, units, exp_service.list_overrides(session=session)

        rows, units, overrides = await run_in_session(_load)
        self.experiments = [
            {
                "key": e.key,
                "name": e.name,
                "status": e.status,
                "variants": ", ".join(f"{v.key} {v.weight}" for v in e.variants),
                "audience": exp_service.AUDIENCES.get(e.audience, e.audience),
                "primary": metrics.METRICS[e.primary_metric].label,
                "units": f"{units.get(e.id, 0):,}",
                "results": results_url(e.key),
                "can_start": "yes" if e.status == "draft" else "",
                "can_stop": "yes" if e.status == "running" else "",
            }
            for e in rows
        ]
        self.has_experiments = bool(self.experiments)
        self.has_overrides = bool(overrides)
        self.overrides = [
            {"id": str(o.id), "experiment": o.experiment, "target": o.target, "variant": o.variant}
            for o in overrides
        ]

    @rx.event
    async def load(self) -> None:
        self.message = self.error = ""
        if await self._actor() is not None:
            await self._refresh()

    async def _act(self, action, success: str) -> None:
        self.message = self.error = ""
        actor = await self._actor()
        if actor is None:
            self.error = self.denied
            return
        ip = (await self.get_state(SessionState)).client_ip()
        try:
            await run_in_session(lambda session: action(session, actor, ip))
        except SayZhongError as exc:
            self.error = exc.user_message
            return
        self.message = success
        await self._refresh()

    @rx.event
    async def save(self, form: dict[str, Any]) -> None:
        guardrails = tuple(m for m in metrics.METRICS if form.get(f"guardrail_{m}") in (True, "on", "true"))
        raw_sample = _text(form, "minimum_sample", 12).strip()
        key = _text(form, "key", 64)

        def _save(session, actor, ip):
            draft = exp_service.ExperimentDraft(
                key=key,
                name=_text(form, "name", 200),
                hypothesis=_text(form, "hypothesis", 2000),
                variants=exp_service.parse_variants(_text(form, "variants", 1000)),
                audience=_text(form, "audience", 20),
                device=_text(form, "device", 10) or "any",
                primary_metric=_text(form, "primary_metric", 40),
                guardrail_metrics=guardrails,
                minimum_sample=int(raw_sample) if raw_sample.isdigit() else -1,
            )
            return exp_service.save_experiment(
                session=session, actor=actor, actor_id=actor.id, draft=draft, ip=ip
            )

        await self._act(_save, f"Saved “{key.strip().lower()}” as a draft. Start it when you are ready.")

    async def _status(self, key: str, status: str, success: str) -> None:
        key = str(key)[:64]
        await self._act(
            lambda session, actor, ip: exp_service.set_status(
                session=session, actor=actor, actor_id=actor.id, key=key, status=status, ip=ip
            ),
            success,
        )

    @rx.event
    async def start(self, key: str) -> None:
        await self._status(key, "running", "Started: visitors in the audience now see its variants.")

    @rx.event
    async def stop(self, key: str) -> None:
        await self._status(key, "stopped", "Stopped: everyone sees the control again.")

    @rx.event
    async def set_override(self, form: dict[str, Any]) -> None:
        key, target, variant = (
            _text(form, "experiment", 64),
            _text(form, "target", 320),
            _text(form, "variant", 40),
        )
        await self._act(
            lambda session, actor, ip: exp_service.set_override(
                session=session,
                actor=actor,
                actor_id=actor.id,
                key=key,
                target=target,
                variant=variant.strip(),
                ip=ip,
            ),
            "Override saved: that visitor or learner now sees the variant, and is left out of the results.",
        )

    @rx.event
    async def remove_override(self, override_id: str) -> None:
        raw = str(override_id)[:12]
        if not raw.isdigit():
            self.error = "Unknown override."
            return
        await self._act(
            lambda session, actor, ip: exp_service.remove_override(
                session=session, actor=actor, actor_id=actor.id, override_id=int(raw), ip=ip
            ),
            "Override removed.",
        )


class ExperimentResultsState(StaffState):
    """/admin/experiments/results?key=…: exposures, SRM, Bayesian and sequential results, CUPED."""

    found: bool = False
    error: str = ""
    summary: dict[str, str] = {}
    counts: list[dict[str, str]] = []
    srm_alarm: bool = False
    srm_text: str = ""
    progress_percent: int = 0
    progress_text: str = ""
    primary: list[dict[str, str]] = []
    guardrails: list[dict[str, str]] = []
    has_guardrails: bool = False

    @rx.event
    async def load(self) -> None:
        self.found, self.error = False, ""
        if await self._staff(*MARKETING) is None:
            return
        key = str(self.router.url.query_parameters.get("key", ""))[:64]
        try:
            results = await run_in_session(
                lambda session: exp_service.experiment_results(session=session, key=key)
            )
        except SayZhongError as exc:
            self.error = exc.user_message
            return
        built = report.build_report(results)
        self.summary, self.counts = built.summary, built.counts
        self.srm_alarm, self.srm_text = built.srm_alarm, built.srm_text
        self.progress_percent, self.progress_text = built.progress_percent, built.progress_text
        self.primary, self.guardrails = built.primary, built.guardrails
        self.has_guardrails = bool(built.guardrails)
        self.found = True


class ExperimentExposureState(rx.State):
    """Pages that show a variant: which one (on load), and the exposure report when it is rendered."""

    landing_headline: str = ""
    """"" until decided (the headline is not drawn yet), then the variant key."""
    landing_counts: bool = False
    """Showing it is an exposure (enrolled unit; not QA, override, no consent or outside the audience)."""

    @rx.var
    def landing_slot(self) -> str:
        """What the page draws: the variant, with "*" when drawing it must be reported. A change of
        slot re-mounts the headline, so a visitor enrolled by accepting cookies reports at once."""
        return self.landing_headline + ("*" if self.landing_counts else "")

    async def _who(self) -> exp_service.Visitor:
        session_state = await self.get_state(SessionState)
        user = await session_state.current_user()
        # The consent state's cookie var, not the websocket headers: a choice made on this page counts.
        visitor = consent.valid_visitor_id((await self.get_state(ConsentState)).visitor) or (
            consent.visitor_from_cookie_header(self.router.headers.cookie)
        )
        return exp_service.Visitor(
            visitor_id=visitor, user_id=user.id if user else None, user_agent=session_state.user_agent()
        )

    def _qa_variant(self, key: str) -> str | None:
        """`?variant=<experiment key>:<variant>` shows a variant for QA (recorded nowhere)."""
        raw = str(self.router.url.query_parameters.get("variant", ""))[:120]
        exp_key, _, variant = raw.partition(":")
        return variant if exp_key == key and variant else None

    @rx.event
    async def load_landing(self) -> None:
        who = await self._who()
        qa = self._qa_variant(LANDING_HEADLINE)
        assignment = await run_in_session(
            lambda session: exp_service.assign(session=session, key=LANDING_HEADLINE, who=who, qa_variant=qa)
        )
        self.landing_headline, self.landing_counts = assignment.variant, assignment.enrolled

    @rx.event
    async def report_exposure(self, key: str, shown: str) -> None:
        """Called by the component that rendered `shown`; the service checks it against the assignment."""
        key, shown = str(key)[:64], str(shown)[:40]
        if key != LANDING_HEADLINE or shown != self.landing_headline:
            return
        who = await self._who()
        qa = self._qa_variant(key)
        await run_in_session(
            lambda session: exp_service.record_exposure(
                session=session, key=key, shown=shown, who=who, qa_variant=qa
            )
        )
