"""BI dashboards (issue 15): one state for the five sections; it only validates the filter, calls
`sayzhong.bi.views` in a worker thread and copies formatted text into vars (aggregates only)."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from typing import Any

import reflex as rx

from sayzhong.accounts import access
from sayzhong.bi import metrics, views
from sayzhong.bi import reconcile as bi_reconcile
from sayzhong.bi import reports as bi_reports
from sayzhong.errors import SayZhongError
from state.admin import StaffState
from state.session import run_in_session

DEFAULT_DAYS = 28


@dataclasses.dataclass
class BiCell:
    text: str = ""
    shade: str = "transparent"


@dataclasses.dataclass
class BiTable:
    key: str = ""
    title: str = ""
    columns: list[str] = dataclasses.field(default_factory=list)
    rows: list[list[BiCell]] = dataclasses.field(default_factory=list)


def _parse_day(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value or "")[:10])
    except ValueError:
        return None


class BiState(StaffState):
    section: str = "overview"
    start: str = ""
    end: str = ""
    segment: str = metrics.ALL
    segments: list[str] = [metrics.ALL]
    cohort_from: str = ""
    """First sign-up week (a Monday, YYYY-MM-DD) of the cohort filter; "" = all cohorts."""
    cohort_to: str = ""
    cohort_weeks: list[str] = []
    sections: list[str] = []
    kpis: list[dict[str, str]] = []
    tables: list[BiTable] = []
    chart: list[dict[str, Any]] = []
    freshness: str = ""
    error: str = ""
    message: str = ""
    can_edit: bool = False
    reconcile_summary: str = ""
    reconcile_rows: list[dict[str, str]] = []

    @rx.event
    async def open_section(self, section: str) -> None:
        self.section = section if section in views.SECTIONS else "overview"
        await self._reload()

    @rx.event
    async def apply(self, form: dict[str, Any]) -> None:
        start, end = _parse_day(form.get("from")), _parse_day(form.get("to"))
        if start is None or end is None:
            self.error = "Enter both dates as YYYY-MM-DD."
            return
        self.start, self.end = start.isoformat(), end.isoformat()
        segment = str(form.get("segment", self.segment))[:80]
        self.segment = segment if segment in self.segments else metrics.ALL
        cohort_from, cohort_to = (
            form.get("cohort_from", self.cohort_from),
            form.get("cohort_to", self.cohort_to),
        )
        first, last = _parse_day(cohort_from), _parse_day(cohort_to)
        if (cohort_from and first is None) or (cohort_to and last is None):
            self.error = "Choose the cohort weeks from the lists."
            return
        self.cohort_from = first.isoformat() if first else ""
        self.cohort_to = last.isoformat() if last else ""
        await self._reload()

    def _filters(self) -> dict[str, Any]:
        """The segment and cohort filter as `views` takes them (a ValidationError in plain words when
        the cohort weeks are the wrong way round)."""
        cohort = metrics.cohorts(_parse_day(self.cohort_from), _parse_day(self.cohort_to))
        return {"segment": self.segment, "cohort": cohort}

    async def _reload(self) -> None:
        self.error = ""
        user = await self._staff()
        if user is None:
            self.kpis, self.tables, self.chart = [], [], []
            return
        self.sections = access.bi_sections(user)
        self.can_edit = access.has_role(user, *access.BI_EDITORS)
        if self.section not in self.sections:
            self.denied = "Your role does not include this BI page."
            self.kpis, self.tables, self.chart = [], [], []
            return
        section = self.section

        def _read(session: Any) -> tuple[Any, Any, Any, Any, Any]:
            known = metrics.data_range(session=session)
            end = _parse_day(self.end) or (known[1] if known else date.today() - timedelta(days=1))
            start = _parse_day(self.start) or end - timedelta(days=DEFAULT_DAYS - 1)
            view = views.section_view(
                session=session, actor=user, section=section, start=start, end=end, **filters
            )
            fresh = metrics.last_computed_at(session=session)
            weeks = metrics.cohort_weeks(session=session)
            return view, (start, end), metrics.segments(session=session), weeks, fresh

        try:
            filters = self._filters()
            view, (start, end), found, weeks, fresh = await run_in_session(_read)
        except SayZhongError as exc:
            self.error = exc.user_message
            return
        self.start, self.end, self.segments = start.isoformat(), end.isoformat(), found
        self.cohort_weeks = [w.isoformat() for w in weeks]
        self.freshness = f"Aggregated up to {fresh:%d %b %Y %H:%M} UTC." if fresh else "Not aggregated yet."
        self.kpis = []
        for kpi in view.kpis:
            value, change = views.format_kpi(kpi, view.currency)
            self.kpis.append({"label": kpi.label, "value": value, "change": change})
        self.tables = [
            BiTable(
                key=t.key,
                title=t.title,
                columns=list(t.columns),
                rows=[
                    [
                        BiCell(
                            views.format_cell(c, v, view.currency),
                            views.heat(v) if t.key == "cohorts" and c.startswith("week_") else "transparent",
                        )
                        for c, v in zip(t.columns, row, strict=True)
                    ]
                    for row in t.rows
                ],
            )
            for t in view.tables
        ]
        self.chart = view.chart

    @rx.event
    async def reconcile(self) -> None:
        """Compare the counted invoices with Stripe's list (on demand: it asks Stripe per customer)."""
        self.error = self.reconcile_summary = ""
        self.reconcile_rows = []
        user = await self._staff(*access.BI_SECTIONS["revenue"])
        start, end = _parse_day(self.start), _parse_day(self.end)
        if user is None or start is None or end is None:
            self.error = self.denied or "Choose the dates first."
            return
        try:
            result = await run_in_session(
                lambda s: bi_reconcile.reconcile_invoices(session=s, start=start, end=end)
            )
        except SayZhongError as exc:
            self.error = exc.user_message
            return
        if not result.configured:
            self.reconcile_summary = "Payments are not configured: there is no Stripe to compare with."
            return
        agreement = "—" if result.agreement is None else f"{result.agreement:.2%}"
        self.reconcile_summary = (
            f"{result.matched} invoice(s) match; {len(result.differences)} difference(s); "
            f"counted {views.format_cell('amount', result.local_total)}, Stripe "
            f"{views.format_cell('amount', result.stripe_total)} (agreement {agreement})."
        )
        self.reconcile_rows = [
            {
                "invoice": d.invoice_id,
                "day": d.day.isoformat(),
                "kind": d.kind.replace("_", " "),
                "counted": "—" if d.local_amount is None else views.format_cell("amount", d.local_amount),
                "stripe": "—" if d.stripe_amount is None else views.format_cell("amount", d.stripe_amount),
            }
            for d in result.differences
        ]

    @rx.event
    async def download(self, table: str) -> Any:
        """The table as a CSV file (the same checks as the page; rx.download, no script)."""
        user = await self._staff()
        start, end = _parse_day(self.start), _parse_day(self.end)
        if user is None or start is None or end is None:
            self.error = self.denied or "Choose the dates first."
            return None
        section, key = self.section, str(table)[:40]
        try:
            filters = self._filters()
            filename, text = await run_in_session(
                lambda s: views.table_csv(
                    session=s, actor=user, section=section, table=key, start=start, end=end, **filters
                )
            )
        except SayZhongError as exc:
            self.error = exc.user_message
            return None
        return rx.download(data=text, filename=filename)

    @rx.event
    async def add_spend(self, form: dict[str, Any]) -> None:
        """Marketing enters a month's spend for a channel/campaign (acquisition page)."""
        self.message = self.error = ""
        user = await self._staff(*access.BI_EDITORS)
        if user is None:
            self.error = self.denied
            return
        month = _parse_day(str(form.get("month", ""))[:7] + "-01")
        try:
            amount = round(float(str(form.get("amount", "")).replace(",", ".")) * 100)
        except ValueError:
            amount = -1
        if month is None:
            self.error = "Choose the month the money was spent in."
            return
        channel, campaign = str(form.get("channel", ""))[:80], str(form.get("campaign", ""))[:80]
        try:
            await run_in_session(
                lambda s: metrics.add_campaign_spend(
                    session=s, actor=user, month=month, channel=channel, campaign=campaign, amount=amount
                )
            )
        except SayZhongError as exc:
            self.error = exc.user_message
            return
        self.message = f"Spend saved for {channel.strip().lower()} in {month:%B %Y}."
        await self._reload()


