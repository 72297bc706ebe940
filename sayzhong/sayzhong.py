"""Reflex app module: the composition root. Registers pages and mounts the server routes.

This is the only module under `sayzhong/` that imports Reflex, `pages`, `state` or `components`.
"""

import reflex as rx
from reflex_base import otel as reflex_otel

# Page modules register their routes through pages.template.template (explicit imports, no stars).
import pages.account
import pages.account_security
import pages.admin
import pages.auth
import pages.billing
import pages.dialogue
import pages.email_preferences  # issue 14
import pages.errors
import pages.help
import pages.home
import pages.landing
import pages.legal
import pages.onboarding
import pages.practice
import pages.privacy
import pages.review
import pages.support
import pages.support_chat
import pages.support_staff  # noqa: F401
from sayzhong.http.app import create_http_app, security_headers
from sayzhong.http.observability import observe_http
from sayzhong.ops.reflex_bridge import PrometheusMeterProvider
from sayzhong.ops.telemetry import start_telemetry
from sayzhong.ops.warmup import warm_up_scoring
from state.practice import warm_up_tone_notes

# Operations (issue 16): JSON logs and a tracer provider for this worker; Reflex's own event and
# websocket trace points feed our Prometheus metrics; every HTTP request is measured and traced.
reflex_otel.enable(tracer_provider=start_telemetry(role="web"), meter_provider=PrometheusMeterProvider())

app = rx.App(
    api_transformer=[create_http_app(), security_headers, observe_http],
    html_lang="en",
    stylesheets=["/styles.css"],
    head_components=[rx.el.link(rel="icon", href="/favicon.svg", type="image/svg+xml")],
)
# Every worker loads the scoring models at start, not on its first learner's take (issue 16).
app.register_lifespan_task(warm_up_scoring)

# Issue 10: tone-change notes need the word dictionaries; load them in the background at start.
app.register_lifespan_task(warm_up_tone_notes)
