"""Growth (issue 14) in Chromium: product analytics reach the local PostHog stand-in (started by
e2e/conftest.py) only with consent and with the account's id after sign-up; UTM parameters land on
the account as first touch; a marketing tag loads only after *marketing* consent."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from e2e.audio import human_wav
from e2e.conftest import MicPageFactory, RunningApp
from e2e.helpers import sign_in, sign_up, unique_email
from tests.support.posthog_capture import PostHogCapture

PRACTICE = "/practice?unit=drills-pairs&item=drill.t1-1.jintian"
LANDING = "/?utm_source=google&utm_medium=cpc&utm_campaign=spring_launch"


@pytest.fixture(scope="module")
def correct_take(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return human_wav("jin1 tian1", tmp_path_factory.mktemp("growth-audio") / "jintian.wav")


def _banner(page: Page):  # type: ignore[no-untyped-def]
    return page.get_by_role("region", name="Your privacy choices")


def _user_id(app: RunningApp, email: str) -> str:
    return app.python(
        "import sys\nfrom sqlmodel import select\nfrom sayzhong.db import session_scope\n"
        "from sayzhong.accounts.models import User\n"
        "with session_scope() as s:\n"
        "    print(s.exec(select(User.id).where(User.email == sys.argv[1])).one())\n",
        email,
    )


def _first_touch(app: RunningApp, user_id: str) -> str:
    return app.python(
        "import sys\nfrom sayzhong.db import session_scope\nfrom sayzhong.analytics import attribution\n"
        "with session_scope() as s:\n"
        "    for v in attribution.account_attribution(session=s, user_id=int(sys.argv[1])):\n"
        "        print(v.touch, v.channel, v.source, v.campaign, v.landing_path)\n",
        user_id,
    )


def _journey(page: Page, app: RunningApp, *, accept: bool) -> str:
    """Landing from an ad → (accept or not) → sign up → first scored take. Returns the user id."""
    page.goto(app.url + LANDING)
    expect(_banner(page)).to_be_visible()
    page.wait_for_load_state("networkidle")
    if accept:
        _banner(page).get_by_role("button", name="Accept all").click()
        expect(_banner(page)).to_be_hidden()
    email = unique_email("growth")
    sign_up(page, app.url, email=email, name="Lan")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Lan")
    page.goto(app.url + PRACTICE)
    expect(page.get_by_text("今天", exact=True)).to_be_visible()
    page.get_by_role("button", name="Record").click()
    expect(page.get_by_role("region", name="Pronunciation result")).to_be_visible(timeout=45_000)
    return _user_id(app, email)


def test_with_consent_posthog_receives_the_journey_under_the_account_id(
    mic_page: MicPageFactory, app: RunningApp, posthog_capture: PostHogCapture, correct_take: Path
) -> None:
    page = mic_page(correct_take)
    user = _journey(page, app, accept=True)
    visitor = next(c["value"] for c in page.context.cookies() if c["name"] == "sz_consent")

    events = posthog_capture.wait_for(
        lambda evs: any(e["event"] == "first_attempt_scored" and e["distinct_id"] == user for e in evs), 30
    )
    mine = [e for e in events if e["distinct_id"] in (user, visitor)]
    names = [e["event"] for e in mine]
    # Before sign-up the visitor's page views carry the anonymous id; the alias joins it to the account.
    assert any(e["event"] == "page_viewed" and e["distinct_id"] == visitor for e in mine), names
    alias = [e for e in mine if e["event"] == "$create_alias"]
    assert alias and alias[0]["distinct_id"] == visitor and alias[0]["properties"]["alias"] == user, names
    signed = [e for e in mine if e["event"] == "signed_up"]
    assert signed and signed[0]["distinct_id"] == user
    assert signed[0]["properties"]["channel"] == "paid_search"
    assert signed[0]["properties"]["campaign"] == "spring_launch"
    assert names.index("$create_alias") < names.index("signed_up") < names.index("first_attempt_scored")
    # Properties are the catalogue's: no e-mail or name anywhere in what PostHog received.
    assert "growth-" not in str(mine) and "Lan" not in str([e["properties"] for e in mine])
    # The account remembers where it came from (first and last touch).
    assert _first_touch(app, user).splitlines() == [
        "first paid_search google spring_launch /",
        "last paid_search google spring_launch /",
    ]


def test_without_consent_posthog_receives_nothing(
    mic_page: MicPageFactory,
    app: RunningApp,
    posthog_capture: PostHogCapture,
    correct_take: Path,
    browser: Browser,
) -> None:
    page = mic_page(correct_take)
    user = _journey(page, app, accept=False)
    assert "sz_consent" not in {c["name"] for c in page.context.cookies()}

    # A sentinel visitor who accepts afterwards: once their page view has arrived, anything the
    # first journey had queued before it would have arrived too (one ordered queue per process).
    ctx = browser.new_context()
    try:
        sentinel = ctx.new_page()
        sentinel.goto(app.url + "/signin")
        _banner(sentinel).get_by_role("button", name="Accept all").click()
        expect(_banner(sentinel)).to_be_hidden()
        visitor = next(c["value"] for c in ctx.cookies() if c["name"] == "sz_consent")
        events = posthog_capture.wait_for(lambda evs: any(e["distinct_id"] == visitor for e in evs), 30)
    finally:
        ctx.close()
    assert any(e["distinct_id"] == visitor for e in events)
    assert [e for e in events if e["distinct_id"] == user or e["properties"].get("alias") == user] == []
    # The sign-up source is still recorded: it needs no consent and holds no identifier.
    assert _first_touch(app, user).splitlines()[0] == "first paid_search google spring_launch /"


def _add_tag(app: RunningApp, url: str) -> None:
    app.python(
        "import sys\nfrom sayzhong.db import session_scope\nfrom sayzhong.settings import get_settings\n"
        "from sayzhong.analytics import tags\n"
        "with session_scope() as s:\n"
        "    tags.save_tag(session=s, actor_id=1, name='Ads conversion', script_url=sys.argv[1], pages='*',\n"
        "                  hosts=tags.allowed_hosts(get_settings().marketing_tag_hosts))\n",
        url,
    )


def test_a_marketing_tag_loads_only_after_marketing_consent(
    browser: Browser, app: RunningApp, posthog_capture: PostHogCapture
) -> None:
    path = f"/tag-{uuid.uuid4().hex[:8]}.js"
    _add_tag(app, posthog_capture.url + path)

    def tag_requests() -> list[str]:
        return [g for g in posthog_capture.gets if g.startswith(path)]

    # Global Privacy Control: never, even after clicking around.
    gpc = browser.new_context(extra_http_headers={"Sec-GPC": "1"})
    try:
        page = gpc.new_page()
        page.goto(app.url + "/")
        page.wait_for_load_state("networkidle")
        page.goto(app.url + "/signin")
        page.wait_for_load_state("networkidle")
        assert tag_requests() == []
    finally:
        gpc.close()

    ctx = browser.new_context()
    try:
        page = ctx.new_page()
        requests: list[str] = []
        page.on("request", lambda r: requests.append(r.url))
        page.goto(app.url + "/")
        page.wait_for_load_state("networkidle")
        assert tag_requests() == [] and not any(path in u for u in requests), "loaded before any choice"

        # Analytics only: still no tag.
        _banner(page).get_by_role("button", name="Choose").click()
        page.get_by_role("checkbox", name="Analytics").click()  # controlled: the state round-trips
        expect(page.get_by_role("checkbox", name="Analytics")).to_be_checked()
        _banner(page).get_by_role("button", name="Save my choices").click()
        expect(_banner(page)).to_be_hidden()
        page.wait_for_load_state("networkidle")
        assert tag_requests() == [] and not any(path in u for u in requests), "loaded with analytics only"

        # Marketing accepted (Cookie settings): the script is inserted and requested from its host.
        page.goto(app.url + "/privacy/cookies")
        expect(page.get_by_role("checkbox", name="Analytics")).to_be_checked()
        page.get_by_role("checkbox", name="Marketing").click()
        expect(page.get_by_role("checkbox", name="Marketing")).to_be_checked()
        page.get_by_role("button", name="Save my choices").click()
        page.wait_for_function("() => window.__szTestTag === 1", timeout=20_000)
        assert len(tag_requests()) == 1
        assert any(u.endswith(path) for u in requests)
        assert page.locator("script[data-sz-tag]").count() == 1
    finally:
        ctx.close()


def test_marketing_pages_show_the_funnel_build_links_and_manage_tags(
    browser: Browser, app: RunningApp, posthog_capture: PostHogCapture
) -> None:
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    ctx.set_default_timeout(20_000)
    try:
        page = ctx.new_page()
        sign_in(
            page,
            app.url,
            email=app.admin_email,
            password=app.admin_password,
            totp_secret=app.admin_totp_secret(),
        )
        expect(page).to_have_url(re.compile(r"/home"))

        page.goto(app.url + "/admin/funnels")
        expect(page.get_by_role("heading", name="Funnels", level=1)).to_be_visible()
        steps = page.get_by_role("region", name="Funnel steps")
        for label in (
            "Visit",
            "Sign-up",
            "Onboarding done",
            "First scored take",
            "Seventh-day return",
            "Paid",
        ):
            expect(steps.get_by_role("rowheader", name=label, exact=True)).to_be_visible()
        expect(steps.get_by_text(re.compile(r"target \(> 15 %\)"))).to_be_visible()
        page.get_by_label("Split by").select_option("channel")
        page.get_by_role("button", name="Show").click()
        expect(page.get_by_role("region", name="Funnel by segment")).to_be_visible()
        # PostHog is configured for the e2e app: the same funnel can be opened there.
        expect(page.get_by_role("link", name="Open the same funnel in PostHog")).to_have_attribute(
            "href", re.compile(re.escape(posthog_capture.url) + r"/insights/new#q=")
        )

        page.goto(app.url + "/admin/campaign-links")
        expect(page.get_by_role("heading", name="Campaign links", level=1)).to_be_visible()
        page.get_by_label("Source").fill("newsletter")
        page.get_by_label("Medium").fill("email")
        page.get_by_label("Campaign").fill("Winter Sale")
        page.get_by_role("button", name="Build link").click()
        expect(page.get_by_role("alert")).to_contain_text("lower-case")
        page.get_by_label("Campaign").fill("winter_sale")
        page.get_by_role("button", name="Build link").click()
        expect(
            page.get_by_text(app.url + "/?utm_source=newsletter&utm_medium=email&utm_campaign=winter_sale")
        ).to_be_visible()
        expect(page.get_by_text("channel: email")).to_be_visible()

        page.goto(app.url + "/admin/marketing-tags")
        expect(page.get_by_role("heading", name="Marketing tags", level=1)).to_be_visible()
        page.get_by_label("Name", exact=True).fill("Elsewhere")
        page.get_by_label("Script address").fill("https://ads.not-allowed.example/t.js")
        page.get_by_role("button", name="Save tag").click()
        expect(page.get_by_role("alert")).to_contain_text("not an allowed tag host")
        name = f"Pixel {uuid.uuid4().hex[:6]}"
        page.get_by_label("Name", exact=True).fill(name)
        page.get_by_label("Script address").fill(posthog_capture.url + "/pixel.js")
        page.get_by_label("Pages", exact=True).fill("/signup")
        page.get_by_role("button", name="Save tag").click()
        expect(page.get_by_text("Tag saved.")).to_be_visible()
        row = page.get_by_role("row").filter(has_text=name)
        expect(row).to_contain_text("/signup")
        row.get_by_role("button", name="Turn off").click()
        expect(page.get_by_text("Tag turned off.")).to_be_visible()
        expect(page.get_by_role("row").filter(has_text=name)).to_contain_text("off")
    finally:
        ctx.close()
