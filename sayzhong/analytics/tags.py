"""Marketing tags (issue 14): advertising/conversion scripts configured by marketing on a staff page.

A tag is a script URL on an https host from the operator's allow-list (MARKETING_TAG_HOSTS, which is
also what the Content-Security-Policy allows), and the pages it is loaded on. The browser loads a
tag only after the visitor accepted the *marketing* cookie category (components/marketing_tags.py);
nothing is loaded by default. Changes are audited.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from sqlmodel import Session, col, select

from sayzhong.analytics.models import MarketingTag
from sayzhong.audit import record_audit
from sayzhong.db import as_utc, utcnow
from sayzhong.errors import NotFoundError, ValidationError

MAX_TAGS = 20
_PAGE = re.compile(r"^/[A-Za-z0-9/_.~-]{0,99}$")


def allowed_hosts(setting: str) -> tuple[str, ...]:
    """The allow-list from MARKETING_TAG_HOSTS: lower-case host names (an https origin each)."""
    hosts = (h.strip().lower() for h in setting.split(","))
    return tuple(dict.fromkeys(h for h in hosts if re.match(r"^[a-z0-9.-]+(:\d{1,5})?$", h)))


def _is_loopback(host: str) -> bool:
    return host.rsplit(":", 1)[0] in ("127.0.0.1", "localhost")


def _scheme(host: str) -> str:
    """https, except a loopback host (a developer's or the browser test's local tag server)."""
    return "http" if _is_loopback(host) else "https"


def tag_origins(setting: str) -> tuple[str, ...]:
    """Origins the Content-Security-Policy allows for tags (script, image and connect)."""
    return tuple(f"{_scheme(host)}://{host}" for host in allowed_hosts(setting))


@dataclass(frozen=True, slots=True)
class TagView:
    id: int
    name: str
    script_url: str
    pages: tuple[str, ...]
    enabled: bool
    updated_at: datetime


def _view(row: MarketingTag) -> TagView:
    assert row.id is not None
    pages = tuple(p for p in row.pages.split(",") if p) or ("*",)
    return TagView(row.id, row.name, row.script_url, pages, row.enabled, as_utc(row.updated_at))


def validate_script_url(url: str, *, hosts: tuple[str, ...]) -> str:
    url = (url or "").strip()
    if len(url) > 500:
        raise ValidationError("The script address is too long (500 characters at most).", code="tag_bad_url")
    try:
        parts = urlsplit(url)
    except ValueError:
        raise ValidationError("That is not a web address.", code="tag_bad_url") from None
    host = parts.netloc.lower()
    if not host or parts.username or parts.password or parts.scheme != _scheme(host):
        raise ValidationError("Tags load only over https (https://host/path).", code="tag_bad_url")
    if host not in hosts:
        allowed = ", ".join(hosts) or "none yet — the operator sets MARKETING_TAG_HOSTS"
        raise ValidationError(
            f"{parts.netloc} is not an allowed tag host (allowed: {allowed}).", code="tag_host_not_allowed"
        )
    return url


def parse_pages(text: str) -> str:
    """ "*" or comma-separated path prefixes like "/, /signup" → the stored form."""
    items = [p.strip() for p in (text or "*").split(",") if p.strip()]
    if not items or items == ["*"]:
        return "*"
    for item in items:
        if not _PAGE.match(item):
            raise ValidationError(
                f"{item[:40]!r} is not a page path; use paths like /signup, separated by commas, or *.",
                code="tag_bad_pages",
            )
    joined = ",".join(dict.fromkeys(items))
    if len(joined) > 500:
        raise ValidationError("Too many pages for one tag.", code="tag_bad_pages")
    return joined


def list_tags(*, session: Session) -> list[TagView]:
    rows = session.exec(select(MarketingTag).order_by(col(MarketingTag.id))).all()
    return [_view(r) for r in rows]


def save_tag(
    *,
    session: Session,
    actor_id: int,
    name: str,
    script_url: str,
    pages: str,
    hosts: tuple[str, ...],
    tag_id: int | None = None,
    enabled: bool = True,
) -> TagView:
    name = (name or "").strip()
    if not 1 <= len(name) <= 80:
        raise ValidationError("Give the tag a name (80 characters at most).", code="tag_bad_name")
    url = validate_script_url(script_url, hosts=hosts)
    stored_pages = parse_pages(pages)
    if tag_id is None:
        if len(list_tags(session=session)) >= MAX_TAGS:
            raise ValidationError(f"At most {MAX_TAGS} tags; remove one first.", code="tag_too_many")
        row = MarketingTag(name=name, script_url=url, pages=stored_pages, enabled=enabled)
    else:
        found = session.get(MarketingTag, tag_id)
        if found is None:
            raise NotFoundError("That tag no longer exists.")
        row = found
        row.name, row.script_url, row.pages, row.enabled = name, url, stored_pages, enabled
        row.updated_at = utcnow()
    session.add(row)
    session.flush()
    record_audit(
        session=session,
        action="marketing.tag_saved",
        actor_id=actor_id,
        target=f"tag:{row.id}",
        detail={"name": name, "url": url, "pages": stored_pages, "enabled": enabled},
    )
    return _view(row)


def set_enabled(
    *, session: Session, actor_id: int, tag_id: int, enabled: bool, hosts: tuple[str, ...]
) -> TagView:
    row = session.get(MarketingTag, tag_id)
    if row is None:
        raise NotFoundError("That tag no longer exists.")
    return save_tag(
        session=session,
        actor_id=actor_id,
        name=row.name,
        script_url=row.script_url,
        pages=row.pages,
        hosts=hosts,
        tag_id=tag_id,
        enabled=enabled,
    )


def delete_tag(*, session: Session, actor_id: int, tag_id: int) -> None:
    row = session.get(MarketingTag, tag_id)
    if row is None:
        raise NotFoundError("That tag no longer exists.")
    session.delete(row)
    session.flush()
    record_audit(session=session, action="marketing.tag_deleted", actor_id=actor_id, target=f"tag:{tag_id}")


def scripts_for_page(*, session: Session, path: str, hosts: tuple[str, ...]) -> list[str]:
    """Script URLs to load on `path` (enabled tags whose host is still allowed). The caller asks only
    after checking marketing consent."""
    urls = []
    for tag in list_tags(session=session):
        if not tag.enabled or urlsplit(tag.script_url).netloc.lower() not in hosts:
            continue
        if "*" in tag.pages or any(_matches(path, page) for page in tag.pages):
            urls.append(tag.script_url)
    return urls


def _matches(path: str, page: str) -> bool:
    """ "/" is the landing page only; "/signup" also covers "/signup/…"."""
    return path == page or (page != "/" and path.startswith(page.rstrip("/") + "/"))
