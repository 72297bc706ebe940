"""Roles and the few access checks every staff route, event handler and service uses.

Keep authorisation here, in small tested functions, rather than copying role comparisons into
pages and handlers. Callers pass the `UserInfo` they resolved from the session cookie on this very
request (`resolve_session` re-reads the role from the database each time).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol

from sayzhong.errors import AuthenticationError, PermissionDeniedError, ValidationError


class Role(StrEnum):
    LEARNER = "learner"
    SUPPORT = "support"
    MARKETING = "marketing"
    ANALYST = "analyst"
    """Read-only business intelligence (issue 15): every BI page, nothing else."""
    ADMIN = "admin"


ALL_ROLES: tuple[Role, ...] = tuple(Role)
STAFF_ROLES: frozenset[Role] = frozenset({Role.SUPPORT, Role.MARKETING, Role.ANALYST, Role.ADMIN})
_STAFF_ROLE_NAMES = frozenset(str(role) for role in STAFF_ROLES)


class HasRole(Protocol):
    @property
    def role(self) -> str: ...


def parse_role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        allowed = ", ".join(role.value for role in Role)
        raise ValidationError(
            f"Unknown role {value!r}. Choose one of: {allowed}.", code="unknown_role"
        ) from None


def has_role(user: HasRole | None, *roles: Role | str) -> bool:
    return user is not None and user.role in {str(role) for role in roles}


def is_staff(user: HasRole | None) -> bool:
    return has_role(user, *STAFF_ROLES)


def is_admin(user: HasRole | None) -> bool:
    return has_role(user, Role.ADMIN)


def require_signed_in(user: HasRole | None) -> None:
    if user is None:
        raise AuthenticationError()


TWO_FACTOR_REQUIRED = "Turn on two-factor sign-in (Account → Two-factor sign-in) to use the staff area."


def require_role(user: HasRole | None, *roles: Role | str) -> None:
    """Raise AuthenticationError when nobody is signed in, PermissionDeniedError (403) on a wrong role.

    A staff-only check (every role asked for is a staff role) also refuses a staff member without
    two-factor sign-in (issue 9; code `two_factor_required`), so the services enforce what the page
    guards do and no other way in (an event handler called directly, a script, a future route)
    skips it. The user object must say `two_factor_enabled` (`UserInfo` and the `User` row do).
    """
    require_signed_in(user)
    if not has_role(user, *roles):
        raise PermissionDeniedError("This page is only for SayZhong staff with the right role.")
    staff_only = bool(roles) and all(str(role) in _STAFF_ROLE_NAMES for role in roles)
    if staff_only and not getattr(user, "two_factor_enabled", False):
        raise PermissionDeniedError(TWO_FACTOR_REQUIRED, code="two_factor_required")


def require_staff(user: HasRole | None) -> None:
    require_role(user, *STAFF_ROLES)


def require_admin(user: HasRole | None) -> None:
    require_role(user, Role.ADMIN)


# --- business intelligence (issue 15) ----------------------------------------------------------

BI_SECTIONS: dict[str, frozenset[Role]] = {
    "overview": frozenset({Role.ADMIN, Role.ANALYST}),
    "acquisition": frozenset({Role.ADMIN, Role.ANALYST, Role.MARKETING}),
    "retention": frozenset({Role.ADMIN, Role.ANALYST}),
    "learning": frozenset({Role.ADMIN, Role.ANALYST}),
    "revenue": frozenset({Role.ADMIN, Role.ANALYST}),
    "support": frozenset({Role.ADMIN, Role.SUPPORT}),  # the support analysis page's own roles
    "reports": frozenset({Role.ADMIN, Role.ANALYST}),
}
"""Who may read each BI page: admins and analysts all; marketing acquisition; support support."""
BI_EDITORS: frozenset[Role] = frozenset({Role.ADMIN, Role.MARKETING})
"""Who may enter campaign spend and KPI alert rules (analysts only read)."""


def bi_sections(user: HasRole | None) -> list[str]:
    return [name for name, roles in BI_SECTIONS.items() if has_role(user, *roles)]


def require_bi(user: HasRole | None, section: str) -> None:
    """Raise unless the user may read this BI section (unknown sections are refused)."""
    require_role(user, *BI_SECTIONS.get(section, frozenset({Role.ADMIN})))
