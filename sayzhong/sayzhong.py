"""Reflex app module: the composition root. Registers pages and mounts the server routes.

This is the only module under `sayzhong/` that imports Reflex, `pages`, `state` or `components`.
"""

import reflex as rx
from reflex_base import otel as reflex_otel
from starlette.types import ASGIApp

# Page modules register their routes through pages.template.template (explicit imports, no stars).
import pages.account
import pages.account_security
import pages.admin
import pages.auth
import pages.bi
import pages.billing
import pages.dialogue
import pages.email_preferences  # issue 14
import pages.errors
import pages.experiments  # issue 14: A/B experiments and their results
import pages.growth  # issue 14: funnels, campaign links, marketing tags
import pages.help
import pages.home
import pages.landing
import pages.legal
import pages.onboarding
import pages.practice
import pages.privacy
import pages.referrals  # issue 14: invite friends and share, staff referrals
import pages.review
import pages.support
import pages.support_chat
import pages.support_staff  # noqa: F401
from sayzhong.http.app import ApiPathsFirst, create_http_app, security_headers
from sayzhong.http.observability import observe_http
from sayzhong.models import load_all_models
from sayzhong.ops.gc_tuning import observe_gc, record_gc_pauses, tune_gc
from sayzhong.ops.reflex_bridge import PrometheusMeterProvider
from sayzhong.ops.telemetry import start_telemetry
from sayzhong.ops.warmup import warm_up_scoring
from state.practice import warm_up_tone_notes

# Operations (issue 16): JSON logs and a tracer provider for this worker; Reflex's own event and
# websocket trace points feed our Prometheus metrics; every HTTP request is measured and traced.
reflex_otel.enable(tracer_provider=start_telemetry(role="web"), meter_provider=PrometheusMeterProvider())
# Collector pauses measured, young collections less often; the start-up heap is frozen once the
# scoring models are loaded (`warm_up_scoring`).
observe_gc()
tune_gc()


class _App(rx.App):
    """Reflex's app, with `ApiPathsFirst` around the backend it builds, so an /api path with a newline
    in it reaches our routes (JSON error) instead of Reflex's top router (plain-text 404)."""

    def __call__(self) -> ASGIApp:
        top = super().__call__()
        return ApiPathsFirst(top, backend=observe_http(security_headers(_http_app)))


# Every table model, not only those the pages import: Reflex compares them with the database at
# start and otherwise reports the jobs' and Azure budget's tables as "schema changes".
load_all_models()
_http_app = create_http_app()
app = _App(
    api_transformer=[_http_app, security_headers, observe_http],
    html_lang="en",
    stylesheets=["/styles.css"],
    head_components=[rx.el.link(rel="icon", href="/favicon.svg", type="image/svg+xml")],
)
# Every worker loads the scoring models at start, not on its first learner's take (issue 16).
app.register_lifespan_task(warm_up_scoring)

# Issue 16: the collector's pauses, timed by `observe_gc`, into their metric.
app.register_lifespan_task(record_gc_pauses)

# Issue 10: tone-change notes need the word dictionaries; load them in the background at start.
app.register_lifespan_task(warm_up_tone_notes)
