"""Acceptances of the legal documents: record them (append-only), decide who must re-accept.

- Sign-up (and a first sign-in through an identity provider) records the current terms and
  privacy versions.
- A *material* terms version newer than the user's last accepted one blocks the app until it is
  accepted (the re-accept page) or the user signs out.
- A newer privacy version shows a dismissible notice, recorded as seen (method "notice_seen").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import ScalarSelect, func
from sqlmodel import Session, col, select

from sayzhong.accounts.models import User
from sayzhong.db import as_utc
from sayzhong.errors import ValidationError
from sayzhong.legal import documents
from sayzhong.legal.documents import LEGAL_ROOT, LegalVersion
from sayzhong.legal.models import LegalAcceptance

METHODS = ("signup", "reconsent", "oidc", "notice_seen")


@dataclass(frozen=True, slots=True)
class ConsentNeeds:
    terms: LegalVersion | None
    """The material terms version the user must accept before going on, if any."""
    privacy_notice: LegalVersion | None
    """A privacy version newer than the one the user last saw, if any (dismissible)."""


@dataclass(frozen=True, slots=True)
class AcceptanceView:
    document: str
    version: int
    method: str
    accepted_at: datetime


@dataclass(frozen=True, slots=True)
class CoverageRow:
    document: str
    version: int
    material: bool
    effective: str
    accepted_users: int
    total_users: int

    @property
    def percent(self) -> float:
        return round(100.0 * self.accepted_users / self.total_users, 1) if self.total_users else 0.0


def record_acceptance(
    *, session: Session, user_id: int, document: str, version: int, method: str, root: Path = LEGAL_ROOT
) -> None:
    """Append one acceptance row (never updated or deleted, except with the account on erasure)."""
    if method not in METHODS:
        raise ValidationError("Unknown way of accepting a document.", code="legal_bad_method")
    documents.get_version(document, version, root=root)  # refuses unknown documents and versions
    session.add(LegalAcceptance(user_id=user_id, document=document, version=version, method=method))
    session.flush()


def record_sign_up_acceptance(
    *, session: Session, user_id: int, method: str = "signup", root: Path = LEGAL_ROOT
) -> None:
    """The sign-up form (or first provider sign-in) accepts the current terms and privacy policy."""
    for doc in ("terms", "privacy"):
        record_acceptance(
            session=session,
            user_id=user_id,
            document=doc,
            version=documents.current(doc, root=root).version,
            method=method,
            root=root,
        )


def _latest_version(session: Session, user_id: int, document: str) -> int:
    value = session.exec(
        select(func.max(LegalAcceptance.version)).where(
            col(LegalAcceptance.user_id) == user_id, col(LegalAcceptance.document) == document
        )
    ).one()
    return int(value or 0)


def _latest_versions(session: Session, user_id: int) -> dict[str, int]:
    """The newest accepted version of each document (one query; a document never accepted is absent)."""
    rows = session.exec(
        select(LegalAcceptance.document, func.max(LegalAcceptance.version))
        .where(col(LegalAcceptance.user_id) == user_id)
        .group_by(col(LegalAcceptance.document))
    ).all()
    return {document: int(version or 0) for document, version in rows}


def accepted_version_column(document: str) -> ScalarSelect[Any]:
    """The newest accepted version of `document` (NULL if never), as a scalar subquery correlated to
    `User.id`: the privacy gate reads it beside the session on every signed-in page load."""
    return (
        select(func.max(LegalAcceptance.version))
        .where(col(LegalAcceptance.user_id) == col(User.id), col(LegalAcceptance.document) == document)
        .scalar_subquery()
    )


GATED_DOCUMENTS = ("terms", "privacy")
"""The documents `consent_needs_for` decides on, in the order of the gate's columns."""


def consent_needs(*, session: Session, user_id: int, root: Path = LEGAL_ROOT) -> ConsentNeeds:
    """Checked on every signed-in page load (the privacy gate): one query."""
    return consent_needs_for(_latest_versions(session, user_id), root=root)


def consent_needs_for(accepted: dict[str, int], *, root: Path = LEGAL_ROOT) -> ConsentNeeds:
    """What the user must accept or see, given the newest version of each document they accepted
    (a document never accepted: absent or 0)."""
    accepted_terms = accepted.get("terms") or 0
    material = [v for v in documents.versions("terms", root=root) if v.material]
    terms = material[-1] if material and material[-1].version > accepted_terms else None
    if terms is not None:
        terms = documents.current("terms", root=root)  # accept the newest, not an intermediate one
    privacy = documents.current("privacy", root=root)
    # Only someone who saw an earlier version gets the notice (a first acceptance covers the rest).
    seen = accepted.get("privacy") or 0
    notice = privacy if 0 < seen < privacy.version else None
    return ConsentNeeds(terms=terms, privacy_notice=notice)


def accept_current_terms(
    *, session: Session, user_id: int, ip: str | None = None, root: Path = LEGAL_ROOT
) -> None:
    """The re-accept page's button: the current terms (and privacy, shown alongside). Audited."""
    from sayzhong.audit import record_audit

    record_audit(
        session=session,
        action="legal.terms_accepted",
        actor_id=user_id,
        target=f"user:{user_id}",
        ip=ip,
        detail={"terms": documents.current("terms", root=root).version},
    )
    for doc in ("terms", "privacy"):
        current = documents.current(doc, root=root)
        if _latest_version(session, user_id, doc) < current.version:
            record_acceptance(
                session=session,
                user_id=user_id,
                document=doc,
                version=current.version,
                method="reconsent",
                root=root,
            )


def dismiss_privacy_notice(*, session: Session, user_id: int, root: Path = LEGAL_ROOT) -> None:
    current = documents.current("privacy", root=root)
    if _latest_version(session, user_id, "privacy") < current.version:
        record_acceptance(
            session=session,
            user_id=user_id,
            document="privacy",
            version=current.version,
            method="notice_seen",
            root=root,
        )


def list_acceptances(*, session: Session, user_id: int) -> list[AcceptanceView]:
    rows = session.exec(
        select(LegalAcceptance)
        .where(col(LegalAcceptance.user_id) == user_id)
        .order_by(col(LegalAcceptance.id))
    ).all()
    return [AcceptanceView(r.document, r.version, r.method, as_utc(r.accepted_at)) for r in rows]


def acceptance_coverage(*, session: Session, root: Path = LEGAL_ROOT) -> list[CoverageRow]:
    """For staff: how many current users have accepted each version (or a later one) of each document."""
    total = int(session.exec(select(func.count()).select_from(User)).one())
    latest = (
        select(
            LegalAcceptance.user_id, LegalAcceptance.document, func.max(LegalAcceptance.version).label("v")
        )
        .group_by(col(LegalAcceptance.user_id), col(LegalAcceptance.document))
        .subquery()
    )
    rows: list[CoverageRow] = []
    for doc in ("terms", "privacy"):
        for version in documents.versions(doc, root=root):
            accepted = session.exec(
                select(func.count())
                .select_from(latest)
                .join(User, col(User.id) == latest.c.user_id)
                .where(latest.c.document == doc, latest.c.v >= version.version)
            ).one()
            rows.append(
                CoverageRow(
                    document=doc,
                    version=version.version,
                    material=version.material,
                    effective=version.effective.isoformat(),
                    accepted_users=int(accepted),
                    total_users=total,
                )
            )
    return rows
