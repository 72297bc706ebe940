"""Audio intake: sniffing and every typed error, on audio built in memory."""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np
import pytest

from sayzhong.pronunciation.audio import (
    AudioClippedError,
    AudioCorruptError,
    AudioEmptyError,
    AudioError,
    AudioSilentError,
    AudioTooLargeError,
    AudioTooLongError,
    AudioTooQuietError,
    AudioUnsupportedError,
    decode_audio,
    replay_wav,
    sniff_container,
)
from tests.support.pron_synth import SR, synth_samples, to_wav, to_webm

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + os.urandom(200)


def test_wav_decodes_to_16k_mono_float(synth_wav: Callable[..., bytes]) -> None:
    audio = decode_audio(synth_wav([1, 4]))
    assert audio.sample_rate == 16_000
    assert audio.samples.dtype == np.float32
    assert audio.samples.ndim == 1
    assert audio.container == "wav"
    assert audio.duration_s == pytest.approx(audio.samples.size / 16_000)
    assert 0.8 < audio.duration_s < 1.2


def test_other_sample_rates_are_resampled() -> None:
    import io
    import wave

    samples = synth_samples([2])
    stereo_44k = np.repeat(
        np.interp(np.arange(0, samples.size, SR / 44_100), np.arange(samples.size), samples), 2
    )
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(44_100)
        w.writeframes((stereo_44k * 32767).astype("<i2").tobytes())
    audio = decode_audio(buf.getvalue())
    assert audio.duration_s == pytest.approx(samples.size / SR, abs=0.02)


@pytest.mark.parametrize(
    ("head", "name"),
    [
        (b"RIFF\x00\x00\x00\x00WAVEfmt ", "wav"),
        (b"fLaC\x00", "flac"),
        (b"OggS\x00", "ogg"),
        (b"\x1a\x45\xdf\xa3\x01", "webm"),
        (b"\x00\x00\x00\x20ftypM4A ", "mp4"),
        (b"ID3\x04\x00", "mp3"),
        (b"\xff\xfb\x90\x00", "mp3"),
        (b"\xff\xf1\x50\x80", "aac"),
        (PNG, None),
        (b"%PDF-1.4", None),
    ],
)
def test_container_is_sniffed_from_bytes(head: bytes, name: str | None) -> None:
    assert sniff_container(head) == name


def test_empty_bytes() -> None:
    with pytest.raises(AudioEmptyError) as info:
        decode_audio(b"")
    assert info.value.code == "audio_empty"


def test_random_bytes_are_unsupported() -> None:
    rng = np.random.default_rng(0)
    data = bytes([0x42]) + rng.integers(0, 256, 5000, dtype=np.uint8).tobytes()
    with pytest.raises(AudioUnsupportedError) as info:
        decode_audio(data)
    assert info.value.code == "audio_unsupported"


def test_png_renamed_to_wav_is_unsupported() -> None:
    with pytest.raises(AudioUnsupportedError):
        decode_audio(PNG)


def test_wav_header_with_garbage_is_corrupt() -> None:
    data = b"RIFF\x24\x00\x00\x00WAVEfmt " + os.urandom(300)
    with pytest.raises(AudioCorruptError) as info:
        decode_audio(data)
    assert info.value.code == "audio_corrupt"


def test_too_large_is_refused_before_decoding(synth_wav: Callable[..., bytes]) -> None:
    data = synth_wav([1, 2, 3])
    with pytest.raises(AudioTooLargeError) as info:
        decode_audio(data, max_bytes=len(data) - 1)
    assert info.value.code == "audio_too_large"
    assert "MB" in info.value.user_message


def test_too_long(synth_wav: Callable[..., bytes]) -> None:
    with pytest.raises(AudioTooLongError) as info:
        decode_audio(synth_wav([1, 2, 3, 4]), max_seconds=0.5)
    assert info.value.code == "audio_too_long"


def test_ten_minute_wav_is_refused() -> None:
    ten_minutes = to_wav(np.zeros(SR * 600, dtype=np.float32))
    with pytest.raises((AudioTooLargeError, AudioTooLongError)):
        decode_audio(ten_minutes)
    with pytest.raises(AudioTooLongError):
        decode_audio(ten_minutes, max_bytes=len(ten_minutes))


def test_pure_silence() -> None:
    with pytest.raises(AudioSilentError) as info:
        decode_audio(to_wav(np.zeros(SR * 2, dtype=np.float32)))
    assert info.value.code == "audio_silent"


def test_too_quiet() -> None:
    with pytest.raises(AudioTooQuietError) as info:
        decode_audio(to_wav(synth_samples([1, 4]) * 0.005))
    assert info.value.code == "audio_too_quiet"


