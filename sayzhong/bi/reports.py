"""The weekly BI report e-mail and the KPI alert rules (evaluated daily), both sent through the mailer
port to subscribed staff. Reports carry aggregates only: charts as inline PNGs, tables as CSV files."""

from __future__ import annotations

import base64
import html
import io
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from sayzhong.accounts.access import BI_SECTIONS, HasRole, Role, require_role
from sayzhong.accounts.models import User
from sayzhong.audit import record_audit
from sayzhong.bi import metrics, views
from sayzhong.bi.aggregate import week_start
from sayzhong.bi.models import (
    BiAlertEvent,
    BiAlertRule,
    BiDailyActivity,
    BiDailyRevenue,
    BiReport,
    BiReportFile,
    BiReportSubscription,
)
from sayzhong.db import as_utc
from sayzhong.errors import NotFoundError, ValidationError
from sayzhong.lazy_imports import import_whole
from sayzhong.notifications.ports import EmailAttachment, EmailMessageData, Mailer

log = logging.getLogger(__name__)

REPORT_READERS = BI_SECTIONS["overview"]
ALERT_EDITORS = (Role.ADMIN,)
COMPARISONS = {
    "below": "below",
    "above": "above",
    "drop_pct": "drops by more than",
    "rise_pct": "rises by more than",
}
"""How a rule compares: the window's value against the threshold, or its change (in %) against the
window before it (e.g. D7 retention drops by more than 20 % week over week)."""


# --- alert metrics (each over the `window` days ending on `day`) ----------------------------------


def _activity(session: Session, start: date, end: date) -> list[BiDailyActivity]:
    return list(
        session.exec(
            select(BiDailyActivity).where(
                BiDailyActivity.segment == metrics.ALL,
                col(BiDailyActivity.day) >= start,
                col(BiDailyActivity.day) <= end,
            )
        ).all()
    )


def _onboarding_completion(session: Session, start: date, end: date) -> float | None:
    rows = _activity(session, start, end)
    return metrics.ratio(sum(r.onboarding_finished for r in rows), sum(r.onboarding_started for r in rows))


def _payment_failure_rate(session: Session, start: date, end: date) -> float | None:
    rows = session.exec(
        select(BiDailyRevenue).where(col(BiDailyRevenue.day) >= start, col(BiDailyRevenue.day) <= end)
    ).all()
    failures = sum(r.payment_failures for r in rows)
    return metrics.ratio(failures, failures + sum(r.invoices_paid for r in rows))


def _d7_retention(session: Session, start: date, end: date) -> float | None:
    # The latest sign-up week whose following week has fully ended by `end`.
    cohort = week_start(end - timedelta(days=13))
    return metrics.week1_retention(session=session, cohort_week=cohort)


def _dau(session: Session, start: date, end: date) -> float | None:
    rows = _activity(session, start, end)
    return sum(r.dau for r in rows) / len(rows) if rows else None


def _mrr(session: Session, start: date, end: date) -> float | None:
    row = session.get(BiDailyRevenue, end)
    return float(row.mrr) if row else None


ALERT_METRICS: dict[str, tuple[str, str, Callable[[Session, date, date], float | None]]] = {
    "onboarding_completion": ("Onboarding completion", "percent", _onboarding_completion),
    "d7_retention": ("Week-1 (D7) retention of the latest complete cohort", "percent", _d7_retention),
    "payment_failure_rate": ("Payment failures", "percent", _payment_failure_rate),
    "dau": ("Daily active learners (average)", "count", _dau),
    "mrr": ("MRR (minor units)", "money", _mrr),
}


@dataclass(frozen=True, slots=True)
class AlertRuleView:
    id: int
    metric: str
    label: str
    comparison: str
    threshold: float
    window_days: int
    active: bool

    @property
    def sentence(self) -> str:
        unit = "%" if self.comparison.endswith("pct") or ALERT_METRICS[self.metric][1] == "percent" else ""
        versus = " against the previous window" if self.comparison.endswith("pct") else ""
        limit = f"{self.threshold:g}{unit}"
        return f"{self.label} {COMPARISONS[self.comparison]} {limit}{versus} ({self.window_days} days)"


