"""Longer learner journeys: onboarding with mic check and placement, a role-play with a branch, and
an accessibility scan of the learner pages. The fake microphone loops one utterance with trailing
silence, so every take records one utterance and stops on silence."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from e2e.audio import human_wav, speech_wav
from e2e.conftest import MicPageFactory, RunningApp
from e2e.helpers import axe_problems, expect_onboarding, sign_up, unique_email


@pytest.fixture(scope="module")
def four_tones(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Every calibration prompt has the tone pattern 1-2-3-4 (妈麻马骂, 八拔把爸, …).
    return speech_wav("妈麻马骂", tmp_path_factory.mktemp("audio") / "four-tones.wav", tail_s=2.0)


@pytest.fixture(scope="module")
def family_line(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # A human voice saying the first learner line of the four-person branch (我家有四口人), syllable
    # by syllable; later lines of the dialogue are different sentences, which this take is not.
    return human_wav("wo3 jia1 you3 si4 kou3 ren2", tmp_path_factory.mktemp("audio") / "family.wav")


def _record_and_wait(page: Page, done: re.Pattern[str] | str, timeout: int = 45_000) -> None:
    page.get_by_role("button", name=re.compile(r"^Record")).click()
    expect(page.get_by_text(done).first).to_be_visible(timeout=timeout)


def test_onboarding_with_mic_check_and_placement(
    mic_page: MicPageFactory, app: RunningApp, four_tones: Path
) -> None:
    page = mic_page(four_tones, loop=True)
    sign_up(page, app.url, email=unique_email("onboard"), name="Olu")
    expect_onboarding(page, app.url, "Olu")
    page.get_by_label("Travel and getting around").check()
    page.get_by_label("I'm brand new to Mandarin").check()
    page.get_by_role("button", name="Continue").click()

    expect(page.get_by_role("heading", name="Microphone check")).to_be_visible()
    for n in range(2, 5):
        _record_and_wait(page, f"Prompt {n} of 4")
    page.get_by_role("button", name="Record").click()
    expect(page.get_by_role("heading", name="Microphone check passed")).to_be_visible(timeout=45_000)
    expect(page.get_by_role("status")).to_contain_text(re.compile(r"\d+ Hz"))

    page.get_by_role("button", name="Start the placement").click()
    for n in range(1, 6):
        expect(page.get_by_text(f"Prompt {n} of 5")).to_be_visible()
        page.get_by_role("button", name="Record").click()
        expect(page.get_by_role("region", name="Pronunciation result")).to_be_visible(timeout=45_000)
        if n < 5:
            page.get_by_role("button", name="Next phrase").click()
    page.get_by_role("button", name="See my recommendation").click()
    expect(page.get_by_role("heading", name="You're all set")).to_be_visible()
    page.get_by_role("button", name="Start learning").click()
    expect(page).to_have_url(re.compile(r"/practice\?unit="))

    # Home now shows progress and no longer asks to finish onboarding; the scores were calibrated.
    page.goto(app.url + "/home")
    expect(page.get_by_text("Finish setting up")).to_have_count(0)
    expect(page.get_by_role("heading", name="Accuracy per tone")).to_be_visible()


def test_role_play_through_a_branch_to_the_summary(
    mic_page: MicPageFactory, app: RunningApp, family_line: Path
) -> None:
    page = mic_page(family_line, loop=True)
    email = unique_email("roleplay")
    sign_up(page, app.url, email=email, name="Rin")
    expect_onboarding(page, app.url, "Rin")
    app.grant_plus(email)  # "family" is lesson 6: its role-play is part of Plus (issue 12)
    page.goto(app.url + "/dialogue?id=family-chat")
    expect(page.get_by_role("heading", name="Talking about family")).to_be_visible()
    transcript = page.get_by_role("list", name="Conversation")
    expect(transcript.get_by_text("你家有几口人？")).to_be_visible()
    # Take the first branch: "我家有四口人。" leads to its own partner turn.
    page.get_by_role("button", name=re.compile("四口人")).click()
    # Wait until the server has taken the choice before recording anything.
    expect(page.get_by_text("我家有四口人。", exact=True).first).to_be_visible()
    page.get_by_role("button", name="Record my line").click()
    expect(transcript.get_by_text(re.compile(r"^Score \d+"))).to_have_count(1, timeout=45_000)
    expect(transcript).to_contain_text("你有兄弟姐妹吗？")  # the partner line only on that branch

    # Later lines are other sentences. A take that is not the whole line keeps the learner on it,
    # says what was missing, and lets them try again or move on; the story never moves on by itself.
    move_on = page.get_by_role("button", name=re.compile("^(Skip this line|Keep this take and go on)$"))
    for option, line in (("姐姐", "我有一个姐姐。"), ("银行", "他们都在银行工作。")):
        page.get_by_role("button", name=re.compile(option)).click()
        expect(page.get_by_text(line, exact=True).first).to_be_visible()
        answered = transcript.get_by_role("listitem").count()
        page.get_by_role("button", name="Record my line").click()
        expect(page.get_by_test_id("said-message")).to_contain_text(
            re.compile("not heard|try again"), timeout=45_000
        )
        expect(page.get_by_text("Your line", exact=True)).to_be_visible()
        expect(transcript.get_by_role("listitem")).to_have_count(answered)
        move_on.click()
        expect(transcript.get_by_role("listitem")).to_have_count(answered + 2)  # the line + the reply
    summary = page.get_by_role("region", name="Conversation summary")
    expect(summary).to_be_visible()
    expect(summary).to_contain_text("Average score:")
    expect(transcript).to_contain_text("真不错！")


LEARNER_PAGES = [
    "/",
    "/signin",
    "/signup",
    "/home",
    "/learn",
    "/practice?unit=greetings",
    "/review",
    "/account",
    "/pricing",
    "/billing",
]


def test_learner_pages_have_no_serious_accessibility_violations(page: Page, app: RunningApp) -> None:
    sign_up(page, app.url, email=unique_email("a11y"), name="Ada")
    expect_onboarding(page, app.url, "Ada")
    pages = [*LEARNER_PAGES, "/onboarding", "/dialogue?id=family-chat"]
    problems: list[str] = []
    for path in pages:
        page.goto(app.url + path)
        page.wait_for_load_state("networkidle")
        expect(page.get_by_role("heading", level=1).first).to_be_visible()
        problems += axe_problems(page, path)
    assert not problems, "\n".join(problems)
