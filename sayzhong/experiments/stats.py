"""Experiment statistics: sample-ratio mismatch, Bayesian and always-valid frequentist comparisons, CUPED.

Pure functions on counts and numpy arrays (no database). Every figure the results page shows comes
from here, and each is checked against an independent reference in tests/unit/experiments.

- SRM: Pearson's chi-square goodness of fit of the exposure counts against the planned weights;
  the alarm fires at p < 0.001.
- Bayesian, conversions: Beta(1, 1) priors, closed-form chance to beat control (Evan Miller's sum)
  and expected loss (Stucchio's identity); credible intervals from the Beta quantiles, and of the
  relative lift from a fixed-seed Monte Carlo (deterministic).
- Bayesian, means: flat prior, Normal posteriors (the large-sample limit).
- Frequentist, sequential: the two-sided normal-mixture SPRT (mSPRT, Johari et al. 2017; the normal
  mixture boundary of Howard et al. 2021). Its p-value and confidence sequence stay valid however often
  they are looked at, so marketing may peek every day.
- Frequentist, fixed horizon: Welch's t-test (valid only once, at the planned sample).
- CUPED (Deng et al. 2013): Y - theta (X - mean X) with theta = cov(X, Y) / var(X) pooled over arms.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from sayzhong.lazy_imports import import_whole

# scipy.stats and scipy.optimize take about a second to import: every app process imports this module
# (the results page's state), but only the results page and the experiments job call into it.

SRM_ALPHA = 0.001
DEFAULT_ALPHA = 0.05
LIFT_DRAWS = 200_000
LIFT_SEED = 20261130


# --- sample-ratio mismatch ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SrmResult:
    chi2: float
    dof: int
    p_value: float
    alarm: bool
    expected: tuple[float, ...]


def sample_ratio_mismatch(
    counts: Sequence[int], weights: Sequence[float], *, alpha: float = SRM_ALPHA
) -> SrmResult:
    """Chi-square goodness of fit of `counts` against the planned `weights` (any positive scale)."""
    if len(counts) != len(weights) or len(counts) < 2:
        raise ValueError("SRM needs a count and a weight for at least two variants")
    if any(c < 0 for c in counts) or any(w <= 0 for w in weights):
        raise ValueError("counts must be >= 0 and weights > 0")
    total = float(sum(counts))
    share = np.asarray(weights, dtype=float) / float(sum(weights))
    expected = share * total
    if total == 0:
        return SrmResult(0.0, len(counts) - 1, 1.0, False, tuple(float(e) for e in expected))
    chi2 = float(np.sum((np.asarray(counts, dtype=float) - expected) ** 2 / expected))
    dof = len(counts) - 1
    import_whole("scipy.stats")
    from scipy import stats as sps

    p = float(sps.chi2.sf(chi2, dof))
    return SrmResult(chi2, dof, p, p < alpha, tuple(float(e) for e in expected))


# --- Bayesian: conversions ---------------------------------------------------------------------


def _log_beta(a: float | np.ndarray, b: float | np.ndarray) -> np.ndarray:
    import_whole("scipy.special")
    from scipy import special

    return np.asarray(special.betaln(a, b))


def prob_beta_greater(a_b: int, b_b: int, a_a: int, b_a: int) -> float:
    """P(X_B > X_A) for X_B ~ Beta(a_b, b_b), X_A ~ Beta(a_a, b_a), `a_b` a positive integer.

    Evan Miller, "Formulas for Bayesian A/B testing": a finite sum of Beta-function ratios, in logs.
    """
    if a_b < 1 or int(a_b) != a_b:
        raise ValueError("a_b must be a positive integer")
    i = np.arange(int(a_b), dtype=float)
    terms = _log_beta(a_a + i, b_a + b_b) - np.log(b_b + i) - _log_beta(1 + i, b_b) - _log_beta(a_a, b_a)
    top = float(np.max(terms))
    return float(min(1.0, max(0.0, math.exp(top) * float(np.sum(np.exp(terms - top))))))


def expected_loss_beta(a_choice: int, b_choice: int, a_other: int, b_other: int) -> float:
    """E[max(X_other - X_choice, 0)]: the conversion rate given up, on average, by choosing `choice`.

    Stucchio's identity: E[X_o 1{X_o > X_c}] = a_o/(a_o+b_o) P(Beta(a_o+1, b_o) > X_c), and likewise for X_c.
    """
    mean_o = a_other / (a_other + b_other)
    mean_c = a_choice / (a_choice + b_choice)
    part_o = mean_o * prob_beta_greater(a_other + 1, b_other, a_choice, b_choice)
    part_c = mean_c * prob_beta_greater(a_other, b_other, a_choice + 1, b_choice)
    return max(0.0, part_o - part_c)


@dataclass(frozen=True, slots=True)
class BayesResult:
    chance_to_beat: float
    """P(variant better than control); "better" respects the metric's direction."""
    loss_choosing_variant: float
    loss_keeping_control: float
    variant_interval: tuple[float, float]
    control_interval: tuple[float, float]
    lift_interval: tuple[float, float]
    """Credible interval of (variant - control) / control (relative lift)."""


