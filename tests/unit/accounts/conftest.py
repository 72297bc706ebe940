"""Fixtures for accounts tests: test settings for every test (users come from `make_user`)."""

from __future__ import annotations

import pytest

from sayzhong.settings import Settings


@pytest.fixture(autouse=True)
def _test_settings(settings: Settings) -> Settings:
    return settings
