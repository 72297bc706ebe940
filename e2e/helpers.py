"""Small page actions shared by the journeys (role- and label-based locators only)."""

from __future__ import annotations

import re
import time
import urllib.request
import uuid

import pyotp
from playwright.sync_api import Page, expect

STRONG_PASSWORD = "tones are fun 4 me"


def unique_email(prefix: str = "learner") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}@example.org"


def wait_hydrated(page: Page) -> None:
    """Until the page's on-load handlers have run (the layout's `main` says so); a field typed into
    before then can be re-rendered empty, and a click can run against the pre-rendered defaults."""
    page.locator("main#main[data-hydrated='true']").wait_for()


def visit(page: Page, url: str) -> None:
    """Open `url` and wait until it is interactive."""
    page.goto(url)
    wait_hydrated(page)


def sign_up(
    page: Page, base_url: str, *, email: str, password: str = STRONG_PASSWORD, name: str = "Mei"
) -> None:
    visit(page, f"{base_url}/signup")
    page.get_by_label("Your name").fill(name)
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_label("Repeat password").fill(password)
    page.get_by_label("I accept the Terms of Service").check()
    page.get_by_role("button", name="Create account").click()


def sign_in(
    page: Page, base_url: str, *, email: str, password: str = STRONG_PASSWORD, totp_secret: str | None = None
) -> None:
    """Password sign-in; with `totp_secret`, also the authenticator-code step that follows."""
    visit(page, f"{base_url}/signin")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    expect(page.get_by_label("E-mail address")).to_have_value(email)
    page.get_by_role("button", name="Sign in", exact=True).click()
    if totp_secret is not None:
        enter_totp(page, totp_secret)


# The server refuses a code from a time step it already accepted (no replay), so each code typed in
# these journeys comes from a step newer than the last one used with that secret.
_LAST_STEP: dict[str, int] = {}


def totp_code(secret: str) -> str:
    """What the learner's authenticator app shows (RFC 6238), never one already used here."""
    now_step = int(time.time()) // 30
    step = max(now_step, _LAST_STEP.get(secret, now_step - 1) + 1)
    if step > now_step + 1:  # three sign-ins within one step: wait for the next one
        time.sleep(30 - time.time() % 30 + 0.5)
        step = int(time.time()) // 30
    _LAST_STEP[secret] = step
    return pyotp.TOTP(secret).at(step * 30)


def enter_totp(page: Page, secret: str) -> None:
    field = page.get_by_label("Authentication code")
    expect(field).to_be_visible()
    field.fill(totp_code(secret))
    page.get_by_role("button", name="Verify and sign in").click()
    # Signed in once the code step is gone (the session hand-off then loads the next page). Under
    # load a code can reach the server after its time step has passed; like a person, type the
    # next code once, and fail in plain sight if that is refused too.
    try:
        expect(field).to_be_hidden(timeout=20_000)
    except AssertionError:
        field.fill(totp_code(secret))
        page.get_by_role("button", name="Verify and sign in").click()
        expect(field).to_be_hidden(timeout=30_000)


# Signing up or in hashes a password, writes the account and hands the session over through a form post
# before the next page loads: on a box busy with the other test lane that has taken more than the
# default 5 s. The journeys check where the learner lands, not how fast (bench/ measures speed).
SIGN_IN_LANDING_MS = 15_000


def expect_home(page: Page, base_url: str, name: str) -> None:
    expect(page).to_have_url(re.compile(re.escape(base_url) + r"/home/?$"), timeout=SIGN_IN_LANDING_MS)
    expect(page.get_by_role("heading", level=1)).to_contain_text(name)


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Account menu").click()
    page.get_by_role("menuitem", name="Sign out").click()


def expect_onboarding(page: Page, base_url: str, name: str) -> None:
    """A new account lands on onboarding, greeted by name."""
    expect(page).to_have_url(re.compile(re.escape(base_url) + r"/onboarding/?$"), timeout=SIGN_IN_LANDING_MS)
    expect(page.get_by_role("heading", level=1)).to_contain_text(name)


def read_metrics(base_url: str) -> str:
    """The app's Prometheus text (ENV=test without METRICS_TOKEN: loopback callers may read it)."""
    with urllib.request.urlopen(f"{base_url}/metrics", timeout=10) as response:
        return str(response.read().decode())


def metric_total(text: str, sample: str) -> float:
    """The sum of every line for `sample` (its name and labels, as Prometheus prints them)."""
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(sample + " "))