def beta_binomial(
    conv_c: int,
    n_c: int,
    conv_v: int,
    n_v: int,
    *,
    level: float = 0.95,
    lower_is_better: bool = False,
    prior: tuple[int, int] = (1, 1),
) -> BayesResult:
    """Beta-Binomial comparison of a variant with control (uniform prior by default)."""
    if not (0 <= conv_c <= n_c and 0 <= conv_v <= n_v):
        raise ValueError("conversions must lie between 0 and the number of units")
    a0, b0 = prior
    a_c, b_c = a0 + conv_c, b0 + n_c - conv_c
    a_v, b_v = a0 + conv_v, b0 + n_v - conv_v
    p_v_gt_c = prob_beta_greater(a_v, b_v, a_c, b_c)
    loss_v = expected_loss_beta(a_v, b_v, a_c, b_c)  # control better than the chosen variant
    loss_c = expected_loss_beta(a_c, b_c, a_v, b_v)
    if lower_is_better:
        p_v_gt_c, loss_v, loss_c = 1.0 - p_v_gt_c, loss_c, loss_v
    tail = (1.0 - level) / 2.0
    import_whole("scipy.stats")
    from scipy import stats as sps

    ci_v = (float(sps.beta.ppf(tail, a_v, b_v)), float(sps.beta.ppf(1 - tail, a_v, b_v)))
    ci_c = (float(sps.beta.ppf(tail, a_c, b_c)), float(sps.beta.ppf(1 - tail, a_c, b_c)))
    rng = np.random.default_rng(LIFT_SEED)
    draws_c = rng.beta(a_c, b_c, LIFT_DRAWS)
    draws_v = rng.beta(a_v, b_v, LIFT_DRAWS)
    lift = (draws_v - draws_c) / draws_c
    lo, hi = np.quantile(lift, [tail, 1 - tail])
    return BayesResult(p_v_gt_c, loss_v, loss_c, ci_v, ci_c, (float(lo), float(hi)))


# --- Bayesian: means -----------------------------------------------------------------------------


def normal_loss(mu: float, sd: float) -> float:
    """E[max(-D, 0)] for D ~ Normal(mu, sd^2): what choosing the variant loses when D = variant - control."""
    if sd <= 0:
        return max(0.0, -mu)
    z = mu / sd
    import_whole("scipy.stats")
    from scipy import stats as sps

    return float(sd * sps.norm.pdf(z) - mu * sps.norm.cdf(-z))


