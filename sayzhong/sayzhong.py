"""Reflex app module: the composition root. Registers pages and mounts the server routes.

This is the only module under `sayzhong/` that imports Reflex, `pages`, `state` or `components`.
"""

import reflex as rx

# Page modules register their routes through pages.template.template (explicit imports, no stars).
import pages.account
import pages.account_security
import pages.admin
import pages.auth
import pages.billing
import pages.dialogue
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

app = rx.App(
    api_transformer=[create_http_app(), security_headers],
    html_lang="en",
    stylesheets=["/styles.css"],
    head_components=[rx.el.link(rel="icon", href="/favicon.svg", type="image/svg+xml")],
)
