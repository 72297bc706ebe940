"""Support centre journeys (issue 13): help search in English and Chinese, the contextual help drawer,
a learner who finds nothing and files a ticket with their last take attached, automatic routing, an
agent's reply, the learner's rating and the CSAT on the analysis page — with an XSS payload in the
ticket that staff view, and a second learner who cannot see the first learner's ticket."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from e2e.audio import human_wav
from e2e.conftest import MicPageFactory, RunningApp
from e2e.helpers import sign_in, sign_out, sign_up, unique_email, visit, wait_hydrated

PRACTICE = "/practice?unit=drills-pairs&item=drill.t1-1.jintian"
XSS = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'


@pytest.fixture(scope="module")
def take(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return human_wav("jin1 tian1", tmp_path_factory.mktemp("support-audio") / "jintian.wav")


def _signed_up(page: Page, app: RunningApp, name: str) -> str:
    email = unique_email(name.lower())
    sign_up(page, app.url, email=email, name=name)
    expect(page.get_by_role("heading", level=1)).to_contain_text(name)
    return email


def _latest_email_about(app: RunningApp, ticket_id: str) -> str:
    """The newest outbox e-mail to the ticket's learner (operator's view of the app's database)."""
    return app.python(
        "import sys\n"
        "from sayzhong.db import session_scope\n"
        "from sayzhong.accounts.models import User\n"
        "from sayzhong.support.models import SupportTicket\n"
        "from sayzhong.notifications.service import latest_outbox_email_to\n"
        "with session_scope() as s:\n"
        "    t = s.get(SupportTicket, int(sys.argv[1]))\n"
        "    e = latest_outbox_email_to(session=s, to=s.get(User, t.user_id).email)\n"
        "    print(e.text_body if e else '')\n",
        ticket_id,
    )


def test_help_search_finds_english_hanzi_and_pinyin_and_suggests_spellings(
    page: Page, app: RunningApp
) -> None:
    page.goto(app.url + "/help")
    search = page.get_by_label("Search help articles")
    expect(search).to_be_visible()
    # Type only once the page is interactive: a box filled before hydration ends can be re-rendered
    # empty, and the search then runs on nothing.
    wait_hydrated(page)
    for query, title in (
        ("声调", "The four tones and the pitch chart"),
        ("qingsheng", "The neutral tone"),
        ("microphone blocked", "Allow SayZhong to use your microphone"),
    ):
        search.fill(query)
        expect(search).to_have_value(query)
        page.get_by_role("button", name="Search").click()
        results = page.get_by_test_id("help-result")
        # The first search also loads the word segmenter on the server: allow it a moment.
        expect(results.first).to_contain_text(title, timeout=30_000)
    # The hanzi is highlighted in the snippet.
    search.fill("声调")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_test_id("help-result").first.locator("mark").first).to_have_text("声调")
    # A typo gets a suggestion and results for it.
    search.fill("micrphone permision")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("status").filter(has_text="Showing results for")).to_contain_text(
        "microphone permission"
    )
    expect(page.get_by_test_id("help-result").first).to_be_visible()


def test_help_drawer_on_a_learner_page_leads_to_an_article_that_can_be_rated(
    page: Page, app: RunningApp
) -> None:
    _signed_up(page, app, "Hana")
    visit(page, app.url + "/home")
    page.get_by_role("button", name="Help for this page").click()
    drawer = page.get_by_role("dialog", name="Help for this page")
    expect(drawer).to_be_visible()
    drawer.get_by_role("link", name="Review, streaks and XP").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Review, streaks and XP")
    expect(page.locator(".help-article")).to_contain_text("spaced repetition")
    page.get_by_role("button", name="Yes").click()
    expect(page.get_by_text("Thanks for telling us.")).to_be_visible()


