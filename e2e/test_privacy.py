"""Privacy in a real browser: nothing tracks before consent, after "Reject all" or with Global
Privacy Control (every request, cookie and storage key watched on the landing, sign-up and
practice pages); "Accept all" lets analytics flow and withdrawing stops it; the three banner
buttons have equal size; export download; account deletion with its grace period and cancel."""

from __future__ import annotations

import io
import re
import subprocess
import sys
import zipfile
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Request, expect

from e2e.conftest import RESULTS, ROOT, RunningApp
from e2e.helpers import STRONG_PASSWORD, sign_in, sign_up, unique_email, visit

PRACTICE = "/practice?unit=drills-pairs&item=drill.t1-1.jintian"
ANALYTICS = re.compile(r"/analytics/|posthog|google-analytics|googletagmanager|segment\.io|doubleclick")
NECESSARY_COOKIES = {"sz_session", "sz_consent", "sz_src"}  # sz_src: issue 14, no identifier
# The framework's tab token, scroll positions and light/dark preference (named in legal/cookies).
NECESSARY_STORAGE = {"session:token", "session:react-router-scroll-positions", "local:theme"}


class Watch:
    """Every request the page makes, and the cookies and storage keys it holds."""

    def __init__(self, context: BrowserContext, page: Page) -> None:
        self.context, self.page = context, page
        self.requests: list[str] = []
        page.on("request", self._on_request)

    def _on_request(self, request: Request) -> None:
        self.requests.append(request.url)

    def analytics_requests(self) -> list[str]:
        return [u for u in self.requests if ANALYTICS.search(u)]

    def cookies(self) -> set[str]:
        return {c["name"] for c in self.context.cookies()}

    def storage_keys(self) -> set[str]:
        keys = self.page.evaluate(
            "() => [...Object.keys(window.localStorage).map(k => 'local:' + k),"
            " ...Object.keys(window.sessionStorage).map(k => 'session:' + k)]"
        )
        return set(keys)

    def assert_no_tracking(self, where: str) -> None:
        assert self.analytics_requests() == [], f"{where}: {self.analytics_requests()}"
        assert self.cookies() <= NECESSARY_COOKIES, f"{where}: cookies {self.cookies()}"
        # Only the framework's necessary keys (listed in the cookie policy) may appear.
        assert self.storage_keys() <= NECESSARY_STORAGE, f"{where}: storage {self.storage_keys()}"


@pytest.fixture
def watched(browser: Browser) -> Iterator[tuple[BrowserContext, Page, Watch]]:
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    ctx.set_default_timeout(20_000)
    page = ctx.new_page()
    yield ctx, page, Watch(ctx, page)
    ctx.close()


def _banner(page: Page):  # type: ignore[no-untyped-def]
    return page.get_by_role("region", name="Your privacy choices")


def _settle(page: Page) -> None:
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(500)


def _events(app: RunningApp, path: str) -> int:
    return int(
        app.python(
            "import sys\nfrom sqlmodel import select, func\nfrom sayzhong.db import session_scope\n"
            "from sayzhong.analytics.models import AnalyticsEvent as E\n"
            "with session_scope() as s:\n"
            "    print(s.exec(select(func.count()).select_from(E).where(E.event == 'page_viewed')"
            ".where(E.properties['path'].as_string() == sys.argv[1])).one())\n",
            path,
        )
    )


