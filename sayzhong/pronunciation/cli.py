"""`python -m sayzhong score …` and `python -m sayzhong calibrate …`.

score AUDIO --text 我想喝茶 [--engine offline|azure|auto] [--profile P.json] [--json]
score --batch FILE.jsonl [--engine …] [--profile …]   (lines {"audio": "path", "text": "…"};
      one result JSON per line on stdout, in input order; a bad line gives {"error": …})
calibrate --batch FILE.jsonl                          (prints a speaker profile JSON)
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from sayzhong.errors import SayZhongError

TONE_NAMES = {1: "1 high", 2: "2 rising", 3: "3 low", 4: "4 falling", 5: "neutral"}


def register_cli(sub: Any) -> None:
    score = sub.add_parser("score", help="score a recording's pronunciation and tones")
    score.add_argument("audio", nargs="?", help="recording (wav, mp3, flac, ogg, webm, m4a)")
    score.add_argument("--text", help="what was read: hanzi, numbered or tone-marked pinyin")
    score.add_argument("--engine", choices=["offline", "azure", "auto"], default="auto")
    score.add_argument("--profile", type=Path, help="speaker profile JSON from `calibrate`")
    score.add_argument("--json", action="store_true", help="print the result JSON")
    score.add_argument("--batch", type=Path, help='JSONL file of {"audio": path, "text": …} lines')
    score.set_defaults(handler=score_command)

    calibrate = sub.add_parser("calibrate", help="build a speaker profile from recordings of known text")
    calibrate.add_argument("--batch", type=Path, required=True, help='JSONL file of {"audio", "text"} lines')
    calibrate.set_defaults(handler=calibrate_command)


def _read_batch(path: Path) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    base = path.parent
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            audio, text = item["audio"], item["text"]
            if not isinstance(audio, str) or not isinstance(text, str):
                raise TypeError
        except (json.JSONDecodeError, KeyError, TypeError):
            items.append({"line": n, "error": 'expected {"audio": "path", "text": "…"}'})
            continue
        audio_path = Path(audio)
        if not audio_path.is_absolute() and not audio_path.exists():
            audio_path = base / audio_path
        items.append({"line": n, "audio": audio_path, "text": text, "raw_audio": audio})
    return items


def _load_profile(path: Path | None) -> Any:
    from sayzhong.pronunciation.profile import SpeakerProfile

    if path is None:
        return None
    return SpeakerProfile.from_dict(json.loads(path.read_text(encoding="utf-8")))


def score_command(args: argparse.Namespace) -> int:
    from sayzhong.pronunciation.service import assess_pronunciation

    try:
        profile = _load_profile(args.profile)
    except (OSError, json.JSONDecodeError, SayZhongError) as exc:
        print(
            f"error: cannot use profile {args.profile}: {getattr(exc, 'user_message', exc)}", file=sys.stderr
        )
        return 2
    if args.batch:
        failures = 0
        for item in _read_batch(args.batch):
            out: dict[str, Any]
            if "error" in item:
                out = {"line": item["line"], "error": {"code": "bad_line", "message": item["error"]}}
                failures += 1
            else:
                try:
                    data = item["audio"].read_bytes()
                    out = assess_pronunciation(
                        audio=data, text=item["text"], profile=profile, engine=args.engine
                    )
                except OSError as exc:
                    out = {"error": {"code": "file_unreadable", "message": str(exc)}}
                    failures += 1
                except SayZhongError as exc:
                    out = {"error": {"code": exc.code, "message": exc.user_message}}
                    failures += 1
                out = {"audio": item["raw_audio"], "text": item["text"], **out}
            sys.stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
        sys.stdout.flush()
        return 1 if failures else 0
    if not args.audio or not args.text:
        print("error: give AUDIO and --text, or --batch FILE.jsonl", file=sys.stderr)
        return 2
    try:
        data = Path(args.audio).read_bytes()
        result = assess_pronunciation(audio=data, text=args.text, profile=profile, engine=args.engine)
    except OSError as exc:
        print(f"error: cannot read {args.audio}: {exc.strerror}", file=sys.stderr)
        return 2
    except SayZhongError as exc:
        print(f"error ({exc.code}): {exc.user_message}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        print(format_table(result))
    return 0


def format_table(result: dict[str, Any]) -> str:
    best = result["NBest"][0]
    lines = [f"{'syllable':<10}{'pinyin':<10}{'expected':<12}{'heard':<12}{'tone score':>10}  verdict"]
    for word in best["Words"]:
        for s in word["Syllables"] or []:
            heard = TONE_NAMES.get(s["DetectedTone"], "?") if s["DetectedTone"] else "-"
            score = "-" if s["ToneScore"] is None else str(s["ToneScore"])
            lines.append(
                f"{s['Grapheme']:<10}{s['Syllable']:<10}{TONE_NAMES[s['ExpectedTone']]:<12}{heard:<12}"
                f"{score:>10}  {s['ToneVerdict']}"
            )
    pa = best["PronunciationAssessment"]
    utterance = result.get("Utterance") or {}
    if utterance.get("Message"):
        lines.append("")
        lines.append(str(utterance["Message"]))
    lines.append("")
    lines.append(
        f"Pron {pa['PronScore']}  Accuracy {pa['AccuracyScore']}  Fluency {pa['FluencyScore']}  "
        f"Completeness {pa['CompletenessScore']}  Tones {pa['ToneScore']}"
    )
    note = f"engine {result['Engine']}, normalisation {result['Normalisation']}"
    if result.get("AzureFallbackReason"):
        note += f", Azure not used: {result['AzureFallbackReason']}"
    lines.append(note)
    return "\n".join(lines)


def calibrate_command(args: argparse.Namespace) -> int:
    from sayzhong.pronunciation.profile import build_profile

    samples: list[tuple[bytes, str]] = []
    for item in _read_batch(args.batch):
        if "error" in item:
            print(f"error: line {item['line']}: {item['error']}", file=sys.stderr)
            return 2
        try:
            samples.append((item["audio"].read_bytes(), item["text"]))
        except OSError as exc:
            print(f"error: cannot read {item['raw_audio']}: {exc.strerror}", file=sys.stderr)
            return 2
    try:
        profile = build_profile(samples)
    except SayZhongError as exc:
        print(f"error ({exc.code}): {exc.user_message}", file=sys.stderr)
        return 1
    print(json.dumps(profile.to_dict(), ensure_ascii=False, indent=2))
    return 0