def normal_means(
    mean_c: float,
    var_c: float,
    n_c: int,
    mean_v: float,
    var_v: float,
    n_v: int,
    *,
    level: float = 0.95,
    lower_is_better: bool = False,
) -> BayesResult:
    """Normal posteriors of the two means (flat prior): N(mean, var/n) each."""
    if n_c < 2 or n_v < 2:
        raise ValueError("each arm needs at least two units")
    se_c, se_v = math.sqrt(var_c / n_c), math.sqrt(var_v / n_v)
    diff = mean_v - mean_c
    sd = math.hypot(se_c, se_v)
    sign = -1.0 if lower_is_better else 1.0
    gain = sign * diff
    import_whole("scipy.stats")
    from scipy import stats as sps

    chance = float(sps.norm.cdf(gain / sd)) if sd > 0 else float(gain > 0) + 0.5 * float(gain == 0)
    z = float(sps.norm.ppf(1 - (1 - level) / 2))
    lift = (
        ((diff - z * sd) / mean_c, (diff + z * sd) / mean_c) if mean_c != 0 else (float("nan"), float("nan"))
    )
    if mean_c < 0:
        lift = (lift[1], lift[0])
    return BayesResult(
        chance,
        normal_loss(gain, sd),
        normal_loss(-gain, sd),
        (mean_v - z * se_v, mean_v + z * se_v),
        (mean_c - z * se_c, mean_c + z * se_c),
        lift,
    )


# --- frequentist: always-valid mSPRT and Welch's t-test -----------------------------------------


@dataclass(frozen=True, slots=True)
class SequentialResult:
    difference: float
    std_error: float
    p_value: float
    """Always-valid p-value (1 / the mixture likelihood ratio, capped at 1)."""
    interval: tuple[float, float]
    """Confidence sequence for variant - control at level 1 - alpha, valid at every look."""
    significant: bool


def mixture_ratio(z: float, n_eff: float, rho: float) -> float:
    """The normal-mixture likelihood ratio for a z-statistic built from `n_eff` effective units.

    With the difference's variance V = sigma^2 / n_eff and a N(0, tau^2) mixture over the effect with
    tau^2 = rho * sigma^2, Lambda = sqrt(V / (V + tau^2)) exp(z^2 tau^2 / (2 (V + tau^2))) (Johari et al.).
    """
    r = rho * n_eff
    return math.exp(0.5 * z * z * r / (1.0 + r) - 0.5 * math.log1p(r))


@lru_cache(maxsize=256)
def mixture_rho(n_planned: float, *, alpha: float = DEFAULT_ALPHA) -> float:
    """The mixing variance (per unit of sigma^2) that makes the confidence sequence tightest at
    `n_planned` effective units — fixed by the design (minimum sample), never by the data."""

    def width(log_r: float) -> float:
        r = math.exp(log_r)
        return (1.0 + r) / r * (2.0 * math.log(1.0 / alpha) + math.log1p(r))

    import_whole("scipy.optimize")
    from scipy import optimize

    best = optimize.minimize_scalar(width, bounds=(-10.0, 15.0), method="bounded")
    return math.exp(float(best.x)) / max(1.0, n_planned)


def msprt(
    mean_c: float,
    var_c: float,
    n_c: int,
    mean_v: float,
    var_v: float,
    n_v: int,
    *,
    n_planned: float,
    alpha: float = DEFAULT_ALPHA,
) -> SequentialResult:
    """Two-sided mSPRT for variant - control on per-unit values (conversions are 0/1 means).

    `n_planned` is the effective sample the mixture is tuned for: per-arm minimum sample / 2 for two
    equal arms (n_eff = 1 / (1/n_c + 1/n_v)).
    """
    if n_c < 2 or n_v < 2:
        return SequentialResult(0.0, float("inf"), 1.0, (float("-inf"), float("inf")), False)
    diff = mean_v - mean_c
    var_d = var_c / n_c + var_v / n_v
    if var_d <= 0:
        return SequentialResult(diff, 0.0, 1.0, (diff, diff), False)
    se = math.sqrt(var_d)
    n_eff = 1.0 / (1.0 / n_c + 1.0 / n_v)
    rho = mixture_rho(n_planned, alpha=alpha)
    r = rho * n_eff
    ratio = mixture_ratio(diff / se, n_eff, rho)
    p = min(1.0, 1.0 / ratio)
    half = se * math.sqrt((1.0 + r) / r * (2.0 * math.log(1.0 / alpha) + math.log1p(r)))
    return SequentialResult(diff, se, p, (diff - half, diff + half), p < alpha)