def test_nothing_tracks_before_consent_or_after_reject(app: RunningApp, watched) -> None:  # type: ignore[no-untyped-def]
    _ctx, page, watch = watched
    page.goto(app.url + "/")
    expect(_banner(page)).to_be_visible()
    _settle(page)
    watch.assert_no_tracking("landing, no choice yet")
    RESULTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(RESULTS / "privacy-banner-1280.png"))  # for reviewers: how it looks

    # The three first-layer buttons carry equal weight: same size, same style.
    boxes = [
        _banner(page).get_by_role("button", name=n).bounding_box()
        for n in ("Accept all", "Reject all", "Choose")
    ]
    assert all(b is not None for b in boxes)
    assert len({(round(b["width"]), round(b["height"])) for b in boxes if b}) == 1, boxes
    classes = {
        _banner(page).get_by_role("button", name=n).get_attribute("class")
        for n in ("Accept all", "Reject all", "Choose")
    }
    assert len(classes) == 1, classes

    # "Choose" opens the categories, nothing pre-ticked; necessary is on and cannot be switched off.
    _banner(page).get_by_role("button", name="Choose").click()
    expect(page.get_by_role("checkbox", name="Analytics")).not_to_be_checked()
    expect(page.get_by_role("checkbox", name="Marketing")).not_to_be_checked()
    expect(page.get_by_role("checkbox", name="Necessary (always on)")).to_be_disabled()

    page.goto(app.url + "/signup")
    _settle(page)
    watch.assert_no_tracking("sign-up, no choice yet")
    # Navigating away is not consent: the banner is still there.
    expect(_banner(page)).to_be_visible()
    sign_up(page, app.url, email=unique_email("gate"), name="Gita")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Gita")
    page.goto(app.url + PRACTICE)
    expect(page.get_by_text("今天", exact=True)).to_be_visible()
    _settle(page)
    watch.assert_no_tracking("practice, no choice yet")

    _banner(page).get_by_role("button", name="Reject all").click()
    expect(_banner(page)).to_be_hidden()
    for path in ("/", "/signup", PRACTICE):
        page.goto(app.url + path)
        _settle(page)
    watch.assert_no_tracking("after Reject all")
    expect(_banner(page)).to_be_hidden()  # the refusal is remembered


def test_accept_lets_analytics_flow_and_withdrawal_stops_it(app: RunningApp, watched) -> None:  # type: ignore[no-untyped-def]
    _ctx, page, watch = watched
    page.goto(app.url + "/legal/terms")
    expect(_banner(page)).to_be_visible()
    _settle(page)
    assert watch.analytics_requests() == []
    with page.expect_request(lambda r: "/analytics/capture" in r.url):
        _banner(page).get_by_role("button", name="Accept all").click()
    expect(_banner(page)).to_be_hidden()
    page.goto(app.url + "/legal/privacy")
    _settle(page)
    assert len(watch.analytics_requests()) >= 2
    assert _events(app, "/legal/privacy") >= 1

    page.get_by_role("link", name="Cookie settings").click()
    expect(page.get_by_role("heading", name="Cookie settings")).to_be_visible()
    page.get_by_role("button", name="Withdraw consent").click()
    expect(page.get_by_text("Your choice is saved.")).to_be_visible()
    before = len(watch.analytics_requests())
    page.goto(app.url + "/legal/cookies")
    page.goto(app.url + "/")
    _settle(page)
    assert len(watch.analytics_requests()) == before, "withdrawal must stop analytics at once"
    assert _events(app, "/legal/cookies") == 0


def test_global_privacy_control_is_a_refusal(app: RunningApp, browser: Browser) -> None:
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, extra_http_headers={"Sec-GPC": "1"})
    ctx.add_init_script("Object.defineProperty(navigator, 'globalPrivacyControl', {get: () => true})")
    page = ctx.new_page()
    watch = Watch(ctx, page)
    try:
        for path in ("/", "/signup"):
            page.goto(app.url + path)
            _settle(page)
        expect(_banner(page)).to_be_hidden()
        watch.assert_no_tracking("with GPC")
        page.goto(app.url + "/privacy/cookies")
        expect(page.get_by_text("Global Privacy Control honoured")).to_be_visible()
        page.screenshot(path=str(RESULTS / "privacy-cookie-settings-gpc.png"), full_page=True)
    finally:
        ctx.close()


def test_banner_fits_a_phone(app: RunningApp, browser: Browser) -> None:
    ctx = browser.new_context(viewport={"width": 390, "height": 844})
    page = ctx.new_page()
    try:
        page.goto(app.url + "/")
        expect(_banner(page)).to_be_visible()
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 390
        for name in ("Accept all", "Reject all", "Choose"):
            expect(_banner(page).get_by_role("button", name=name)).to_be_in_viewport()
        page.screenshot(path=str(RESULTS / "privacy-banner-390.png"))
    finally:
        ctx.close()


def _mark_verified(app: RunningApp, email: str) -> None:
    app.python(
        "import sys\nfrom sqlmodel import select\nfrom sayzhong.db import session_scope\n"
        "from sayzhong.accounts.models import User\n"
        "with session_scope() as s:\n"
        "    u = s.exec(select(User).where(User.email == sys.argv[1])).one()\n"
        "    u.email_verified = True\n    s.add(u)\n",
        email,
    )


