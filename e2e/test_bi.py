"""BI journeys (issue 15): an analyst signs in with two-factor, opens the overview, filters the date
range and downloads a table as CSV; an admin opens a stored weekly report, downloads one of its CSVs
and changes a KPI alert rule — the figures come from tests/support/bi_scenario.py."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from e2e.a11y import axe_problems
from e2e.conftest import RunningApp
from e2e.helpers import expect_onboarding, sign_in, sign_out, sign_up, unique_email, visit

SEED = (
    "from sayzhong.db import session_scope\n"
    "from tests.support.bi_scenario import build_billing, build_learners\n"
    "with session_scope() as s:\n"
    "    build_billing(s, build_learners(s))\n"
)


@pytest.fixture(scope="module")
def bi_data(app: RunningApp) -> RunningApp:
    """The scenario's learners and billing, aggregated (once for the module: the app is per session)."""
    app.python(SEED)
    app.cli("bi", "aggregate", "--from", "2026-02-20", "--to", "2026-03-08", "--timezone", "UTC")
    return app


def _staff_signed_in(page: Page, app: RunningApp, *, name: str, role: str) -> None:
    """A new account given a staff role and two-factor sign-in, signed in again with its code."""
    email = unique_email(role)
    sign_up(page, app.url, email=email, name=name)
    expect_onboarding(page, app.url, name)
    app.set_role(email, role)
    secret = app.enable_two_factor(email)
    sign_out(page)
    expect(page).to_have_url(re.compile(re.escape(app.url) + "/?$"))
    sign_in(page, app.url, email=email, totp_secret=secret)
    expect(page).to_have_url(re.compile(r"/(home|onboarding|admin)/?$"))


def test_analyst_filters_the_overview_and_downloads_a_csv(page: Page, bi_data: RunningApp) -> None:
    app = bi_data
    _staff_signed_in(page, app, name="Ana", role="analyst")

    visit(page, app.url + "/admin/bi")
    expect(page.get_by_role("heading", name="Business overview", level=1)).to_be_visible()
    expect(page.get_by_text("Aggregated up to")).to_be_visible()  # loaded: the filter shows the data's range
    page.get_by_label("From").fill("2026-03-02")
    page.get_by_label("To").fill("2026-03-02")
    expect(page.get_by_label("From")).to_have_value("2026-03-02")
    expect(page.get_by_label("To")).to_have_value("2026-03-02")
    page.get_by_role("button", name="Apply").click()
    daily = page.get_by_role("region", name="Daily activity")
    expect(daily).to_contain_text("2026-03-02")
    expect(daily.get_by_role("row")).to_have_count(2)  # header + the one day
    # A, B and C practised on 03-02 (the staff member's take does not count).
    expect(page.get_by_text("Daily active learners (average)").locator("..")).to_contain_text("3")
    assert not axe_problems(page, "bi overview filtered")

    with page.expect_download() as info:
        page.get_by_role("button", name="Download CSV: Daily activity").click()
    download = info.value
    assert download.suggested_filename == "sayzhong-overview-overview_daily-2026-03-02-2026-03-02.csv"
    text = Path(download.path()).read_text(encoding="utf-8")
    assert text.splitlines() == ["day,dau,wau,mau,new_learners,takes", "2026-03-02,3,4,4,1,4"]
    # Analysts read; the revenue page is theirs too, and nothing there names a learner.
    page.get_by_role("link", name="Revenue", exact=True).click()
    expect(page.get_by_role("heading", name="Revenue", level=1)).to_be_visible()
    expect(page.get_by_text("a@example.com")).to_have_count(0)

    # Cohort filter on retention (issue 15): the scenario's sign-up weeks are 01-05 (A, E), 02-02
    # (C, D) and 03-02 (B); one cohort week narrows the triangle and its CSV to that week.
    page.get_by_role("link", name="Retention", exact=True).click()
    expect(page.get_by_role("heading", name="Retention", level=1)).to_be_visible()
    # Its on-load read has run once its own tables are there (then the filter can be typed into).
    expect(
        page.get_by_role("region", name="Transition rates: yesterday's state → active today")
    ).to_be_visible()
    expect(page.get_by_label("Cohorts from (sign-up week)")).to_contain_text("2026-02-02")
    page.get_by_label("From", exact=True).fill("2026-01-05")
    page.get_by_label("To", exact=True).fill("2026-03-08")
    page.get_by_label("Cohorts from (sign-up week)").select_option("2026-02-02")
    page.get_by_label("Cohorts to").select_option("2026-02-02")
    page.get_by_role("button", name="Apply").click()
    cohorts = page.get_by_role("region", name="Weekly cohorts: share active by weeks since sign-up")
    expect(cohorts.get_by_role("row")).to_have_count(2)  # header + the 02-02 cohort
    expect(cohorts).to_contain_text("2026-02-02")
    with page.expect_download() as info:
        page.get_by_role(
            "button", name="Download CSV: Weekly cohorts: share active by weeks since sign-up"
        ).click()
    lines = Path(info.value.path()).read_text(encoding="utf-8").splitlines()
    assert [line.split(",")[:2] for line in lines[1:]] == [["2026-02-02", "<5"]]  # 2 learners: hidden

    # Segment and cohort on learning: time to mastery per learner, aggregates only.
    page.get_by_role("link", name="Learning", exact=True).click()
    expect(page.get_by_role("heading", name="Learning effectiveness", level=1)).to_be_visible()
    expect(page.get_by_role("region", name="Tone accuracy by take number")).to_be_visible()
    expect(page.get_by_label("Segment (sign-up channel)")).to_contain_text("channel:organic")
    page.get_by_label("Segment (sign-up channel)").select_option("channel:organic")
    page.get_by_label("Cohorts from (sign-up week)").select_option("")
    page.get_by_label("Cohorts to").select_option("")
    page.get_by_role("button", name="Apply").click()
    mastery = page.get_by_role("region", name=re.compile("Time to mastery per learner"))
    expect(mastery.get_by_role("row")).to_have_count(6)  # header, 4 tones of all cohorts, B's week
    expect(mastery).to_contain_text("2026-03-02")
    assert not axe_problems(page, "bi learning filtered")


