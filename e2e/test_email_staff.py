"""The staff e-mail page (/admin/email): an admin finds a bounced address, lifts its suppression
(audited), and sends a product-news campaign that reaches the one verified, opted-in learner once."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from e2e.a11y import axe_problems
from e2e.conftest import RunningApp
from e2e.helpers import sign_in, unique_email, visit

READER_SNIPPET = (
    "import sys\n"
    "from sqlalchemy import update\n"
    "from sayzhong.db import session_scope\n"
    "from sayzhong.accounts import users\n"
    "from sayzhong.accounts.models import User\n"
    "from sayzhong.notifications import preferences\n"
    "with session_scope() as s:\n"
    "    u = users.sign_up(\n"
    "        session=s, email=sys.argv[1], password='learning tones daily', display_name='Yun'\n"
    "    )\n"
    "    s.exec(update(User).where(User.id == u.id).values(email_verified=True))\n"
    "    preferences.update_preferences(session=s, user_id=u.id, enabled={'news': True})\n"
)


def test_admin_lifts_a_suppression_and_sends_product_news_once(page: Page, app: RunningApp) -> None:
    bounced = unique_email("bounced")
    app.cli("email", "suppress", bounced, "--reason", "5.1.1 mailbox unknown")
    reader = unique_email("news-reader")
    app.python(READER_SNIPPET, reader)

    sign_in(
        page, app.url, email=app.admin_email, password=app.admin_password, totp_secret=app.admin_totp_secret()
    )
    expect(page).to_have_url(re.compile(r"/home"))
    visit(page, f"{app.url}/admin/email")
    expect(page.get_by_role("heading", name="E-mail", level=1)).to_be_visible()
    page.get_by_label("Search addresses").fill(bounced.split("@")[0])
    page.get_by_role("button", name="Search").click()
    table = page.get_by_role("region", name="Suppressed addresses")
    expect(table).to_contain_text(bounced)
    expect(table).to_contain_text("5.1.1 mailbox unknown")
    expect(page.get_by_text("1 suppressed", exact=True)).to_be_visible()
    assert not axe_problems(page, "/admin/email")

    page.get_by_role("button", name=f"Lift the suppression of {bounced}").click()
    expect(page.get_by_role("status").filter(has_text="may get reminders")).to_contain_text(bounced)
    expect(table).not_to_contain_text(bounced)
    audit = app.python(
        "import sys\n"
        "from sqlmodel import select\n"
        "from sayzhong.audit import AuditEvent\n"
        "from sayzhong.db import session_scope\n"
        "with session_scope() as s:\n"
        "    rows = s.exec(select(AuditEvent).where(AuditEvent.target == sys.argv[1])).all()\n"
        "    print(','.join(r.action for r in rows))\n",
        bounced,
    )
    assert audit == "email.suppression_lifted"

    campaign = "e2e-" + bounced.split("@")[0].lower().replace("+", "-")[:40]
    page.get_by_label("Campaign key").fill(campaign)
    page.get_by_label("Subject").fill("Twelve new dialogues")
    page.get_by_label("Message (plain text)").fill("New this month: restaurant dialogues.")
    page.get_by_role("button", name="Send product news").click()
    status = page.get_by_role("status").filter(has_text=f"Campaign {campaign}")
    expect(status).to_contain_text(re.compile(r"sent to [1-9]\d* of"))
    body = app.latest_email_to(reader)
    assert "restaurant dialogues" in body and "Unsubscribe from these" in body
    # Sending the same campaign again reaches nobody twice.
    page.get_by_role("button", name="Send product news").click()
    expect(page.get_by_role("status").filter(has_text=f"Campaign {campaign}")).to_contain_text("sent to 0 of")