def test_export_download(app: RunningApp, page: Page) -> None:
    email = unique_email("export")
    sign_up(page, app.url, email=email, name="Emi")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Emi")
    _mark_verified(app, email)
    page.goto(app.url + "/account")
    section = page.get_by_role("heading", name="Download my data")
    expect(section).to_be_visible()
    page.get_by_role("button", name="Download my data").click()
    expect(page.get_by_text("We are preparing your archive")).to_be_visible()
    expect(page.get_by_text("Latest export:")).to_contain_text("queued")
    page.screenshot(path=str(RESULTS / "privacy-account-section.png"), full_page=True)
    subprocess.run(
        [sys.executable, "-m", "jobs", "--once", "exports"],
        cwd=ROOT,
        env=app.env,
        check=True,
        capture_output=True,
    )
    body = app.latest_email_to(email)
    link = re.search(r"(http\S+/privacy/export/download\?token=\S+)", body)
    assert link, body
    response = page.request.get(link.group(1))
    assert response.status == 200
    archive = zipfile.ZipFile(io.BytesIO(response.body()))
    assert {"account.json", "README.md", "legal_acceptances.json"} <= set(archive.namelist())
    assert email in archive.read("account.json").decode()
    # A second request within 24 hours is refused with a plain message.
    page.get_by_role("button", name="Download my data").click()
    expect(page.get_by_role("alert")).to_contain_text("You can ask for one export per 24 hours")


def test_account_deletion_locks_and_can_be_cancelled(app: RunningApp, page: Page) -> None:
    email = unique_email("delete")
    sign_up(page, app.url, email=email, name="Dara")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Dara")
    visit(page, app.url + "/account")
    page.get_by_role("button", name="Delete my account…").click()
    page.get_by_label("Confirm with your password").fill("not my password")
    page.get_by_role("button", name="Delete my account", exact=True).click()
    expect(page.get_by_text("That password is not right")).to_be_visible()
    page.get_by_label("Confirm with your password").fill(STRONG_PASSWORD)
    page.get_by_role("button", name="Delete my account", exact=True).click()
    expect(page.get_by_role("heading", name="Your account is scheduled for deletion")).to_be_visible()
    # Locked: every signed-in page leads back here, also after signing in again.
    page.goto(app.url + "/home")
    expect(page.get_by_role("heading", name="Your account is scheduled for deletion")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(re.escape(app.url) + r"/?$"))
    sign_in(page, app.url, email=email)
    expect(page.get_by_role("heading", name="Your account is scheduled for deletion")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(re.escape(app.url) + r"/?$"))
    # The e-mailed cancel link works without signing in.
    body = app.latest_email_to(email)
    link = re.search(r"(http\S+/privacy/cancel-deletion\?token=\S+)", body)
    assert link, body
    page.goto(link.group(1))
    expect(page.get_by_text("Your account will not be deleted")).to_be_visible()
    sign_in(page, app.url, email=email)
    expect(page).to_have_url(re.compile(re.escape(app.url) + r"/home/?$"))


def test_legal_pages_history_and_diff(app: RunningApp, page: Page) -> None:
    page.goto(app.url + "/signin")
    footer = page.get_by_role("navigation", name="Legal")
    for name in (
        "Terms",
        "Privacy",
        "Cookies",
        "Sub-processors",
        "Cookie settings",
        "Do not sell or share my information",
    ):
        expect(footer.get_by_role("link", name=name, exact=True)).to_be_visible()
    footer.get_by_role("link", name="Terms", exact=True).click()
    expect(page.get_by_role("heading", name="Terms of Service", level=1)).to_be_visible()
    page.get_by_role("link", name="History and changes").click()
    expect(page.get_by_role("link", name="Version 1")).to_be_visible()
    page.get_by_role("link", name="Compare with previous").first.click()
    differences = page.get_by_role("region", name="Differences")
    expect(differences).to_contain_text("+ ## 5. Paid plans")
    page.screenshot(path=str(RESULTS / "privacy-terms-diff.png"), full_page=True)
    page.goto(app.url + "/legal/terms/v/1")
    expect(page.get_by_text("Past version")).to_be_visible()
    expect(page.get_by_role("heading", name="Terms of Service", level=1)).to_be_visible()
    page.goto(app.url + "/legal/terms/v/99")
    expect(page.get_by_role("alert")).to_contain_text("does not exist")


