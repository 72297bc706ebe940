"""Growth staff pages (issue 14): funnels, campaign links, marketing tags. Marketing and admin roles.

Thin handlers: validate arguments, call the analytics services in a worker thread, copy plain
strings into vars.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import reflex as rx

from sayzhong import wiring
from sayzhong.accounts import access
from sayzhong.analytics import attribution, funnels, tags
from sayzhong.db import utcnow
from sayzhong.errors import SayZhongError
from sayzhong.settings import get_settings
from state.admin import StaffState
from state.session import run_in_session

MARKETING = (access.Role.MARKETING, access.Role.ADMIN)
PERIODS = ("7", "30", "90")


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f} %"


def _text(form: dict[str, Any], key: str, limit: int = 200) -> str:
    value = form.get(key, "")
    return value[:limit].strip() if isinstance(value, str) else ""


def _step_rows(segment: funnels.Segment) -> list[dict[str, str]]:
    rows = []
    for step in segment.steps:
        if step.target is None or step.meets_target is None:
            status = ""
        else:
            status = ("meets" if step.meets_target else "below") + f" target (> {step.target * 100:.0f} %)"
        rows.append(
            {
                "label": step.label,
                "people": str(step.people),
                "from_previous": _pct(step.from_previous),
                "overall": _pct(step.overall),
                "target": status,
            }
        )
    return rows


class FunnelState(StaffState):
    period: str = "30"
    window: str = "30"
    split: str = "none"
    experiment: str = ""
    steps: list[dict[str, str]] = []
    segments: list[dict[str, str]] = []
    drop_offs: list[dict[str, str]] = []
    entrants: str = "0"
    posthog_url: str = ""
    error: str = ""

    @rx.event
    async def load(self) -> None:
        await self._compute()

    @rx.event
    async def apply(self, form: dict[str, Any]) -> None:
        period, window = _text(form, "period", 3), _text(form, "window", 3)
        self.period = period if period in PERIODS else "30"
        self.window = window if window.isdigit() else "30"
        split = _text(form, "split", 20)
        self.split = split if split in funnels.SPLITS else "none"
        self.experiment = _text(form, "experiment", 64).lower()
        await self._compute()

    async def _compute(self) -> None:
        self.error = ""
        user = await self._staff(*MARKETING)
        if user is None:
            self.steps = self.segments = self.drop_offs = []
            return
        settings = get_settings()
        end = utcnow()
        start = end - timedelta(days=int(self.period))
        window, split, experiment = int(self.window), self.split, self.experiment
        try:
            report = await run_in_session(
                lambda session: funnels.compute_funnel(
                    session=session,
                    start=start,
                    end=end,
                    window_days=window,
                    split=split,
                    experiment=experiment,
                    secret=settings.secret_key,
                )
            )
        except SayZhongError as exc:
            self.error = exc.user_message
            return
        self.entrants = str(report.total.steps[0].people)
        self.steps = _step_rows(report.total)
        self.segments = [
            {
                "segment": seg.value,
                **{
                    f"s{i}": f"{st.people}"
                    + (f" ({_pct(st.from_previous)})" if st.from_previous is not None else "")
                    for i, st in enumerate(seg.steps)
                },
            }
            for seg in report.segments
        ]
        self.drop_offs = [
            {"label": d.label, "count": str(d.count), "sample": ", ".join(d.sample) or "—"}
            for d in report.drop_offs
        ]
        self.posthog_url = (
            funnels.posthog_funnel_url(
                ui_host=settings.posthog_ui_host or settings.posthog_host,
                project_id=settings.posthog_project_id,
                window_days=window,
                split=split,
                experiment=experiment,
            )
            if wiring.posthog_configured(settings)
            else ""
        )


class CampaignLinkState(StaffState):
    link: str = ""
    channel: str = ""
    error: str = ""

    @rx.event
    async def load(self) -> None:
        await self._staff(*MARKETING)

    @rx.event
    async def build(self, form: dict[str, Any]) -> None:
        self.error = self.link = self.channel = ""
        if await self._staff(*MARKETING) is None:
            return
        try:
            built = attribution.build_campaign_link(
                app_url=get_settings().app_url,
                path=_text(form, "path"),
                source=_text(form, "source", 80),
                medium=_text(form, "medium", 80),
                campaign=_text(form, "campaign", 80),
                term=_text(form, "term", 80),
                content=_text(form, "content", 80),
            )
        except SayZhongError as exc:
            self.error = exc.user_message
            return
        self.link, self.channel = built.url, built.channel


class MarketingTagState(StaffState):
    tags: list[dict[str, str]] = []
    hosts: str = ""
    message: str = ""
    error: str = ""

    async def _reload(self) -> None:
        self.tags = []
        if await self._staff(*MARKETING) is None:
            return
        self.hosts = ", ".join(tags.allowed_hosts(get_settings().marketing_tag_hosts)) or "none"
        rows = await run_in_session(lambda session: tags.list_tags(session=session))
        self.tags = [
            {
                "id": str(t.id),
                "name": t.name,
                "url": t.script_url,
                "pages": ", ".join(t.pages),
                "state": "on" if t.enabled else "off",
                "toggle": "Turn off" if t.enabled else "Turn on",
            }
            for t in rows
        ]

    @rx.event
    async def load(self) -> None:
        self.message = self.error = ""
        await self._reload()

    async def _change(self, work: Any, done: str) -> None:
        self.message = self.error = ""
        user = await self._staff(*MARKETING)
        if user is None:
            return
        try:
            await run_in_session(lambda session: work(session, user.id))
        except SayZhongError as exc:
            self.error = exc.user_message
            return
        self.message = done
        await self._reload()

    @rx.event
    async def add(self, form: dict[str, Any]) -> None:
        hosts = tags.allowed_hosts(get_settings().marketing_tag_hosts)
        name, url, pages = _text(form, "name", 100), _text(form, "script_url", 600), _text(form, "pages", 600)
        await self._change(
            lambda s, actor: tags.save_tag(
                session=s, actor_id=actor, name=name, script_url=url, pages=pages, hosts=hosts
            ),
            "Tag saved. It loads only for visitors who accepted marketing cookies.",
        )

    @rx.event
    async def toggle(self, tag_id: str) -> None:
        if not str(tag_id).isdigit():
            return
        current = next((t for t in self.tags if t["id"] == str(tag_id)), None)
        enable = current is not None and current["state"] == "off"
        hosts = tags.allowed_hosts(get_settings().marketing_tag_hosts)
        await self._change(
            lambda s, actor: tags.set_enabled(
                session=s, actor_id=actor, tag_id=int(tag_id), enabled=enable, hosts=hosts
            ),
            "Tag turned on." if enable else "Tag turned off.",
        )

    @rx.event
    async def remove(self, tag_id: str) -> None:
        if not str(tag_id).isdigit():
            return
        await self._change(
            lambda s, actor: tags.delete_tag(session=s, actor_id=actor, tag_id=int(tag_id)), "Tag removed."
        )
