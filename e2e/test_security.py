"""Attacks a signed-in learner can try from their own browser."""

from __future__ import annotations

import json
import re

from playwright.sync_api import Browser, Page, expect

from e2e.conftest import RunningApp, csp_violations, watch_page
from e2e.helpers import expect_onboarding, sign_in, sign_up, unique_email

# Keep a handle on the page's websockets, the frames it sends and the frames it receives.
CAPTURE_WEBSOCKETS = """
(() => {
  const Original = window.WebSocket;
  window.__sockets = [];
  window.__frames = [];
  window.__received = [];
  class Capturing extends Original {
    constructor(...args) {
      super(...args);
      window.__sockets.push(this);
      this.addEventListener("message", (e) => window.__received.push(String(e.data)));
    }
    send(data) {
      if (typeof data === "string") window.__frames.push(data);
      return super.send(data);
    }
  }
  window.WebSocket = Capturing;
})();
"""


def _send_change_role(page: Page, user_id: str, role: str) -> None:
    from state.admin import AdminUsersState

    # Wait until the app's socket.io namespace is connected and has answered the page's hydrate.
    page.wait_for_function(
        "() => (window.__frames || []).some(f => f.startsWith('40/_event,'))"
        " && (window.__received || []).some(f => f.startsWith('42/_event,'))"
    )
    substate = AdminUsersState.get_full_name()
    seen = page.evaluate("window.__received.length")
    event = {
        "name": f"{substate}.change_role",
        "payload": {"user_id": user_id, "role": role},
        "router_data": {"pathname": "/admin/users/", "asPath": "/admin/users/"},
    }
    sent = page.evaluate(
        "(frame) => window.__sockets.filter(s => s.readyState === 1).map(s => s.send(frame)).length",
        "42/_event," + json.dumps(["event", event]),
    )
    assert sent >= 1
    # The handler has run when the server sends that state's update back (no sleeping on the clock).
    page.wait_for_function(
        "([seen, name]) => window.__received.slice(seen)"
        ".some(f => f.startsWith('42/_event,') && f.includes(name))",
        arg=[seen, substate],
    )


def test_learner_calling_a_staff_event_handler_directly_is_refused(
    page: Page, app: RunningApp, browser: Browser
) -> None:
    email = unique_email("mallory")
    page.add_init_script(CAPTURE_WEBSOCKETS)
    sign_up(page, app.url, email=email, name="Mallory")
    expect_onboarding(page, app.url, "Mallory")
    user_id, role = app.role_of(email).split()
    assert role == "learner"

    page.goto(app.url + "/home")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Mallory")
    # On the learner's own connection: call the admin-only handler to promote myself.
    _send_change_role(page, user_id, "admin")
    assert app.role_of(email).split()[1] == "learner"
    page.goto(app.url + "/admin")
    expect(page).to_have_url(re.compile(r"/forbidden"))

    # Control: the very same frame from an admin's browser does change the role, so the refusal
    # above is the server's access check and not a malformed message.
    admin_ctx = browser.new_context()
    admin = admin_ctx.new_page()
    admin_console, _ = watch_page(admin)
    admin.add_init_script(CAPTURE_WEBSOCKETS)
    sign_in(
        admin,
        app.url,
        email=app.admin_email,
        password=app.admin_password,
        totp_secret=app.admin_totp_secret(),
    )
    expect(admin).to_have_url(re.compile(r"/home"))
    _send_change_role(admin, user_id, "support")
    assert app.role_of(email).split()[1] == "support"
    admin_ctx.close()
    assert csp_violations(admin_console) == []


def test_injected_inline_script_and_eval_are_blocked_and_reported(app: RunningApp, browser: Browser) -> None:
    ctx = browser.new_context()
    pg = ctx.new_page()
    console, _ = watch_page(pg)
    response = pg.goto(app.url + "/signin")
    assert response is not None
    script_src = next(
        d for d in response.headers["content-security-policy"].split("; ") if d.startswith("script-src ")
    )
    assert "'unsafe-eval'" not in script_src and "'unsafe-inline'" not in script_src
    expect(pg.get_by_role("button", name="Sign in", exact=True)).to_be_visible()
    assert csp_violations(console) == []  # the real page runs within its policy

    # What an injection would try: an inline script element, and eval of a string.
    with pg.expect_console_message(lambda m: "[csp-violation] script-src" in m.text):
        pg.evaluate(
            "() => { const s = document.createElement('script'); s.textContent = 'window.__pwned = 1';"
            " document.body.appendChild(s); }"
        )
    assert pg.evaluate("() => window.__pwned === undefined")
    # eval run by the page itself (from a click handler; the test driver's own evaluation is exempt).
    pg.evaluate(
        "() => document.body.addEventListener('click', () => {"
        " try { window.__evaluated = String(window.eval('2 + 2')); }"
        " catch (e) { window.__evaluated = e.name; } }, {once: true})"
    )
    pg.locator("body").click(position={"x": 1, "y": 1})
    pg.wait_for_function("() => window.__evaluated !== undefined")
    assert pg.evaluate("() => window.__evaluated") == "EvalError"
    assert csp_violations(console)
    ctx.close()
