"""BI journey (issue 15): an analyst signs in with two-factor, opens the overview, filters the date
range and downloads a table as CSV — the figures come from tests/support/bi_scenario.py."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect

from e2e.a11y import axe_problems
from e2e.conftest import RunningApp
from e2e.helpers import expect_onboarding, sign_in, sign_out, sign_up, unique_email

SEED = (
    "from sayzhong.db import session_scope\n"
    "from tests.support.bi_scenario import build_billing, build_learners\n"
    "with session_scope() as s:\n"
    "    build_billing(s, build_learners(s))\n"
)


def test_analyst_filters_the_overview_and_downloads_a_csv(page: Page, app: RunningApp) -> None:
    app.python(SEED)
    app.cli("bi", "aggregate", "--from", "2026-02-20", "--to", "2026-03-08", "--timezone", "UTC")
    email = unique_email("analyst")
    sign_up(page, app.url, email=email, name="Ana")
    expect_onboarding(page, app.url, "Ana")
    app.set_role(email, "analyst")
    secret = app.enable_two_factor(email)
    sign_out(page)
    expect(page).to_have_url(re.compile(re.escape(app.url) + "/?$"))
    sign_in(page, app.url, email=email, totp_secret=secret)
    expect(page).to_have_url(re.compile(r"/(home|onboarding)/?$"))

    page.goto(app.url + "/admin/bi")
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
