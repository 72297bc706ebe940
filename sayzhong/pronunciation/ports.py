"""The interface a pronunciation assessor implements (offline engine, Azure Speech adapter)."""

from __future__ import annotations

from typing import Any, Protocol

from sayzhong.errors import SayZhongError
from sayzhong.pronunciation.audio import DecodedAudio
from sayzhong.pronunciation.profile import SpeakerProfile
from sayzhong.pronunciation.text import ExpectedSyllable


class AssessorUnavailableError(SayZhongError):
    """A remote assessor could not give a usable result; ``reason`` is recorded in the result."""

    code = "assessor_unavailable"
    http_status = 503
    default_message = "The cloud pronunciation service did not answer; offline scoring was used."

    def __init__(self, reason: str, detail: str = "") -> None:
        self.reason = reason
        self.detail = detail
        super().__init__()


class PronunciationAssessor(Protocol):
    name: str
    """``offline`` or ``azure``."""

    def assess(
        self,
        *,
        audio: DecodedAudio,
        text: str,
        expected: list[ExpectedSyllable],
        profile: SpeakerProfile | None = None,
    ) -> dict[str, Any]:
        """An Azure-shaped pronunciation-assessment result for ``audio`` read against ``text``.

        Remote assessors raise ``AssessorUnavailableError`` instead of returning a bad result.
        """
        ...