@dataclass(frozen=True, slots=True)
class AlertEventView:
    day: date
    rule: str
    value: float | None
    message: str
    notified: int
    created_at: datetime


def _rule_view(row: BiAlertRule) -> AlertRuleView:
    assert row.id is not None
    label = ALERT_METRICS.get(row.metric, (row.metric, "count", _dau))[0]
    return AlertRuleView(
        row.id, row.metric, label, row.comparison, row.threshold, row.window_days, row.active
    )


def _rule_values(row: BiAlertRule) -> dict[str, Any]:
    """A rule's settings as the audit log keeps them (before/after a change)."""
    return {
        "metric": row.metric,
        "comparison": row.comparison,
        "threshold": row.threshold,
        "window_days": row.window_days,
        "active": row.active,
    }


def _rule_audit(actor: Any, rule_id: int | None, before: Any, after: Any) -> dict[str, Any]:
    """`record_audit` arguments for a rule change (the action is written at each call, literally)."""
    return {
        "actor_id": getattr(actor, "id", None),
        "target": f"bi_alert_rule:{rule_id}",
        "detail": {"before": before, "after": after},
    }


def _checked_rule(metric: str, comparison: str, threshold: float, window_days: int) -> None:
    if metric not in ALERT_METRICS:
        raise ValidationError("Choose one of the listed metrics.", code="bi_alert_bad_metric")
    if comparison not in COMPARISONS:
        raise ValidationError("Choose one of the listed comparisons.", code="bi_alert_bad_comparison")
    if not 1 <= window_days <= 90:
        raise ValidationError("The window is 1 to 90 days.", code="bi_alert_bad_window")
    if not -1e12 < threshold < 1e12:
        raise ValidationError("Enter the threshold as a number.", code="bi_alert_bad_threshold")


def _existing_rule(session: Session, rule_id: int) -> BiAlertRule:
    row = session.get(BiAlertRule, rule_id)
    if row is None:
        raise NotFoundError("That alert rule no longer exists.", code="bi_alert_not_found")
    return row


def add_rule(
    *,
    session: Session,
    actor: HasRole | None,
    metric: str,
    comparison: str,
    threshold: float,
    window_days: int,
) -> AlertRuleView:
    require_role(actor, *ALERT_EDITORS)
    _checked_rule(metric, comparison, threshold, window_days)
    row = BiAlertRule(metric=metric, comparison=comparison, threshold=threshold, window_days=window_days)
    session.add(row)
    session.flush()
    record_audit(
        session=session, action="bi.alert_rule_created", **_rule_audit(actor, row.id, None, _rule_values(row))
    )
    return _rule_view(row)


def update_rule(
    *,
    session: Session,
    actor: HasRole | None,
    rule_id: int,
    metric: str,
    comparison: str,
    threshold: float,
    window_days: int,
) -> AlertRuleView:
    """Change a rule's metric, comparison, threshold or window (its history stays with it)."""
    require_role(actor, *ALERT_EDITORS)
    _checked_rule(metric, comparison, threshold, window_days)
    row = _existing_rule(session, rule_id)
    before = _rule_values(row)
    row.metric, row.comparison, row.threshold, row.window_days = metric, comparison, threshold, window_days
    session.add(row)
    session.flush()
    if _rule_values(row) != before:
        record_audit(
            session=session,
            action="bi.alert_rule_updated",
            **_rule_audit(actor, rule_id, before, _rule_values(row)),
        )
    return _rule_view(row)


def set_rule_active(*, session: Session, actor: HasRole | None, rule_id: int, active: bool) -> AlertRuleView:
    """Turn a rule off (kept with its history, not evaluated) or on again."""
    require_role(actor, *ALERT_EDITORS)
    row = _existing_rule(session, rule_id)
    if row.active != active:
        before = _rule_values(row)
        row.active = active
        session.add(row)
        session.flush()
        audit = _rule_audit(actor, rule_id, before, _rule_values(row))
        if active:
            record_audit(session=session, action="bi.alert_rule_enabled", **audit)
        else:
            record_audit(session=session, action="bi.alert_rule_disabled", **audit)
    return _rule_view(row)


