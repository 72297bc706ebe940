"""Acceptance records and re-consent: a material terms change blocks learners until accepted; a
new privacy version is a dismissible notice; staff see coverage; old versions stay readable."""

from __future__ import annotations

import shutil
from pathlib import Path

from sqlmodel import Session

from sayzhong import routes
from sayzhong.accounts.models import User
from sayzhong.accounts.schemas import UserInfo
from sayzhong.legal import documents
from sayzhong.legal import service as legal
from sayzhong.legal.documents import LEGAL_ROOT
from sayzhong.privacy import consent
from sayzhong.privacy.gate import page_gate
from tests.factories import UserFactory


def _publish(root: Path, doc: str, version: int, *, material: bool) -> None:
    (root / doc / f"v{version}.md").write_text(
        f"---\ntitle: T\nversion: {version}\neffective: 2027-01-01\nmaterial: {str(material).lower()}\n"
        f"summary: A new clause about practice reminders.\n---\n\n# Terms\n\nNew text, version {version}.\n",
        encoding="utf-8",
    )


def test_sign_up_records_current_versions_append_only(db_session: Session, make_user: UserFactory) -> None:
    user = make_user()
    consent.record_sign_up(session=db_session, user_id=user.id, visitor_id=None)
    rows = legal.list_acceptances(session=db_session, user_id=user.id)
    assert [(r.document, r.version, r.method) for r in rows] == [
        ("terms", documents.current("terms").version, "signup"),
        ("privacy", documents.current("privacy").version, "signup"),
    ]
    assert page_gate(session=db_session, user_id=user.id) is None


def test_material_terms_change_blocks_until_accepted(
    db_session: Session, make_user: UserFactory, tmp_path: Path
) -> None:
    root = tmp_path / "legal"
    shutil.copytree(LEGAL_ROOT, root)
    user = make_user()
    legal.record_sign_up_acceptance(session=db_session, user_id=user.id, root=root)
    current = documents.current("terms", root=root).version

    _publish(root, "terms", current + 1, material=False)
    documents.check_documents(root)  # reload
    assert page_gate(session=db_session, user_id=user.id, root=root) is None  # minor change: no block

    _publish(root, "terms", current + 2, material=True)
    documents.check_documents(root)
    assert page_gate(session=db_session, user_id=user.id, root=root) == routes.LEGAL_ACCEPT
    # The same answer when the page's guard hands over the account it has just read.
    assert page_gate(session=db_session, user_id=user.id, root=root, user=user) == routes.LEGAL_ACCEPT
    # Staff are not blocked by the learner terms.
    staff = make_user(role="support")
    assert page_gate(session=db_session, user_id=staff.id, root=root) is None
    assert page_gate(session=db_session, user_id=staff.id, root=root, user=staff) is None
    # The old version stays readable, and the diff shows the change.
    assert documents.get_version("terms", current, root=root).body
    assert any(d.kind == "added" for d in documents.diff("terms", current + 2, root=root))

    coverage = {(c.document, c.version): c for c in legal.acceptance_coverage(session=db_session, root=root)}
    assert coverage[("terms", current + 2)].accepted_users == 0
    assert coverage[("terms", current)].accepted_users == 1

    legal.accept_current_terms(session=db_session, user_id=user.id, root=root)
    assert page_gate(session=db_session, user_id=user.id, root=root) is None
    assert legal.list_acceptances(session=db_session, user_id=user.id)[-1].method == "reconsent"
    assert len(legal.list_acceptances(session=db_session, user_id=user.id)) == 3  # appended, none replaced
    coverage = {(c.document, c.version): c for c in legal.acceptance_coverage(session=db_session, root=root)}
    assert coverage[("terms", current + 2)].accepted_users == 1
    documents.check_documents()  # back to the shipped documents


