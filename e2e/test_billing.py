"""Billing journeys in Chromium against localstripe: the card is typed into the Stripe.js Elements
form that localstripe serves (its test Stripe.js at /js.stripe.com/v3/), exactly where live Stripe's
iframe would be; 3-D Secure is localstripe's confirmation dialog."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from e2e.audio import human_wav
from e2e.conftest import MicPageFactory, RunningApp
from e2e.helpers import sign_in, sign_up, unique_email, visit

ITEM = "drill.t1-1.jintian"  # a tone drill: free, but counted against the daily limit
PRACTICE = "/practice?unit=drills-pairs&item=" + ITEM
GOOD, SCA, DECLINED = "4242424242424242", "4000002760003184", "4000000000000002"


@pytest.fixture(scope="module")
def take(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return human_wav("jin1 tian1", tmp_path_factory.mktemp("audio") / "jintian.wav")


def _use_up_todays_takes(app: RunningApp, email: str) -> None:
    app.python(
        "import sys\n"
        "from sayzhong.db import session_scope, utcnow\n"
        "from sayzhong.accounts.users import find_user_by_email\n"
        "from sayzhong.practice.models import Attempt\n"
        "from sayzhong.settings import get_settings\n"
        "with session_scope() as s:\n"
        "    u = find_user_by_email(session=s, email=sys.argv[1])\n"
        "    for _ in range(get_settings().free_daily_scored_takes):\n"
        "        s.add(Attempt(user_id=u.id, item_id='drill.t1-1.jintian', mode='practice', text='今天',\n"
        "                      engine='offline', created_at=utcnow()))\n",
        email,
    )


def _fill_card(page: Page, number: str) -> None:
    form = page.get_by_role("group", name="Card number, expiry and security code")
    form.get_by_placeholder("number").fill(number)
    form.get_by_placeholder("exp_month").fill("12")
    form.get_by_placeholder("exp_year").fill("31")
    form.get_by_placeholder("cvc").fill("123")
    form.get_by_placeholder("postal_code").fill("75001")


def _start_trial(page: Page, app: RunningApp, number: str) -> None:
    page.goto(app.url + "/billing")
    expect(page.get_by_role("heading", name=re.compile("Your plan: Free"))).to_be_visible()
    page.get_by_role("button", name="Start free trial").click()
    expect(page.get_by_placeholder("number")).to_be_visible()
    _fill_card(page, number)
    page.get_by_role("button", name="Start free trial").click()


def test_free_learner_hits_the_limit_upgrades_with_a_trial_switches_cancels_and_resumes(
    mic_page: MicPageFactory, app: RunningApp, take: Path
) -> None:
    page = mic_page(take, loop=True)
    email = unique_email("payer")
    sign_up(page, app.url, email=email, name="Payer")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Payer")
    _use_up_todays_takes(app, email)

    page.goto(app.url + PRACTICE)
    expect(page.get_by_text("今天", exact=True)).to_be_visible()
    page.get_by_role("button", name="Record").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("You have used today's 20 scored takes on Free", timeout=45_000)
    expect(alert).to_contain_text("Your take is saved")
    expect(alert).to_contain_text(re.compile(r"resets at 00:00 your time \(in \d+ h \d+ min|\d+ min\)"))
    page.get_by_role("link", name="See Plus plans").click()

    expect(page.get_by_role("heading", name="Plans", level=1)).to_be_visible()
    page.get_by_role("link", name="Upgrade on the billing page").first.click()
    expect(page.get_by_text("1 saved take(s)", exact=False)).to_be_visible()
    page.get_by_role("button", name="Start free trial").click()
    _fill_card(page, GOOD)
    page.get_by_role("button", name="Start free trial").click()
    expect(page.get_by_text("Your 7-day free trial of Plus has started.")).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile("Your plan: Plus monthly"))).to_be_visible()
    expect(page.get_by_text("Free trial", exact=True)).to_be_visible()
    expect(page.get_by_text("Visa •••• 4242, expires 12/2031")).to_be_visible()
    page.get_by_role("button", name="Score them now").click()
    expect(page.get_by_text("1 saved take scored")).to_be_visible(timeout=45_000)

    # the limit is gone: a new take is scored
    visit(page, app.url + PRACTICE)
    page.get_by_role("button", name="Record").click()
    expect(page.get_by_role("region", name="Pronunciation result")).to_be_visible(timeout=45_000)

    visit(page, app.url + "/billing")
    page.get_by_role("button", name="Switch to annual").click()
    preview = page.get_by_role("list", name="Proration preview")
    expect(preview).to_contain_text("€79.99")
    expect(page.get_by_text("Due now")).to_be_visible()
    page.get_by_role("button", name="Confirm switch").click()
    expect(page.get_by_text("You are now on Plus annual.")).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile("Your plan: Plus annual"))).to_be_visible()

    page.get_by_label("Why are you leaving? (optional)").fill("Exams coming up")
    page.get_by_role("button", name="Cancel at period end").click()
    expect(page.get_by_text("Plus will end at the end of this period.", exact=False)).to_be_visible()
    expect(page.get_by_text("Plus ends on")).to_be_visible()
    page.get_by_role("button", name="Resume Plus").click()
    expect(page.get_by_text("Plus continues", exact=False)).to_be_visible()
    expect(page.get_by_text("Renews on")).to_be_visible()
    invoices = page.get_by_role("table")
    expect(invoices).to_contain_text("paid")


def test_an_sca_card_asks_the_learner_to_confirm(page: Page, app: RunningApp) -> None:
    sign_up(page, app.url, email=unique_email("sca"), name="Sca")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Sca")
    _start_trial(page, app, SCA)
    page.get_by_role("button", name="Complete authentication").click()  # the bank's 3-D Secure step
    expect(page.get_by_text("Your 7-day free trial of Plus has started.")).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile("Your plan: Plus monthly"))).to_be_visible()


def test_a_declined_card_shows_the_reason_and_grants_nothing(page: Page, app: RunningApp) -> None:
    sign_up(page, app.url, email=unique_email("declined"), name="Dee")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Dee")
    _start_trial(page, app, DECLINED)
    expect(page.get_by_role("alert")).to_contain_text("Your card was declined. Nothing was charged.")
    page.reload()
    expect(page.get_by_role("heading", name=re.compile("Your plan: Free"))).to_be_visible()


def test_role_play_limits_offer_the_same_upgrade_path_as_practice(
    mic_page: MicPageFactory, app: RunningApp, take: Path
) -> None:
    page = mic_page(take, loop=True)
    email = unique_email("roleplayer")
    sign_up(page, app.url, email=email, name="Ro")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Ro")

    # a Plus role-play says so on arrival, before anything is recorded
    page.goto(app.url + "/dialogue?id=family-chat")
    expect(page.get_by_role("alert")).to_contain_text("is part of SayZhong Plus", timeout=20_000)
    expect(page.get_by_role("link", name="See Plus plans")).to_be_visible()
    expect(page.get_by_role("link", name="Plan and billing")).to_be_visible()

    # a free role-play at the daily limit: the take is kept, with the same buttons
    _use_up_todays_takes(app, email)
    page.goto(app.url + "/dialogue?id=meet-classmate")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    page.get_by_role("button", name=re.compile("认识你很高兴")).click()
    expect(page.get_by_text("你好！认识你很高兴。", exact=True).first).to_be_visible()
    page.get_by_role("button", name="Record my line").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("You have used today's 20 scored takes on Free", timeout=45_000)
    expect(alert).to_contain_text("Your take is saved")
    expect(page.get_by_role("link", name="Plan and billing")).to_be_visible()
    page.get_by_role("link", name="See Plus plans").click()
    expect(page.get_by_role("heading", name="Plans", level=1)).to_be_visible()


def test_staff_look_a_learner_up_give_plus_for_some_days_and_the_grant_is_audited(
    page: Page, app: RunningApp, browser: Browser
) -> None:
    email = unique_email("gifted")
    learner_ctx = browser.new_context()
    learner = learner_ctx.new_page()
    sign_up(learner, app.url, email=email, name="Gia")
    expect(learner.get_by_role("heading", level=1)).to_contain_text("Gia")

    sign_in(
        page, app.url, email=app.admin_email, password=app.admin_password, totp_secret=app.admin_totp_secret()
    )
    expect(page).to_have_url(re.compile(r"/home"))
    visit(page, f"{app.url}/admin/users")
    page.get_by_label("Search users").fill(email)
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name=email).click()
    expect(page.get_by_label("Account facts")).to_contain_text("Free")

    page.goto(f"{app.url}/admin/billing")
    expect(page.get_by_role("heading", name="Billing", level=1)).to_be_visible()
    page.get_by_label("Learner's e-mail").fill(email)
    page.get_by_label("Days").fill("14")
    page.get_by_label("Reason (kept in the audit log)").fill("School partner")
    page.get_by_role("button", name="Give Plus").click()
    expect(page.get_by_text(f"{email} has Plus until")).to_be_visible()
    grants = page.get_by_role("region", name="Grants")
    expect(grants).to_contain_text(email)
    expect(grants).to_contain_text("School partner")

    page.goto(f"{app.url}/admin/audit")
    expect(page.get_by_role("cell", name="billing.grant_created").first).to_be_visible()
    visit(page, f"{app.url}/admin/users")
    page.get_by_label("Search users").fill(email)
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name=email).click()
    expect(page.get_by_label("Account facts")).to_contain_text("Plus (complimentary grant)")

    learner.goto(app.url + "/billing")
    expect(learner.get_by_role("heading", name=re.compile("Your plan: Plus"))).to_be_visible()
    learner_ctx.close()


_RENEW = (
    "import sys\n"
    "from sayzhong.db import session_scope\n"
    "from sayzhong.accounts.users import find_user_by_email\n"
    "from sayzhong.billing import service\n"
    "from sayzhong.settings import get_settings\n"
    "from tests.support.localstripe_server import renew_after_trial\n"
    "with session_scope() as s:\n"
    "    user = find_user_by_email(session=s, email=sys.argv[1])\n"
    "    sub = service.latest_subscription_id(session=s, user_id=user.id)\n"
    "renew_after_trial(get_settings().stripe_api_base, sub)\n"
    "with session_scope() as s:\n"
    "    service.refresh_subscription(session=s, subscription_id=sub)\n"
)


def test_a_renewal_after_the_trial_that_needs_3d_secure_asks_the_learner_to_confirm(
    page: Page, app: RunningApp
) -> None:
    email = unique_email("renewal")
    sign_up(page, app.url, email=email, name="Ren")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Ren")
    _start_trial(page, app, SCA)
    page.get_by_role("button", name="Complete authentication").click()
    expect(page.get_by_text("Your 7-day free trial of Plus has started.")).to_be_visible()

    app.python(_RENEW, email)  # the trial ends; the off-session renewal needs the bank's step
    page.reload()
    prompt = page.get_by_role("alert").filter(has_text="confirm your payment to renew Plus")
    expect(prompt).to_be_visible()
    prompt.get_by_role("button", name="Confirm payment").click()
    page.get_by_role("button", name="Complete authentication").click()
    expect(page.get_by_text("Payment confirmed.", exact=False)).to_be_visible()
    expect(prompt).to_have_count(0)
    expect(page.get_by_role("heading", name=re.compile("Your plan: Plus monthly"))).to_be_visible()
    expect(page.get_by_role("table")).to_contain_text("paid")


def _grant_plus(app: RunningApp, email: str) -> None:
    app.python(
        "import sys\n"
        "from datetime import timedelta\n"
        "from sayzhong.db import session_scope, utcnow\n"
        "from sayzhong.accounts.users import find_user_by_email\n"
        "from sayzhong.billing.models import BillingGrant\n"
        "with session_scope() as s:\n"
        "    u = find_user_by_email(session=s, email=sys.argv[1])\n"
        "    s.add(BillingGrant(user_id=u.id, ends_at=utcnow() + timedelta(days=1), reason='e2e'))\n",
        email,
    )


def test_lesson_pages_mark_what_needs_plus_open_with_a_grant_and_send_strangers_to_sign_in(
    page: Page, app: RunningApp
) -> None:
    """The lesson list and a lesson read the plan in their guard's one statement (issue 16): what
    they show must still follow the plan, at once, and a signed-out visit must still go to sign-in."""
    email = unique_email("planner")
    sign_up(page, app.url, email=email, name="Pia")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Pia")

    page.goto(app.url + "/learn")
    expect(page.get_by_role("heading", name="Greetings", level=3)).to_be_visible()
    marks = page.get_by_label("Part of Plus")
    expect(marks.first).to_be_visible()
    assert marks.count() >= 5  # the units after the free ones, and their role-plays
    page.goto(app.url + "/practice?unit=directions")
    expect(page.get_by_role("alert")).to_contain_text("is part of SayZhong Plus", timeout=20_000)
    expect(page.get_by_role("link", name="See Plus plans")).to_be_visible()

    _grant_plus(app, email)
    page.goto(app.url + "/learn")
    expect(page.get_by_role("heading", name="Greetings", level=3)).to_be_visible()
    expect(page.get_by_label("Part of Plus")).to_have_count(0)
    page.goto(app.url + "/practice?unit=directions")
    expect(page.get_by_text("1 of", exact=False).first).to_be_visible(timeout=20_000)
    expect(page.get_by_text("is part of SayZhong Plus")).to_have_count(0)

    page.context.clear_cookies()
    for path in ("/learn", "/practice?unit=greetings"):
        page.goto(app.url + path)
        expect(page).to_have_url(re.compile(r"/signin"))
