"""Speaking practice in a real browser with a fake microphone fed real human speech: the phrase
said right, said with a wrong tone, and a different phrase altogether."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from e2e.audio import human_wav
from e2e.conftest import MicPageFactory, RunningApp
from e2e.helpers import sign_up, unique_email

ITEM = "drill.t1-1.jintian"  # 今天 jīn tiān: tone 1 + tone 1
PRACTICE = "/practice?unit=drills-pairs&item=" + ITEM


@pytest.fixture(scope="module")
def audio_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("audio")


@pytest.fixture(scope="module")
def correct_take(audio_dir: Path) -> Path:
    return human_wav("jin1 tian1", audio_dir / "jintian.wav")


@pytest.fixture(scope="module")
def wrong_take(audio_dir: Path) -> Path:
    # A native speaker's 天 said with a falling tone 4 (tiān → tiàn).
    return human_wav("jin1 tian4", audio_dir / "jintian-t4.wav")


@pytest.fixture(scope="module")
def other_phrase_take(audio_dir: Path) -> Path:
    # 你好 said where the phrase is 今天.
    return human_wav("ni2 hao3 ma", audio_dir / "nihaoma.wav")


def _signed_up(page: Page, app: RunningApp, name: str) -> None:
    sign_up(page, app.url, email=unique_email(), name=name)
    expect(page.get_by_role("heading", level=1)).to_contain_text(name)


def _record(page: Page) -> None:
    expect(page.get_by_text("今天", exact=True)).to_be_visible()
    page.get_by_role("button", name="Record").click()
    expect(page.get_by_role("region", name="Pronunciation result")).to_be_visible(timeout=45_000)


def test_correct_take_gets_tone_verdicts_and_contours_for_every_syllable(
    mic_page: MicPageFactory, app: RunningApp, correct_take: Path
) -> None:
    page = mic_page(correct_take)
    _signed_up(page, app, "Ana")
    page.goto(app.url + PRACTICE)
    expect(page.get_by_text("今天", exact=True)).to_be_visible()
    _record(page)
    cards = page.get_by_test_id("syllable-result")
    expect(cards).to_have_count(2)
    for i in range(2):
        expect(cards.nth(i)).to_contain_text("Expected tone 1")
        expect(cards.nth(i)).to_contain_text("Correct")
    # Learner vs target contour charts are drawn (two lines per syllable).
    expect(page.locator(".recharts-wrapper")).to_have_count(2)
    expect(page.locator(".recharts-line")).to_have_count(4)
    overall = page.get_by_role("list", name="Scores out of 100").get_by_text(re.compile(r"^\d+$")).first
    assert int(overall.inner_text()) >= 60
    # The replay states the take's length in its header (a recorded WebM states none, and the player
    # reads Infinity), so the player can show it; the route answers byte ranges, so the learner can
    # drag the playhead (Chrome jumps back to the start otherwise). Media positions, not timings.
    media_length_s, position_s = page.get_by_label("Your recording").evaluate(
        "a => new Promise(ok => { a.addEventListener('loadedmetadata', () => {"
        " const length = a.duration;"
        " a.addEventListener('seeked', () => ok([length, a.currentTime]), {once: true});"
        " a.currentTime = length / 2; }, {once: true});"
        " a.preload = 'metadata'; a.load(); })"
    )
    assert math.isfinite(media_length_s) and media_length_s > 0.5, media_length_s
    assert position_s == pytest.approx(media_length_s / 2, abs=0.05), (position_s, media_length_s)


def test_wrong_tone_is_flagged_with_expected_and_heard_tone_and_comes_back_for_review(
    mic_page: MicPageFactory, app: RunningApp, wrong_take: Path
) -> None:
    page = mic_page(wrong_take)
    _signed_up(page, app, "Ben")
    page.goto(app.url + PRACTICE)
    _record(page)
    cards = page.get_by_test_id("syllable-result")
    expect(cards).to_have_count(2)
    expect(cards.nth(0)).to_contain_text("Correct")
    expect(cards.nth(1)).to_contain_text("Wrong tone")
    expect(cards.nth(1)).to_contain_text("Expected tone 1 (high)")
    expect(cards.nth(1)).to_contain_text("you said 4 (falling)")
    # The missed item is in the review queue.
    page.goto(app.url + "/review")
    expect(page.get_by_role("main").get_by_role("table").first).to_contain_text("今天")


def test_denied_microphone_shows_how_to_fix_it(
    mic_page: MicPageFactory, app: RunningApp, correct_take: Path
) -> None:
    page = mic_page(correct_take, allow=False)
    _signed_up(page, app, "Cai")
    page.goto(app.url + PRACTICE)
    expect(page.get_by_text("今天", exact=True)).to_be_visible()
    page.get_by_role("button", name="Record").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("needs your microphone")
    expect(alert).to_contain_text("Allow")


def test_undecodable_upload_gets_a_friendly_error_and_the_take_is_kept(
    mic_page: MicPageFactory, app: RunningApp, correct_take: Path
) -> None:
    page = mic_page(correct_take)
    _signed_up(page, app, "Dai")
    page.goto(app.url + PRACTICE)

    # The first upload is corrupted in flight; the server must answer with a friendly message.
    def corrupt(route):  # type: ignore[no-untyped-def]
        route.continue_(post_data=b"this is not audio at all" * 10)

    page.route("**/practice/attempts", corrupt)
    expect(page.get_by_text("今天", exact=True)).to_be_visible()
    page.get_by_role("button", name="Record").click()
    expect(page.get_by_role("alert")).to_contain_text(re.compile("could not|not .*audio|recording", re.I))
    page.unroute("**/practice/attempts")
    # Nothing lost: the same take is re-sent without recording again.
    page.get_by_role("button", name="Try scoring again").click()
    expect(page.get_by_role("region", name="Pronunciation result")).to_be_visible(timeout=45_000)
    expect(page.get_by_test_id("syllable-result")).to_have_count(2)


def test_a_different_phrase_is_not_scored_and_creates_no_review(
    mic_page: MicPageFactory, app: RunningApp, other_phrase_take: Path
) -> None:
    page = mic_page(other_phrase_take)
    _signed_up(page, app, "Eli")
    page.goto(app.url + PRACTICE)
    _record(page)
    expect(page.get_by_test_id("said-message")).to_contain_text("We didn't hear “今天” — try again")
    # No tone verdicts on syllables that were not said, no scores; the take can still be replayed.
    expect(page.get_by_test_id("syllable-result")).to_have_count(0)
    expect(page.get_by_role("list", name="Scores out of 100")).to_have_count(0)
    expect(page.get_by_label("Your recording")).to_be_visible()
    page.goto(app.url + "/review")
    expect(page.get_by_text("Nothing is due right now", exact=False)).to_be_visible()


def test_a_stalled_page_does_not_cut_the_take_short(
    mic_page: MicPageFactory, app: RunningApp, correct_take: Path
) -> None:
    """Seconds in which the page ran no animation frame (a busy phone, a hidden tab) are not silence:
    the recorder stops only after silence it has seen. The page's clock is Playwright's, so the stall
    is exact: speech is heard, the clock is held while the take plays out, then jumps ahead once."""
    page = mic_page(correct_take)
    page.clock.install()  # runs at its natural pace until paused
    _signed_up(page, app, "Sol")
    page.goto(app.url + PRACTICE)
    expect(page.get_by_text("今天", exact=True)).to_be_visible()
    page.get_by_role("button", name="Record").click()
    # The meter reads above 0.02 RMS (the recorder's speech threshold) once the voice starts.
    page.wait_for_function(
        "() => Number(document.querySelector('[aria-label=\"Microphone level\"]')"
        "?.getAttribute('aria-valuenow') ?? 0) > 15",
        timeout=20_000,
    )
    page.clock.pause_at(page.evaluate("Date.now()") / 1000 + 0.05)  # seconds since the epoch
    page.wait_for_timeout(4_000)  # real time: the phrase ends and its trailing silence plays
    page.clock.fast_forward(4_000)  # one animation frame, 4 s after the last one, on silence
    page.wait_for_timeout(500)
    expect(page.get_by_role("button", name="Stop recording")).to_be_visible()  # still recording
    page.clock.resume()  # 1.2 s of silence the meter sees ends the take
    expect(page.get_by_role("region", name="Pronunciation result")).to_be_visible(timeout=45_000)
    expect(page.get_by_test_id("syllable-result")).to_have_count(2)
