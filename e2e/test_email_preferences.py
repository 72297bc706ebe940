"""Reminder e-mail journey (issue 14): the preference centre takes the browser's time zone, a reminder
time and an opt-in; the jobs runner mails the reminder; its links work without signing in — the
unsubscribe link asks before unsubscribing, the settings link changes the opt-ins."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import datetime
from zoneinfo import ZoneInfo

from playwright.sync_api import Browser, Page, expect

from e2e.a11y import axe_problems
from e2e.conftest import ROOT, RunningApp
from e2e.helpers import expect_onboarding, sign_up, unique_email, wait_hydrated

ZONE = "America/New_York"


def _current_slot() -> str:
    """The half-hour slot the learner's clock is in now: a reminder set to it is due at once."""
    now = datetime.now(ZoneInfo(ZONE))
    return f"{now.hour:02d}:{30 if now.minute >= 30 else 0:02d}"


def _run_reminders(app: RunningApp) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "jobs", "--once", "reminders"],
        cwd=ROOT,
        env=app.env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return out.stdout


def test_preference_centre_opt_in_then_out_from_the_e_mail(browser: Browser, app: RunningApp) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB", timezone_id=ZONE)
    context.set_default_timeout(20_000)
    page = context.new_page()
    email = unique_email("remind")
    sign_up(page, app.url, email=email, name="Lin")
    expect_onboarding(page, app.url, "Lin")
    verify = re.search(r"(http://\S+/verify-email\?token=\S+)", app.latest_email_to(email))
    assert verify, "no verification e-mail"
    page.goto(verify.group(1))
    expect(page.get_by_role("heading", name="E-mail address confirmed")).to_be_visible()

    page.goto(f"{app.url}/account/email")
    expect(page.get_by_role("heading", name="E-mail reminders", level=1)).to_be_visible()
    wait_hydrated(page)
    # The browser's zone (from the Intl API) is offered, not silently saved.
    expect(page.get_by_text(f"Your browser says you are in {ZONE}")).to_be_visible()
    page.get_by_role("button", name="Use this time zone").click()
    expect(page.get_by_label("Time zone")).to_have_value(ZONE)
    daily = page.get_by_role("switch", name="Daily practice reminder")
    expect(daily).to_have_attribute("aria-checked", "false")
    daily.click()
    expect(daily).to_have_attribute("aria-checked", "true")
    slot = _current_slot()
    page.get_by_label("Daily reminder time").select_option(slot)
    page.get_by_role("button", name="Save e-mail settings").click()
    expect(page.get_by_text("Saved.")).to_be_visible()
    assert not axe_problems(page, "/account/email")

    page.reload()
    expect(page.get_by_role("switch", name="Daily practice reminder")).to_have_attribute(
        "aria-checked", "true"
    )
    expect(page.get_by_label("Daily reminder time")).to_have_value(slot)
    expect(page.get_by_label("Time zone")).to_have_value(ZONE)

    # The jobs runner sends the reminder now (the learner's clock is inside the chosen slot).
    assert "'daily': 1" in _run_reminders(app)
    body = app.latest_email_to(email)
    unsubscribe = re.search(r"Unsubscribe from these: (http://\S+)", body)
    settings_link = re.search(r"All e-mail settings: (http://\S+)", body)
    assert unsubscribe and settings_link, body

    # From the e-mail, signed out: opening the unsubscribe link asks first (a GET never unsubscribes).
    outsider = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-GB")
    link_page: Page = outsider.new_page()
    link_page.goto(unsubscribe.group(1))
    expect(link_page.get_by_role("heading", name="E-mail settings", level=1)).to_be_visible()
    expect(link_page.get_by_text("daily practice reminder")).to_be_visible()
    page.reload()
    expect(page.get_by_role("switch", name="Daily practice reminder")).to_have_attribute(
        "aria-checked", "true"
    )
    link_page.get_by_role("button", name="Unsubscribe").click()
    expect(link_page.get_by_text("You are unsubscribed.")).to_be_visible()
    page.reload()
    expect(page.get_by_role("switch", name="Daily practice reminder")).to_have_attribute(
        "aria-checked", "false"
    )

    # The settings link opens every category: back in to daily, and in to the weekly summary.
    link_page.goto(settings_link.group(1))
    weekly = link_page.get_by_role("switch", name="Weekly progress summary")
    expect(weekly).to_have_attribute("aria-checked", "false")
    weekly.click()
    link_page.get_by_role("switch", name="Daily practice reminder").click()
    link_page.get_by_role("button", name="Save e-mail settings").click()
    expect(link_page.get_by_text("Saved.")).to_be_visible()
    assert not axe_problems(link_page, "/email/preferences")
    page.reload()
    expect(page.get_by_role("switch", name="Weekly progress summary")).to_have_attribute(
        "aria-checked", "true"
    )
    expect(daily).to_have_attribute("aria-checked", "true")

    # A mail client's one-click unsubscribe (RFC 8058) against the served app: one POST, no cookies.
    one_click = outsider.request.post(
        unsubscribe.group(1),
        data="List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert one_click.status == 200 and "You are unsubscribed" in one_click.text()
    page.reload()
    expect(daily).to_have_attribute("aria-checked", "false")
    expect(page.get_by_role("switch", name="Weekly progress summary")).to_have_attribute(
        "aria-checked", "true"
    )
    outsider.close()
    context.close()
