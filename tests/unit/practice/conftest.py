"""Fixtures for practice tests: test settings and a fake assessor (users come from `make_user`)."""

from __future__ import annotations

import pytest

from sayzhong.settings import Settings
from tests.support.practice_fakes import FakeAssessor


@pytest.fixture(autouse=True)
def _test_settings(settings: Settings) -> Settings:
    return settings


@pytest.fixture
def fake_assessor() -> FakeAssessor:
    return FakeAssessor()
