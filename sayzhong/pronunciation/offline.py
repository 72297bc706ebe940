"""The embedded pronunciation assessor: forced alignment, Praat F0 and the trained tone networks."""

from __future__ import annotations

from typing import Any

from sayzhong.pronunciation.analysis import analyse
from sayzhong.pronunciation.audio import DecodedAudio
from sayzhong.pronunciation.profile import SpeakerProfile
from sayzhong.pronunciation.result import build_offline_result
from sayzhong.pronunciation.text import ExpectedSyllable


class OfflineAssessor:
    """Needs no network and no keys; it always runs, because only it judges tones."""

    name = "offline"

    def assess(
        self,
        *,
        audio: DecodedAudio,
        text: str,
        expected: list[ExpectedSyllable],
        profile: SpeakerProfile | None = None,
    ) -> dict[str, Any]:
        analysis = analyse(audio, expected, profile)
        return build_offline_result(
            text=text, expected=expected, audio=audio, analysis=analysis, profile_used=profile is not None
        )
