"""What a request pays to hand an event to PostHog, with PostHog healthy, failing or dead.

    python bench/posthog_sink_bench.py [--events 20000] [--queue 10000]

Uses the real `posthog` library through `PostHogSink` against local servers on 127.0.0.1: one that
answers 200, one that answers 503, and one that accepts connections and never answers. Prints the
time per `capture` call (p50/p99/max), the queue length reached (never above the bound) and the
dropped-event counter. Asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--queue", type=int, default=10_000)
    args = parser.parse_args()

    from prometheus_client import REGISTRY

    from sayzhong.integrations import posthog_sink
    from sayzhong.integrations.posthog_sink import PostHogSink
    from tests.support.posthog_capture import HangingServer, PostHogCapture

    def dropped() -> float:
        total = 0.0
        for reason in ("queue_full", "send_failed"):
            total += (
                REGISTRY.get_sample_value("sayzhong_analytics_events_dropped_total", {"reason": reason}) or 0
            )
        return total

    capture = PostHogCapture().start()
    hanging = HangingServer()
    print(f"{args.events} capture() calls per case, queue bound {args.queue}")
    print(f"{'PostHog':<10} {'p50 µs':>8} {'p99 µs':>8} {'max ms':>8} {'max queue':>10} {'dropped':>8}")
    for label, url, mode in (
        ("healthy", capture.url, "ok"),
        ("failing", capture.url, "fail"),
        ("dead", hanging.url, ""),
    ):
        capture.reset(mode=mode or "ok")
        sink = PostHogSink(api_key=f"phc_bench_{label}", host=url, max_queue_size=args.queue)
        before = dropped()
        times, max_queue = [], 0
        for n in range(args.events):
            start = time.perf_counter()
            sink.capture(event="page_viewed", distinct_id=str(n), properties={"path": "/"})
            times.append(time.perf_counter() - start)
            if n % 100 == 0:
                max_queue = max(max_queue, sink.client.queue.qsize())
        times.sort()
        print(
            f"{label:<10} {statistics.median(times) * 1e6:8.1f} {times[int(len(times) * 0.99)] * 1e6:8.1f} "
            f"{times[-1] * 1e3:8.2f} {max_queue:10d} {dropped() - before:8.0f}"
        )
        if label == "healthy":
            sink.client.flush()
    hanging.stop()
    capture.stop()
    posthog_sink.shutdown_clients()


if __name__ == "__main__":
    main()
