"""Reporting tables: daily aggregates computed from the app's own tables by `sayzhong.bi.aggregate`.

Every aggregate row is a count or a sum over learners — no user id, e-mail or free text — so the
BI pages read only these tables and never a learner's personal data. Days are calendar days in the
reporting time zone (`Settings.bi_timezone`, UTC by default). Money is integer minor units.
`segment` is "all" or "channel:<sign-up channel>" (see docs/bi.md). Activity, lifecycle and cohort
rows are stored for "all" and for every channel; the tone, content, mastery and segment-revenue rows
only per channel ("all" is their sum — rows computed before segments existed carry "all"). The
`bi_daily_cohort_*` tables repeat lifecycle, content and review figures per sign-up week (per channel)
for the cohort filter.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Index, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from sayzhong.db import utcnow


class BiDailyActivity(SQLModel, table=True):
    """Active learners, sign-ups and takes per reporting day and segment."""

    __tablename__ = "bi_daily_activity"

    day: date = Field(primary_key=True)
    segment: str = Field(primary_key=True, max_length=80)
    dau: int = 0
    """Learners with at least one scored take on the day."""
    wau: int = 0
    """Learners with a take in the 7 days ending on the day."""
    mau: int = 0
    """Learners with a take in the 30 days ending on the day."""
    new_learners: int = 0
    """Learner accounts created on the day (still existing when the day was computed)."""
    takes: int = 0
    review_takes: int = 0
    review_passed: int = 0
    """Review takes whose overall score reached the pass mark (review retention)."""
    onboarding_started: int = 0
    onboarding_finished: int = 0


class LifecycleFigures(SQLModel):
    """The lifecycle columns shared by the per-segment rows and the per-sign-up-week rows."""

    learners: int = 0
    prev_learners: int = 0
    """Learners who were in this state on the previous day."""
    prev_active_today: int = 0
    """…of whom this many were active on this day (the state's retention/transition rate numerator)."""


class BiDailyLifecycle(LifecycleFigures, table=True):
    """Learners per lifecycle state (Duolingo's growth model) and yesterday's state → active today."""

    __tablename__ = "bi_daily_lifecycle"

    day: date = Field(primary_key=True)
    segment: str = Field(primary_key=True, max_length=80)
    state: str = Field(primary_key=True, max_length=20)
    """new | current | reactivated | resurrected | at_risk_wau | at_risk_mau | dormant"""


class BiDailyCohortLifecycle(LifecycleFigures, table=True):
    """The same per sign-up week (the cohort filter), stored per channel only ("all" is their sum)."""

    __tablename__ = "bi_daily_cohort_lifecycle"

    day: date = Field(primary_key=True)
    cohort_week: date = Field(primary_key=True)
    """Monday of the learners' sign-up week."""
    segment: str = Field(primary_key=True, max_length=80)
    state: str = Field(primary_key=True, max_length=20)
    """new | current | reactivated | resurrected | at_risk_wau | at_risk_mau | dormant"""


class BiDailyTone(SQLModel, table=True):
    """Judged syllables and correct ones per day, tone, previous tone and speaker-profile use."""

    __tablename__ = "bi_daily_tone"

    day: date = Field(primary_key=True)
    cohort_week: date = Field(primary_key=True)
    """Monday of the learner's sign-up week."""
    segment: str = Field(primary_key=True, max_length=80)
    """The learner's "channel:<x>" ("all" only on rows computed before segments were split)."""
    tone: int = Field(primary_key=True)
    prev_tone: int = Field(primary_key=True)
    """Expected tone of the previous syllable, 0 at the start of a text."""
    speaker_profile: bool = Field(primary_key=True)
    take_bucket: str = Field(primary_key=True, max_length=8)
    """Which of the learner's takes: "1", "2-5", "6-10", "11-20", "21-50", "51+"."""
    judged: int = 0
    correct: int = 0


class BiMonthlyToneBucket(SQLModel, table=True):
    """`bi_daily_tone` summed per calendar month over previous tone and speaker profile.

    The `bi_monthly_*` tables are roll-ups of daily tables: the learning page reads the whole months of
    a long range from them (a year of daily tone rows at 100,000 learners is millions of rows) and only
    the partial months at its ends from the daily tables. The aggregation job refreshes every month it
    touches (`aggregate.MONTHLY`)."""

    __tablename__ = "bi_monthly_tone_bucket"

    month: date = Field(primary_key=True)
    """The first day of the month."""
    cohort_week: date = Field(primary_key=True)
    segment: str = Field(primary_key=True, max_length=80)
    take_bucket: str = Field(primary_key=True, max_length=8)
    tone: int = Field(primary_key=True)
    judged: int = 0
    correct: int = 0


class BiMonthlyTonePair(SQLModel, table=True):
    """`bi_daily_tone` summed per calendar month over the take bucket (tone pairs, speaker profile)."""

    __tablename__ = "bi_monthly_tone_pair"

    month: date = Field(primary_key=True)
    """The first day of the month."""
    cohort_week: date = Field(primary_key=True)
    segment: str = Field(primary_key=True, max_length=80)
    prev_tone: int = Field(primary_key=True)
    tone: int = Field(primary_key=True)
    speaker_profile: bool = Field(primary_key=True)
    judged: int = 0
    correct: int = 0


class ContentFigures(SQLModel):
    """The content-performance columns shared by the per-segment and the per-sign-up-week rows."""

    takes: int = 0
    failed_takes: int = 0
    learners: int = 0
    gave_up: int = 0
    """Learners whose last take of the item that day failed (abandonment)."""
    repeated: int = 0
    """Learners with two or more takes of the item that day…"""
    improvement_sum: float = 0.0
    """…and the sum of their (last − first) overall scores."""


class BiDailyContent(ContentFigures, table=True):
    """Per curriculum item and day: takes, failures, give-ups and improvement."""

    __tablename__ = "bi_daily_content"

    day: date = Field(primary_key=True)
    item_id: str = Field(primary_key=True, max_length=200)
    segment: str = Field(primary_key=True, max_length=80)
    """The learners' "channel:<x>" ("all" only on rows computed before segments were split)."""


class BiMonthlyContent(ContentFigures, table=True):
    """`bi_daily_content` summed per calendar month (whole months of a long range are read from here)."""

    __tablename__ = "bi_monthly_content"

    month: date = Field(primary_key=True)
    """The first day of the month."""
    item_id: str = Field(primary_key=True, max_length=200)
    segment: str = Field(primary_key=True, max_length=80)


class BiDailyCohortContent(ContentFigures, table=True):
    """The same per sign-up week of the learners (the cohort filter); per channel, summing to
    `bi_daily_content`."""

    __tablename__ = "bi_daily_cohort_content"
    # The cohort filter over a long range: read the chosen sign-up weeks, not every day's rows.
    __table_args__ = (Index("ix_bi_daily_cohort_content_cohort_day", "cohort_week", "day"),)

    day: date = Field(primary_key=True)
    cohort_week: date = Field(primary_key=True)
    item_id: str = Field(primary_key=True, max_length=200)
    segment: str = Field(primary_key=True, max_length=80)


class BiDailyCohortReview(SQLModel, table=True):
    """Review takes and passed ones per day, sign-up week and channel (review retention under the cohort
    filter); the channels and weeks of a day add up to `bi_daily_activity`'s "all" row."""

    __tablename__ = "bi_daily_cohort_review"

    day: date = Field(primary_key=True)
    cohort_week: date = Field(primary_key=True)
    segment: str = Field(primary_key=True, max_length=80)
    review_takes: int = 0
    review_passed: int = 0


class BiCohortWeek(SQLModel, table=True):
    """Learners of a sign-up week active in a later week (the cohort triangle)."""

    __tablename__ = "bi_cohort_week"

    cohort_week: date = Field(primary_key=True)
    activity_week: date = Field(primary_key=True)
    segment: str = Field(primary_key=True, max_length=80)
    cohort_size: int = 0
    active_learners: int = 0


class RevenueFigures(SQLModel):
    """The revenue columns shared by the whole-business row and the per-segment rows."""

    currency: str = Field(default="eur", max_length=3)
    mrr: int = 0
    paying: int = 0
    trialing: int = 0
    new_mrr: int = 0
    expansion_mrr: int = 0
    contraction_mrr: int = 0
    churned_mrr: int = 0
    reactivation_mrr: int = 0
    new_paying: int = 0
    churned_paying: int = 0
    reactivated_paying: int = 0
    trials_started: int = 0
    trials_converted: int = 0
    invoices_paid: int = 0
    invoiced_amount: int = 0
    refunded_amount: int = 0
    payment_failures: int = 0


class BiDailyRevenue(RevenueFigures, table=True):
    """Recurring revenue at the end of the day and its movements during the day (every customer)."""

    __tablename__ = "bi_daily_revenue"

    day: date = Field(primary_key=True)


class BiDailySegmentRevenue(RevenueFigures, table=True):
    """The same figures per sign-up channel of the customer's learner ("channel:unknown" when the
    customer has no learner account any more); the channels of a day add up to its `bi_daily_revenue`."""

    __tablename__ = "bi_daily_segment_revenue"

    day: date = Field(primary_key=True)
    segment: str = Field(primary_key=True, max_length=80)


class BiDailyToneStart(SQLModel, table=True):
    """Learners whose first judged syllable of a tone was on the day (time to mastery: who started)."""

    __tablename__ = "bi_daily_tone_start"

    day: date = Field(primary_key=True)
    cohort_week: date = Field(primary_key=True)
    segment: str = Field(primary_key=True, max_length=80)
    tone: int = Field(primary_key=True)
    learners: int = 0


class BiDailyMastery(SQLModel, table=True):
    """Learners who first mastered a tone on the day, by how long it took them (docs/bi.md: ≥ 80 % of
    their last 20 judged syllables of the tone correct). `days` and `takes` are counted from their first
    take of the tone; summing rows up to a day gives the distribution of time to mastery."""

    __tablename__ = "bi_daily_mastery"

    day: date = Field(primary_key=True)
    cohort_week: date = Field(primary_key=True)
    segment: str = Field(primary_key=True, max_length=80)
    tone: int = Field(primary_key=True)
    days: int = Field(primary_key=True)
    """Reporting days from the first take of the tone to the mastering take (0: the same day)."""
    takes: int = Field(primary_key=True)
    """Takes with a judged syllable of the tone, the first and the mastering take included."""
    learners: int = 0


class BiMonthlyToneStart(SQLModel, table=True):
    """`bi_daily_tone_start` summed per calendar month (time to mastery sums every month up to a day)."""

    __tablename__ = "bi_monthly_tone_start"

    month: date = Field(primary_key=True)
    """The first day of the month."""
    cohort_week: date = Field(primary_key=True)
    segment: str = Field(primary_key=True, max_length=80)
    tone: int = Field(primary_key=True)
    learners: int = 0


class BiMonthlyMastery(SQLModel, table=True):
    """`bi_daily_mastery` summed per calendar month."""

    __tablename__ = "bi_monthly_mastery"

    month: date = Field(primary_key=True)
    """The first day of the month."""
    cohort_week: date = Field(primary_key=True)
    segment: str = Field(primary_key=True, max_length=80)
    tone: int = Field(primary_key=True)
    days: int = Field(primary_key=True)
    takes: int = Field(primary_key=True)
    learners: int = 0


class BiToneProgress(SQLModel, table=True):
    """A learner's way to mastery of each tone as of a moment, so the nightly job reads only the syllables
    judged since then instead of the learner's whole history (a derived working state of the aggregation
    job, never shown: the BI pages read only the daily counts). Rebuilt by re-aggregating from the first
    day; erased with the account."""

    __tablename__ = "bi_tone_progress"

    user_id: int = Field(foreign_key="user_account.id", primary_key=True, ondelete="CASCADE")
    as_of: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    """The state covers the learner's judged syllables before this instant."""
    tones: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    """Tone ("1"–"4") → {"first_at": ISO instant of the first judged syllable, "takes": takes with a
    judged syllable of it, "recent": the last ≤ 20 verdicts as "1"/"0", "mastered_at": ISO instant or
    null}; a tone not listed had no judged syllable before `as_of`."""


class BiDailyAcquisition(SQLModel, table=True):
    """Visits, sign-ups and first payments per day, channel and campaign."""

    __tablename__ = "bi_daily_acquisition"

    day: date = Field(primary_key=True)
    channel: str = Field(primary_key=True, max_length=80)
    campaign: str = Field(primary_key=True, max_length=80)
    visits: int = 0
    """Distinct anonymous visitors whose first page view was on the day."""
    signups: int = 0
    referred_signups: int = 0
    first_paid: int = 0


class BiDailySupport(SQLModel, table=True):
    __tablename__ = "bi_daily_support"

    day: date = Field(primary_key=True)
    tickets_opened: int = 0
    open_tickets: int = 0
    """Tickets open (not resolved or closed) at the end of the day."""
    verdict_answers: int = 0
    verdict_disputed: int = 0
    """"Was this right?" answers that disagreed with the engine (engine disagreement)."""


class BiCampaignSpend(SQLModel, table=True):
    """Marketing spend per channel/campaign and month, entered on the acquisition page."""

    __tablename__ = "bi_campaign_spend"

    id: int | None = Field(default=None, primary_key=True)
    month: date = Field(index=True)
    """First day of the month."""
    channel: str = Field(max_length=80)
    campaign: str = Field(default="", max_length=80)
    amount: int
    """Minor units."""
    currency: str = Field(default="eur", max_length=3)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )


