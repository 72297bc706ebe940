"""Reference-audio cache, voice selection and the Azure adapter's offline fallback (no real TTS)."""

from __future__ import annotations

import argparse
import io
import wave
from pathlib import Path

import pytest

from sayzhong import wiring
from sayzhong.curriculum.cli import run_render_audio
from sayzhong.curriculum.models import SpeakableItem
from sayzhong.curriculum.offline import EspeakReferenceVoice
from sayzhong.curriculum.ports import ReferenceAudioError
from sayzhong.curriculum.reference_audio import ReferenceAudioStore, render_all
from sayzhong.integrations.azure_tts import AzureReferenceVoice
from sayzhong.settings import Settings
from sayzhong.wiring import get_reference_voice
from tests.support.ports import free_port


def _tiny_wav() -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16_000)
        out.writeframes(b"\x00\x01" * 1600)
    return buffer.getvalue()


class FakeVoice:
    def __init__(self, voice_id: str = "fake:1", answer_as: str | None = None) -> None:
        self._voice_id = voice_id
        self.answer_as = answer_as or voice_id
        self.calls: list[str] = []

    @property
    def voice_id(self) -> str:
        return self._voice_id

    def render(self, text: str, out_path: Path) -> str:
        self.calls.append(text)
        out_path.write_bytes(_tiny_wav())
        return self.answer_as


def _item(item_id: str, hanzi: str) -> SpeakableItem:
    return SpeakableItem(item_id, "phrase", hanzi, "ni3 hao3", "Hello.")


def test_store_renders_once_and_then_serves_the_cache(tmp_path: Path) -> None:
    voice = FakeVoice()
    store = ReferenceAudioStore(tmp_path / "ref", voice)
    path, rendered = store.ensure("你好")
    assert rendered and path.exists() and path.parent == tmp_path / "ref"
    again, rendered_again = store.ensure("你好")
    assert again == path and not rendered_again
    assert voice.calls == ["你好"]
    assert not list((tmp_path / "ref").glob(".render-*")), "temporary files are cleaned up"


def test_cache_key_depends_on_text_and_voice(tmp_path: Path) -> None:
    one = ReferenceAudioStore(tmp_path, FakeVoice("fake:1"))
    two = ReferenceAudioStore(tmp_path, FakeVoice("fake:2"))
    assert one.path_for("你好") != one.path_for("您好")
    assert one.path_for("你好") != two.path_for("你好")


def test_audio_from_a_fallback_voice_is_filed_under_that_voice(tmp_path: Path) -> None:
    voice = FakeVoice("azure:x", answer_as="espeak:y")
    store = ReferenceAudioStore(tmp_path, voice)
    path, _ = store.ensure("谢谢")
    assert path == store.path_for("谢谢", "espeak:y")
    assert store.cached("谢谢") is None  # the primary voice will be tried again next time


def test_render_all_is_idempotent_and_renders_shared_text_once(tmp_path: Path) -> None:
    voice = FakeVoice()
    store = ReferenceAudioStore(tmp_path, voice)
    items = [_item("a", "你好"), _item("b", "谢谢"), _item("c", "你好")]
    first = render_all(store, items)
    assert (first.rendered, first.cached, first.failed) == (2, 1, [])
    second = render_all(store, items)
    assert (second.rendered, second.cached) == (0, 3)
    assert voice.calls == ["你好", "谢谢"]


def test_render_all_reports_failures_and_carries_on(tmp_path: Path) -> None:
    class Broken(FakeVoice):
        def render(self, text: str, out_path: Path) -> str:
            if text == "坏":
                raise ReferenceAudioError()
            return super().render(text, out_path)

    summary = render_all(ReferenceAudioStore(tmp_path, Broken()), [_item("bad", "坏"), _item("ok", "好")])
    assert summary.rendered == 1
    assert [item_id for item_id, _ in summary.failed] == ["bad"]


def test_render_audio_command_uses_the_data_dir_and_skips_cached(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    voice = FakeVoice()
    monkeypatch.setattr(wiring, "get_reference_voice", lambda _settings: voice)
    assert run_render_audio(argparse.Namespace(force=False)) == 0
    first = capsys.readouterr().out
    assert run_render_audio(argparse.Namespace(force=False)) == 0
    second = capsys.readouterr().out
    assert "failed 0" in first and "rendered 0," in second
    assert str(settings.data_dir / "reference-audio") in first
    assert len(list((settings.data_dir / "reference-audio").glob("*.wav"))) == len(voice.calls) > 250


def test_default_voice_is_espeak_without_azure(settings: Settings) -> None:
    voice = get_reference_voice(settings)
    assert isinstance(voice, EspeakReferenceVoice)
    assert voice.voice_id.startswith("espeak-ng:cmn-latn-pinyin")


def test_azure_voice_is_chosen_when_configured_and_builds_its_config_offline(settings: Settings) -> None:
    configured = settings.model_copy(
        update={"azure_speech_key": "test-key", "azure_speech_region": "westeurope"}
    )
    voice = get_reference_voice(configured)
    assert isinstance(voice, AzureReferenceVoice)
    assert isinstance(voice.fallback, EspeakReferenceVoice)
    config = voice.build_config()
    assert config.speech_synthesis_voice_name == "zh-CN-XiaoxiaoNeural"
    assert voice.voice_id == "azure:zh-CN-XiaoxiaoNeural"


def test_azure_falls_back_to_the_offline_voice_when_it_cannot_connect(tmp_path: Path) -> None:
    fallback = FakeVoice("espeak:fallback")
    voice = AzureReferenceVoice(
        key="test", host=f"ws://127.0.0.1:{free_port()}", fallback=fallback, timeout_s=15
    )
    out = tmp_path / "out.wav"
    assert voice.render("你好", out) == "espeak:fallback"
    assert fallback.calls == ["你好"] and out.read_bytes()[:4] == b"RIFF"
    # Azure is skipped for a while after a failure, so the next item does not wait on it.
    assert voice.render("谢谢", tmp_path / "second.wav") == "espeak:fallback"
    assert fallback.calls == ["你好", "谢谢"]
