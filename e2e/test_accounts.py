"""Account journeys in a real browser: sign-up, sign-in/out, throttling, password reset, roles, OIDC."""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import Page, expect

from e2e.conftest import OIDC_USER, PRODUCTION_MODE, RunningApp, csp_violations, watch_page
from e2e.helpers import (
    expect_home,
    expect_onboarding,
    metric_total,
    read_metrics,
    sign_in,
    sign_out,
    sign_up,
    unique_email,
    visit,
)


def test_landing_page_explains_the_product(page: Page, app: RunningApp) -> None:
    page.goto(app.url)
    expect(page.get_by_role("heading", level=1)).to_have_text("Say it right. Tone by tone.")
    expect(page.get_by_role("link", name="Get started")).to_be_visible()
    assert httpx.get(f"{app.url}/healthz").status_code == 200


def test_sign_up_starts_onboarding_and_session_cookie_is_http_only(page: Page, app: RunningApp) -> None:
    email = unique_email()
    sign_up(page, app.url, email=email, name="Mei")
    expect_onboarding(page, app.url, "Mei")
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert cookies["sz_session"]["httpOnly"] is True
    assert cookies["sz_session"]["sameSite"] == "Lax"
    assert page.evaluate("document.cookie").find("sz_session") == -1


def test_sign_out_then_sign_in_again(page: Page, app: RunningApp) -> None:
    email = unique_email()
    sign_up(page, app.url, email=email, name="Lan")
    expect_onboarding(page, app.url, "Lan")
    sign_out(page)
    expect(page).to_have_url(re.compile(re.escape(app.url) + "/?$"))
    page.goto(f"{app.url}/home")
    expect(page).to_have_url(re.compile(r"/signin"))
    sign_in(page, app.url, email=email)
    expect_home(page, app.url, "Lan")


def test_return_visits_come_from_memory_with_redis_and_sign_out_still_ends_them(
    page: Page, app: RunningApp
) -> None:
    """Issue 16: with Redis (the production-like stack), a tab's next load of a page it opened before
    is answered from the worker's guard cache; without Redis every load reads the database. Either
    way, signing out ends the session before the next load."""
    email = unique_email("cached")
    sign_up(page, app.url, email=email, name="Wen")
    expect_onboarding(page, app.url, "Wen")
    sample = 'sayzhong_guard_cache_total{outcome="hit"}'
    before = metric_total(read_metrics(app.url), sample)
    visit(page, f"{app.url}/home")
    for _ in range(3):  # in-app navigation: the same websocket, so the same worker
        page.get_by_role("link", name="Lessons", exact=True).first.click()
        expect(page.get_by_role("heading", name="Lessons", level=1)).to_be_visible()
        page.get_by_role("link", name="Home", exact=True).first.click()
        expect_home(page, app.url, "Wen")
    hits = metric_total(read_metrics(app.url), sample) - before
    if PRODUCTION_MODE:
        assert hits >= 2, hits  # each page: the first load learns whose token it is, the second keeps
    else:
        assert hits == 0, hits
    sign_out(page)
    page.goto(f"{app.url}/home")
    expect(page).to_have_url(re.compile(r"/signin"))


def test_duplicate_email_and_weak_password_get_clear_messages(page: Page, app: RunningApp) -> None:
    email = unique_email()
    sign_up(page, app.url, email=email, name="Bo")
    expect_onboarding(page, app.url, "Bo")
    sign_out(page)
    expect(page).to_have_url(re.compile(re.escape(app.url) + "/?$"))
    sign_up(page, app.url, email=email, name="Bo")
    expect(page.get_by_role("alert")).to_contain_text("already")
    sign_up(page, app.url, email=unique_email(), password="password123", name="Bo")
    expect(page.get_by_role("alert")).to_contain_text("common")


def test_wrong_password_shows_a_message(page: Page, app: RunningApp) -> None:
    email = unique_email()
    sign_up(page, app.url, email=email, name="Hua")
    expect_onboarding(page, app.url, "Hua")
    sign_out(page)
    expect(page).to_have_url(re.compile(re.escape(app.url) + "/?$"))
    sign_in(page, app.url, email=email, password="not my password at all")
    expect(page.get_by_role("alert")).to_contain_text("incorrect")
    expect(page).to_have_url(re.compile(r"/signin"))


def test_repeated_failures_are_throttled(page: Page, app: RunningApp) -> None:
    email = unique_email()
    sign_up(page, app.url, email=email, name="Jun")
    expect_onboarding(page, app.url, "Jun")
    sign_out(page)
    expect(page).to_have_url(re.compile(re.escape(app.url) + "/?$"))
    for _ in range(3):  # the e2e app allows 3 failures per account
        sign_in(page, app.url, email=email, password="wrong wrong wrong")
        expect(page.get_by_role("alert")).to_be_visible()
    sign_in(page, app.url, email=email)  # even the right password is refused while throttled
    expect(page.get_by_role("alert")).to_contain_text(re.compile("too many", re.IGNORECASE))