def test_clipped() -> None:
    loud = np.clip(synth_samples([1, 4]) * 20, -1, 1)
    with pytest.raises(AudioClippedError) as info:
        decode_audio(to_wav(loud))
    assert info.value.code == "audio_clipped"


def test_normal_level_is_accepted() -> None:
    decode_audio(to_wav(synth_samples([1, 4]) * 2))


def test_every_audio_error_has_a_plain_message() -> None:
    for cls in AudioError.__subclasses__():
        err = cls()
        assert err.code.startswith("audio_")
        assert len(err.user_message) > 20
        assert "Exception" not in err.user_message


# --- 16 kHz mono 16-bit WAV is read in place (issue 16: PyAV's open + resampler cost ~5 ms a take) ---


def _pcm_wav(samples: np.ndarray, *, extra_chunk: bytes = b"", declared_extra: int = 0) -> bytes:
    """A 16 kHz mono s16 WAV written by hand: optional chunk before `data`, optional over-declared size."""
    pcm = (samples * 32767).astype("<i2").tobytes()
    fmt = (1).to_bytes(2, "little") + (1).to_bytes(2, "little") + SR.to_bytes(4, "little")
    fmt += (SR * 2).to_bytes(4, "little") + (2).to_bytes(2, "little") + (16).to_bytes(2, "little")
    body = b"WAVE" + b"fmt " + len(fmt).to_bytes(4, "little") + fmt + extra_chunk
    body += b"data" + (len(pcm) + declared_extra).to_bytes(4, "little") + pcm
    return b"RIFF" + len(body).to_bytes(4, "little") + body


def test_plain_wav_read_in_place_equals_what_pyav_decodes() -> None:
    from sayzhong.pronunciation import audio as audio_mod

    wav = _pcm_wav(synth_samples([3, 1]))
    assert audio_mod._plain_wav_samples(wav) is not None  # the fast path is taken
    fast = decode_audio(wav).samples
    slow = audio_mod._decode_with_av(wav, 30.0)
    assert fast.dtype == slow.dtype == np.float32
    np.testing.assert_array_equal(fast, slow)


def test_plain_wav_skips_other_chunks_and_keeps_a_truncated_tail() -> None:
    from sayzhong.pronunciation import audio as audio_mod

    samples = synth_samples([2])
    odd_chunk = b"LIST" + (3).to_bytes(4, "little") + b"abc" + b"\x00"  # odd size, padded
    wav = _pcm_wav(samples, extra_chunk=odd_chunk)
    assert decode_audio(wav).samples.size == samples.size
    cut = _pcm_wav(samples, declared_extra=8000)  # says more than it holds: a recording stopped mid-write
    assert decode_audio(cut).samples.size == samples.size
    assert audio_mod._plain_wav_samples(cut[:-1]) is not None  # half a sample at the end is dropped


def test_other_wavs_still_go_through_pyav_and_the_limits_hold() -> None:
    from sayzhong.pronunciation import audio as audio_mod

    wav = _pcm_wav(synth_samples([1]))
    stereo = wav.replace((1).to_bytes(2, "little") + (1).to_bytes(2, "little"), b"\x01\x00\x02\x00", 1)
    assert audio_mod._plain_wav_samples(stereo) is None
    assert audio_mod._plain_wav_samples(b"RIFF\x00\x00\x00\x00WAVEdata\x04\x00\x00\x00abcd") is None  # no fmt
    with pytest.raises(AudioTooLongError):
        decode_audio(_pcm_wav(np.zeros(SR * 3, dtype=np.float32)), max_seconds=2)


def test_a_webm_take_replays_as_the_16k_wav_the_scorer_heard() -> None:
    import io
    import wave

    samples = synth_samples([2, 3])
    webm = to_webm(samples)
    wav = replay_wav(webm)
    assert wav is not None and sniff_container(wav) == "wav"
    with wave.open(io.BytesIO(wav), "rb") as replay:
        assert (replay.getframerate(), replay.getnchannels(), replay.getsampwidth()) == (SR, 1, 2)
        frames = np.frombuffer(replay.readframes(replay.getnframes()), dtype="<i2")
    heard = decode_audio(webm).samples
    assert frames.size == heard.size  # the header states the take's true length
    assert np.max(np.abs(frames / 32768.0 - heard)) < 1e-4  # the same audio, to 16-bit rounding


def test_a_wav_replays_as_stored_and_an_undecodable_take_is_left_as_it_is() -> None:
    wav = to_wav(synth_samples([1]))
    assert replay_wav(wav) is wav
    assert replay_wav(b"\x1a\x45\xdf\xa3" + os.urandom(300)) is None  # WebM magic, no WebM
    assert replay_wav(PNG) is None
    assert replay_wav(to_webm(synth_samples([1, 2, 3, 4])), max_seconds=1.0) is None  # over the limit
