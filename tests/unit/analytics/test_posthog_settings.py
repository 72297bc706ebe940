"""Production settings refuse half a PostHog configuration (a key without a host or the reverse)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from sayzhong.settings import Settings

PROD = {"env": "prod", "secret_key": "k" * 40, "smtp_host": "smtp.example.org"}


@pytest.mark.parametrize(("key", "host"), [("phc_key", ""), ("", "https://eu.i.posthog.com")])
def test_half_a_posthog_configuration_is_refused_in_production(key: str, host: str) -> None:
    with pytest.raises(ValidationError, match="POSTHOG_API_KEY and POSTHOG_HOST go together"):
        Settings(**PROD, posthog_api_key=key, posthog_host=host)


def test_a_whole_posthog_configuration_or_none_is_accepted() -> None:
    assert Settings(**PROD, posthog_api_key="phc_key", posthog_host="https://eu.i.posthog.com").posthog_host
    assert Settings(**PROD).posthog_api_key == ""