def test_the_home_page_asks_the_nps_question_once_the_learner_has_used_the_app(
    page: Page, app: RunningApp
) -> None:
    email = _signed_up(page, app, "Noor")
    visit(page, app.url + "/home")
    question = page.get_by_role("region", name="Quick question")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Noor")
    expect(question).to_have_count(0)  # a new account is not asked
    # Four days and five takes later (written as the operator would see them in the database):
    app.python(
        "import sys\n"
        "from datetime import timedelta\n"
        "from sqlalchemy import update\n"
        "from sayzhong.db import session_scope, utcnow\n"
        "from sayzhong.accounts.models import User\n"
        "from sayzhong.accounts.users import find_user_by_email\n"
        "from sayzhong.practice.models import Attempt\n"
        "with session_scope() as s:\n"
        "    u = find_user_by_email(session=s, email=sys.argv[1])\n"
        "    s.execute(update(User).where(User.id == u.id).values(created_at=utcnow() - timedelta(days=4)))\n"
        "    for _ in range(5):\n"
        "        s.add(Attempt(user_id=u.id, item_id='greetings.hello', mode='practice', text='ni3 hao3',\n"
        "                      engine='offline'))\n",
        email,
    )
    visit(page, app.url + "/home")
    expect(question).to_be_visible()
    question.get_by_role("button", name="9 out of 10").click()
    expect(page.get_by_role("status").filter(has_text="Thank you for your answer!")).to_be_visible()
    visit(page, app.url + "/home")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Noor")
    expect(question).to_have_count(0)  # answered: not asked again for 90 days


