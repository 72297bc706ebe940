"""Expected syllables of a practice text, with the tones they should be *spoken* with.

Owns: reading hanzi (jieba word segmentation + pypinyin readings with phrase context),
numbered pinyin (``wo3 xiang3``) and tone-marked pinyin (``wǒ xiǎng``, ``nǐhǎo``), and the
surface-tone rules a learner is judged against:

- neutral tone (5) for particles/suffixes (pypinyin), lexically neutral words (东西 "thing",
  朋友, 知道 …), reduplicated nouns and verbs (妈妈, 看看) and the middle of V一V / V不V;
- 一: 1 alone, at the end of a word, as an ordinal/number digit or in dates (第一, 十一, 一月);
  2 before a 4th tone (一个, 一样); 4 before tones 1-3 (一天, 一起);
- 不: 2 before a 4th tone (不要, 不对), otherwise 4;
- third-tone sandhi: applied cyclically inside each lexical word (展览|馆 → 2 2 3,
  小|老虎 → 3 2 3), then left to right across the words of a phrase (我很好 → 2 2 3),
  never across punctuation. Inside a prosodic word (a one-syllable word leaning on a short
  following word: 很|好) the change is expected; across prosodic words it is what fluent speech
  does, and tone 3 is accepted as an alternative. A 3rd tone before a neutral syllable keeps
  its tone.

The 一/不 rules need characters, so they apply to hanzi only: in pinyin ``yi1`` may be 衣 and
``bu4`` may be 部. Third-tone sandhi is purely phonological and applies to pinyin too.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sayzhong.errors import SayZhongError
from sayzhong.lazy_imports import PYPINYIN, import_whole

NEUTRAL = 5


class TextError(SayZhongError):
    """The practice text cannot be turned into syllables."""

    code = "text_unreadable"
    default_message = "We could not read that text. Type Chinese characters or pinyin with tone numbers."


@dataclass(frozen=True, slots=True)
class ExpectedSyllable:
    grapheme: str
    """The character (hanzi input) or tone-marked pinyin syllable (pinyin input)."""
    pinyin: str
    """Numbered pinyin with the dictionary tone, ü written as v: ``hao3``, ``nv3``, ``ma5``."""
    dictionary_tone: int
    """Lexical tone 1-4, or 5 for a lexically neutral syllable."""
    surface_tone: int
    """The tone it should be spoken with after sandhi (1-4, 5 = neutral, not judged)."""
    initial: str
    final: str
    word_index: int
    """Index of the word this syllable belongs to (0-based, across the whole text)."""
    alternative_tones: tuple[int, ...] = ()
    """Other surface tones a native speaker may also use here (optional sandhi), also accepted."""

    @property
    def accepted_tones(self) -> tuple[int, ...]:
        return (self.surface_tone, *self.alternative_tones)

    @property
    def judged(self) -> bool:
        """Neutral-tone syllables are not judged as one of the four tones."""
        return self.surface_tone != NEUTRAL

    @property
    def base(self) -> str:
        """Toneless syllable, e.g. ``hao``."""
        return self.pinyin.rstrip("012345")


# --- lexicon -------------------------------------------------------------------------------

# Words whose later syllables are neutral in standard Putonghua (positions that are neutral).
_NEUTRAL_WORDS: dict[str, tuple[int, ...]] = {
    w: (1,)
    for w in (
        "东西 朋友 先生 衣服 知道 喜欢 谢谢 漂亮 地方 时候 认识 名字 意思 舒服 休息 明白 告诉 客气 "
        "事情 清楚 豆腐 葡萄 萝卜 脑袋 眼睛 耳朵 嘴巴 尾巴 聪明 暖和 凉快 热闹 麻烦 便宜 商量 打算 "
        "觉得 学生 太阳 月亮 工夫 功夫 故事 打听 消息 生意 收拾 窗户 棉花 头发 石头 木头 馒头 枕头 "
        "骨头 舌头 里头 外头 上头 后头 前头 多少 部分 厉害 已经 主意 丈夫 媳妇 姑娘 伙计 老实 "
        "结实 踏实 苗条 合同 记得 晚上 早上 外面 里面 后面 前面 上面 下面 怎么 什么 这么 那么 "
        "多么 我们 你们 他们 她们 咱们 人们 回来 出来 进来 起来 过来 上来 下来 回去 出去 进去 "
        "过去 上去 下去 看见 听见 对付 吩咐 招呼 应酬 琢磨 折腾 提防 机灵 困难 道理 东边 西边 "
        "南边 北边 这边 那边 旁边 玻璃 刺猬 狐狸 云彩 月饼 亲戚 风筝 喇叭 状元 力气 本事 规矩"
    ).split()
}
_NEUTRAL_WORDS.update({"对不起": (1,), "了不起": (1,), "差不多": (1,)})
# Dictionary words that contain a neutral-tone word (jieba keeps them whole, so the entries above
# would not see them): 早上好 is zǎoshang hǎo, 昨天晚上 is zuótiān wǎnshang.
_NEUTRAL_WORDS.update(
    {"早上好": (1,), "昨天早上": (3,), "昨天晚上": (3,), "每天晚上": (3,), "八日晚上": (3,)}
)

# AA words that keep both full tones (adverbs etc.); other AA words neutralise the second A.
_FULL_REDUPLICATIONS = frozenset(
    "常常 刚刚 慢慢 好好 天天 人人 渐渐 明明 偏偏 往往 默默 悄悄 轻轻 匆匆 纷纷 多多 仅仅 恰恰 稍稍 "
    "统统 通通 白白 一一 处处 时时 年年 家家 个个 快快 早早 远远 久久 紧紧 静静 深深 高高 大大 "
    "满满 细细 重重 区区 历历 滔滔 冉冉 苍苍 茫茫 堂堂 奶奶 姥姥 爷爷".split()
)
# 奶奶/姥姥/爷爷 are handled by the neutral rule too but are listed so they are neutral anyway:
_FORCE_NEUTRAL_AA = frozenset("奶奶 姥姥 爷爷".split())

_NUMERALS = frozenset("零〇一二三四五六七八九十两")
_DIGITS_AFTER = frozenset("零〇一二三四五六七八九")
_DATE_AFTER = frozenset("月号日")

_PUNCT = "，。！？；：、,.!?;:…—-()（）「」『』“”\"'《》〈〉[]【】~～·"
_PHRASE_SPLIT = re.compile(r"[\s" + re.escape(_PUNCT) + r"]+")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")

_TONE_MARKS = {
    "\u0304": 1,  # macron ā
    "\u0301": 2,  # acute á
    "\u030c": 3,  # caron ǎ
    "\u0300": 4,  # grave à
}

_lock = threading.Lock()


@lru_cache(maxsize=1)
def _valid_syllables() -> frozenset[str]:
    import_whole(*PYPINYIN)
    from pypinyin.contrib.tone_convert import to_normal
    from pypinyin.pinyin_dict import pinyin_dict

    found: set[str] = set()
    for readings in pinyin_dict.values():
        for reading in readings.split(","):
            found.add(to_normal(reading).replace("ü", "v"))
    found.update({"r", "lve", "nve"})
    return frozenset(s for s in found if s.isascii() and s.isalpha())


@lru_cache(maxsize=1)
def _jieba() -> Any:
    with _lock:
        import_whole("jieba")
        import jieba

        jieba.setLogLevel(60)
        jieba.initialize()
        return jieba


def _is_word(w: str) -> bool:
    return bool(_jieba().dt.FREQ.get(w))


# --- public API ----------------------------------------------------------------------------


def expected_syllables(text: str, *, reading: str | None = None) -> list[ExpectedSyllable]:
    """Syllables of ``text`` (hanzi, numbered pinyin or tone-marked pinyin) with surface tones.

    ``reading``: the reviewed numbered pinyin of a hanzi text (curriculum content, e.g.
    ``zao3 shang5 hao3``), one syllable per character with dictionary tones. Its syllables and
    tones replace the dictionary's before the neutral-tone, 一/不 and sandhi rules run, so content
    is scored as its reviewers wrote it even where the engine's own reading differs.

    Raises ``TextError`` with a message that says what is wrong when the text cannot be read.
    """
    if not isinstance(text, str) or not text.strip():
        raise TextError("Please enter the Chinese text to practise.", code="text_empty")
    text = unicodedata.normalize("NFC", text.strip())
    if len(text) > 500:
        raise TextError(
            "That text is too long. Practise at most 500 characters at a time.", code="text_too_long"
        )
    if _CJK.search(text):
        return _from_hanzi(text, _parse_reading(reading) if reading else None)
    return _from_pinyin(text)


def _parse_reading(reading: str) -> list[tuple[str, int]]:
    syllables = []
    for token in reading.split():
        m = re.fullmatch(r"([a-zü:v]+)([1-5])", token.lower().replace("u:", "v").replace("ü", "v"))
        if not m:
            raise TextError(f"The reading {reading!r} is not numbered pinyin.", code="reading_invalid")
        syllables.append((m.group(1), int(m.group(2))))
    return syllables


def tone_mark(pinyin_numbered: str) -> str:
    """``hao3`` → ``hǎo`` (neutral stays unmarked)."""
    import_whole(*PYPINYIN)
    from pypinyin.contrib.tone_convert import to_tone

    return str(to_tone(pinyin_numbered.replace("v", "ü").rstrip("5")))


# --- hanzi ---------------------------------------------------------------------------------


@dataclass(slots=True)
class _Syl:
    grapheme: str
    base: str
    dict_tone: int
    surface: int
    word: int  # global word index
    phrase: int
    alternatives: tuple[int, ...] = ()


def _from_hanzi(text: str, reviewed: list[tuple[str, int]] | None = None) -> list[ExpectedSyllable]:
    import_whole(*PYPINYIN)
    from pypinyin import Style, lazy_pinyin

    stray = [ch for ch in text if not (_CJK.match(ch) or ch.isspace() or ch in _PUNCT)]
    if stray:
        shown = "".join(dict.fromkeys(stray))[:10]
        raise TextError(
            f"The text mixes Chinese characters with other characters ({shown}). "
            "Write numbers as characters and use only Chinese characters, or only pinyin.",
            code="text_mixed",
        )
    jieba = _jieba()
    syls: list[_Syl] = []
    words: list[tuple[str, int, int]] = []  # (word, first syllable index, phrase)
    word_index = 0
    for phrase_index, phrase in enumerate(p for p in _PHRASE_SPLIT.split(text) if p):
        phrase_words = [w for w in jieba.lcut(phrase, HMM=False) if w.strip()]
        readings = lazy_pinyin(
            phrase_words, style=Style.TONE3, neutral_tone_with_five=True, tone_sandhi=False, errors="default"
        )
        chars = "".join(phrase_words)
        if len(readings) != len(chars):  # pypinyin returned a non-syllable chunk
            raise TextError(
                "Some characters in the text have no known pronunciation.", code="text_unknown_char"
            )
        pos = 0
        for w in phrase_words:
            words.append((w, len(syls), phrase_index))
            for ch in w:
                reading = readings[pos]
                pos += 1
                m = re.fullmatch(r"([a-zü]+)([1-5])", reading.replace("ü", "v"))
                if not m:
                    raise TextError(f"We do not know how to pronounce “{ch}”.", code="text_unknown_char")
                base, tone = m.group(1).replace("ü", "v"), int(m.group(2))
                if ch == "一" and tone != NEUTRAL:
                    tone = 1
                elif ch == "不" and tone != NEUTRAL:
                    tone = 4
                syls.append(_Syl(ch, base, tone, tone, word_index, phrase_index))
            word_index += 1

    if reviewed is not None:
        if len(reviewed) != len(syls):
            raise TextError(
                f"The reading has {len(reviewed)} syllables but the text has {len(syls)} characters.",
                code="reading_mismatch",
            )
        for syl, (base, tone) in zip(syls, reviewed, strict=True):
            syl.base, syl.dict_tone, syl.surface = base, tone, tone
    _apply_neutral_words(syls, words, lexical=reviewed is None)
    _apply_yi_bu(syls, words)
    for w, start, _phrase in words:
        _sandhi_in_word(syls, start, len(w), w)
    _sandhi_across_words(syls)
    return [_finish(s) for s in syls]


def _apply_neutral_words(
    syls: list[_Syl], words: list[tuple[str, int, int]], *, lexical: bool = True
) -> None:
    """`lexical=False`: the dictionary tones come from a reviewed reading, which already says which
    syllables are lexically neutral; only the surface rule for repeated verbs applies."""
    for w, start, _ in words if lexical else ():
        positions: tuple[int, ...] = ()
        if w in _NEUTRAL_WORDS:
            positions = _NEUTRAL_WORDS[w]
        elif len(w) == 2 and w[0] == w[1] and (w not in _FULL_REDUPLICATIONS or w in _FORCE_NEUTRAL_AA):
            positions = (1,)  # 妈妈, 看看, 谢谢
        for p in positions:
            if p < len(w):
                syls[start + p].dict_tone = NEUTRAL
                syls[start + p].surface = NEUTRAL
    # A monosyllabic verb repeated as two words (看 看) behaves like 看看.
    for i in range(1, len(words)):
        (a, _sa, pa), (b, sb, pb) = words[i - 1], words[i]
        if len(a) == 1 and a == b and pa == pb and a not in "一不" and a + b not in _FULL_REDUPLICATIONS:
            syls[sb].surface = NEUTRAL


def _apply_yi_bu(syls: list[_Syl], words: list[tuple[str, int, int]]) -> None:
    last_of_word = {start + len(w) - 1 for w, start, _ in words}
    first_of_word = {start for _, start, _ in words}
    for i, s in enumerate(syls):
        if s.grapheme not in "一不" or s.dict_tone == NEUTRAL:
            continue
        prev = syls[i - 1] if i > 0 and syls[i - 1].phrase == s.phrase else None
        nxt = syls[i + 1] if i + 1 < len(syls) and syls[i + 1].phrase == s.phrase else None
        if prev and nxt and prev.grapheme == nxt.grapheme and prev.grapheme not in "一不":
            s.surface = NEUTRAL  # 看一看, 好不好
            continue
        if s.grapheme == "一":
            if (
                nxt is None
                or (prev is not None and (prev.grapheme == "第" or prev.grapheme in _NUMERALS))
                or nxt.grapheme in _DIGITS_AFTER
                or nxt.grapheme in _DATE_AFTER
                or (i in last_of_word and i not in first_of_word)
            ):
                s.surface = 1
            elif nxt.dict_tone in (4, NEUTRAL):
                s.surface = 2
            else:
                s.surface = 4
        else:  # 不
            s.surface = 2 if nxt is not None and nxt.dict_tone == 4 else 4


def _sandhi_pair(syls: list[_Syl], i: int) -> None:
    if syls[i].surface == 3 and syls[i + 1].surface == 3:
        syls[i].surface = 2


def _sandhi_in_word(syls: list[_Syl], start: int, n: int, word: str | None) -> None:
    """Cyclic third-tone sandhi inside one lexical word, following its internal structure."""
    if n < 2:
        return
    if n == 3 and word is not None and not _is_word(word[:2]) and _is_word(word[1:]):
        _sandhi_pair(syls, start + 1)  # 1+2: 小|老虎 → 3 2 3
        _sandhi_pair(syls, start)
        return
    if n == 4:
        _sandhi_pair(syls, start)  # 2+2
        _sandhi_pair(syls, start + 2)
        _sandhi_pair(syls, start + 1)
        return
    for i in range(start, start + n - 1):  # 2+1 (展览|馆) and longer words: left to right
        _sandhi_pair(syls, i)


def _prosodic_groups(syls: list[_Syl]) -> list[int]:
    """Prosodic word id per syllable. Right to left, a one-syllable word leans on the following
    word when that word has one or two syllables and has not taken another word yet
    (很|好, 给|我, 打|电话): 我|很好, 我也|很好, 请你|给我|打电话."""
    words: list[list[int]] = []
    for i, syl in enumerate(syls):
        if words and syls[words[-1][0]].word == syl.word:
            words[-1].append(i)
        else:
            words.append([i])
    groups: list[list[int]] = []
    absorbed = False
    for w in reversed(words):
        nxt = groups[-1] if groups else None
        if (
            nxt is not None
            and len(w) == 1
            and not absorbed
            and len(nxt) <= 2
            and syls[nxt[0]].phrase == syls[w[0]].phrase
        ):
            groups[-1] = w + nxt
            absorbed = True
        else:
            groups.append(list(w))
            absorbed = False
    group = [0] * len(syls)
    for gid, members in enumerate(groups):
        for i in members:
            group[i] = gid
    return group


def _sandhi_across_words(syls: list[_Syl]) -> None:
    """Left to right across word boundaries in a phrase. Inside a prosodic word the change is
    expected; across prosodic words it is what fluent speech does, but tone 3 is accepted too."""
    group = _prosodic_groups(syls)
    for i in range(len(syls) - 1):
        a, b = syls[i], syls[i + 1]
        if a.word != b.word and a.phrase == b.phrase and a.surface == 3 and b.surface == 3:
            a.surface = 2
            if group[i] != group[i + 1]:
                a.alternatives = (3,)


def _finish(s: _Syl) -> ExpectedSyllable:
    import_whole(*PYPINYIN)
    from pypinyin.contrib.tone_convert import to_finals, to_initials

    return ExpectedSyllable(
        grapheme=s.grapheme,
        pinyin=f"{s.base}{s.dict_tone}",
        dictionary_tone=s.dict_tone,
        surface_tone=s.surface,
        initial=str(to_initials(s.base, strict=True) or ""),
        final=str(to_finals(s.base.replace("v", "ü"), strict=True) or "").replace("ü", "v"),
        word_index=s.word,
        alternative_tones=s.alternatives,
    )


# --- pinyin --------------------------------------------------------------------------------


def _from_pinyin(text: str) -> list[ExpectedSyllable]:
    syls: list[_Syl] = []
    word_index = 0
    any_tone = False
    text = re.sub(r"[uU]:", "v", text)
    phrases = [p for p in re.split(r"[" + re.escape(_PUNCT.replace("'", "")) + r"]+", text) if p.strip()]
    for phrase_index, phrase in enumerate(phrases):
        for token in phrase.split():
            parsed = _parse_pinyin_word(token)
            start = len(syls)
            for base, tone in parsed:
                any_tone = any_tone or tone is not None
                t = NEUTRAL if tone is None else tone
                syls.append(_Syl(tone_mark(f"{base}{t}"), base, t, t, word_index, phrase_index))
            _sandhi_in_word(syls, start, len(parsed), None)
            word_index += 1
    if not syls:
        raise TextError("Please enter the Chinese text to practise.", code="text_empty")
    if not any_tone:
        raise TextError(
            "Add tone numbers or tone marks to the pinyin (for example ni3 hao3 or nǐ hǎo), "
            "or type the Chinese characters.",
            code="text_no_tones",
        )
    _sandhi_across_words(syls)
    return [_finish(s) for s in syls]


def _parse_pinyin_word(token: str) -> list[tuple[str, int | None]]:
    """Split one written word (``ni3hao3``, ``nǐhǎo``, ``xi'an1``) into (syllable, tone) pairs."""
    decomposed = unicodedata.normalize("NFD", token.lower().replace("u:", "v"))
    letters: list[str] = []
    marks: dict[int, int] = {}  # letter position → tone from a diacritic
    breaks: dict[int, int | None] = {}  # letter position where a syllable must end → tone digit
    for ch in decomposed:
        if ch in _TONE_MARKS:
            if not letters:
                raise TextError(f"“{token}” is not pinyin we can read.", code="text_bad_pinyin")
            marks[len(letters) - 1] = _TONE_MARKS[ch]
        elif ch == "\u0308":  # diaeresis: ü
            if letters and letters[-1] == "u":
                letters[-1] = "v"
        elif ch in "012345":
            if not letters or len(letters) in breaks:
                raise TextError(f"“{token}” is not pinyin we can read.", code="text_bad_pinyin")
            breaks[len(letters)] = NEUTRAL if ch in "05" else int(ch)
        elif ch in "'’":
            breaks.setdefault(len(letters), None)
        elif "a" <= ch <= "z":
            letters.append(ch)
        else:
            raise TextError(f"“{token}” contains characters that are not pinyin.", code="text_bad_pinyin")
    word = "".join(letters)
    spans = _syllabify(word, set(breaks))
    if spans is None:
        raise TextError(f"“{token}” is not pinyin we can read.", code="text_bad_pinyin")
    out: list[tuple[str, int | None]] = []
    for a, b in spans:
        tone = breaks.get(b)
        mark_tones = [t for p, t in marks.items() if a <= p < b]
        if len(mark_tones) > 1 or (mark_tones and tone is not None and tone != mark_tones[0]):
            raise TextError(f"“{token}” has more than one tone on a syllable.", code="text_bad_pinyin")
        if tone is None and mark_tones:
            tone = mark_tones[0]
        out.append((word[a:b], tone))
    return out


def _syllabify(word: str, required: set[int]) -> list[tuple[int, int]] | None:
    """Fewest valid syllables covering ``word`` that end at every required break."""
    valid = _valid_syllables()
    n = len(word)
    if n == 0:
        return None
    best: list[list[tuple[int, int]] | None] = [None] * (n + 1)
    best[0] = []
    for end in range(1, n + 1):
        for start in range(max(0, end - 6), end):
            prev = best[start]
            if prev is None or word[start:end] not in valid:
                continue
            if any(start < r < end for r in required):
                continue  # a tone digit or apostrophe falls inside this syllable
            cand = [*prev, (start, end)]
            current = best[end]
            if current is None or len(cand) < len(current):
                best[end] = cand
    result = best[n]
    if result is None or any(r not in {b for _, b in result} and r != 0 for r in required):
        return None
    return result
