"""Small page actions shared by the journeys (role- and label-based locators only)."""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import Page, expect

STRONG_PASSWORD = "tones are fun 4 me"


def unique_email(prefix: str = "learner") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}@example.org"


def sign_up(
    page: Page, base_url: str, *, email: str, password: str = STRONG_PASSWORD, name: str = "Mei"
) -> None:
    page.goto(f"{base_url}/signup")
    page.get_by_label("Your name").fill(name)
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_label("Repeat password").fill(password)
    page.get_by_label("I accept the Terms of Service").check()
    page.get_by_role("button", name="Create account").click()


def sign_in(page: Page, base_url: str, *, email: str, password: str = STRONG_PASSWORD) -> None:
    page.goto(f"{base_url}/signin")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()


def expect_home(page: Page, base_url: str, name: str) -> None:
    expect(page).to_have_url(re.compile(re.escape(base_url) + r"/home/?$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(name)


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Account menu").click()
    page.get_by_role("menuitem", name="Sign out").click()


def expect_onboarding(page: Page, base_url: str, name: str) -> None:
    """A new account lands on onboarding, greeted by name."""
    expect(page).to_have_url(re.compile(re.escape(base_url) + r"/onboarding/?$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(name)