def test_learner_finds_nothing_files_a_ticket_with_the_last_take_agent_answers_and_it_is_rated(
    mic_page: MicPageFactory, browser: Browser, app: RunningApp, take: Path
) -> None:
    # A learner with one recorded take.
    page = mic_page(take)
    _signed_up(page, app, "Lena")
    page.goto(app.url + PRACTICE)
    expect(page.get_by_text("今天", exact=True)).to_be_visible()
    page.get_by_role("button", name="Record").click()
    expect(page.get_by_role("region", name="Pronunciation result")).to_be_visible(timeout=45_000)
    # "Was this right?" on a verdict, and the take shared for engine evaluation.
    card = page.get_by_test_id("syllable-result").first
    card.get_by_role("button", name="No, other").click()
    expect(card.get_by_text("Thanks — noted.")).to_be_visible()
    card.get_by_role("button", name="Let SayZhong use this take to test scoring").click()
    expect(card.get_by_role("button", name="Let SayZhong use this take to test scoring")).to_have_count(0)
    expect(card.get_by_role("link", name="What does this mean?")).to_have_attribute(
        "href", re.compile(r"/help/(four-tones|wrong-tone-verdict|unclear-verdict)$")
    )

    # Help search finds nothing; the learner contacts support from there.
    page.goto(app.url + "/help")
    wait_hydrated(page)
    page.get_by_label("Search help articles").fill("zxqv flurble")
    expect(page.get_by_label("Search help articles")).to_have_value("zxqv flurble")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("status").filter(has_text="No articles found")).to_be_visible(timeout=30_000)
    page.get_by_role("link", name="Contact support").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Contact support")
    page.get_by_label("What is it about?").select_option("billing")
    subject = f"Charged twice {XSS}"
    page.get_by_label("Subject").fill(subject)
    page.get_by_label("Message").fill(
        "My card was charged twice for the monthly plan on 3 November, two identical charges. "
        f"Please refund one. {XSS}"
    )
    # A controlled checkbox: its state comes back from the server, so click and wait for it.
    page.get_by_label("Attach the audio of my last take").click()
    expect(page.get_by_label("Attach the audio of my last take")).to_be_checked()
    page.get_by_role("button", name="Send to support").click()
    expect(page).to_have_url(re.compile(r"/support\?ticket=\d+$"))
    ticket_id = re.search(r"ticket=(\d+)", page.url).group(1)  # type: ignore[union-attr]
    expect(page.get_by_role("main").get_by_role("heading", level=2)).to_contain_text("Charged twice")
    expect(page.get_by_role("link", name=re.compile(r"^take-\d+\.webm$"))).to_be_visible()

    # A second learner cannot see it.
    other_ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    other = other_ctx.new_page()
    _signed_up(other, app, "Omar")
    other.goto(f"{app.url}/support?ticket={ticket_id}")
    expect(other.get_by_role("alert")).to_contain_text("could not find that ticket")
    expect(other.get_by_text("Charged twice")).to_have_count(0)
    other_ctx.close()

    # The agent (the admin holds a support role) sees it routed, with the take, and answers.
    staff_ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    staff = staff_ctx.new_page()
    dialogs: list[str] = []
    staff.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    sign_in(
        staff,
        app.url,
        email=app.admin_email,
        password=app.admin_password,
        totp_secret=app.admin_totp_secret(),
    )
    expect(staff).to_have_url(re.compile(r"/(home|onboarding)/?$"))
    staff.goto(app.url + "/admin/support")
    row = staff.get_by_test_id("inbox-row").filter(has_text=f"#{ticket_id}")
    expect(row).to_contain_text("billing")
    expect(row).to_contain_text("urgent")
    row.get_by_role("link", name=f"#{ticket_id}").click()
    expect(staff.get_by_role("heading", level=1)).to_contain_text(f"#{ticket_id}")
    # The payload is shown as text and never runs.
    expect(staff.get_by_test_id("ticket-body")).to_contain_text("<script>window.__xss=2</script>")
    expect(staff.get_by_role("heading", level=1)).to_contain_text('<img src=x onerror="window.__xss=1">')
    expect(staff.get_by_role("link", name=re.compile(r"^take-\d+\.webm$"))).to_be_visible()
    # Context attached automatically: page, browser, app version, plan and the last attempt.
    for key in ("page", "browser", "app_version", "plan", "last_attempt_id"):
        expect(staff.get_by_role("cell", name=key, exact=True)).to_be_visible()
    assert staff.evaluate("window.__xss") is None
    staff.get_by_label("Reply", exact=True).fill("Sorry about that — we refunded the duplicate charge today.")
    staff.get_by_label("Status after reply").select_option("resolved")
    staff.get_by_role("button", name="Send reply").click()
    expect(staff.get_by_role("status").filter(has_text="Reply sent")).to_be_visible()
    assert "refunded the duplicate" in _latest_email_about(app, ticket_id)

    # The learner sees the reply and rates it.
    page.goto(f"{app.url}/support?ticket={ticket_id}")
    expect(page.get_by_test_id("ticket-message")).to_contain_text("refunded the duplicate charge")
    page.get_by_role("button", name="Rate 5 out of 5").click()
    expect(page.get_by_text("You rated our help")).to_contain_text("5")

    # The CSAT shows on the analysis page.
    staff.goto(app.url + "/admin/support/analysis")
    expect(staff.get_by_test_id("support-figure").filter(has_text="CSAT average")).to_contain_text("5.0 / 5")
    expect(staff.get_by_test_id("csat-distribution")).to_contain_text("5★: 1")
    assert staff.evaluate("window.__xss") is None
    # The disputed verdict shows in the scoring feedback analysis.
    staff.goto(app.url + "/admin/support/scoring")
    expect(staff.get_by_test_id("by-tone")).to_contain_text("tone 1")
    expect(staff.get_by_test_id("by-phrase")).to_contain_text("今天")
    assert dialogs == []
    staff_ctx.close()


