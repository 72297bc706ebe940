"""Offline mode: lessons from the curriculum built into the client, and scoring with the embedded engine.

Used when the server cannot be reached. The result has the same shape as the API's attempt JSON
(scores plus `syllables` with expected/heard tone, verdict, hint and contours), so the same
renderer shows both; `offline: true` marks it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sayzhong.client.config import cache_dir
from sayzhong.settings import Settings


def _settings() -> Settings:
    # Explicit values win over the environment: the client never needs the server's secrets or DB,
    # and a server `.env` with ENV=prod in the working folder must not stop offline scoring.
    return Settings(env="dev", data_dir=cache_dir(), _env_file=None)  # type: ignore[call-arg]


def _unit_summary(unit: Any) -> dict[str, Any]:
    return {
        "id": unit.id,
        "order": unit.order,
        "title": unit.title,
        "description": unit.description,
        "phrase_count": len(unit.phrases),
    }


def local_units() -> list[dict[str, Any]]:
    from sayzhong.curriculum import service as curriculum

    return [_unit_summary(unit) for unit in curriculum.list_units()]


def local_unit(unit_id: str) -> dict[str, Any]:
    """Raises `sayzhong.errors.NotFoundError` for an unknown unit."""
    from sayzhong.curriculum import service as curriculum

    unit = curriculum.get_unit(unit_id)
    body = _unit_summary(unit)
    body["phrases"] = [
        {"id": p.id, "hanzi": p.hanzi, "pinyin": p.pinyin, "english": p.english, "note": p.note}
        for p in unit.phrases
    ]
    return body


def local_reference_audio(text: str) -> bytes | None:
    """The reference voice rendered on this machine (espeak-ng), or None if it cannot be made."""
    from sayzhong.curriculum.reference_audio import reference_audio_path
    from sayzhong.errors import SayZhongError

    try:
        path: Path = reference_audio_path(text, _settings())
        return path.read_bytes()
    except (SayZhongError, OSError):
        return None


def score_offline(*, audio: bytes, text: str, item_id: str) -> dict[str, Any]:
    """Score a take locally; raises `SayZhongError` subclasses (e.g. AudioError) for unusable audio."""
    from sayzhong.practice.results import parse_result
    from sayzhong.practice.schemas import SyllableView
    from sayzhong.pronunciation.service import assess_pronunciation

    result = assess_pronunciation(audio=audio, text=text, engine="offline", settings=_settings())
    parsed = parse_result(result)
    return {
        "id": None,
        "item_id": item_id,
        "text": text,
        "mode": "practice",
        "engine": parsed.engine,
        "accuracy": parsed.accuracy,
        "fluency": parsed.fluency,
        "completeness": parsed.completeness,
        "pron": parsed.pron,
        "tone": parsed.tone,
        "speaker_profile_used": bool(parsed.speaker_profile_used),
        "syllables": [SyllableView.from_parsed(s).to_dict() for s in parsed.syllables],
        "offline": True,
    }