STORED_CSV = (
    "from sayzhong.db import session_scope\n"
    "from sayzhong.bi.models import BiReportFile\n"
    "from sqlmodel import select\n"
    "with session_scope() as s:\n"
    "    found = s.exec(select(BiReportFile).where(BiReportFile.name == 'mrr_movements.csv')).one()\n"
    "    print(found.data.hex())\n"
)
RULE_AUDIT = (
    "from sayzhong.db import session_scope\n"
    "from sayzhong.audit import list_audit_events\n"
    "with session_scope() as s:\n"
    "    items = reversed(list_audit_events(session=s, page_size=200).items)\n"
    "    print(' '.join(e.action for e in items if e.action.startswith('bi.')))\n"
)


def test_admin_opens_a_stored_weekly_report_and_changes_an_alert_rule(
    page: Page, bi_data: RunningApp
) -> None:
    app = bi_data
    _staff_signed_in(page, app, name="Bo", role="admin")
    assert "bi report:" in app.cli("bi", "report", "--week", "2026-03-02").stdout

    visit(page, app.url + "/admin/bi/reports")
    expect(page.get_by_role("heading", name="Reports and alerts", level=1)).to_be_visible()
    page.get_by_role("button", name="Open the report of the week of 2026-03-02").click()
    report = page.get_by_role("region", name="Stored report")
    expect(report).to_contain_text("SayZhong weekly report 2026-03-02 – 2026-03-08")
    for chart in ("Daily active learners chart", "MRR chart"):
        image = report.get_by_role("img", name=chart)
        expect(image).to_be_visible()
        assert (
            image.evaluate("img => img.complete && img.naturalWidth") == 600
        )  # the stored 6 in × 100 dpi PNG
    assert not axe_problems(page, "bi stored report")
    page.set_viewport_size({"width": 390, "height": 844})  # a phone: the charts shrink to the screen
    assert report.get_by_role("img", name="MRR chart").evaluate("img => img.clientWidth") < 390
    assert not axe_problems(page, "bi stored report (phone)")
    page.set_viewport_size({"width": 1280, "height": 800})
    expect(page.get_by_role("navigation", name="Business intelligence sections")).to_contain_text("Revenue")

    with page.expect_download() as info:
        report.get_by_role("button", name="Download mrr_movements.csv").click()
    download = info.value
    assert download.suggested_filename == "sayzhong-report-2026-03-02-mrr_movements.csv"
    data = Path(download.path()).read_bytes()
    assert data == bytes.fromhex(app.python(STORED_CSV).strip())  # the stored (= e-mailed) bytes
    assert b"new,1666" in data

    # A KPI alert rule: add, edit, turn off — each change is in the audit log.
    page.get_by_label("Metric").select_option("dau")
    page.get_by_label("Comparison").select_option("below")
    page.get_by_label("Threshold (% for shares and changes)").fill("3")
    page.get_by_role("button", name="Add rule").click()
    rules = page.get_by_role("region", name="KPI alert rules")
    expect(rules).to_contain_text("Daily active learners (average) below 3 (7 days)")
    page.get_by_role("button", name=re.compile("^Edit rule: Daily active learners")).click()
    expect(page.get_by_role("heading", name="Change alert rule")).to_be_visible()
    expect(page.get_by_label("Threshold (% for shares and changes)")).to_have_value("3")
    page.get_by_label("Threshold (% for shares and changes)").fill("5")
    page.get_by_role("button", name="Save changes").click()
    expect(rules).to_contain_text("Daily active learners (average) below 5 (7 days)")
    page.get_by_role("button", name=re.compile("^Turn off rule: ")).click()
    expect(rules.get_by_role("cell", name="off", exact=True)).to_be_visible()
    expect(rules.get_by_role("button", name=re.compile("^Turn on rule: "))).to_be_visible()
    assert app.python(RULE_AUDIT).split() == [
        "bi.alert_rule_created",
        "bi.alert_rule_updated",
        "bi.alert_rule_disabled",
    ]
