"""Referrals and share cards in real Chromium (issue 14): a learner copies their invite link, a
friend signs up through it in another browser and scores a first take with a fake microphone fed
real human speech — then both see their Plus days; a shared result opens in a fresh browser with
its picture and Open Graph tags, and answers "not available" once removed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from e2e.a11y import VIEWPORTS, axe_problems
from e2e.audio import human_wav
from e2e.conftest import MicPageFactory, RunningApp, watch_page
from e2e.helpers import STRONG_PASSWORD, unique_email, wait_hydrated

ITEM = "drill.t1-1.jintian"  # 今天 jīn tiān
PRACTICE = "/practice?unit=drills-pairs&item=" + ITEM


@pytest.fixture(scope="module")
def correct_take(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return human_wav("jin1 tian1", tmp_path_factory.mktemp("audio") / "jintian.wav")


def _fill_sign_up(page: Page, *, email: str, name: str) -> None:
    wait_hydrated(page)
    page.get_by_label("Your name").fill(name)
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password", exact=True).fill(STRONG_PASSWORD)
    page.get_by_label("Repeat password").fill(STRONG_PASSWORD)
    page.get_by_label("I accept the Terms of Service").check()
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(name)


def _record_first_take(page: Page, app: RunningApp) -> None:
    page.goto(app.url + PRACTICE)
    expect(page.get_by_text("今天", exact=True)).to_be_visible()
    page.get_by_role("button", name="Record").click()
    expect(page.get_by_role("region", name="Pronunciation result")).to_be_visible(timeout=45_000)


def _open_invite_page(page: Page, app: RunningApp, query: str = "") -> None:
    page.goto(app.url + "/invite" + query)
    expect(page.get_by_role("heading", level=1, name="Invite friends and share")).to_be_visible()


def test_an_invited_friend_s_first_scored_take_gives_both_plus_days(
    browser: Browser, mic_page: MicPageFactory, app: RunningApp, correct_take: Path
) -> None:
    inviter_ctx = browser.new_context(
        viewport={"width": 1280, "height": 900}, permissions=["clipboard-read", "clipboard-write"]
    )
    inviter_ctx.set_default_timeout(30_000)
    try:
        inviter = inviter_ctx.new_page()
        console, _errors = watch_page(inviter)
        inviter.goto(app.url + "/signup")
        _fill_sign_up(inviter, email=unique_email("inviter"), name="Ana")
        _open_invite_page(inviter, app)
        shown = inviter.get_by_test_id("invite-link").inner_text().strip()
        assert re.fullmatch(re.escape(app.url) + r"/r/[A-Za-z0-9_-]{16}", shown), shown
        inviter.get_by_role("button", name="Copy invite link").click()
        expect(inviter.get_by_role("button", name="Copied")).to_be_visible()
        copied = inviter.evaluate("() => navigator.clipboard.readText()")
        assert copied == shown
        expect(inviter.get_by_test_id("plus-until")).to_have_count(0)

        # The friend, in another browser with a microphone, follows the copied link.
        friend = mic_page(correct_take)
        friend.goto(copied)
        expect(friend).to_have_url(re.compile(re.escape(app.url) + r"/signup/?$"))
        _fill_sign_up(friend, email=unique_email("friend"), name="Bo")
        _open_invite_page(friend, app)
        expect(friend.get_by_test_id("invited-by")).to_contain_text("reward after their first scored take")
        expect(friend.get_by_test_id("plus-until")).to_have_count(0)

        _record_first_take(friend, app)
        _open_invite_page(friend, app)
        expect(friend.get_by_test_id("plus-until")).to_contain_text("SayZhong Plus until")
        expect(friend.get_by_test_id("invited-by")).to_contain_text("Rewarded")

        inviter.reload()
        expect(inviter.get_by_test_id("plus-until")).to_contain_text("SayZhong Plus until")
        expect(inviter.get_by_test_id("invite-counts")).to_contain_text("1 rewarded")
        assert not [line for line in console if "Content Security Policy" in line]
    finally:
        inviter_ctx.close()


def test_a_shared_result_opens_in_a_fresh_browser_with_its_picture_until_removed(
    browser: Browser, mic_page: MicPageFactory, app: RunningApp, correct_take: Path
) -> None:
    page = mic_page(correct_take)
    page.goto(app.url + "/signup")
    _fill_sign_up(page, email=unique_email("sharer"), name="Mei")
    _record_first_take(page, app)
    page.get_by_role("link", name="Share this result").click()
    expect(page).to_have_url(re.compile(r"/invite\?attempt=\d+$"))
    expect(page.get_by_role("heading", level=1, name="Invite friends and share")).to_be_visible()
    page.get_by_role("button", name="Share this result").click()
    link = page.get_by_test_id("new-share-link")
    expect(link).to_be_visible()
    share_url = link.inner_text().strip()
    assert re.fullmatch(re.escape(app.url) + r"/s/[A-Za-z0-9_-]{16}", share_url), share_url

    visitor_ctx = browser.new_context(viewport=VIEWPORTS["phone"], bypass_csp=True)  # bypass: for axe only
    try:
        visitor = visitor_ctx.new_page()
        visitor.goto(share_url)
        expect(visitor.get_by_role("heading", level=1)).to_contain_text("今天")
        image = visitor.get_by_role("img")
        expect(image).to_have_attribute("src", share_url + "/card.png")
        expect(image).to_have_js_property("complete", True)
        assert visitor.evaluate("() => document.querySelector('img').naturalWidth") == 1200
        og_image = visitor.locator("meta[property='og:image']").get_attribute("content")
        assert og_image == share_url + "/card.png"
        assert "Mei" not in visitor.content() and "@example.org" not in visitor.content()
        # The public page is plain HTML outside the Reflex shell: held to the same axe bar.
        problems = axe_problems(visitor, "share page @ phone")
        visitor.set_viewport_size(VIEWPORTS["desktop"])
        problems += axe_problems(visitor, "share page @ desktop")
        assert problems == []
        picture = visitor_ctx.request.get(og_image)
        assert picture.status == 200 and picture.headers["content-type"] == "image/png"

        page.get_by_role("button", name=re.compile("^Remove share link")).first.click()
        expect(page.get_by_text("Share link removed")).to_be_visible()
        gone = visitor.goto(share_url)
        assert gone is not None and gone.status == 404
        expect(visitor.get_by_role("heading", level=1)).to_contain_text("not available")
        assert visitor_ctx.request.get(og_image).status == 404

        # The streak, this time with the first name the learner chose to show.
        page.get_by_role("checkbox", name="Show my first name on the card").click()
        page.get_by_role("button", name="Share my streak").click()
        expect(link).to_be_visible()
        streak_url = link.inner_text().strip()
        assert streak_url != share_url
        visitor.goto(streak_url)
        expect(visitor.get_by_role("heading", level=1)).to_contain_text("1-day practice streak")
        expect(visitor.get_by_text("Mei is on a 1-day Mandarin practice streak")).to_be_visible()
        assert "@example.org" not in visitor.content()
    finally:
        visitor_ctx.close()
