"""What a signed-in page load must do first: a locked account (pending deletion) goes to the
deletion page, a learner facing a material terms change goes to the re-accept page.

Staff accounts are bound by their staff agreement, not the learner terms, so only learners are
blocked. A provider-only account (no password) signing in for the first time records its
acceptance as "oidc": the provider's button sits under the same notice as the sign-up form.
"""

from __future__ import annotations

from pathlib import Path

from sqlmodel import Session

from sayzhong import routes
from sayzhong.accounts import users
from sayzhong.accounts.schemas import UserInfo
from sayzhong.legal import service as legal
from sayzhong.legal.documents import LEGAL_ROOT
from sayzhong.privacy import erasure


def page_gate(
    *, session: Session, user_id: int, root: Path = LEGAL_ROOT, user: UserInfo | None = None
) -> str | None:
    """The page a signed-in user must see before any other, or None. `user`: the account as the
    caller has just read it (the page's guard), instead of reading it again on every page load."""
    if erasure.erasure_on_page_load(session=session, user_id=user_id) is not None:
        return routes.ACCOUNT_DELETION
    if user is None:
        user = users.find_user(session=session, user_id=user_id)
    if user is None or user.role != "learner":
        return None
    needs = legal.consent_needs(session=session, user_id=user_id, root=root)
    if needs.terms is None:
        return None
    if not user.has_password and not legal.list_acceptances(session=session, user_id=user_id):
        legal.record_sign_up_acceptance(session=session, user_id=user_id, method="oidc", root=root)
        return None
    return routes.LEGAL_ACCEPT
