"""Screenshots for the docs: the practice result on a desktop and a phone, and the landing page.

Not part of the test run (the file name does not start with `test_`); refresh them with
`scripts/screenshots.sh`, which starts the app like the e2e suite does and writes
docs/screenshots/*.png.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from e2e.a11y import VIEWPORTS
from e2e.audio import human_wav
from e2e.conftest import ROOT, MicPageFactory, RunningApp
from e2e.helpers import expect_onboarding, sign_up, unique_email

OUT = ROOT / "docs" / "screenshots"
PRACTICE = "/practice?unit=drills-pairs&item=drill.t1-1.jintian"  # 今天 jīn tiān


@pytest.fixture(scope="module")
def take(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # 今天 with 天 in a falling tone: one verdict right, one wrong — the interesting case.
    return human_wav("jin1 tian4", tmp_path_factory.mktemp("audio") / "jintian-t4.wav")


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_practice_result_screenshot(
    mic_page: MicPageFactory, app: RunningApp, take: Path, viewport: str
) -> None:
    page = mic_page(take, viewport=VIEWPORTS[viewport])
    sign_up(page, app.url, email=unique_email("shot"), name="Mei")
    expect_onboarding(page, app.url, "Mei")
    page.goto(app.url + PRACTICE)
    expect(page.get_by_text("今天", exact=True)).to_be_visible()
    page.get_by_role("button", name="Record").click()
    region = page.get_by_role("region", name="Pronunciation result")
    expect(region).to_be_focused(timeout=45_000)
    page.wait_for_timeout(800)  # let the smooth scroll and the charts settle before the picture
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"practice-result-{viewport}.png"
    page.screenshot(path=str(path), full_page=False)
    assert path.stat().st_size > 10_000


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_landing_screenshot(browser: Browser, app: RunningApp, viewport: str) -> None:
    ctx = browser.new_context(viewport=VIEWPORTS[viewport], locale="en-GB")
    page = ctx.new_page()
    page.goto(app.url + "/")
    expect(page.get_by_role("button", name=re.compile(r"^Play mā"))).to_be_visible()
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"landing-{viewport}.png"
    page.screenshot(path=str(path), full_page=True)
    ctx.close()
    assert path.stat().st_size > 10_000
