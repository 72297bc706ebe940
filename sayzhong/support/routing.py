"""Automatic routing of a new ticket: a queue and a priority from rules plus a text classifier.

The classifier is multinomial naive Bayes over the normalised words of `sayzhong.support.text`
(English words, toneless pinyin, hanzi words and characters) and word pairs, trained on the labelled
tickets in `data/routing_examples.jsonl` (written for this purpose, committed) plus the routings staff
corrected (`support_routing_correction`). The subject counts twice, so a ticket that mentions several
topics is routed by its main request. A few high-precision rules override the classifier where a
mistake is costly: a double charge or a suspected data leak is always urgent, a legal erasure
request always goes to the privacy (DSR) queue. bench/support_routing_bench.py prints accuracy per
queue on the held-out fifth of the labelled set.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from sayzhong.support.text import STOP_WORDS, fold, tokens

QUEUES: dict[str, str] = {
    "audio": "Audio (microphone, permissions, recording, upload, playback)",
    "scoring": "Scoring (tone verdicts, scores, contours)",
    "content": "Content (lessons, phrases, dialogues, translations, pinyin)",
    "billing": "Billing (charges, plans, trials, refunds, invoices)",
    "account": "Account (sign-in, password, e-mail, SSO, locked out)",
    "privacy": "Privacy / DSR (export, deletion, consent, GDPR/CCPA)",
    "bug": "Bugs (the app misbehaves outside audio)",
    "other": "Other (ideas, praise, general questions)",
}
PRIORITIES = ("urgent", "high", "normal", "low")
EXAMPLES_FILE = Path(__file__).with_name("data") / "routing_examples.jsonl"
MAX_TEXT = 5000
CATEGORY_WEIGHT = 10.0


@dataclass(frozen=True, slots=True)
class Example:
    subject: str
    body: str
    queue: str
    priority: str


@dataclass(frozen=True, slots=True)
class Routing:
    queue: str
    priority: str
    confidence: float
    routed_by: str
    """"classifier", or "rules" when a rule decided the queue."""

    def to_dict(self) -> dict[str, object]:
        return {"queue": self.queue, "priority": self.priority, "confidence": round(self.confidence, 3)}


def _stem(word: str) -> str:
    """A crude English suffix strip ("charged" ~ "charge", "recordings" ~ "recording")."""
    for suffix in ("ing", "ed", "es", "s", "ly"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def _words(text: str) -> list[str]:
    return [_stem(w) for w in tokens(text) if w not in STOP_WORDS]


# Words that point at a queue (domain knowledge given to the classifier as extra features; it
# learns how much each lexicon counts). Hanzi are listed as written and converted once.
_LEXICON_WORDS: dict[str, str] = {
    "audio": "microphone mic maikefeng record recording luyin upload shangchuan playback play sound audio "
    "hear headset speaker permission echo volume quiet input device airpods bluetooth 麦克风 录音 上传",
    "scoring": "score scores scoring verdict tone tones shengdiao pingfen contour pitch unclear judged "
    "marked accuracy fluency sandhi expected engine 声调 评分",
    "content": "translation translated translate fanyi pinyin typo phrase unit lesson lessons dialogue "
    "dialogues hanzi character vocabulary add grammar 翻译 错别字 单元",
    "billing": "charge charged charges refund tuikuan invoice fapiao plan trial subscription dingyue card "
    "payment price paid premium billed vat kou 退款 扣 发票 订阅",
    "account": "password mima login log sign signed email youxiang locked sso token session 2fa account "
    "zhanghu 密码 登录 邮箱",
    "privacy": "delete deletion erase erasure gdpr ccpa export data privacy consent shanchu zhuxiao yinsi "
    "personal stored retention 删除 注销 隐私",
    "bug": "error page blank broken loading crash streak xp button shows display layout freezes stuck "
    "wrong date empty 打不开 错误",
    "other": "thanks thank love suggestion idea feature wish great question recommend xiexie jianyi xihuan "
    "partner 谢谢 建议 喜欢",
}


@lru_cache(maxsize=1)
def _lexicons() -> dict[str, frozenset[str]]:
    return {
        queue: frozenset(tokens(w)[0] for w in words.split() if tokens(w))
        for queue, words in _LEXICON_WORDS.items()
    }


def features(subject: str, body: str) -> list[str]:
    """Classifier features: words of subject (twice) and body, adjacent word pairs, lexicon hits."""
    subject_words = _words(subject[:300])
    body_words = _words(body[:MAX_TEXT])
    words = subject_words * 2 + body_words
    pairs = [f"{a}_{b}" for a, b in itertools.pairwise(body_words)]
    pairs += [f"{a}_{b}" for a, b in itertools.pairwise(subject_words)] * 2
    present = set(tokens(f"{subject[:300]} {body[:MAX_TEXT]}"))
    hits = [f"lexicon:{q}" for q, lex in _lexicons().items() for _ in range(2 * len(present & lex))]
    return words + pairs + hits


@dataclass(frozen=True)
class NaiveBayes:
    labels: tuple[str, ...]
    log_prior: dict[str, float]
    log_likelihood: dict[str, dict[str, float]]
    log_unseen: dict[str, float]

    @classmethod
    def train(cls, docs: Sequence[list[str]], labels: Sequence[str], *, alpha: float = 0.3) -> NaiveBayes:
        classes = tuple(sorted(set(labels)))
        counts: dict[str, Counter[str]] = {c: Counter() for c in classes}
        for doc, label in zip(docs, labels, strict=True):
            counts[label].update(doc)
        vocab = set().union(*counts.values()) if counts else set()
        v = len(vocab) + 1
        total_docs = len(labels)
        label_counts = Counter(labels)
        log_prior = {c: math.log(label_counts[c] / total_docs) for c in classes}
        log_likelihood: dict[str, dict[str, float]] = {}
        log_unseen: dict[str, float] = {}
        for c in classes:
            denom = sum(counts[c].values()) + alpha * v
            log_likelihood[c] = {w: math.log((n + alpha) / denom) for w, n in counts[c].items()}
            log_unseen[c] = math.log(alpha / denom)
        return cls(classes, log_prior, log_likelihood, log_unseen)

    def predict(self, doc: Iterable[str]) -> list[tuple[str, float]]:
        """(label, probability) best first."""
        known = [w for w in doc if any(w in self.log_likelihood[c] for c in self.labels)]
        scores = {
            c: self.log_prior[c] + sum(self.log_likelihood[c].get(w, self.log_unseen[c]) for w in known)
            for c in self.labels
        }
        # Naive Bayes multiplies many dependent word probabilities and is wildly over-confident;
        # tempering by a third of the word count gives usable confidences (ranking unchanged).
        temperature = max(1.0, len(known) / 3)
        top = max(scores.values())
        exp = {c: math.exp((s - top) / temperature) for c, s in scores.items()}
        norm = sum(exp.values())
        return sorted(((c, e / norm) for c, e in exp.items()), key=lambda x: -x[1])


@dataclass(frozen=True)
class Router:
    queue_model: NaiveBayes
    priority_model: NaiveBayes

    def route(self, subject: str, body: str, *, category: str = "") -> Routing:
        doc = features(subject, body)
        ranked = self.queue_model.predict(doc)
        queue, confidence = ranked[0]
        routed_by = "classifier"
        # The learner's own category is a prior (their word for the main request): it weighs ten
        # times, so it decides near-ties but not a ticket that is plainly about something else.
        if category in QUEUES:
            weighted = {q: p * (CATEGORY_WEIGHT if q == category else 1.0) for q, p in ranked}
            norm = sum(weighted.values())
            queue, best = max(weighted.items(), key=lambda item: item[1])
            confidence = best / norm
        priority = self.priority_model.predict(doc)[0][0]
        folded = fold(f"{subject}\n{body[:MAX_TEXT]}")
        rule = apply_rules(folded)
        if rule.queue is not None:
            queue, confidence, routed_by = rule.queue, max(confidence, 0.95), "rules"
        if rule.priority is not None:
            priority = rule.priority
        return Routing(queue=queue, priority=priority, confidence=confidence, routed_by=routed_by)


@dataclass(frozen=True, slots=True)
class RuleOutcome:
    queue: str | None
    priority: str | None


def _any(text: str, *patterns: str) -> bool:
    return any(re.search(p, text) for p in patterns)


_CHARGED_TWICE = (
    r"charged (me )?(twice|two times|2 times|double)",
    r"double(-| )?(charge|billed|payment)",
    r"billed twice",
    r"two (identical )?charges",
    r"扣了两次",
    r"重复扣",
    r"扣款两次",
    r"kou le liang ci",
)
_DATA_LEAK = (
    r"(data|information) (leak|breach)",
    r"leak(ed|ing)? (my|our|user|personal)",
    r"(see|seeing|saw|shows?|showing) (someone|somebody|another (user|person|learner))('s| else)",
    r"other (user|people|learner)s?'? (data|email|recordings|takes|tickets)",
    r"泄露",
)
_LEGAL_ERASURE = (
    r"\bgdpr\b",
    r"\bccpa\b",
    r"article 1[57]",
    r"right to (erasure|be forgotten|access)",
    r"data subject",
    r"\bdsr\b",
    r"\bdsar\b",
)
_UNUSABLE = (
    r"(app|site|sayzhong|everything) (is )?(completely |totally )?(unusable|down|broken for everyone)",
    r"nothing (works|loads) at all",
    r"can'?t (use|open) (the app|sayzhong|the site) at all",
    r"完全(用不了|打不开)",
)
_LOCKED_OUT = (r"locked out", r"can'?t (sign|log) ?in", r"cannot (sign|log) ?in", r"登录不了", r"无法登录")
_PAYING = (r"\bpaying\b", r"\bpaid\b", r"subscri", r"premium", r"annual plan", r"yearly plan", r"会员")
_BLOCKED = (
    r"can'?t (practi[cs]e|do any (lesson|practice)|record) (anything|at all)",
    r"cannot practi[cs]e",
    r"(is|it'?s) blocking me",
    r"exam (is )?tomorrow",
    r"(payment|checkout)s? (keeps? )?fail",
    r"card (was |is |keeps being )?declined",
    r"完全练不了",
    r"无法练习",
)
_LOW = (
    r"\b(suggestion|feature request|idea|would be (nice|great|cool)|wish list)\b",
    r"\b(love|loving) (the|this) app\b",
    r"\bjust wanted to say thanks?\b",
    r"\bsmall typo\b",
    r"\b(could|can) you add\b",
    r"\bwould love\b",
    r"\bany plans\b",
    r"\bnot a big deal\b",
    r"\bjust curious\b",
    r"建议",
)


def apply_rules(folded: str) -> RuleOutcome:
    """Rules for the costly cases; `folded` is lower case without tone marks (text.fold)."""
    if _any(folded, *_DATA_LEAK):
        return RuleOutcome("privacy", "urgent")
    if _any(folded, *_CHARGED_TWICE):
        return RuleOutcome("billing", "urgent")
    if _any(folded, *_LEGAL_ERASURE):
        return RuleOutcome("privacy", "high")
    if _any(folded, *_LOCKED_OUT) and _any(folded, *_PAYING):
        return RuleOutcome("account", "urgent")
    if _any(folded, *_UNUSABLE):
        return RuleOutcome(None, "urgent")
    if _any(folded, *_BLOCKED):
        return RuleOutcome(None, "high")
    if _any(folded, *_LOW):
        return RuleOutcome(None, "low")
    return RuleOutcome(None, None)


def parse_example(line: str, *, line_number: int) -> Example:
    """One labelled JSON line; a ValueError names the line and what is wrong."""
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError(f"line {line_number}: not valid JSON ({exc.msg})") from None
    if not isinstance(data, dict):
        raise ValueError(f"line {line_number}: expected an object")
    subject, body = data.get("subject"), data.get("body")
    queue, priority = data.get("queue"), data.get("priority")
    if not isinstance(subject, str) or not isinstance(body, str):
        raise ValueError(f"line {line_number}: subject and body must be text")
    if queue not in QUEUES or priority not in PRIORITIES:
        raise ValueError(f"line {line_number}: unknown queue {queue!r} or priority {priority!r}")
    return Example(subject=subject, body=body, queue=queue, priority=priority)


def load_examples(path: Path = EXAMPLES_FILE) -> list[Example]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [parse_example(line, line_number=n) for n, line in enumerate(lines, 1) if line.strip()]


def split_examples(examples: Sequence[Example]) -> tuple[list[Example], list[Example]]:
    """Deterministic stratified split: every fifth example of each queue is held out for testing."""
    train: list[Example] = []
    test: list[Example] = []
    seen: Counter[str] = Counter()
    for example in examples:
        seen[example.queue] += 1
        (test if seen[example.queue] % 5 == 0 else train).append(example)
    return train, test


def train_router(examples: Sequence[Example]) -> Router:
    docs = [features(e.subject, e.body) for e in examples]
    return Router(
        queue_model=NaiveBayes.train(docs, [e.queue for e in examples]),
        priority_model=NaiveBayes.train(docs, [e.priority for e in examples]),
    )


@lru_cache(maxsize=1)
def base_router() -> Router:
    """The router trained on the committed examples (pure function of the file: cached)."""
    return train_router(load_examples())


def router_with_corrections(corrections: Sequence[Example]) -> Router:
    if not corrections:
        return base_router()
    return train_router([*load_examples(), *corrections])