@dataclass(frozen=True, slots=True)
class WelchResult:
    t: float
    dof: float
    p_value: float
    difference: float
    interval: tuple[float, float]


def welch_t_test(x: np.ndarray, y: np.ndarray, *, level: float = 0.95) -> WelchResult:
    """Welch's unequal-variance t-test of mean(y) - mean(x), two-sided, with its confidence interval."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.size < 2 or y.size < 2:
        raise ValueError("each group needs at least two values")
    vx, vy = x.var(ddof=1) / x.size, y.var(ddof=1) / y.size
    diff = float(y.mean() - x.mean())
    se = math.sqrt(vx + vy)
    if se == 0:
        return WelchResult(0.0, float(x.size + y.size - 2), 1.0, diff, (diff, diff))
    dof = (vx + vy) ** 2 / (vx**2 / (x.size - 1) + vy**2 / (y.size - 1))
    t = diff / se
    import_whole("scipy.stats")
    from scipy import stats as sps

    p = float(2 * sps.t.sf(abs(t), dof))
    q = float(sps.t.ppf(1 - (1 - level) / 2, dof))
    return WelchResult(float(t), float(dof), p, diff, (diff - q * se, diff + q * se))


def two_proportion_z(conv_c: int, n_c: int, conv_v: int, n_v: int) -> float:
    """Fixed-horizon two-sided p-value of the pooled two-proportion z-test (for contrast only)."""
    if n_c == 0 or n_v == 0:
        return 1.0
    pooled = (conv_c + conv_v) / (n_c + n_v)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n_c + 1 / n_v))
    if se == 0:
        return 1.0
    z = (conv_v / n_v - conv_c / n_c) / se
    import_whole("scipy.stats")
    from scipy import stats as sps

    return float(2 * sps.norm.sf(abs(z)))


# --- CUPED ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CupedResult:
    theta: float
    difference: float
    """CUPED-adjusted variant - control."""
    std_error: float
    raw_difference: float
    raw_std_error: float
    variance_reduction: float
    """1 - var(adjusted) / var(raw), pooled over both arms (about rho^2)."""


def cuped(y_c: np.ndarray, x_c: np.ndarray, y_v: np.ndarray, x_v: np.ndarray) -> CupedResult:
    """Adjust each unit's metric `y` with its pre-experiment covariate `x` (e.g. takes before exposure)."""
    y_c, x_c, y_v, x_v = (np.asarray(a, dtype=float) for a in (y_c, x_c, y_v, x_v))
    if y_c.size != x_c.size or y_v.size != x_v.size:
        raise ValueError("each unit needs a metric value and a covariate")
    if y_c.size < 2 or y_v.size < 2:
        raise ValueError("each arm needs at least two units")
    y = np.concatenate([y_c, y_v])
    x = np.concatenate([x_c, x_v])
    var_x = float(x.var(ddof=1))
    theta = float(np.cov(x, y, ddof=1)[0, 1] / var_x) if var_x > 0 else 0.0
    mx = float(x.mean())
    adj_c = y_c - theta * (x_c - mx)
    adj_v = y_v - theta * (x_v - mx)
    raw_se = math.sqrt(y_c.var(ddof=1) / y_c.size + y_v.var(ddof=1) / y_v.size)
    adj_se = math.sqrt(adj_c.var(ddof=1) / adj_c.size + adj_v.var(ddof=1) / adj_v.size)
    var_y = float(y.var(ddof=1))
    reduction = 1.0 - float(np.concatenate([adj_c, adj_v]).var(ddof=1)) / var_y if var_y > 0 else 0.0
    return CupedResult(
        theta=theta,
        difference=float(adj_v.mean() - adj_c.mean()),
        std_error=adj_se,
        raw_difference=float(y_v.mean() - y_c.mean()),
        raw_std_error=raw_se,
        variance_reduction=reduction,
    )
