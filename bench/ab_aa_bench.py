"""A/A simulation: how often do the experiment statistics cry wolf when there is no effect?

    python bench/ab_aa_bench.py [--experiments 2000] [--days 28] [--srm-experiments 200000]

Simulates many experiments whose two variants are identical (deterministic seed): visitors arrive
every day (Poisson, 250 a day), are split 50/50, convert with the same probability (10 %), and also
have a count metric (takes in their first week, Poisson with mean 3) whose pre-experiment value is
correlated with it (the CUPED covariate). Marketing "peeks" every day. Prints:

- the false-positive rate of the always-valid mSPRT (sayzhong.experiments.stats.msprt) when it is
  looked at every day — must stay at or below the nominal 5 %;
- the false-positive rate of a naive fixed-horizon test (two-proportion z-test, Welch for the count
  metric) looked at every day — for contrast;
- the same two rates with the CUPED-adjusted count metric;
- the sample-ratio-mismatch alarm rate (chi-square, p < 0.001) on correctly randomised splits —
  should be about 0.1 %.

Asserts nothing.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sayzhong.experiments import stats


def _rate(hits: int, total: int) -> str:
    share = hits / total
    half = 1.96 * np.sqrt(max(share * (1 - share), 1e-12) / total)
    low, high = 100 * max(0.0, share - half), 100 * (share + half)
    return f"{100 * share:5.2f} %  (95 % interval {low:.2f}-{high:.2f} %)"


def simulate(experiments: int, days: int, seed: int) -> dict[str, int]:
    rng = np.random.default_rng(seed)
    per_day, rate, planned = 250, 0.10, 1500.0  # n_planned = per-arm minimum sample (3000) / 2
    hits = dict.fromkeys(("seq_conv", "naive_conv", "seq_mean", "naive_mean", "seq_cuped", "naive_cuped"), 0)
    for _ in range(experiments):
        arrivals = rng.poisson(per_day, days)
        total = int(arrivals.sum())
        arm = rng.random(total) < 0.5
        converted = rng.random(total) < rate
        before = rng.poisson(2.0, total).astype(float)
        after = rng.poisson(1.0 + before).astype(float)
        seen = {key: False for key in hits}
        ends = np.cumsum(arrivals)
        for end in ends:
            a, b = ~arm[:end], arm[:end]
            n_a, n_b = int(a.sum()), int(b.sum())
            if n_a < 20 or n_b < 20:
                continue
            c_a, c_b = int(converted[:end][a].sum()), int(converted[:end][b].sum())
            p_a, p_b = c_a / n_a, c_b / n_b
            seq = stats.msprt(p_a, p_a * (1 - p_a), n_a, p_b, p_b * (1 - p_b), n_b, n_planned=planned)
            seen["seq_conv"] |= seq.significant
            seen["naive_conv"] |= stats.two_proportion_z(c_a, n_a, c_b, n_b) < 0.05
            y_a, y_b = after[:end][a], after[:end][b]
            m = stats.msprt(
                y_a.mean(), y_a.var(ddof=1), n_a, y_b.mean(), y_b.var(ddof=1), n_b, n_planned=planned
            )
            seen["seq_mean"] |= m.significant
            seen["naive_mean"] |= stats.welch_t_test(y_a, y_b).p_value < 0.05
            cu = stats.cuped(y_a, before[:end][a], y_b, before[:end][b])
            # CUPED enters the mSPRT as a smaller variance: the adjusted difference and its error.
            z = cu.difference / cu.std_error
            n_eff = 1.0 / (1.0 / n_a + 1.0 / n_b)
            ratio = stats.mixture_ratio(z, n_eff, stats.mixture_rho(planned))
            seen["seq_cuped"] |= 1.0 / ratio < 0.05
            seen["naive_cuped"] |= abs(z) > 1.959964
        for key, value in seen.items():
            hits[key] += int(value)
    return hits


def srm_alarm_rate(experiments: int, seed: int) -> tuple[int, int]:
    rng = np.random.default_rng(seed)
    alarms = 0
    sizes = rng.integers(1000, 50_000, experiments)
    for size in sizes:
        first = int(rng.binomial(size, 0.5))
        alarms += stats.sample_ratio_mismatch([first, int(size) - first], [50, 50]).alarm
    return alarms, experiments


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--experiments", type=int, default=2000)
    parser.add_argument("--days", type=int, default=28)
    parser.add_argument("--srm-experiments", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=20261130)
    args = parser.parse_args()
    hits = simulate(args.experiments, args.days, args.seed)
    n = args.experiments
    print(f"A/A experiments: {n}, {args.days} daily looks each, ~250 visitors a day, 10 % conversion")
    print(f"conversion, always-valid mSPRT peeked daily : {_rate(hits['seq_conv'], n)}")
    print(f"conversion, naive z-test peeked daily       : {_rate(hits['naive_conv'], n)}")
    print(f"takes (mean), always-valid mSPRT daily      : {_rate(hits['seq_mean'], n)}")
    print(f"takes (mean), naive Welch t-test daily      : {_rate(hits['naive_mean'], n)}")
    print(f"takes, CUPED + mSPRT daily                  : {_rate(hits['seq_cuped'], n)}")
    print(f"takes, CUPED + naive z daily                : {_rate(hits['naive_cuped'], n)}")
    alarms, total = srm_alarm_rate(args.srm_experiments, args.seed + 1)
    print(f"SRM alarm rate (p < 0.001), {total} fair splits : {_rate(alarms, total)}")


if __name__ == "__main__":
    main()
