"""The default espeak-ng reference voice produces real 16 kHz mono speech, cached under DATA_DIR."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import parselmouth
import pytest

from sayzhong.curriculum.offline import EspeakReferenceVoice
from sayzhong.curriculum.reference_audio import ReferenceAudioStore, reference_audio_path, render_all
from sayzhong.curriculum.service import get_item
from sayzhong.settings import Settings
from tests.support.tools import require_tool


@pytest.fixture(autouse=True)
def _tools() -> None:
    require_tool("espeak-ng")
    require_tool("sox")


def _read(path: Path) -> tuple[wave._wave_params, np.ndarray]:
    with wave.open(str(path), "rb") as wav:
        params = wav.getparams()
        samples = np.frombuffer(wav.readframes(params.nframes), dtype="<i2").astype(np.float64) / 32768.0
    return params, samples


def test_espeak_renders_a_16khz_mono_wav_with_speech(tmp_path: Path) -> None:
    out = tmp_path / "nihao.wav"
    used = EspeakReferenceVoice().render("你好，谢谢！", out)
    assert used.startswith("espeak-ng:cmn-latn-pinyin")
    params, samples = _read(out)
    assert (params.framerate, params.nchannels, params.sampwidth) == (16_000, 1, 2)
    assert params.nframes / params.framerate > 0.5
    assert float(np.sqrt(np.mean(samples**2))) > 0.01, "not silence"
    pitch = parselmouth.Sound(samples, sampling_frequency=16_000).to_pitch(pitch_floor=60, pitch_ceiling=400)
    f0 = pitch.selected_array["frequency"]
    voiced = f0[f0 > 0]
    assert len(voiced) >= 20, "voiced frames: speech, not noise"
    assert 60 < float(np.median(voiced)) < 400


def test_first_and_fourth_tone_syllables_have_different_contours(tmp_path: Path) -> None:
    """A sanity check that the voice really speaks tones: 骂 (ma4) falls more than 妈 (ma1)."""

    def slope(hanzi: str) -> float:
        out = tmp_path / f"{hanzi}.wav"
        EspeakReferenceVoice().render(hanzi, out)
        _, samples = _read(out)
        pitch = parselmouth.Sound(samples, sampling_frequency=16_000).to_pitch(
            pitch_floor=60, pitch_ceiling=400
        )
        f0 = pitch.selected_array["frequency"]
        voiced = f0[f0 > 0]
        third = max(1, len(voiced) // 3)
        return float(np.median(voiced[-third:]) - np.median(voiced[:third]))

    assert slope("骂") < slope("妈")


def test_shipped_items_render_into_the_data_dir_cache_once(settings: Settings) -> None:
    path = reference_audio_path(get_item("greetings.hello").hanzi, settings)
    assert path.parent == settings.data_dir / "reference-audio" and path.exists()
    store = ReferenceAudioStore(settings.data_dir / "reference-audio", EspeakReferenceVoice())
    items = [get_item("greetings.hello"), get_item("restaurant.l2-noodles"), get_item("drill.t3-3.nihao")]
    first = render_all(store, items)
    assert (first.rendered, first.failed) == (1, [])  # 你好 (phrase and drill) was already cached
    second = render_all(store, items)
    assert (second.rendered, second.cached) == (0, 3)


def test_reference_audio_for_an_item_id(settings: Settings) -> None:
    from sayzhong.curriculum.reference_audio import reference_audio_for_item

    path = reference_audio_for_item("family-chat.p4", settings)
    params, _ = _read(path)
    assert params.framerate == 16_000 and path.parent == settings.data_dir / "reference-audio"
