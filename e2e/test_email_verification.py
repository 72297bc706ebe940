"""E-mail verification journey: the banner after sign-up, a throttled resend, the mailed link
(read from the outbox, as the learner would from their inbox) confirms once."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from e2e.conftest import RunningApp
from e2e.helpers import axe_problems, expect_onboarding, sign_up, unique_email


def test_sign_up_mails_a_link_that_confirms_the_address_once(page: Page, app: RunningApp) -> None:
    email = unique_email("verify")
    sign_up(page, app.url, email=email, name="Ping")
    expect_onboarding(page, app.url, "Ping")

    banner = page.get_by_role("region", name="Confirm your e-mail address")
    expect(banner).to_contain_text(email)
    banner.get_by_role("button", name="Send the link again").click()
    expect(banner.get_by_role("alert")).to_contain_text("Please wait")  # one was just sent
    assert not axe_problems(page, "verification banner")

    body = app.latest_email_to(email)
    match = re.search(r"(http://\S+/verify-email\?token=\S+)", body)
    assert match, body
    link = match.group(1)

    page.goto(link)
    expect(page.get_by_role("heading", name="E-mail address confirmed")).to_be_visible()
    assert not axe_problems(page, "/verify-email")
    page.goto(f"{app.url}/home")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Ping")
    expect(page.get_by_role("region", name="Confirm your e-mail address")).to_have_count(0)

    page.goto(link)  # a second use is refused, in plain words
    expect(page.get_by_role("heading", name="This link did not work")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("already been used")

    page.goto(link[:-3] + "xyz")  # tampered
    expect(page.get_by_role("alert")).to_contain_text("not valid")