def test_material_terms_change_asks_to_accept_again(app: RunningApp, page: Page) -> None:
    email = unique_email("terms")
    sign_up(page, app.url, email=email, name="Tao")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Tao")
    # As if Tao had signed up under version 1: the material version 2 now needs accepting.
    app.python(
        "import sys\nfrom sqlmodel import select, delete\nfrom sayzhong.db import session_scope\n"
        "from sayzhong.accounts.models import User\nfrom sayzhong.legal.models import LegalAcceptance as A\n"
        "with session_scope() as s:\n"
        "    u = s.exec(select(User).where(User.email == sys.argv[1])).one()\n"
        "    s.exec(delete(A).where(A.user_id == u.id, A.document == 'terms'))\n"
        "    s.add(A(user_id=u.id, document='terms', version=1, method='signup'))\n",
        email,
    )
    page.goto(app.url + "/home")
    expect(page.get_by_role("heading", name="We updated our Terms of Service")).to_be_visible()
    expect(page.get_by_text("Adds paid plans")).to_be_visible()
    page.goto(app.url + "/review")  # blocking: every signed-in page comes back here
    expect(page.get_by_role("heading", name="We updated our Terms of Service")).to_be_visible()
    page.get_by_role("button", name="I accept the new terms").click()
    expect(page).to_have_url(re.compile(re.escape(app.url) + r"/home/?$"))
    page.goto(app.url + "/review")
    expect(page).to_have_url(re.compile(re.escape(app.url) + r"/review/?$"))
    methods = app.python(
        "import sys\nfrom sqlmodel import select\nfrom sayzhong.db import session_scope\n"
        "from sayzhong.accounts.models import User\nfrom sayzhong.legal.models import LegalAcceptance as A\n"
        "with session_scope() as s:\n"
        "    u = s.exec(select(User).where(User.email == sys.argv[1])).one()\n"
        "    rows = s.exec(select(A).where(A.user_id == u.id))\n"
        "    print(sorted(f'{a.document}{a.version}:{a.method}' for a in rows))\n",
        email,
    )
    assert "terms2:reconsent" in methods and "terms1:signup" in methods


def test_staff_privacy_queue_and_job_runs(app: RunningApp, page: Page) -> None:
    subprocess.run(
        [sys.executable, "-m", "jobs", "--once", "retention.outbox"],
        cwd=ROOT,
        env=app.env,
        check=True,
        capture_output=True,
    )
    sign_in(
        page, app.url, email=app.admin_email, password=app.admin_password, totp_secret=app.admin_totp_secret()
    )
    expect(page).to_have_url(re.compile(r"/home"))
    page.goto(app.url + "/admin/privacy")
    expect(page.get_by_role("heading", name="Privacy requests", level=1)).to_be_visible()
    requester = unique_email("dsr")
    page.get_by_label("Requester e-mail").fill(requester)
    page.get_by_label("Requester name").fill("Rosa")
    page.get_by_label("Details").fill("Please tell me what you hold about me.")
    page.get_by_role("button", name="Log request").click()
    expect(page.get_by_text("Request logged.")).to_be_visible()
    expect(page.get_by_text(requester)).to_be_visible()
    expect(page.get_by_text("30 days left").or_(page.get_by_text("29 days left"))).to_be_visible()
    page.get_by_label("How was the identity verified").fill("reply from the address with the account id")
    page.get_by_role("button", name="Mark verified").click()
    expect(page.get_by_text("Identity verified:")).to_be_visible()
    page.get_by_role("button", name="Export data").click()
    expect(page.get_by_role("alert")).to_contain_text("No account uses the requester's address")
    page.get_by_label("Resolution").fill("no account with that address; told the requester")
    page.get_by_role("button", name="Close request").click()
    expect(page.get_by_text("Request closed.")).to_be_visible()
    expect(page.get_by_role("cell", name="terms").first).to_be_visible()  # acceptance coverage table
    page.goto(app.url + "/admin/jobs")
    expect(page.get_by_role("cell", name="retention.outbox").first).to_be_visible()
