"""Accessibility and learner experience at phone (390x844) and desktop (1280x800) sizes: axe
(serious + critical) on every public, learner and staff page in `e2e.a11y.ROUTES`; the practice
result taking focus and being announced; review reasons and due counts; the landing tone demo."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from e2e.a11y import ROUTES, VIEWPORTS, Audience, a11y_context, axe_problems, open_and_check
from e2e.audio import human_wav
from e2e.conftest import MicPageFactory, RunningApp
from e2e.helpers import expect_onboarding, sign_in, sign_up, unique_email

PAIR_ITEM = "drill.t1-1.jintian"  # 今天 jīn tiān: tone 1 + tone 1
PAIR_PRACTICE = "/practice?unit=drills-pairs&item=" + PAIR_ITEM


@pytest.fixture(scope="module")
def wrong_take(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # A native speaker's 今天 with 天 said in a falling tone 4 (tiān → tiàn).
    return human_wav("jin1 tian4", tmp_path_factory.mktemp("audio") / "jintian-t4.wav")


def _rows(boxes: list) -> list[float]:  # type: ignore[type-arg]
    """Top edges of the visual rows the boxes sit on (boxes within 24 px count as one row)."""
    rows: list[float] = []
    for top in sorted(b["y"] for b in boxes if b):
        if not rows or top - rows[-1] > 24:
            rows.append(top)
    return rows


def _enter_as(page: Page, app: RunningApp, audience: Audience) -> None:
    if audience == "learner":
        sign_up(page, app.url, email=unique_email("a11y"), name="Ada")
        expect_onboarding(page, app.url, "Ada")
    elif audience == "staff":
        sign_in(
            page,
            app.url,
            email=app.admin_email,
            password=app.admin_password,
            totp_secret=app.admin_totp_secret(),
        )
        expect(page).to_have_url(re.compile(r"/(home|onboarding|admin)"))


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
@pytest.mark.parametrize("audience", ["public", "learner", "staff"])
def test_every_page_has_no_serious_or_critical_axe_violations(
    browser: Browser, app: RunningApp, audience: Audience, viewport: str
) -> None:
    routes = [r for r in ROUTES if r.audience == audience]
    assert routes, f"no {audience} routes listed"
    ctx = a11y_context(browser, viewport)
    try:
        page = ctx.new_page()
        _enter_as(page, app, audience)
        problems: list[str] = []
        for route in routes:
            problems += open_and_check(page, app.url, route, viewport=viewport)
    finally:
        ctx.close()
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_a_result_takes_focus_is_announced_and_is_a_real_list(
    mic_page: MicPageFactory, app: RunningApp, wrong_take: Path, viewport: str
) -> None:
    page = mic_page(wrong_take, viewport=VIEWPORTS[viewport], bypass_csp=True)
    sign_up(page, app.url, email=unique_email("focus"), name="Fen")
    expect_onboarding(page, app.url, "Fen")
    page.goto(app.url + PAIR_PRACTICE)
    expect(page.get_by_text("今天", exact=True)).to_be_visible()
    live = page.locator('[role="status"][aria-live="polite"]')
    expect(live).to_have_count(1)
    expect(live).to_have_text("")  # present and empty before the result: screen readers watch it
    page.get_by_role("button", name="Record").click()

    region = page.get_by_role("region", name="Pronunciation result")
    expect(region).to_be_visible(timeout=45_000)
    expect(region).to_be_focused()
    # Scrolled into view: on a phone the result starts below the fold.
    page.wait_for_function(
        "() => { const r = document.getElementById('result').getBoundingClientRect();"
        " return r.top >= 0 && r.top < window.innerHeight / 2; }"
    )
    expect(live).to_have_text("1 of 2 syllables right; 天: expected tone 1, you said 4")
    # List semantics: scores and per-syllable cards are lists of list items.
    # (the contour charts' legends are lists of their own, so count the list's direct items)
    expect(
        page.locator('[role="list"][aria-label="Feedback per syllable"] > [role="listitem"]')
    ).to_have_count(2)
    scores = page.locator('[role="list"][aria-label="Scores out of 100"] > [role="listitem"]')
    expect(scores).to_have_count(4)
    expect(scores.nth(1)).to_contain_text("Tones")
    expect(scores.nth(2)).to_contain_text("Syllables said")
    # Both syllables were heard (one in the wrong tone): that is a tone problem, not a missing one.
    expect(scores.nth(2)).to_contain_text("100")
    # Four scores: one row on desktop, a 2x2 grid on a phone — never one score alone on a row.
    # Measured in one pass, in page coordinates: the result scrolls smoothly into view, so boxes
    # read one by one against the viewport could each see a different scroll position.
    boxes = scores.evaluate_all("els => els.map(e => ({y: e.getBoundingClientRect().top + window.scrollY}))")
    assert len(_rows(boxes)) == (1 if viewport == "desktop" else 2)
    problems = axe_problems(page, label=f"practice result @ {viewport}")
    assert not problems, "\n".join(problems)


def test_review_reasons_match_their_cards_and_home_agrees_on_what_is_due(
    mic_page: MicPageFactory, app: RunningApp, wrong_take: Path
) -> None:
    page = mic_page(wrong_take)
    email = unique_email("due")
    sign_up(page, app.url, email=email, name="Dee")
    expect_onboarding(page, app.url, "Dee")
    page.goto(app.url + PAIR_PRACTICE)
    expect(page.get_by_text("今天", exact=True)).to_be_visible()
    page.get_by_role("button", name="Record").click()
    expect(page.get_by_test_id("syllable-result").nth(1)).to_contain_text("Wrong tone", timeout=45_000)
    # One card already due, and one whose content no longer exists (it must not be counted anywhere).
    app.python(
        "import sys\n"
        "from datetime import timedelta\n"
        "from sayzhong.db import session_scope, utcnow\n"
        "from sayzhong.accounts.users import find_user_by_email\n"
        "from sayzhong.practice.models import ReviewCard\n"
        "with session_scope() as s:\n"
        "    uid = find_user_by_email(session=s, email=sys.argv[1]).id\n"
        "    past = utcnow() - timedelta(days=1)\n"
        "    for item in ('greetings.hello', 'removed.long-ago'):\n"
        "        s.add(ReviewCard(user_id=uid, item_id=item, due=past, created_at=past, reps=3, state=2))\n",
        email,
    )
    page.goto(app.url + "/home")
    due_stat = page.get_by_text("reviews due", exact=True).locator("xpath=..")
    expect(due_stat).to_contain_text("1")
    home_due = int(re.findall(r"\d+", due_stat.inner_text())[0])
    expect(page.get_by_test_id("also-worth")).to_contain_text("Also worth another go")

    page.goto(app.url + "/review")
    expect(page.get_by_test_id("review-due-count")).to_contain_text(f"{home_due} due now")
    assert home_due == 1
    due_rows = page.get_by_role("region", name="Due now", exact=True).get_by_role("row")
    expect(due_rows).to_have_count(1 + home_due)  # header + rows
    also = page.get_by_role("region", name="Also worth another go", exact=True)
    expect(also).to_contain_text("今天")
    rows = page.get_by_role("main").get_by_role("row")
    checked = 0
    for i in range(rows.count()):
        cells = rows.nth(i).get_by_role("cell")
        if cells.count() < 3:
            continue
        phrase, why = cells.nth(0).inner_text(), cells.nth(2).inner_text()
        match = re.match(r"Tone to fix — (\S+?) \(", why)
        if match:
            assert match.group(1) in phrase, (phrase, why)
            checked += 1
    assert checked >= 2  # 今天 itself and its tone-pair drill


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_the_landing_tone_demo_plays_the_reference_audio(
    browser: Browser, app: RunningApp, viewport: str
) -> None:
    ctx = a11y_context(browser, viewport)
    try:
        page = ctx.new_page()
        page.goto(app.url + "/")
        button = page.get_by_role("button", name=re.compile(r"^Play mà, tone 4"))
        expect(button).to_be_visible()
        with page.expect_response(re.compile(r"/practice/reference/drill\.t4\.ma$")) as response:
            button.click()
        # The player asks for a byte range (`bytes=0-`); the route answers it, so the clip is seekable.
        assert response.value.status in (200, 206)
        assert response.value.headers["content-type"].startswith("audio/")
        assert response.value.headers["accept-ranges"] == "bytes"
        expect(button).to_have_attribute("data-played", "true", timeout=10_000)
        # The four tones sit on one row (desktop) or two full rows (phone): "Tone 4" never alone.
        boxes = [
            page.get_by_role("button", name=re.compile(f"^Play .*, tone {n}")).bounding_box()
            for n in range(1, 5)
        ]
        assert len(_rows(boxes)) == (1 if viewport == "desktop" else 2)
    finally:
        ctx.close()


def test_phones_get_a_labelled_navigation_bar(browser: Browser, app: RunningApp) -> None:
    ctx = a11y_context(browser, "phone")
    try:
        page = ctx.new_page()
        sign_up(page, app.url, email=unique_email("nav"), name="Nav")
        expect_onboarding(page, app.url, "Nav")
        nav = page.get_by_role("navigation", name="Main")
        expect(nav).to_have_count(1)  # only the visible one is exposed
        for label in ("Home", "Lessons", "Review", "Account"):
            expect(nav.get_by_role("link", name=label)).to_be_visible()
        nav.get_by_role("link", name="Lessons").click()
        expect(page).to_have_url(re.compile(r"/learn/?$"))
    finally:
        ctx.close()