def delete_rule(*, session: Session, actor: HasRole | None, rule_id: int) -> None:
    require_role(actor, *ALERT_EDITORS)
    row = _existing_rule(session, rule_id)
    before = _rule_values(row)
    session.delete(row)
    session.flush()
    record_audit(session=session, action="bi.alert_rule_deleted", **_rule_audit(actor, rule_id, before, None))


def list_rules(*, session: Session) -> list[AlertRuleView]:
    return [_rule_view(r) for r in session.exec(select(BiAlertRule).order_by(col(BiAlertRule.id))).all()]


def alert_history(*, session: Session, limit: int = 100) -> list[AlertEventView]:
    rows = session.exec(
        select(BiAlertEvent, BiAlertRule)
        .join(BiAlertRule, col(BiAlertRule.id) == col(BiAlertEvent.rule_id))
        .order_by(col(BiAlertEvent.day).desc(), col(BiAlertEvent.id).desc())
        .limit(limit)
    ).all()
    return [
        AlertEventView(e.day, _rule_view(r).sentence, e.value, e.message, e.notified, as_utc(e.created_at))
        for e, r in rows
    ]


def rule_value(session: Session, rule: AlertRuleView, day: date) -> tuple[float | None, float | None]:
    """(value over the window ending on `day`, value over the window before it)."""
    fn = ALERT_METRICS[rule.metric][2]
    window = timedelta(days=rule.window_days)
    now = fn(session, day - window + timedelta(days=1), day)
    before = fn(session, day - 2 * window + timedelta(days=1), day - window)
    return now, before


def fires(rule: AlertRuleView, value: float | None, previous: float | None) -> bool:
    if value is None:
        return False
    percent = ALERT_METRICS[rule.metric][1] == "percent"
    if rule.comparison in ("below", "above"):
        limit = rule.threshold / 100 if percent else rule.threshold
        return value < limit if rule.comparison == "below" else value > limit
    if not previous:
        return False
    change = (value - previous) / abs(previous) * 100
    return change < -rule.threshold if rule.comparison == "drop_pct" else change > rule.threshold


def _show(rule: AlertRuleView, value: float | None) -> str:
    if value is None:
        return "no data"
    return f"{value:.1%}" if ALERT_METRICS[rule.metric][1] == "percent" else f"{value:,.1f}"


def _mailer(session: Session, mailer: Mailer | None) -> Mailer:
    if mailer is not None:
        return mailer
    from sayzhong import wiring
    from sayzhong.settings import get_settings

    return wiring.get_mailer(get_settings(), session=session)


def evaluate_alerts(*, session: Session, day: date, mailer: Mailer | None = None) -> list[AlertEventView]:
    """Check every active rule for `day`; a rule fires at most once per day (re-runs send nothing new)."""
    mailer = _mailer(session, mailer)
    fired: list[AlertEventView] = []
    recipients = subscribers(session=session)
    for rule in list_rules(session=session):
        if not rule.active or rule.metric not in ALERT_METRICS:
            continue
        value, previous = rule_value(session, rule, day)
        if not fires(rule, value, previous):
            continue
        message = f"{rule.sentence}: now {_show(rule, value)} (previous window {_show(rule, previous)})."
        row = BiAlertEvent(
            rule_id=rule.id, day=day, value=value, message=message[:500], notified=len(recipients)
        )
        try:
            with session.begin_nested():
                session.add(row)
        except IntegrityError:
            continue  # already fired for this day
        for to in recipients:
            mailer.send(
                EmailMessageData(
                    to=to,
                    subject=f"SayZhong KPI alert: {rule.metric.replace('_', ' ')}",
                    text_body=f"{message}\n\nDay: {day.isoformat()}. Alert rules: the BI reports page.\n",
                )
            )
        fired.append(
            AlertEventView(day, rule.sentence, value, message, len(recipients), as_utc(row.created_at))
        )
    return fired


# --- subscriptions and the weekly report ---------------------------------------------------------


def set_subscription(*, session: Session, actor: Any, subscribed: bool) -> None:
    require_role(actor, *REPORT_READERS)
    row = session.get(BiReportSubscription, actor.id)
    if subscribed and row is None:
        session.add(BiReportSubscription(user_id=actor.id))
    elif not subscribed and row is not None:
        session.delete(row)
    session.flush()


