"""Ticket routing accuracy on the held-out fifth of the labelled set (issue 13).

    .venv/bin/python bench/support_routing_bench.py

Trains the router on the training part of sayzhong/support/data/routing_examples.jsonl (every fifth
example of each queue held out, see `split_examples`) and prints accuracy per queue, priority
accuracy and the confusions on the held-out part. Figures go into the README.
"""

from __future__ import annotations

import time
from collections import Counter

from sayzhong.support.routing import QUEUES, load_examples, split_examples, train_router


def main() -> None:
    examples = load_examples()
    train, test = split_examples(examples)
    started = time.perf_counter()
    router = train_router(train)
    trained_s = time.perf_counter() - started
    per_queue: Counter[str] = Counter()
    right: Counter[str] = Counter()
    priority_right = 0
    confusions: Counter[tuple[str, str]] = Counter()
    started = time.perf_counter()
    for example in test:
        routing = router.route(example.subject, example.body)
        per_queue[example.queue] += 1
        if routing.queue == example.queue:
            right[example.queue] += 1
        else:
            confusions[(example.queue, routing.queue)] += 1
        priority_right += routing.priority == example.priority
    routed_ms = (time.perf_counter() - started) * 1000 / max(1, len(test))
    print(f"labelled examples: {len(examples)} (train {len(train)}, held out {len(test)})")
    print(f"{'queue':<10} {'held out':>8} {'correct':>8} {'accuracy':>9}")
    for queue in QUEUES:
        n = per_queue[queue]
        print(f"{queue:<10} {n:>8} {right[queue]:>8} {right[queue] / n if n else 0:>9.1%}")
    total_right = sum(right.values())
    print(f"{'all':<10} {len(test):>8} {total_right:>8} {total_right / len(test):>9.1%}")
    print(f"priority accuracy: {priority_right / len(test):.1%} ({priority_right}/{len(test)})")
    if confusions:
        print("confusions (expected -> routed):")
        for (expected, got), n in confusions.most_common():
            print(f"  {expected} -> {got}: {n}")
    # Every example held out once (5 folds, the same stratified fifths): steadier than one fifth.
    folds_right: Counter[str] = Counter()
    folds_priority = 0
    for fold in range(5):
        fold_train, fold_test = [], []
        seen: Counter[str] = Counter()
        for example in examples:
            seen[example.queue] += 1
            (fold_test if seen[example.queue] % 5 == fold else fold_train).append(example)
        fold_router = train_router(fold_train)
        for example in fold_test:
            routing = fold_router.route(example.subject, example.body)
            folds_right[example.queue] += routing.queue == example.queue
            folds_priority += routing.priority == example.priority
    counts = Counter(e.queue for e in examples)
    print("5-fold cross-validation (every example held out once):")
    print("  " + ", ".join(f"{q} {folds_right[q] / counts[q]:.0%}" for q in QUEUES))
    print(
        f"  all queues {sum(folds_right.values()) / len(examples):.1%}, "
        f"priority {folds_priority / len(examples):.1%}"
    )
    print(f"training {trained_s * 1000:.0f} ms, routing {routed_ms:.2f} ms per ticket")


if __name__ == "__main__":
    main()
