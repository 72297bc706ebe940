"""What a signed-in page load must do first: a locked account (pending deletion) goes to the
deletion page, a learner facing a material terms change goes to the re-accept page.

Staff accounts are bound by their staff agreement, not the learner terms, so only learners are
blocked. A provider-only account (no password) signing in for the first time records its
acceptance as "oidc": the provider's button sits under the same notice as the sign-up form.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement
from sqlmodel import Session

from sayzhong import routes
from sayzhong.accounts import sessions, users
from sayzhong.accounts.schemas import SessionInfo, UserInfo
from sayzhong.legal import service as legal
from sayzhong.legal.documents import LEGAL_ROOT
from sayzhong.privacy import erasure


@dataclass(frozen=True, slots=True)
class GateFacts:
    """What the gate decides on, as read beside the session (`gate_columns`)."""

    erasure_open: bool
    accepted: dict[str, int]
    """The newest accepted version of each gated document (0: never accepted)."""


@cache
def gate_columns() -> tuple[ColumnElement[Any], ...]:
    """The gate's reads as columns correlated to the user, for the session's own query: an open
    erasure request, then the newest accepted version of each gated document. Built once: the
    same objects every time, so the session lookup's statement is built and compiled once."""
    return (
        erasure.open_request_column(),
        *(legal.accepted_version_column(doc) for doc in legal.GATED_DOCUMENTS),
    )


def _facts(values: tuple[Any, ...]) -> GateFacts:
    erasure_open, *versions = values
    return GateFacts(
        erasure_open=bool(erasure_open),
        accepted={doc: int(v or 0) for doc, v in zip(legal.GATED_DOCUMENTS, versions, strict=True)},
    )


def resolve_page_load(
    *,
    session: Session,
    token: str | None,
    root: Path = LEGAL_ROOT,
    page: sessions.PageReads | None = None,
    params: Mapping[str, Any] | None = None,
) -> tuple[UserInfo | None, str | None, tuple[Any, ...]]:
    """A signed-in page load's guard in one round trip: the session, its account, what the gate
    needs and the `page`'s own reads (bound with `params`), then (rarely) the gate's own follow-up.
    (user or None, the page to send them to or None, the page's values: its joined rows, then its
    columns, in order; empty when the session is not live)."""
    info, redirect, values = resolve_page_session(
        session=session, token=token, root=root, page=page, params=params
    )
    return (info.user if info else None), redirect, values


def resolve_page_session(
    *,
    session: Session,
    token: str | None,
    root: Path = LEGAL_ROOT,
    page: sessions.PageReads | None = None,
    params: Mapping[str, Any] | None = None,
) -> tuple[SessionInfo | None, str | None, tuple[Any, ...]]:
    """`resolve_page_load` with the whole session (its expiry and idle deadline: the guard cache
    remembers an answer no longer than the session lives)."""
    joined = page.joined if page else ()
    found = sessions.resolve_session_with(
        session=session,
        token=token,
        extra=gate_columns() + (page.columns if page else ()),
        joined=joined,
        params=params,
    )
    if found is None:
        return None, None, ()
    info, values = found
    gate_end = len(joined) + len(gate_columns())
    facts = _facts(values[len(joined) : gate_end])
    user = info.user
    redirect = page_gate(session=session, user_id=user.id, root=root, user=user, facts=facts)
    return info, redirect, values[: len(joined)] + values[gate_end:]


def page_gate(
    *,
    session: Session,
    user_id: int,
    root: Path = LEGAL_ROOT,
    user: UserInfo | None = None,
    facts: GateFacts | None = None,
) -> str | None:
    """The page a signed-in user must see before any other, or None. `user`: the account as the
    caller has just read it (the page's guard), instead of reading it again on every page load;
    `facts`: the gate's reads made beside it (`resolve_page_load`), instead of two more queries."""
    if (facts is None or facts.erasure_open) and erasure.erasure_on_page_load(
        session=session, user_id=user_id
    ) is not None:
        return routes.ACCOUNT_DELETION
    if user is None:
        user = users.find_user(session=session, user_id=user_id)
    if user is None or user.role != "learner":
        return None
    if facts is None:
        needs = legal.consent_needs(session=session, user_id=user_id, root=root)
    else:
        needs = legal.consent_needs_for(facts.accepted, root=root)
    if needs.terms is None:
        return None
    if not user.has_password and not legal.list_acceptances(session=session, user_id=user_id):
        legal.record_sign_up_acceptance(session=session, user_id=user_id, method="oidc", root=root)
        return None
    return routes.LEGAL_ACCEPT