def is_subscribed(*, session: Session, user_id: int) -> bool:
    return session.get(BiReportSubscription, user_id) is not None


def subscribers(*, session: Session) -> list[str]:
    """E-mail addresses of subscribed staff who may still read the report (roles are re-checked)."""
    rows = session.exec(
        select(User.email)
        .join(BiReportSubscription, col(BiReportSubscription.user_id) == col(User.id))
        .where(col(User.role).in_([str(r) for r in REPORT_READERS]), col(User.deactivated_at).is_(None))
        .order_by(col(User.email))
    ).all()
    return list(rows)


def _chart_png(title: str, points: list[tuple[str, float]], ylabel: str) -> bytes:
    import_whole("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    import_whole("matplotlib.pyplot")
    from matplotlib import pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 2.6), dpi=100)
    try:
        ax.plot([p[0][5:] for p in points], [p[1] for p in points], marker="o", color="#2563eb")
        ax.set_title(title)
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
        return buf.getvalue()
    finally:
        plt.close(fig)


@dataclass(frozen=True, slots=True)
class WeeklyReport:
    week_start: date
    subject: str
    text: str
    html: str
    attachments: tuple[EmailAttachment, ...]


def build_weekly_report(*, session: Session, week: date) -> WeeklyReport:
    """The report for the Monday-to-Sunday week starting `week` (compared with the week before)."""
    start = week_start(week)
    end = start + timedelta(days=6)
    overview = metrics.overview(session=session, start=start, end=end)
    revenue = metrics.revenue(session=session, start=start, end=end)
    retention = metrics.retention(session=session, start=start - timedelta(weeks=8), end=end, weeks=9)
    acquisition = metrics.acquisition(session=session, start=start, end=end)
    lines = []
    for kpi in [*overview.kpis, *revenue.kpis[1:]]:
        value, change = views.format_kpi(kpi, revenue.currency)
        lines.append((kpi.label, value, change))
    subject = f"SayZhong weekly report {start.isoformat()} – {end.isoformat()}"
    text = (
        subject
        + "\n\n"
        + "\n".join(f"- {label}: {value} {change}".rstrip() for label, value, change in lines)
    )
    charts = (
        (
            "dau",
            "Daily active learners",
            [(str(r[0]), float(r[1] or 0)) for r in overview.daily.rows],
            "learners",
        ),
        (
            "mrr",
            "MRR",
            [(str(r[0]), float(r[1] or 0) / 100) for r in revenue.daily.rows],
            revenue.currency.upper(),
        ),
    )
    attachments = [
        EmailAttachment(f"{key}.png", "image/png", _chart_png(title, points, unit), inline_id=f"{key}-chart")
        for key, title, points, unit in charts
    ]
    for table in (
        overview.daily,
        acquisition.by_campaign,
        retention.cohorts,
        revenue.daily,
        revenue.movements,
    ):
        attachments.append(
            EmailAttachment(f"{table.key}.csv", "text/csv", metrics.to_csv(table).encode("utf-8"))
        )
    rows_html = "".join(
        f"<tr><th scope='row' style='text-align:left'>{html.escape(label)}</th><td>{html.escape(value)}</td>"
        f"<td>{html.escape(change)}</td></tr>"
        for label, value, change in lines
    )
    body = (
        f"<h1>{html.escape(subject)}</h1><table>{rows_html}</table>"
        + "".join(
            f"<p><img src='cid:{key}-chart' alt='{html.escape(title)} chart'></p>"
            for key, title, *_ in charts
        )
        + "<p>Tables are attached as CSV files. Cells for fewer than 5 learners show &lt;5.</p>"
    )
    return WeeklyReport(start, subject, text, body, tuple(attachments))


@dataclass(frozen=True, slots=True)
class ReportView:
    week_start: date
    subject: str
    summary: str
    recipients: int
    created_at: datetime
    stored: bool = True
    """The HTML, charts and CSVs were kept (False for reports sent before they were)."""


def _report_view(row: BiReport) -> ReportView:
    return ReportView(
        row.week_start, row.subject, row.summary, row.recipients, as_utc(row.created_at), bool(row.html)
    )