def test_new_privacy_version_is_a_dismissible_notice(
    db_session: Session, make_user: UserFactory, tmp_path: Path
) -> None:
    root = tmp_path / "legal"
    shutil.copytree(LEGAL_ROOT, root)
    user = make_user()
    legal.record_sign_up_acceptance(session=db_session, user_id=user.id, root=root)
    _publish(root, "privacy", documents.current("privacy", root=root).version + 1, material=True)
    documents.check_documents(root)
    needs = legal.consent_needs(session=db_session, user_id=user.id, root=root)
    assert needs.terms is None and needs.privacy_notice is not None
    assert page_gate(session=db_session, user_id=user.id, root=root) is None  # not blocking
    legal.dismiss_privacy_notice(session=db_session, user_id=user.id, root=root)
    assert legal.consent_needs(session=db_session, user_id=user.id, root=root).privacy_notice is None
    assert legal.list_acceptances(session=db_session, user_id=user.id)[-1].method == "notice_seen"
    documents.check_documents()


def test_first_provider_sign_in_records_oidc_acceptance(db_session: Session, make_user: UserFactory) -> None:
    user = make_user()
    row = db_session.get(User, user.id)
    assert row is not None
    row.password_hash = None  # a provider-only account, as OIDC sign-up creates
    db_session.add(row)
    # As a page load's guard calls it: with the account it has just read (no password).
    assert page_gate(session=db_session, user_id=user.id, user=UserInfo.from_row(row)) is None
    assert {r.method for r in legal.list_acceptances(session=db_session, user_id=user.id)} == {"oidc"}


def test_page_load_guard_reads_session_and_gate_in_one_round_trip(
    db_session: Session, make_user: UserFactory, tmp_path: Path
) -> None:
    """`resolve_page_load` (every signed-in page load) answers as the session lookup and
    `page_gate` do on their own — through one statement when nothing blocks the learner."""
    from sayzhong.accounts import sessions
    from sayzhong.privacy import erasure
    from sayzhong.privacy.gate import resolve_page_load
    from tests.support.statements import statements_sent

    root = tmp_path / "legal"
    shutil.copytree(LEGAL_ROOT, root)
    user = make_user()
    legal.record_sign_up_acceptance(session=db_session, user_id=user.id, root=root)
    token = sessions.create_session(session=db_session, user_id=user.id, ip=None, user_agent=None)
    statements: list[str] = []

    def guard() -> tuple[int | None, str | None]:
        with statements_sent(db_session) as sent:
            found, redirect, page_values = resolve_page_load(session=db_session, token=token, root=root)
        assert page_values == ()  # no page columns asked for
        statements[:] = sent
        return (found.id if found else None), redirect

    try:
        assert guard() == (user.id, None)
        assert len(statements) == 1, statements
        assert page_gate(session=db_session, user_id=user.id, root=root) is None

        # A material terms change: the same redirect as the gate's own reads give.
        _publish(root, "terms", documents.current("terms", root=root).version + 1, material=True)
        documents.check_documents(root)
        assert guard() == (user.id, routes.LEGAL_ACCEPT)
        assert page_gate(session=db_session, user_id=user.id, root=root) == routes.LEGAL_ACCEPT
        legal.accept_current_terms(session=db_session, user_id=user.id, root=root)
        assert guard() == (user.id, None)

        # A deletion requested: the account is locked, this session sees the deletion page.
        erasure.request_erasure(
            session=db_session, user_id=user.id, reauthenticated=True, current_token=token
        )
        assert guard() == (user.id, routes.ACCOUNT_DELETION)
        assert page_gate(session=db_session, user_id=user.id, root=root) == routes.ACCOUNT_DELETION
        erasure.cancel_erasure(session=db_session, user_id=user.id, reason="learner")
        assert guard() == (user.id, None)

        # Unknown, tampered and revoked cookies: no user, no gate.
        assert resolve_page_load(session=db_session, token="not-a-session", root=root) == (None, None, ())
        sessions.revoke_token(session=db_session, token=token)
        assert guard() == (None, None)
    finally:
        documents.check_documents()