@dataclasses.dataclass
class BiReportFileRow:
    name: str = ""
    size: str = ""


class BiReportsState(StaffState):
    """Weekly reports (subscribe, history, stored reports) and KPI alert rules (admins edit, analysts
    read)."""

    subscribed: bool = False
    can_edit_rules: bool = False
    sent: list[dict[str, str]] = []
    rules: list[dict[str, str]] = []
    history: list[dict[str, str]] = []
    metric_options: list[list[str]] = [[k, v[0]] for k, v in bi_reports.ALERT_METRICS.items()]
    comparison_options: list[list[str]] = [[k, v] for k, v in bi_reports.COMPARISONS.items()]
    message: str = ""
    error: str = ""
    # the rule being edited ("" = the form adds a new rule)
    editing: str = ""
    edit_metric: str = ""
    edit_comparison: str = ""
    edit_threshold: str = ""
    edit_window: str = "7"
    # the stored report opened on the page
    report_week: str = ""
    report_subject: str = ""
    report_html: str = ""
    report_note: str = ""
    report_files: list[BiReportFileRow] = []

    @rx.event
    async def load(self) -> None:
        await self._load()

    async def _load(self) -> None:
        user = await self._staff(*access.BI_SECTIONS["reports"])
        if user is None:
            self.sent = self.rules = self.history = []
            self._close_report()
            return
        self.can_edit_rules = access.has_role(user, *bi_reports.ALERT_EDITORS)
        (await self.get_state(BiState)).sections = access.bi_sections(user)  # the shared section links

        def _read(s: Any) -> tuple[Any, Any, Any, bool]:
            return (
                bi_reports.list_reports(session=s),
                bi_reports.list_rules(session=s),
                bi_reports.alert_history(session=s),
                bi_reports.is_subscribed(session=s, user_id=user.id),
            )

        found, rules, history, self.subscribed = await run_in_session(_read)
        self.sent = [
            {
                "week": r.week_start.isoformat(),
                "subject": r.subject,
                "recipients": str(r.recipients),
                "summary": r.summary,
            }
            for r in found
        ]
        self.rules = [
            {
                "id": str(r.id),
                "rule": r.sentence,
                "state": "on" if r.active else "off",
                "metric": r.metric,
                "comparison": r.comparison,
                "threshold": f"{r.threshold:g}",
                "window": str(r.window_days),
            }
            for r in rules
        ]
        self.history = [{"day": e.day.isoformat(), "rule": e.rule, "message": e.message} for e in history]

    # --- stored weekly reports ------------------------------------------------------------------

    def _close_report(self) -> None:
        self.report_week = self.report_subject = self.report_html = self.report_note = ""
        self.report_files = []

    @rx.event
    async def open_report(self, week: str) -> None:
        """Show a sent report as it was e-mailed: its HTML with the stored charts, and its CSVs."""
        self.message = self.error = ""
        user = await self._staff(*access.BI_SECTIONS["reports"])
        day = _parse_day(week)
        if user is None or day is None:
            self.error = self.denied or "Unknown report."
            return
        try:
            report = await run_in_session(lambda s: bi_reports.stored_report(session=s, actor=user, week=day))
        except SayZhongError as exc:
            self.error = exc.user_message
            return
        self.report_week = report.report.week_start.isoformat()
        self.report_subject = report.report.subject
        self.report_html = report.page_html()
        self.report_note = (
            ""
            if report.report.stored
            else "Only the summary of this report was kept (it was sent before full reports were stored): "
            + report.report.summary
        )
        self.report_files = [
            BiReportFileRow(f.name, f"{max(1, round(len(f.data) / 1024))} KB") for f in report.tables
        ]

    @rx.event
    def close_report(self) -> None:
        self._close_report()

    @rx.event
    async def download_report_file(self, name: str) -> Any:
        """A stored CSV of the open report, byte for byte as e-mailed (rx.download, no script)."""
        self.error = ""
        user = await self._staff(*access.BI_SECTIONS["reports"])
        day = _parse_day(self.report_week)
        if user is None or day is None:
            self.error = self.denied or "Open a report first."
            return None
        key = str(name)[:80]
        try:
            found = await run_in_session(
                lambda s: bi_reports.report_file(session=s, actor=user, week=day, name=key)
            )
        except SayZhongError as exc:
            self.error = exc.user_message
            return None
        return rx.download(data=found.data, filename=f"sayzhong-report-{self.report_week}-{found.name}")

    # --- subscription and alert rules -------------------------------------------------------------

    @rx.event
    async def toggle_subscription(self) -> None:
        self.message = self.error = ""
        user = await self._staff(*access.BI_SECTIONS["reports"])
        if user is None:
            return
        wanted = not self.subscribed
        await run_in_session(lambda s: bi_reports.set_subscription(session=s, actor=user, subscribed=wanted))
        self.message = "You will get the weekly report and KPI alerts." if wanted else "Unsubscribed."
        await self._load()

    @rx.event
    def edit_rule(self, rule: dict[str, str]) -> None:
        """Put a rule's settings into the form; saving it then changes that rule."""
        self.message = self.error = ""
        self.editing = str(rule.get("id", ""))
        self.edit_metric, self.edit_comparison = str(rule.get("metric", "")), str(rule.get("comparison", ""))
        self.edit_threshold, self.edit_window = str(rule.get("threshold", "")), str(rule.get("window", "7"))

    def _reset_edit(self) -> None:
        self.editing, self.edit_metric, self.edit_comparison, self.edit_threshold = "", "", "", ""
        self.edit_window = "7"

    @rx.event
    def cancel_edit(self) -> None:
        self._reset_edit()

    @rx.event
    async def add_rule(self, form: dict[str, Any]) -> None:
        """Add a rule, or change the one being edited."""
        self.message = self.error = ""
        user = await self._staff(*bi_reports.ALERT_EDITORS)
        if user is None:
            self.error = self.denied
            return
        try:
            threshold = float(str(form.get("threshold", "")).replace(",", "."))
            window = int(str(form.get("window", "7")))
            editing = int(self.editing) if self.editing else None
        except ValueError:
            self.error = "Enter the threshold and the window as numbers."
            return
        metric, comparison = str(form.get("metric", ""))[:40], str(form.get("comparison", ""))[:12]

        def _save(s: Any) -> bi_reports.AlertRuleView:
            if editing is None:
                return bi_reports.add_rule(
                    session=s,
                    actor=user,
                    metric=metric,
                    comparison=comparison,
                    threshold=threshold,
                    window_days=window,
                )
            return bi_reports.update_rule(
                session=s,
                actor=user,
                rule_id=editing,
                metric=metric,
                comparison=comparison,
                threshold=threshold,
                window_days=window,
            )

        try:
            rule = await run_in_session(_save)
        except SayZhongError as exc:
            self.error = exc.user_message
            return
        self.message = f"Alert rule {'changed' if editing else 'added'}: {rule.sentence}."
        self._reset_edit()
        await self._load()

    async def _change_rule(self, rule_id: str, change: Any, done: str) -> None:
        self.message = self.error = ""
        user = await self._staff(*bi_reports.ALERT_EDITORS)
        if user is None:
            self.error = self.denied
            return
        try:
            number = int(rule_id)
            await run_in_session(lambda s: change(s, user, number))
        except (SayZhongError, ValueError) as exc:
            self.error = exc.user_message if isinstance(exc, SayZhongError) else "Unknown rule."
            return
        self.message = done
        await self._load()

    @rx.event
    async def toggle_rule(self, rule_id: str, state: str) -> None:
        """Turn a rule off (state "on") or back on (state "off")."""
        active = state != "on"
        await self._change_rule(
            rule_id,
            lambda s, user, number: bi_reports.set_rule_active(
                session=s, actor=user, rule_id=number, active=active
            ),
            "Alert rule turned on." if active else "Alert rule turned off.",
        )

    @rx.event
    async def delete_rule(self, rule_id: str) -> None:
        if self.editing == str(rule_id):
            self._reset_edit()
        await self._change_rule(
            rule_id,
            lambda s, user, number: bi_reports.delete_rule(session=s, actor=user, rule_id=number),
            "Alert rule deleted.",
        )