def send_weekly_report(*, session: Session, week: date, mailer: Mailer | None = None) -> ReportView | None:
    """Build, store and e-mail the week's report once (None when it was already sent).

    The stored HTML and files are the very bytes handed to the mailer, so the BI reports page shows
    what subscribers got."""
    mailer = _mailer(session, mailer)
    start = week_start(week)
    if session.exec(select(BiReport.id).where(BiReport.week_start == start)).first() is not None:
        return None
    report = build_weekly_report(session=session, week=start)
    recipients = subscribers(session=session)
    row = BiReport(
        week_start=start,
        subject=report.subject,
        summary=report.text,
        html=report.html,
        recipients=len(recipients),
    )
    session.add(row)
    session.flush()
    assert row.id is not None
    for position, attachment in enumerate(report.attachments):
        session.add(
            BiReportFile(
                report_id=row.id,
                position=position,
                name=attachment.filename,
                content_type=attachment.content_type,
                inline_id=attachment.inline_id,
                data=attachment.data,
            )
        )
    session.flush()
    for to in recipients:
        mailer.send(
            EmailMessageData(
                to=to,
                subject=report.subject,
                text_body=report.text,
                html_body=report.html,
                attachments=report.attachments,
            )
        )
    return _report_view(row)


def list_reports(*, session: Session, limit: int = 52) -> list[ReportView]:
    rows = session.exec(select(BiReport).order_by(col(BiReport.week_start).desc()).limit(limit)).all()
    return [_report_view(r) for r in rows]


# --- stored reports, read back on the BI reports page ---------------------------------------------


@dataclass(frozen=True, slots=True)
class StoredFile:
    name: str
    content_type: str
    inline_id: str | None
    data: bytes


@dataclass(frozen=True, slots=True)
class StoredReport:
    report: ReportView
    html: str
    """The HTML exactly as e-mailed (charts as `cid:` references)."""
    files: tuple[StoredFile, ...]

    @property
    def charts(self) -> tuple[StoredFile, ...]:
        return tuple(f for f in self.files if f.inline_id)

    @property
    def tables(self) -> tuple[StoredFile, ...]:
        return tuple(f for f in self.files if not f.inline_id)

    def page_html(self) -> str:
        """The HTML for a web page: each `cid:` chart replaced by its stored PNG as a data: URL (the
        pages' Content-Security-Policy allows data: images and no inline script)."""
        out = self.html
        for chart in self.charts:
            encoded = base64.b64encode(chart.data).decode("ascii")
            for quote in ("'", '"'):
                out = out.replace(
                    f"{quote}cid:{chart.inline_id}{quote}",
                    f"{quote}data:{chart.content_type};base64,{encoded}{quote}",
                )
        return out


def _stored_row(session: Session, actor: Any, week: date) -> BiReport:
    views.require_reader(actor, "reports")
    row = session.exec(select(BiReport).where(BiReport.week_start == week_start(week))).first()
    if row is None:
        raise NotFoundError("There is no stored report for that week.", code="bi_report_not_found")
    return row


def stored_report(*, session: Session, actor: Any, week: date) -> StoredReport:
    """A sent report with its charts and CSVs (admins and analysts, two-factor sign-in on)."""
    row = _stored_row(session, actor, week)
    files = session.exec(
        select(BiReportFile).where(BiReportFile.report_id == row.id).order_by(col(BiReportFile.position))
    ).all()
    return StoredReport(
        _report_view(row),
        row.html,
        tuple(StoredFile(f.name, f.content_type, f.inline_id, f.data) for f in files),
    )


def report_file(*, session: Session, actor: Any, week: date, name: str) -> StoredFile:
    """One stored chart or CSV of a sent report, byte for byte as e-mailed."""
    row = _stored_row(session, actor, week)
    found = session.exec(
        select(BiReportFile).where(BiReportFile.report_id == row.id, BiReportFile.name == name[:80])
    ).first()
    if found is None:
        raise NotFoundError("That file is not part of the stored report.", code="bi_report_file_not_found")
    return StoredFile(found.name, found.content_type, found.inline_id, found.data)
