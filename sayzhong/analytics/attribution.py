"""Marketing attribution: where a visitor came from (UTM parameters, referrer, landing page), kept
until sign-up and then stored with the account as first touch and last touch (issue 14).

Between the first visit and sign-up the touches live only in the browser, in the `sz_src` cookie:
HttpOnly, signed, 30 days, no identifier — it cannot link two visits to a person and is read only
by the sign-up form, which is why docs/data-inventory.md lists it as strictly necessary for the
service the visitor asks for (the account's record of which of our campaign links it came from).
Nothing here depends on analytics consent; the events that repeat the channel do.

Campaign links are built here too (`build_campaign_link`) for the staff builder page.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from http.cookies import CookieError, SimpleCookie
from typing import Any
from urllib.parse import urlencode, urlsplit

from sqlmodel import Session, col, select

from sayzhong.analytics.models import AccountAttribution
from sayzhong.db import as_utc, utcnow
from sayzhong.errors import ValidationError

COOKIE_NAME = "sz_src"
COOKIE_MAX_AGE = timedelta(days=30)
UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")
_SLUG_CHARS = re.compile(r"[^a-z0-9_.+-]+")
_HOST = re.compile(r"^[a-z0-9.-]{1,120}$")
_PATH = re.compile(r"^/[A-Za-z0-9/_.~-]{0,199}$")

PAID_MEDIUMS = {"cpc", "ppc", "paid", "paidsearch", "paid_search", "sem"}
PAID_SOCIAL_MEDIUMS = {"paid_social", "paidsocial", "social_paid", "display", "banner", "cpm"}
SEARCH_HOSTS = ("google.", "bing.", "duckduckgo.", "yahoo.", "ecosia.", "baidu.", "yandex.", "qwant.")
SOCIAL_HOSTS: tuple[str, ...] = (
    "facebook.",
    "instagram.",
    "t.co",
    "twitter.",
    "x.com",
    "linkedin.",
    "reddit.",
    "youtube.",
    "tiktok.",
    "weibo.",
    "xiaohongshu.",
    "pinterest.",
)


def clean_label(value: Any) -> str:
    """A UTM value as a short label: lower case, spaces to `_`, other characters dropped, 64 max."""
    if not isinstance(value, str):
        return ""
    text = value.strip().lower().replace(" ", "_")
    return _SLUG_CHARS.sub("", text)[:64]


@dataclass(frozen=True, slots=True)
class Touch:
    channel: str = "direct"
    source: str = ""
    medium: str = ""
    campaign: str = ""
    term: str = ""
    content: str = ""
    referrer_host: str = ""
    landing_path: str = ""
    at: str = ""
    """ISO date-time (UTC) of the visit."""

    @property
    def is_campaign(self) -> bool:
        """Carries information about where the visitor came from (not a plain direct visit)."""
        return bool(self.source or self.medium or self.campaign or self.referrer_host)

    def event_properties(self) -> dict[str, str]:
        """What analytics events may repeat: the channel and our own campaign label."""
        props = {"channel": self.channel}
        if self.campaign and re.match(r"^[a-z0-9][a-z0-9_.:-]{0,63}$", self.campaign):
            props["campaign"] = self.campaign
        return props


def classify_channel(*, source: str, medium: str, referrer_host: str) -> str:
    """The marketing channel of one touch (the values in `catalog.CHANNELS`)."""
    if medium in PAID_MEDIUMS:
        return "paid_search"
    if medium in PAID_SOCIAL_MEDIUMS:
        return "paid_social"
    if medium in {"email", "newsletter", "e-mail"}:
        return "email"
    if medium in {"social", "social_organic", "organic_social"}:
        return "social"
    if medium == "organic":
        return "organic_search"
    if medium or source:
        if medium == "referral":
            return "referral"
        return "other"
    if referrer_host:
        if any(h in referrer_host for h in SEARCH_HOSTS):
            return "organic_search"
        if any(referrer_host == h.rstrip(".") or h in referrer_host for h in SOCIAL_HOSTS):
            return "social"
        return "referral"
    return "direct"


def touch_from_visit(
    *, query: dict[str, Any], referrer: str, path: str, own_host: str, now: datetime
) -> Touch:
    """One visit's touch from the landing URL's query, `document.referrer` and the landing path.

    A referrer from our own site counts as none; only its host is kept (paths may carry tokens).
    """
    labels = {key: clean_label(query.get(key)) for key in UTM_KEYS}
    host = ""
    if isinstance(referrer, str) and referrer:
        try:
            host = (urlsplit(referrer[:500]).hostname or "").lower()
        except ValueError:
            host = ""
        if not _HOST.match(host) or host == own_host.lower():
            host = ""
    landing = path.split("?", 1)[0] if isinstance(path, str) else ""
    if not _PATH.match(landing):
        landing = "/"
    return Touch(
        channel=classify_channel(
            source=labels["utm_source"], medium=labels["utm_medium"], referrer_host=host
        ),
        source=labels["utm_source"],
        medium=labels["utm_medium"],
        campaign=labels["utm_campaign"],
        term=labels["utm_term"],
        content=labels["utm_content"],
        referrer_host=host,
        landing_path=landing,
        at=as_utc(now).isoformat(timespec="seconds"),
    )


# --- the cookie --------------------------------------------------------------------------------


def _sign(secret: str, payload: bytes) -> str:
    digest = hmac.new(secret.encode(), b"sz_src:" + payload, hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def encode_cookie(*, first: Touch, last: Touch, secret: str) -> str:
    payload = json.dumps({"f": asdict(first), "l": asdict(last)}, separators=(",", ":")).encode()
    body = base64.urlsafe_b64encode(payload).decode().rstrip("=")
    return f"{body}.{_sign(secret, payload)}"


def _touch(data: Any) -> Touch | None:
    if not isinstance(data, dict):
        return None
    fields = {k: v for k, v in data.items() if k in Touch.__dataclass_fields__ and isinstance(v, str)}
    touch = Touch(**{k: v[:200] for k, v in fields.items()})
    from sayzhong.analytics.catalog import CHANNELS

    return touch if touch.channel in CHANNELS else None


def decode_cookie(value: str | None, *, secret: str) -> tuple[Touch, Touch] | None:
    """(first, last) from a cookie value, or None when missing, malformed or not signed by us."""
    if not value or len(value) > 3000 or "." not in value:
        return None
    body, signature = value.rsplit(".", 1)
    try:
        payload = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        data = json.loads(payload)
    except (ValueError, TypeError):
        return None
    if not hmac.compare_digest(signature, _sign(secret, payload)) or not isinstance(data, dict):
        return None
    first, last = _touch(data.get("f")), _touch(data.get("l"))
    return (first, last) if first and last else None


def cookie_from_header(header: str | None, *, secret: str) -> tuple[Touch, Touch] | None:
    if not header:
        return None
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(header)
    except CookieError:
        return None
    morsel = jar.get(COOKIE_NAME)
    return decode_cookie(morsel.value, secret=secret) if morsel else None


def record_visit(existing: tuple[Touch, Touch] | None, touch: Touch) -> tuple[Touch, Touch] | None:
    """The new (first, last) after a visit, or None when nothing changes (no cookie to write).

    The first visit sets both; a later visit from a campaign or another site replaces the last touch.
    """
    if existing is None:
        return touch, touch
    if touch.is_campaign:
        return existing[0], touch
    return None


# --- the account -------------------------------------------------------------------------------


def attach_to_account(*, session: Session, user_id: int, cookie_header: str | None) -> Touch:
    """At sign-up: store the first and last touch with the new account; returns the first touch
    (a sign-up without the cookie — cookies cleared, or an API client — is a direct one)."""
    from sayzhong.settings import get_settings

    touches = cookie_from_header(cookie_header, secret=get_settings().secret_key)
    first, last = touches or (Touch(at=utcnow().isoformat(timespec="seconds")),) * 2
    for kind, touch in (("first", first), ("last", last)):
        session.add(
            AccountAttribution(
                user_id=user_id,
                touch=kind,
                channel=touch.channel,
                source=touch.source,
                medium=touch.medium,
                campaign=touch.campaign,
                term=touch.term,
                content=touch.content,
                referrer_host=touch.referrer_host,
                landing_path=touch.landing_path,
                touched_at=_parse_at(touch.at),
            )
        )
    session.flush()
    return first


def _parse_at(value: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class AttributionView:
    touch: str
    channel: str
    source: str
    medium: str
    campaign: str
    term: str
    content: str
    referrer_host: str
    landing_path: str
    touched_at: datetime | None


def account_attribution(*, session: Session, user_id: int) -> list[AttributionView]:
    rows = session.exec(
        select(AccountAttribution)
        .where(col(AccountAttribution.user_id) == user_id)
        .order_by(col(AccountAttribution.id))
    ).all()
    return [
        AttributionView(
            r.touch,
            r.channel,
            r.source,
            r.medium,
            r.campaign,
            r.term,
            r.content,
            r.referrer_host,
            r.landing_path,
            as_utc(r.touched_at) if r.touched_at else None,
        )
        for r in rows
    ]


# --- campaign links ----------------------------------------------------------------------------

_LABEL = re.compile(r"^[a-z0-9][a-z0-9_.+-]{0,63}$")


@dataclass(frozen=True, slots=True)
class CampaignLink:
    url: str
    channel: str


def build_campaign_link(
    *,
    app_url: str,
    path: str,
    source: str,
    medium: str,
    campaign: str,
    term: str = "",
    content: str = "",
) -> CampaignLink:
    """A tagged link to one of our pages; every label is checked so reports group cleanly."""
    path = (path or "/").strip()
    if not _PATH.match(path):
        raise ValidationError(
            "The page must be a path on SayZhong, like / or /pricing (no other site, no query).",
            code="campaign_bad_path",
        )
    values = {"utm_source": source, "utm_medium": medium, "utm_campaign": campaign}
    values |= {"utm_term": term, "utm_content": content}
    labels: dict[str, str] = {}
    for key, raw in values.items():
        value = (raw or "").strip()
        if not value:
            if key in ("utm_source", "utm_medium", "utm_campaign"):
                raise ValidationError(
                    f"{key.removeprefix('utm_').capitalize()} is needed for a campaign link.",
                    code="campaign_missing",
                )
            continue
        if not _LABEL.match(value):
            raise ValidationError(
                f"{key.removeprefix('utm_').capitalize()} must be lower-case letters, digits and _ . + - "
                f"(64 at most), e.g. spring_sale — got {value[:40]!r}.",
                code="campaign_bad_label",
            )
        labels[key] = value
    url = app_url.rstrip("/") + path + "?" + urlencode(labels)
    return CampaignLink(
        url=url,
        channel=classify_channel(source=labels["utm_source"], medium=labels["utm_medium"], referrer_host=""),
    )