def test_forgotten_password_reset_through_the_outbox_link(page: Page, app: RunningApp) -> None:
    email = unique_email()
    sign_up(page, app.url, email=email, name="Ling")
    expect_onboarding(page, app.url, "Ling")
    sign_out(page)
    expect(page).to_have_url(re.compile(re.escape(app.url) + "/?$"))
    token_id = app.python(
        "import sys\n"
        "from sayzhong.db import session_scope\n"
        "from sayzhong.accounts.users import find_user_by_email\n"
        "from sayzhong.api.tokens import create_token\n"
        "with session_scope() as s:\n"
        "    u = find_user_by_email(session=s, email=sys.argv[1])\n"
        "    info, _raw = create_token(session=s, user_id=u.id, name='laptop')\n"
        "    print(info.id)\n",
        email,
    )
    visit(page, f"{app.url}/forgot-password")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_role("button", name="Send reset link").click()
    expect(page.get_by_role("heading", name="Check your e-mail")).to_be_visible()
    body = app.latest_email_to(email)
    match = re.search(r"https?://\S+/reset-password\?token=[\w\-%.~]+", body)
    assert match, body
    link = match.group(0)
    page.goto(link)
    expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
    new_password = "a brand new tone song"
    page.get_by_label("New password", exact=True).fill(new_password)
    page.get_by_label("Repeat new password").fill(new_password)
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_role("heading", name="Password changed")).to_be_visible()
    # API tokens minted with the old password stop working too.
    status = app.python(
        "import sys\n"
        "from sayzhong.db import session_scope\n"
        "from sayzhong.api.models import ApiToken\n"
        "with session_scope() as s:\n"
        "    print('revoked' if s.get(ApiToken, int(sys.argv[1])).revoked_at else 'active')\n",
        token_id,
    )
    assert status == "revoked"
    # The link is single use: it is refused before anything is typed.
    page.goto(link)
    expect(page.get_by_role("alert")).to_contain_text(re.compile("already been used|expired|no longer", re.I))
    expect(page.get_by_label("New password", exact=True)).to_have_count(0)
    sign_in(page, app.url, email=email, password=new_password)
    expect_home(page, app.url, "Ling")


def test_learner_is_kept_out_of_the_staff_area(page: Page, app: RunningApp) -> None:
    sign_up(page, app.url, email=unique_email(), name="Kai")
    expect_onboarding(page, app.url, "Kai")
    page.goto(f"{app.url}/admin/users")
    expect(page).to_have_url(re.compile(r"/forbidden"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("staff")
    expect(page.get_by_role("link", name="Staff")).to_have_count(0)


def test_admin_changes_a_role_and_it_is_audited(page: Page, app: RunningApp, browser) -> None:  # type: ignore[no-untyped-def]
    learner_email = unique_email("future-support")
    learner_ctx = browser.new_context()
    learner_page = learner_ctx.new_page()
    learner_console, _ = watch_page(learner_page)
    sign_up(learner_page, app.url, email=learner_email, name="Yu")
    expect_onboarding(learner_page, app.url, "Yu")

    sign_in(
        page, app.url, email=app.admin_email, password=app.admin_password, totp_secret=app.admin_totp_secret()
    )
    expect(page).to_have_url(re.compile(r"/home"))
    visit(page, f"{app.url}/admin/users")
    page.get_by_label("Search users").fill(learner_email)
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("cell", name=learner_email)).to_be_visible()
    page.get_by_role("combobox", name=f"Role for {learner_email}").select_option("support")
    expect(page.get_by_role("status")).to_contain_text(f"{learner_email} is now support")

    page.goto(f"{app.url}/admin/audit")
    expect(page.get_by_role("cell", name="role.change").first).to_be_visible()

    # The promoted user is now staff (role re-read from the database on each page), so the staff
    # area first asks them to turn on two-factor sign-in.
    learner_page.goto(f"{app.url}/admin")
    expect(learner_page).to_have_url(re.compile(r"/account/two-factor"))
    expect(learner_page.get_by_role("alert")).to_contain_text("Staff accounts must use two-factor sign-in")
    learner_ctx.close()
    assert csp_violations(learner_console) == []


def test_sign_in_with_openid_connect(page: Page, app: RunningApp) -> None:
    page.goto(f"{app.url}/signin")
    page.get_by_role("button", name="Sign in with Test SSO").click()
    expect(page.get_by_role("heading", name="Authorize Client")).to_be_visible()
    page.get_by_role("button", name=OIDC_USER["sub"]).click()
    expect_home(page, app.url, OIDC_USER["name"])


def test_tampered_session_cookie_signs_out_cleanly(page: Page, app: RunningApp) -> None:
    sign_up(page, app.url, email=unique_email(), name="Tao")
    expect_onboarding(page, app.url, "Tao")
    cookie = next(c for c in page.context.cookies() if c["name"] == "sz_session")
    page.context.add_cookies([{**cookie, "value": cookie["value"][:-4] + "AAAA"}])
    page.goto(f"{app.url}/home")
    expect(page).to_have_url(re.compile(r"/signin"))
    expect(page.get_by_role("button", name="Sign in", exact=True)).to_be_visible()
