"""Two-factor sign-in journeys: a learner enrols with the secret the page shows, signs out, signs in
with a code and with a recovery code (once); a staff member is sent to enrolment before any staff
page opens."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from e2e.conftest import RunningApp
from e2e.helpers import (
    axe_problems,
    expect_home,
    expect_onboarding,
    sign_in,
    sign_out,
    sign_up,
    totp_code,
    unique_email,
)


def _sign_out(page: Page, app: RunningApp) -> None:
    sign_out(page)
    expect(page).to_have_url(re.compile(re.escape(app.url) + "/?$"))


def _enrol_on_the_page(page: Page, app: RunningApp) -> tuple[str, list[str]]:
    """Open the settings page, scan (read) the shown key, type the app's code: (secret, recovery codes)."""
    page.goto(f"{app.url}/account/two-factor")
    expect(page.get_by_role("heading", name="Two-factor sign-in", level=1)).to_be_visible()
    page.get_by_role("button", name="Set up two-factor sign-in").click()
    expect(page.get_by_role("img", name="QR code for your authenticator app")).to_be_visible()
    assert not axe_problems(page, "enrolment")
    secret = page.locator("#totp-secret").inner_text().strip()
    assert re.fullmatch(r"[A-Z2-7]{32}", secret), secret
    page.get_by_label("Code from your authenticator app").fill(totp_code(secret))
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    codes_list = page.get_by_role("list", name="Recovery codes")
    expect(codes_list.get_by_role("listitem")).to_have_count(10)
    codes = [c.strip() for c in codes_list.get_by_role("listitem").all_inner_texts()]
    assert not axe_problems(page, "recovery codes")
    expect(page.get_by_role("status")).to_contain_text("Two-factor sign-in is on")
    page.get_by_role("button", name="I have saved them").click()
    expect(codes_list).to_have_count(0)  # shown once
    return secret, codes


def test_learner_enrols_signs_out_and_signs_in_with_a_code(page: Page, app: RunningApp) -> None:
    email = unique_email("totp")
    sign_up(page, app.url, email=email, name="Jun")
    expect_onboarding(page, app.url, "Jun")
    secret, _codes = _enrol_on_the_page(page, app)

    _sign_out(page, app)
    sign_in(page, app.url, email=email)
    # The password alone does not sign in: the page asks for the code.
    expect(page.get_by_label("Authentication code")).to_be_visible()
    assert not any(c["name"] == "sz_session" for c in page.context.cookies())
    page.get_by_label("Authentication code").fill("000000")
    page.get_by_role("button", name="Verify and sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("That code is not correct")
    page.get_by_label("Authentication code").fill(totp_code(secret))
    page.get_by_role("button", name="Verify and sign in").click()
    expect_home(page, app.url, "Jun")


def test_a_recovery_code_signs_in_once(page: Page, app: RunningApp) -> None:
    email = unique_email("recovery")
    sign_up(page, app.url, email=email, name="Rui")
    expect_onboarding(page, app.url, "Rui")
    _secret, codes = _enrol_on_the_page(page, app)
    _sign_out(page, app)

    sign_in(page, app.url, email=email)
    page.get_by_label("Authentication code").fill(codes[0])
    page.get_by_role("button", name="Verify and sign in").click()
    expect_home(page, app.url, "Rui")
    _sign_out(page, app)

    sign_in(page, app.url, email=email)
    page.get_by_label("Authentication code").fill(codes[0])
    page.get_by_role("button", name="Verify and sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("That code is not correct")


def test_staff_without_two_factor_are_sent_to_enrolment_before_any_staff_page(
    page: Page, app: RunningApp
) -> None:
    email = unique_email("support")
    sign_up(page, app.url, email=email, name="Hui")
    expect_onboarding(page, app.url, "Hui")
    app.set_role(email, "support")

    for staff_page in ("/admin", "/admin/users", "/admin/audit"):
        page.goto(app.url + staff_page)
        expect(page).to_have_url(re.compile(r"/account/two-factor"))
        expect(page.get_by_role("alert")).to_contain_text("Staff accounts must use two-factor sign-in")
        expect(page.get_by_role("heading", name="Staff area")).to_have_count(0)
    assert not axe_problems(page, "staff enrolment notice")

    secret, _ = _enrol_on_the_page(page, app)
    page.get_by_role("link", name="Open the staff area").click()
    expect(page.get_by_role("heading", name="Staff area")).to_be_visible()
    # Staff cannot turn it off themselves.
    page.goto(f"{app.url}/account/two-factor")
    expect(page.get_by_text("Staff accounts keep two-factor sign-in on")).to_be_visible()
    expect(page.get_by_role("button", name="Turn off")).to_have_count(0)

    # Next time, the staff sign-in has the second step before the staff area opens.
    _sign_out(page, app)
    sign_in(page, app.url, email=email, totp_secret=secret)
    expect(page).to_have_url(re.compile(r"/home"))
    page.goto(f"{app.url}/admin")
    expect(page.get_by_role("heading", name="Staff area")).to_be_visible()
