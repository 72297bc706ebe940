"""Referral and share-card routes: the invite link, the public share page and its picture.

The share page is server-rendered HTML on purpose: link previews (Open Graph / Twitter cards) are
read by crawlers that run no JavaScript, so its meta tags must be in the first response. It shows
only the card's snapshot (and the first name when the learner chose to show it).
"""

from __future__ import annotations

import asyncio
import html
import json
import logging
from functools import lru_cache
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from sayzhong import routes
from sayzhong.db import session_scope
from sayzhong.errors import NotFoundError, SayZhongError
from sayzhong.settings import Settings, get_settings

if TYPE_CHECKING:
    from sayzhong.growth.sharing import ShareView

log = logging.getLogger(__name__)


def _to_sign_up(settings: Settings, ref: str | None) -> Response:
    from sayzhong.growth.referrals import REF_COOKIE, REF_COOKIE_MAX_AGE

    response = RedirectResponse(settings.app_url.rstrip("/") + routes.SIGN_UP, status_code=303)
    if ref:
        response.set_cookie(
            REF_COOKIE,
            ref,
            max_age=REF_COOKIE_MAX_AGE,
            httponly=True,
            secure=settings.app_url.startswith("https://"),
            samesite="lax",
            path="/",
        )
    return response


async def referral_link(request: Request) -> Response:
    """`/r/<code>`: remember the invite (HttpOnly cookie) and open sign-up. An unknown code still
    opens sign-up, just without attribution."""
    from sayzhong.growth import referrals
    from sayzhong.growth.models import ReferralCode

    code = referrals.valid_token(str(request.path_params.get("code", "")))

    def _exists(value: str) -> bool:
        from sqlmodel import select

        with session_scope() as session:
            return session.exec(select(ReferralCode.id).where(ReferralCode.code == value)).first() is not None

    known = bool(code) and await asyncio.to_thread(_exists, code or "")
    return _to_sign_up(get_settings(), referrals.ref_cookie_value(code=code) if known else None)


async def share_join(request: Request) -> Response:
    """`/s/<slug>/join`: the share page's "try it" button — the sign-up is attributed to the share."""
    from sayzhong.growth import referrals, sharing

    slug = str(request.path_params.get("slug", ""))

    def _live() -> bool:
        try:
            with session_scope() as session:
                sharing.public_share(session=session, slug=slug)
            return True
        except NotFoundError:
            return False

    live = await asyncio.to_thread(_live)
    return _to_sign_up(get_settings(), referrals.ref_cookie_value(share_slug=slug) if live else None)


def _not_found_page(settings: Settings) -> HTMLResponse:
    body = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        "<meta name='robots' content='noindex'><title>Not available · SayZhong</title>"
        f"<style>{_CSS}</style></head><body><main><h1>This shared result is not available</h1>"
        "<p>It may have been removed by the learner who shared it.</p>"
        f"<p><a class='cta' href='{html.escape(settings.app_url.rstrip('/') + routes.LANDING)}'>"
        "Discover SayZhong</a></p></main></body></html>"
    )
    return HTMLResponse(body, status_code=404, headers={"Cache-Control": "no-store"})


_CSS = (
    "body{margin:0;font-family:system-ui,'Noto Sans CJK SC',sans-serif;background:#faf7f2;color:#1f2328}"
    "main{max-width:760px;margin:0 auto;padding:32px 20px}"
    "h1{font-size:1.6rem;margin:0 0 12px}"
    "img{width:100%;height:auto;border-radius:12px;border:1px solid #e1dcd4}"
    "p{line-height:1.5}.muted{color:#4b5259}"
    ".cta{display:inline-block;background:#a3162f;color:#fff;padding:12px 20px;border-radius:8px;"
    "text-decoration:none;font-weight:600}.cta:focus{outline:3px solid #0e7490;outline-offset:2px}"
)


