"""Fixtures for pronunciation unit tests."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pytest

from tests.support.pron_synth import synth_samples, to_wav


@pytest.fixture
def synth_wav() -> Callable[..., bytes]:
    def make(tones: Sequence[int], **kwargs: float) -> bytes:
        return to_wav(synth_samples(tones, **kwargs))

    return make
