"""Growth tests reuse the practice tests' real takes (espeak-ng speech scored by the offline engine)."""

from __future__ import annotations

from tests.integration.practice.conftest import speak

__all__ = ["speak"]
