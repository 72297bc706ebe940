"""Accessibility checks shared by the journeys: axe-core (from e2e/package.json, installed by
scripts/setup.sh) injected into the page, the two viewports every page must work at, and the list
of routes the accessibility test visits.

Adding a page to the check is one line in `ROUTES`: its path, who may see it, and (optionally) a
heading that shows it has finished loading.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Literal

from playwright.sync_api import Browser, BrowserContext, Page, expect

from e2e.conftest import ROOT

AXE_JS = ROOT / "e2e" / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING_IMPACTS = ("serious", "critical")
ALSO_BLOCKING_RULES = ("region",)
"""Moderate-impact rules held to as well: all content sits in landmarks (banner, nav, main, footer)."""
VIEWPORTS: dict[str, dict[str, int]] = {
    "desktop": {"width": 1280, "height": 800},
    "phone": {"width": 390, "height": 844},
}

Audience = Literal["public", "learner", "staff"]


@dataclass(frozen=True, slots=True)
class Route:
    path: str
    audience: Audience
    heading: str | None = None
    """Text of the page's h1 once loaded; None accepts any h1."""


ROUTES: tuple[Route, ...] = (
    # Public pages (signed out).
    Route("/", "public", "Say it right. Tone by tone."),
    Route("/signin", "public"),
    Route("/signup", "public"),
    Route("/forgot-password", "public"),
    Route("/forbidden", "public"),
    Route("/verify-email?token=not-a-real-token", "public"),
    Route("/pricing", "public"),  # issue 12
    Route("/legal/terms", "public"),  # issue 11
    Route("/legal/privacy", "public"),
    Route("/legal/terms/history", "public"),
    Route("/privacy/cookies", "public"),
    Route("/email/preferences?token=not-a-real-token", "public", "E-mail settings"),  # issue 14
    # Learner pages (a freshly signed-up learner).
    Route("/onboarding", "learner"),
    Route("/home", "learner"),
    Route("/learn", "learner", "Lessons"),
    Route("/practice?unit=greetings", "learner"),
    Route("/practice?unit=drills-syllables", "learner"),
    Route("/review", "learner", "Review"),
    Route("/dialogue?id=family-chat", "learner"),
    Route("/account", "learner"),
    Route("/account/email", "learner", "E-mail reminders"),  # issue 14
    Route("/account/two-factor", "learner"),
    Route("/billing", "learner"),  # issue 12
    Route("/invite", "learner", "Invite friends and share"),  # issue 14
    # Staff pages (the seeded admin).
    Route("/admin", "staff", "Staff area"),
    Route("/admin/users", "staff", "Users"),
    Route("/admin/user?id=1", "staff"),  # the seeded admin's own support page
    Route("/admin/outbox", "staff", "E-mail outbox"),
    Route("/admin/email", "staff", "E-mail"),  # suppressions, product news
    Route("/admin/audit", "staff", "Audit log"),
    Route("/admin/privacy", "staff"),  # issue 11
    Route("/admin/jobs", "staff"),
    Route("/admin/billing", "staff"),  # issue 12
    Route("/admin/funnels", "staff", "Funnels"),  # issue 14
    Route("/admin/campaign-links", "staff", "Campaign links"),
    Route("/admin/marketing-tags", "staff", "Marketing tags"),
    Route("/admin/bi", "staff", "Business overview"),  # issue 15
    Route("/admin/bi/acquisition", "staff", "Acquisition"),
    Route("/admin/bi/retention", "staff", "Retention"),
    Route("/admin/bi/learning", "staff", "Learning effectiveness"),
    Route("/admin/bi/revenue", "staff", "Revenue"),
    Route("/admin/bi/reports", "staff", "Reports and alerts"),
    Route("/admin/referrals", "staff", "Referrals"),  # issue 14
    Route("/admin/experiments", "staff", "Experiments"),  # issue 14
    Route("/admin/experiments/results?key=landing_headline", "staff"),
)


@cache
def _axe_source() -> str:
    return AXE_JS.read_text(encoding="utf-8")


def axe_problems(page: Page, label: str, *, impacts: tuple[str, ...] = BLOCKING_IMPACTS) -> list[str]:
    """axe violations of the given impacts on the page as it is now, one line each.

    axe is evaluated through the browser's DevTools protocol, which the page's
    Content-Security-Policy does not govern, so the app's policy needs no loosening."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        # Evaluated by the test driver, not added as an inline <script> the page's CSP would block.
        page.evaluate(_axe_source())
    result = page.evaluate("async () => await window.axe.run(document, {resultTypes: ['violations']})")
    problems = []
    for violation in result["violations"]:
        if violation["impact"] in impacts or violation["id"] in ALSO_BLOCKING_RULES:
            targets = [node["target"] for node in violation["nodes"]][:3]
            problems.append(f"{label}: {violation['id']} ({violation['impact']}) {targets}")
    return problems


def a11y_context(browser: Browser, viewport: str) -> BrowserContext:
    ctx = browser.new_context(viewport=VIEWPORTS[viewport], locale="en-GB", bypass_csp=True)
    ctx.set_default_timeout(20_000)
    return ctx


def open_and_check(page: Page, base_url: str, route: Route, *, viewport: str) -> list[str]:
    """axe problems on the page, plus any script error while it loaded — a hydration mismatch
    (React #418: the prerendered HTML is not what React renders, e.g. a block inside a `<p>`)
    makes React throw the server's HTML away and re-render, so it counts as a problem too."""
    errors: list[str] = []

    def on_error(error: Exception) -> None:
        errors.append(f"{route.path} @ {viewport}: script error: {error}")

    page.on("pageerror", on_error)
    try:
        page.goto(base_url + route.path)
        page.wait_for_load_state("networkidle")
        heading = page.get_by_role("heading", level=1)
        if route.heading:
            heading = heading.filter(has_text=route.heading)
        expect(heading.first).to_be_visible()
        return axe_problems(page, label=f"{route.path} @ {viewport}") + errors
    finally:
        page.remove_listener("pageerror", on_error)