def share_html(view: ShareView, settings: Settings) -> str:
    from sayzhong.growth import sharing

    e = html.escape
    page_url = sharing.share_url(view.slug, settings)
    image_url = sharing.share_image_url(view.slug, settings)
    join_url = settings.backend_url.rstrip("/") + routes.share_join_path(view.slug)
    who = f"{view.display_name} is" if view.display_name else "A learner is"
    if view.kind == sharing.STREAK:
        days = int(view.payload.get("streak_days", 0))
        description = f"{who} on a {days}-day Mandarin practice streak with SayZhong."
        alt = f"Share card: a {days}-day practice streak on SayZhong."
        heading = f"{days}-day practice streak"
        detail = ""
    else:
        hanzi, pinyin = str(view.payload.get("hanzi", "")), str(view.payload.get("pinyin", ""))
        score = int(view.payload.get("score", 0))
        description = f"{who} practising Mandarin tones with SayZhong: {hanzi} ({pinyin}) scored {score}/100."
        alt = (
            f"Share card: {hanzi} ({pinyin}), pronunciation score {score} out of 100, with the learner's "
            "pitch contour drawn over the target's."
        )
        heading = f"{hanzi} — {score}/100"
        detail = f"<p lang='zh-Hans'>{e(hanzi)}</p><p class='muted'>{e(pinyin)}</p>"
    title = f"{heading} · SayZhong"
    meta = {
        "og:type": "website",
        "og:site_name": "SayZhong",
        "og:title": title,
        "og:description": description,
        "og:url": page_url,
        "og:image": image_url,
        "og:image:type": "image/png",
        "og:image:width": "1200",
        "og:image:height": "630",
        "og:image:alt": alt,
    }
    twitter = {
        "twitter:card": "summary_large_image",
        "twitter:title": title,
        "twitter:description": description,
        "twitter:image": image_url,
        "twitter:image:alt": alt,
    }
    tags = "".join(f"<meta property='{e(k)}' content='{e(v)}'>" for k, v in meta.items())
    tags += "".join(f"<meta name='{e(k)}' content='{e(v)}'>" for k, v in twitter.items())
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{e(title)}</title><meta name='description' content='{e(description)}'>"
        f"<link rel='canonical' href='{e(page_url)}'>{tags}<style>{_CSS}</style></head>"
        f"<body><main><h1>{e(heading)}</h1>"
        f"<img src='{e(image_url)}' alt='{e(alt)}' width='1200' height='630'>"
        f"{detail}<p>{e(description)}</p>"
        "<p>SayZhong listens to your Mandarin and shows your tones against a native contour.</p>"
        f"<p><a class='cta' href='{e(join_url)}'>Try SayZhong free</a></p></main></body></html>"
    )


async def share_page(request: Request) -> Response:
    from sayzhong.growth import sharing
    from sayzhong.privacy import consent

    settings = get_settings()
    slug = str(request.path_params.get("slug", ""))
    visitor = consent.visitor_from_cookie_header(request.headers.get("cookie"))

    def _visit() -> sharing.ShareView:
        with session_scope() as session:
            if request.method == "HEAD":  # link checkers: not a visit
                return sharing.public_share(session=session, slug=slug)
            return sharing.record_visit(session=session, slug=slug, visitor_id=visitor)

    try:
        view = await asyncio.to_thread(_visit)
    except NotFoundError:
        return _not_found_page(settings)
    return HTMLResponse(share_html(view, settings), headers={"Cache-Control": "no-store"})


@lru_cache(maxsize=64)
def _png(slug: str, kind: str, payload_json: str, display_name: str | None) -> bytes:
    from sayzhong.growth.render import render_share

    return render_share(kind, json.loads(payload_json), display_name)


async def share_image(request: Request) -> Response:
    from sayzhong.growth import sharing

    slug = str(request.path_params.get("slug", ""))

    def _render() -> bytes:
        with session_scope() as session:
            view = sharing.public_share(session=session, slug=slug)
        # Revocation is checked on every request above; only the drawing is cached.
        return _png(view.slug, view.kind, json.dumps(view.payload, sort_keys=True), view.display_name)

    try:
        data = await asyncio.to_thread(_render)
    except NotFoundError:
        return Response(
            b"Not found", status_code=404, media_type="text/plain", headers={"Cache-Control": "no-store"}
        )
    except SayZhongError as exc:
        log.error("share image failed: %s", exc.user_message)
        return Response(exc.user_message.encode(), status_code=exc.http_status, media_type="text/plain")
    return Response(data, media_type="image/png", headers={"Cache-Control": "public, max-age=300"})


def growth_routes() -> list[Route]:
    return [
        Route(routes.REFERRAL_LINK, referral_link, methods=["GET"]),
        Route(routes.SHARE_IMAGE, share_image, methods=["GET", "HEAD"]),
        Route(routes.SHARE_JOIN, share_join, methods=["GET"]),
        Route(routes.SHARE_PAGE, share_page, methods=["GET", "HEAD"]),
    ]
