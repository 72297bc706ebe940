"""Canary verdict: compare a new revision's errors and latency with the stable revision's.

    python scripts/canary_check.py --canary URL --stable URL [--window 300] [--token TOKEN]

Both URLs are `/metrics` endpoints (Prometheus text format; each revision's own address, e.g. Azure
Container Apps' `https://sayzhong-web--<revision>.<env domain>/metrics`). The script scrapes both,
waits `--window` seconds, scrapes again and compares what happened in between, with the SLO rules'
definitions (deploy/prometheus/rules): the share of requests answered with a 5xx, and the share
slower than 1 s, health and metrics routes left out.

Exit status (the deploy step acts on it, see docs/runbooks/deploy.md):
  0  promote: the canary is no worse than stable (or than the SLO's budget when stable is idle);
  1  roll back: the canary is worse, or its metrics cannot be read at all;
  2  no verdict yet: too few canary requests in the window to judge (run it again, longer).

The canary is worse when its ratio exceeds both `--max-ratio` (an absolute floor, so two nearly
perfect revisions are never told apart by noise) and `--factor` times the stable ratio.
"""

from __future__ import annotations

import argparse
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

from prometheus_client.parser import text_string_to_metric_families

EXCLUDED_ROUTES = frozenset({"/healthz", "/readyz", "/metrics", "/ping"})
SLOW_BOUND = "1.0"
PROMOTE, ROLL_BACK, NO_VERDICT = 0, 1, 2


@dataclass(frozen=True, slots=True)
class Counts:
    requests: float = 0.0
    errors: float = 0.0
    timed: float = 0.0
    fast: float = 0.0

    def __sub__(self, earlier: Counts) -> Counts:
        # A counter that went down means the process restarted: count from zero, as rate() does.
        def delta(now: float, before: float) -> float:
            return now - before if now >= before else now

        return Counts(
            delta(self.requests, earlier.requests),
            delta(self.errors, earlier.errors),
            delta(self.timed, earlier.timed),
            delta(self.fast, earlier.fast),
        )

    @property
    def error_ratio(self) -> float:
        return self.errors / self.requests if self.requests else 0.0

    @property
    def slow_ratio(self) -> float:
        return 1.0 - self.fast / self.timed if self.timed else 0.0


def parse_counts(text: str) -> Counts:
    requests = errors = timed = fast = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.labels.get("route") in EXCLUDED_ROUTES:
                continue
            if sample.name == "sayzhong_http_requests_total":
                requests += sample.value
                if sample.labels.get("status", "").startswith("5"):
                    errors += sample.value
            elif sample.name == "sayzhong_http_request_duration_seconds_count":
                timed += sample.value
            elif sample.name == "sayzhong_http_request_duration_seconds_bucket":
                if sample.labels.get("le") == SLOW_BOUND:
                    fast += sample.value
    return Counts(requests, errors, timed, fast)


def scrape(url: str, token: str | None, timeout: float = 10.0) -> Counts:
    request = urllib.request.Request(url)  # noqa: S310 - an operator-given http(s) URL
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
        return parse_counts(response.read().decode("utf-8"))


@dataclass(frozen=True, slots=True)
class Verdict:
    status: int
    reasons: tuple[str, ...]


def judge(
    canary: Counts,
    stable: Counts | None,
    *,
    min_requests: float = 50,
    max_ratio: float = 0.01,
    factor: float = 2.0,
) -> Verdict:
    """The decision for one window's counts (stable None: it could not be read)."""
    if canary.requests < min_requests:
        return Verdict(NO_VERDICT, (f"only {canary.requests:.0f} canary requests (need {min_requests:.0f})",))
    reasons = []
    for name, ours, theirs in (
        ("error", canary.error_ratio, stable.error_ratio if stable else 0.0),
        ("slow (>1 s)", canary.slow_ratio, stable.slow_ratio if stable else 0.0),
    ):
        if ours > max_ratio and ours > factor * theirs:
            reasons.append(f"canary {name} ratio {ours:.2%} vs stable {theirs:.2%}")
    if reasons:
        return Verdict(ROLL_BACK, tuple(reasons))
    return Verdict(
        PROMOTE,
        (
            f"canary errors {canary.error_ratio:.2%}, slow {canary.slow_ratio:.2%} over "
            f"{canary.requests:.0f} requests",
        ),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--canary", required=True, help="the new revision's /metrics URL")
    parser.add_argument("--stable", required=True, help="the serving revision's /metrics URL")
    parser.add_argument("--token", default=None, help="METRICS_TOKEN (bearer), if the endpoints need it")
    parser.add_argument("--window", type=float, default=300.0, help="seconds between the two scrapes")
    parser.add_argument("--min-requests", type=float, default=50)
    parser.add_argument("--max-ratio", type=float, default=0.01)
    parser.add_argument("--factor", type=float, default=2.0)
    args = parser.parse_args(argv)

    def read(url: str) -> Counts | None:
        try:
            return scrape(url, args.token)
        except (OSError, urllib.error.URLError, ValueError) as exc:
            print(f"canary check: cannot read {url}: {exc}", file=sys.stderr)
            return None

    canary_before, stable_before = read(args.canary), read(args.stable)
    time.sleep(args.window)
    canary_after, stable_after = read(args.canary), read(args.stable)
    if canary_before is None or canary_after is None:
        print("canary check: ROLL BACK — the canary's metrics cannot be read")
        return ROLL_BACK
    stable = stable_after - stable_before if stable_before and stable_after else None
    verdict = judge(
        canary_after - canary_before,
        stable,
        min_requests=args.min_requests,
        max_ratio=args.max_ratio,
        factor=args.factor,
    )
    word = {PROMOTE: "PROMOTE", ROLL_BACK: "ROLL BACK", NO_VERDICT: "NO VERDICT"}[verdict.status]
    print(f"canary check: {word} — " + "; ".join(verdict.reasons))
    return verdict.status


if __name__ == "__main__":
    sys.exit(main())
