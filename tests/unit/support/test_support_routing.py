"""Ticket routing: the labelled set, the rules for costly cases and the classifier on realistic tickets."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from sayzhong.support.routing import (
    PRIORITIES,
    QUEUES,
    Example,
    apply_rules,
    base_router,
    load_examples,
    parse_example,
    router_with_corrections,
    split_examples,
    train_router,
)
from sayzhong.support.text import fold


def test_the_labelled_set_has_300_varied_examples_for_every_queue() -> None:
    examples = load_examples()
    assert len(examples) >= 300
    per_queue = Counter(e.queue for e in examples)
    assert set(per_queue) == set(QUEUES) and min(per_queue.values()) >= 35
    assert set(Counter(e.priority for e in examples)) == set(PRIORITIES)
    # Users write in hanzi and pinyin too.
    assert sum(any("\u4e00" <= ch <= "\u9fff" for ch in e.subject + e.body) for e in examples) >= 30
    assert len({(e.subject, e.body) for e in examples}) == len(examples)


def test_the_split_holds_out_a_fifth_of_every_queue() -> None:
    train, test = split_examples(load_examples())
    assert not set(map(id, train)) & set(map(id, test))
    held = Counter(e.queue for e in test)
    assert all(7 <= n <= 9 for n in held.values()) and set(held) == set(QUEUES)


@pytest.mark.parametrize(
    ("text", "queue", "priority"),
    [
        ("My card was charged twice this month", "billing", "urgent"),
        ("我的卡被扣了两次", "billing", "urgent"),
        ("I can see someone else's recordings in my history", "privacy", "urgent"),
        ("Under GDPR article 17 erase my data", "privacy", "high"),
        ("locked out of my premium account", "account", "urgent"),
        ("The app is completely unusable since the update", None, "urgent"),
        ("Suggestion: a leaderboard would be nice", None, "low"),
        ("How do I read the pitch chart?", None, None),
    ],
)
def test_rules_catch_the_costly_cases(text: str, queue: str | None, priority: str | None) -> None:
    outcome = apply_rules(fold(text))
    assert (outcome.queue, outcome.priority) == (queue, priority)


@pytest.mark.parametrize(
    ("subject", "body", "queue"),
    [
        ("Record button does nothing", "I press record and the microphone never starts in Firefox.", "audio"),
        (
            "tone verdict wrong",
            "It says I said tone 2 on 你 but I said tone 3, the verdict is wrong.",
            "scoring",
        ),
        (
            "translation mistake",
            "The phrase 我吃饱了 is translated as I am hungry in the food unit.",
            "content",
        ),
        (
            "refund",
            "I forgot to cancel my subscription and was charged for the year, please refund.",
            "billing",
        ),
        ("wang ji mima", "wo wang le mima, chongzhi youjian mei shou dao", "account"),
        ("删除账户", "请删除我的账户和所有录音", "privacy"),
        (
            "streak lost",
            "My streak reset to zero although I practised yesterday, and XP did not change.",
            "bug",
        ),
        ("thank you", "Love the app, thanks for building it! The tone charts are great.", "other"),
    ],
)
def test_clear_tickets_are_routed_to_their_queue(subject: str, body: str, queue: str) -> None:
    routing = base_router().route(subject, body)
    assert routing.queue == queue
    assert 0.0 < routing.confidence <= 1.0
    assert routing.priority in PRIORITIES


def test_the_main_request_wins_when_a_ticket_mentions_several_topics() -> None:
    routing = base_router().route(
        "Please delete my account",
        "I want my account and recordings deleted. Also the microphone was sometimes quiet, "
        "but mainly the deletion please.",
    )
    assert routing.queue == "privacy"


def test_the_learners_category_breaks_a_near_tie_but_not_a_plain_ticket() -> None:
    tie = [
        Example(subject="zap", body="zap zap", queue="audio", priority="normal"),
        Example(subject="zap", body="zap zap", queue="billing", priority="normal"),
    ]
    router = train_router(tie)
    assert router.route("zap", "zap", category="audio").queue == "audio"
    assert router.route("zap", "zap", category="billing").queue == "billing"
    plain = "The microphone is blocked and the record button does nothing in Chrome."
    assert base_router().route("microphone blocked", plain, category="billing").queue == "audio"


def test_staff_corrections_become_training_data() -> None:
    subject, body = "Flibbertigibbet", "flibbertigibbet wobblecopter zingo"
    corrections = [Example(subject=subject, body=body, queue="content", priority="low")] * 3
    assert router_with_corrections(corrections).route(subject, body).queue == "content"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("not json", "not valid JSON"),
        ("[1, 2]", "expected an object"),
        (json.dumps({"subject": 1, "body": "x", "queue": "bug", "priority": "low"}), "must be text"),
        (json.dumps({"subject": "s", "body": "b", "queue": "nope", "priority": "low"}), "unknown queue"),
    ],
)
def test_bad_labelled_lines_name_the_line_and_the_problem(line: str, message: str) -> None:
    with pytest.raises(ValueError, match=f"line 7: .*{message}"):
        parse_example(line, line_number=7)