class BiAggregateRun(SQLModel, table=True):
    """When each day was last aggregated (data freshness shown on the pages)."""

    __tablename__ = "bi_aggregate_run"

    day: date = Field(primary_key=True)
    computed_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )


# --- weekly report and KPI alerts ----------------------------------------------------------------


class BiReportSubscription(SQLModel, table=True):
    """A staff member who receives the weekly report and KPI alert e-mails."""

    __tablename__ = "bi_report_subscription"

    user_id: int = Field(foreign_key="user_account.id", primary_key=True, ondelete="CASCADE")
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )


class BiReport(SQLModel, table=True):
    """One weekly report as sent: its KPI summary, the e-mail's HTML and (in `bi_report_file`) its charts
    and CSVs, byte for byte, so the BI reports page shows exactly what was e-mailed."""

    __tablename__ = "bi_report"

    id: int | None = Field(default=None, primary_key=True)
    week_start: date = Field(unique=True)
    subject: str = Field(max_length=200)
    summary: str = Field(sa_column=Column(Text, nullable=False))
    html: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    """The e-mail's HTML body (charts referenced as `cid:<inline_id>`); empty for reports stored before
    the full report was kept."""
    recipients: int = 0
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )


class BiReportFile(SQLModel, table=True):
    """A chart (PNG, inline in the HTML) or a table (CSV attachment) of a stored weekly report.

    Kept in the database (a report is about 60 KB), so the report, its files and the backup move together."""

    __tablename__ = "bi_report_file"
    __table_args__ = (UniqueConstraint("report_id", "name", name="uq_bi_report_file_name"),)

    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(foreign_key="bi_report.id", index=True, ondelete="CASCADE")
    position: int = 0
    """Order of the attachment in the e-mail."""
    name: str = Field(max_length=80)
    content_type: str = Field(max_length=40)
    inline_id: str | None = Field(default=None, max_length=40)
    """Content-ID of an inline chart (`cid:` in the HTML); None for attachments."""
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class BiAlertRule(SQLModel, table=True):
    """A KPI alert: fire when `metric` over the last `window_days` compares to `threshold`."""

    __tablename__ = "bi_alert_rule"

    id: int | None = Field(default=None, primary_key=True)
    metric: str = Field(max_length=40)
    comparison: str = Field(max_length=12)
    """below | above (the value against the threshold), drop_pct | rise_pct (against the previous window)"""
    threshold: float
    window_days: int = 7
    active: bool = True
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )


class BiAlertEvent(SQLModel, table=True):
    """An alert that fired (once per rule and day), for the history."""

    __tablename__ = "bi_alert_event"
    __table_args__ = (UniqueConstraint("rule_id", "day", name="uq_bi_alert_event_rule_day"),)

    id: int | None = Field(default=None, primary_key=True)
    rule_id: int = Field(foreign_key="bi_alert_rule.id", index=True, ondelete="CASCADE")
    day: date
    value: float | None = None
    message: str = Field(max_length=500)
    notified: int = 0
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