def test_live_chat_between_learner_and_agent_survives_a_reconnect_and_falls_back_to_a_ticket(
    browser: Browser, app: RunningApp
) -> None:
    agent_ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    learner_ctx = browser.new_context(viewport={"width": 390, "height": 844})
    try:
        agent = agent_ctx.new_page()
        # Staff need two-factor sign-in: the agent enrols an authenticator and signs in again with it.
        agent_email = _signed_up(agent, app, "Lin")
        app.set_role(agent_email, "support")
        secret = app.enable_two_factor(agent_email)
        sign_out(agent)
        expect(agent).to_have_url(re.compile(re.escape(app.url) + "/?$"))  # signed out before signing in
        sign_in(agent, app.url, email=agent_email, totp_secret=secret)
        expect(agent).to_have_url(re.compile(r"/(home|onboarding)/?$"))
        agent.goto(app.url + "/admin/support/chat")
        expect(agent.get_by_role("heading", level=1)).to_have_text("Chat console")

        learner = learner_ctx.new_page()
        _signed_up(learner, app, "Mia")
        visit(learner, app.url + "/support/chat")
        learner.get_by_role("button", name="Start a chat").click()
        learner_log = learner.get_by_role("log", name="Conversation")
        expect(learner_log).to_contain_text("Lin joined the conversation", timeout=15_000)
        learner.get_by_label("Message").fill("Hello! My third tones are always marked as tone 2.")
        learner.get_by_role("button", name="Send", exact=True).click()

        agent_log = agent.get_by_role("log", name="Conversation")
        expect(agent_log).to_contain_text("My third tones are always marked", timeout=15_000)
        agent.get_by_label("Message").fill("Hi Mia! Which phrase was it?")
        expect(learner.get_by_text("Support is typing…")).to_be_visible(timeout=15_000)
        agent.get_by_role("button", name="Send", exact=True).click()
        expect(learner_log).to_contain_text("Which phrase was it?", timeout=15_000)

        # The learner's browser reconnects mid-conversation: everything is there, once.
        learner.reload()
        learner_log = learner.get_by_role("log", name="Conversation")
        expect(learner_log).to_contain_text("Which phrase was it?", timeout=15_000)
        lines = learner.get_by_test_id("chat-line")
        expect(lines.filter(has_text="My third tones are always marked")).to_have_count(1)
        expect(lines.filter(has_text="Which phrase was it?")).to_have_count(1)
        learner.get_by_label("Message").fill(f"你好 in greetings, phrase 1. {XSS}")
        learner.get_by_role("button", name="Send", exact=True).click()
        expect(agent_log).to_contain_text("你好 in greetings, phrase 1.", timeout=15_000)
        expect(agent.get_by_test_id("chat-line").filter(has_text="你好 in greetings")).to_have_count(1)
        expect(lines).to_have_count(4)  # joined, question, answer, follow-up
        # Chat text is shown as text on both sides; the payload never runs.
        expect(agent_log).to_contain_text("<script>window.__xss=2</script>")
        assert agent.evaluate("window.__xss") is None and learner.evaluate("window.__xss") is None

        # The agent goes away: the next learner's message becomes a ticket.
        visit(agent, app.url + "/admin/support")
        agent.get_by_role("row").filter(has_text="Lin").get_by_role("checkbox", name="Away").click()
        expect(
            agent.get_by_role("row").filter(has_text="Lin").get_by_role("checkbox", name="Away")
        ).to_be_checked()
        late_ctx = browser.new_context(viewport={"width": 1280, "height": 900})
        late = late_ctx.new_page()
        _signed_up(late, app, "Noor")
        visit(late, app.url + "/support/chat")
        late.get_by_role("button", name="Start a chat").click()
        expect(late.get_by_role("status").filter(has_text="in the queue")).to_contain_text("number 1")
        late.get_by_label("Message").fill("The record button does nothing in Firefox, microphone allowed.")
        late.get_by_role("button", name="Send", exact=True).click()
        expect(late.get_by_role("log", name="Conversation")).to_contain_text(
            "became ticket #", timeout=15_000
        )
        late.get_by_role("link", name=re.compile(r"See ticket #\d+")).click()
        expect(late.get_by_role("main").get_by_role("heading", level=2)).to_contain_text(
            "Chat: The record button does nothing"
        )
        late_ctx.close()
    finally:
        agent_ctx.close()
        learner_ctx.close()
