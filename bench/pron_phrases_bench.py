"""Multi-syllable phrases: espeak-ng renditions (several voices and rates) and labelled copies
where Praat imposes a wrong tone on one syllable.

Ground truth for the original renditions is the expected surface tone from sayzhong's text
rules, plus its optional-sandhi alternatives as the engine scores them (espeak applies 3-3
sandhi itself; phrases avoid 一/不, which espeak does not change).
For each rendition one judged syllable is given another tone's contour (Praat PSOLA, pitch
tier replaced over the syllable's voiced span); that syllable must then be flagged.

Reported: syllable tone accuracy (originals), false-alarm rate (correct syllables flagged,
originals) and miss rate (imposed wrong tone accepted), without and with a speaker profile
(built with ``build_profile`` from three other phrases of the same voice and rate).
espeak's tones are compressed and it is a single synthetic speaker family, so these figures
describe the pipeline on clean connected speech, not learner speech.

Run: .venv/bin/python bench/pron_phrases_bench.py   (needs espeak-ng and sox; ~1-2 minutes)
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sayzhong.pronunciation.analysis import ToneJudgement, analyse  # noqa: E402
from sayzhong.pronunciation.audio import DecodedAudio, decode_audio  # noqa: E402
from sayzhong.pronunciation.pitch import st_to_hz  # noqa: E402
from sayzhong.pronunciation.profile import build_profile  # noqa: E402
from sayzhong.pronunciation.scoring import TONE_ERROR_THRESHOLD  # noqa: E402
from sayzhong.pronunciation.text import ExpectedSyllable, expected_syllables  # noqa: E402

PHRASES = [
    "你好",
    "谢谢你",
    "我想喝茶",
    "今天天气很好",
    "他是我的老师",
    "我们去买东西吧",
    "中国人",
    "学习汉语",
    "飞机场",
    "电视机",
    "你叫什么名字",
    "欢迎光临",
    "明天见",
    "太贵了",
    "生日快乐",
    "北京大学",
    "喝咖啡",
    "火车站",
]
CALIBRATION = ["我想喝茶", "今天天气很好", "欢迎光临"]
VOICES = ["cmn-latn-pinyin", "cmn-latn-pinyin+f2", "cmn-latn-pinyin+m3"]
RATES = [130, 175, 220]
IMPOSED = {  # semitones relative to the speaker's median, at relative times
    1: [(0.0, 3.0), (1.0, 3.0)],
    2: [(0.0, -1.5), (0.25, -2.0), (1.0, 3.5)],
    3: [(0.0, -2.5), (0.6, -5.5), (1.0, -4.5)],
    4: [(0.0, 4.0), (0.15, 4.5), (1.0, -4.0)],
}
WRONG_FOR = {1: 4, 2: 4, 3: 1, 4: 2}


def render(text: str, voice: str, rate: int, out: Path) -> bytes:
    raw = out.with_suffix(".22k.wav")
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(rate), "-w", str(raw), text], check=True)
    subprocess.run(["sox", str(raw), "-r", "16000", "-c", "1", str(out)], check=True)
    return out.read_bytes()


def impose(audio: DecodedAudio, t0: float, t1: float, tone: int, median_st: float) -> DecodedAudio:
    import parselmouth
    from parselmouth.praat import call

    sound = parselmouth.Sound(audio.samples.astype(np.float64), 16000)
    manip = call(sound, "To Manipulation", 0.01, 75, 600)
    tier = call(manip, "Extract pitch tier")
    call(tier, "Remove points between", t0 - 0.01, t1 + 0.01)
    for r, st in IMPOSED[tone]:
        call(tier, "Add point", t0 + r * (t1 - t0), float(st_to_hz(median_st + st)))
    call([manip, tier], "Replace pitch tier")
    out = call(manip, "Get resynthesis (overlap-add)")
    samples = np.asarray(out.values[0], dtype=np.float32)
    return DecodedAudio(samples, 16000, samples.size / 16000, "wav")


def _p_accepted(judgement: ToneJudgement, syl: ExpectedSyllable) -> float:
    """As the engine scores it: the expected tone and optional-sandhi alternatives all count."""
    return sum(judgement.probability_of(t) for t in syl.accepted_tones)


def main() -> int:
    for tool in ("espeak-ng", "sox"):
        if shutil.which(tool) is None:
            print(f"TOOL MISSING: {tool}")
            return 2
    t0 = time.time()
    rng = np.random.default_rng(7)
    counts = {
        m: {"n": 0, "correct": 0, "fa": 0, "judged": 0, "imposed": 0, "miss": 0} for m in ("none", "profile")
    }
    per_voice: dict[str, list[int]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for voice in VOICES:
            for rate in RATES:
                calib = [
                    (render(t, voice, rate, Path(tmp) / f"c{i}.wav"), t) for i, t in enumerate(CALIBRATION)
                ]
                profile = build_profile(calib)
                for pi, text in enumerate(PHRASES):
                    expected = expected_syllables(text)
                    judged = [s.judged for s in expected]
                    audio = decode_audio(render(text, voice, rate, Path(tmp) / f"p{pi}.wav"))
                    for mode, prof in (("none", None), ("profile", profile)):
                        result = analyse(audio, judged, prof)
                        c = counts[mode]
                        for syl, j in zip(expected, result.judgements, strict=True):
                            if not syl.judged:
                                continue
                            c["judged"] += 1
                            c["correct"] += int(j.detected in syl.accepted_tones)
                            c["fa"] += int(_p_accepted(j, syl) < TONE_ERROR_THRESHOLD)
                            if mode == "none":
                                per_voice.setdefault(f"{voice} @{rate}", []).append(
                                    int(j.detected in syl.accepted_tones)
                                )
                        # Impose a wrong tone on one judged syllable with voicing.
                        if result.contours is None:
                            continue
                        choices = [
                            i
                            for i, s in enumerate(expected)
                            if s.judged and result.contours[i].times.size >= 4
                        ]
                        if not choices:
                            continue
                        k = int(rng.choice(choices))
                        ct = result.contours[k]
                        wrong = WRONG_FOR[expected[k].surface_tone]
                        voiced = result.track.f0_st[result.track.voiced]
                        altered = impose(
                            audio, float(ct.times[0]), float(ct.times[-1]), wrong, float(np.median(voiced))
                        )
                        res2 = analyse(altered, judged, prof)
                        c["imposed"] += 1
                        p = _p_accepted(res2.judgements[k], expected[k])
                        c["miss"] += int(p >= TONE_ERROR_THRESHOLD)
    print("| profile | judged syllables | tone accuracy | false alarm | imposed wrong tones | miss |")
    print("|---|---:|---:|---:|---:|---:|")
    for mode, c in counts.items():
        print(
            f"| {'yes' if mode == 'profile' else 'no'} | {c['judged']} | "
            f"{100 * c['correct'] / c['judged']:.1f} % | {100 * c['fa'] / c['judged']:.1f} % | "
            f"{c['imposed']} | {100 * c['miss'] / max(1, c['imposed']):.1f} % |"
        )
    print("\naccuracy by voice and rate (no profile):")
    for key, v in per_voice.items():
        print(f"  {key}: {100 * np.mean(v):.1f} % of {len(v)}")
    print(f"\ntotal {time.time() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
