from __future__ import annotations

import pytest

from sayzhong.http.security import content_security_policy, is_same_origin, origin_of
from sayzhong.settings import Settings


@pytest.mark.parametrize(
    ("origin", "expected"),
    [
        ("http://localhost:3000", True),
        ("http://localhost:3000/", False),
        ("https://evil.example", False),
        ("null", False),
        (None, False),  # browsers always send Origin on POST; a request without one is not ours
    ],
)
def test_only_our_own_origin_may_post(settings: Settings, origin: str | None, expected: bool) -> None:
    assert is_same_origin(origin, settings) is expected


def test_form_action_allows_the_oidc_issuer_but_nothing_else() -> None:
    csp = content_security_policy(
        backend_origin="http://localhost:3000",
        extra_form_targets=(origin_of("https://login.example.org/realms/x"),),
    )
    form_action = next(d for d in csp.split("; ") if d.startswith("form-action"))
    assert form_action == "form-action 'self' http://localhost:3000 https://login.example.org"
    assert origin_of("not a url") == ""
