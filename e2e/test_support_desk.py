"""Support staff look a learner up, open the detail page, and act on the account — each action
audited, no secrets shown, and the learner feels the effect at once."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, Page, expect

from e2e.conftest import RunningApp
from e2e.helpers import STRONG_PASSWORD, expect_onboarding, sign_in, sign_up, unique_email, visit


def _open_learner(page: Page, app: RunningApp, email: str) -> None:
    visit(page, f"{app.url}/admin/users")
    page.get_by_label("Search users").fill(email)
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name=email).click()
    expect(page).to_have_url(re.compile(r"/admin/user\?id=\d+"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Wen")


def test_staff_find_a_learner_sign_them_out_everywhere_and_deactivate_the_account(
    page: Page, app: RunningApp, browser: Browser
) -> None:
    email = unique_email("support-case")
    learner_ctx = browser.new_context()
    learner = learner_ctx.new_page()
    sign_up(learner, app.url, email=email, name="Wen")
    expect_onboarding(learner, app.url, "Wen")

    sign_in(
        page, app.url, email=app.admin_email, password=app.admin_password, totp_secret=app.admin_totp_secret()
    )
    expect(page).to_have_url(re.compile(r"/home"))
    _open_learner(page, app, email)
    facts = page.get_by_label("Account facts")
    expect(facts).to_contain_text(email)
    expect(facts).to_contain_text("Free")
    expect(facts).to_contain_text("e-mail and password")
    devices = page.get_by_role("region", name="Signed-in devices")
    expect(devices).to_contain_text("Chrome on Linux")
    expect(devices).to_contain_text("This computer")  # loopback: a place, never the raw address
    expect(page.get_by_role("main")).not_to_contain_text("127.0.0.1")
    expect(page.get_by_role("main")).not_to_contain_text("HeadlessChrome")

    # The sign-up mail went out seconds ago: the learner's own resend throttle applies to staff too,
    # and says so plainly (the sent-and-audited path is covered by the unit tests).
    page.get_by_role("button", name="Resend confirmation e-mail").click()
    expect(page.get_by_role("alert").filter(has_text="wait")).to_contain_text("seconds")

    page.get_by_role("button", name="Sign out everywhere").click()
    expect(page.get_by_role("status").filter(has_text="Signed out everywhere")).to_contain_text(
        "1 session ended"
    )
    expect(page.get_by_role("region", name="Audit trail")).to_contain_text("support.signed_out_everywhere")
    learner.goto(f"{app.url}/home")
    expect(learner).to_have_url(re.compile(r"/signin"))

    page.get_by_label("Reason for deactivating (kept in the audit log)").fill("Asked us by e-mail")
    page.get_by_role("button", name="Deactivate account").click()
    expect(page.get_by_label("Account facts")).to_contain_text("deactivated since")
    expect(page.get_by_role("region", name="Audit trail")).to_contain_text("support.user_deactivated")
    sign_in(learner, app.url, email=email, password=STRONG_PASSWORD)
    expect(learner.get_by_role("alert")).to_contain_text("deactivated")

    page.get_by_role("button", name="Reactivate account").click()
    expect(page.get_by_label("Account facts")).to_contain_text("active")
    sign_in(learner, app.url, email=email, password=STRONG_PASSWORD)
    expect(learner).to_have_url(re.compile(r"/(home|onboarding)"))

    # The central audit log shows who did it.
    page.goto(f"{app.url}/admin/audit")
    expect(page.get_by_role("cell", name="support.user_reactivated").first).to_be_visible()
    learner_ctx.close()
