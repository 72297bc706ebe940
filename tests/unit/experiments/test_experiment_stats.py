"""Experiment statistics against published or independently computed reference values.

References: chi-square critical values from the standard tables (p = 0.001: 10.828 for 1 degree of
freedom, 13.816 for 2); Welch's t-test example 1 of Wikipedia's "Welch's t-test" article (t = -2.46,
nu = 25.0, p = 0.021) and scipy.stats.ttest_ind; exact Beta results (Beta(2,1) beats Beta(1,1) with
probability 2/3; the expected loss between two uniforms is 1/6); scipy numerical integration for the
Beta and mixture likelihood ratios; numpy least squares for CUPED.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate
from scipy import stats as sps

from sayzhong.experiments import stats

# --- SRM -----------------------------------------------------------------------------------------


def test_srm_matches_the_chi_square_table_at_the_alarm_threshold() -> None:
    # 1 dof: chi2 = (d^2 / 5000) * 2 for counts 5000 +- d; the table's p = 0.001 value is 10.828.
    below = stats.sample_ratio_mismatch([5000 + 116, 5000 - 116], [50, 50])  # chi2 = 5.38
    assert below.chi2 == pytest.approx(2 * 116**2 / 5000)
    assert not below.alarm
    just_below = stats.sample_ratio_mismatch([5000 + 164, 5000 - 164], [1, 1])  # chi2 = 10.76
    just_above = stats.sample_ratio_mismatch([5000 + 165, 5000 - 165], [1, 1])  # chi2 = 10.89
    assert just_below.chi2 < 10.828 < just_above.chi2
    assert not just_below.alarm and just_above.alarm
    assert just_above.p_value == pytest.approx(sps.chisquare([5165, 4835]).pvalue)


def test_srm_uses_the_planned_weights_and_degrees_of_freedom() -> None:
    # 2 dof, weights 50/25/25: expected 5000/2500/2500; the table's p = 0.001 value is 13.816.
    counts = [5000, 2500 + 135, 2500 - 135]  # chi2 = 2 * 135^2 / 2500 = 14.58
    result = stats.sample_ratio_mismatch(counts, [50, 25, 25])
    assert result.dof == 2
    assert result.expected == (5000.0, 2500.0, 2500.0)
    reference = sps.chisquare(counts, [5000, 2500, 2500])
    assert result.chi2 == pytest.approx(reference.statistic)
    assert result.p_value == pytest.approx(reference.pvalue)
    assert result.chi2 > 13.816 and result.alarm
    # Against an equal three-way plan the same counts are a gross mismatch.
    assert stats.sample_ratio_mismatch(counts, [1, 1, 1]).alarm


def test_srm_refuses_bad_input() -> None:
    with pytest.raises(ValueError):
        stats.sample_ratio_mismatch([10], [1])
    with pytest.raises(ValueError):
        stats.sample_ratio_mismatch([10, 10], [1, 0])


# --- Bayesian --------------------------------------------------------------------------------------


def test_beta_comparison_exact_values() -> None:
    assert stats.prob_beta_greater(2, 1, 1, 1) == pytest.approx(2 / 3)
    assert stats.prob_beta_greater(1, 1, 1, 1) == pytest.approx(0.5)
    assert stats.expected_loss_beta(1, 1, 1, 1) == pytest.approx(1 / 6)


def _integrated_prob(a_b: float, b_b: float, a_a: float, b_a: float) -> float:
    value, _ = integrate.quad(
        lambda x: sps.beta.pdf(x, a_b, b_b) * sps.beta.cdf(x, a_a, b_a),
        0,
        1,
        limit=200,
        points=[a_b / (a_b + b_b)],
    )
    return float(value)


@pytest.mark.parametrize(
    ("a_b", "b_b", "a_a", "b_a"), [(13, 88, 9, 92), (121, 881, 101, 901), (40, 20, 30, 30)]
)
def test_chance_to_beat_matches_numerical_integration(a_b: int, b_b: int, a_a: int, b_a: int) -> None:
    assert stats.prob_beta_greater(a_b, b_b, a_a, b_a) == pytest.approx(
        _integrated_prob(a_b, b_b, a_a, b_a), abs=1e-7
    )


def test_expected_loss_matches_numerical_integration() -> None:
    a_c, b_c, a_v, b_v = 101, 901, 121, 881

    # E[max(X_c - X_v, 0)] = double integral over x_c > x_v
    def inner(xc):
        return (
            sps.beta.pdf(xc, a_c, b_c)
            * integrate.quad(lambda xv: (xc - xv) * sps.beta.pdf(xv, a_v, b_v), 0, xc)[0]
        )

    reference, _ = integrate.quad(inner, 0, 1, points=[0.1], limit=200)
    assert stats.expected_loss_beta(a_v, b_v, a_c, b_c) == pytest.approx(reference, rel=1e-4)


def test_beta_binomial_result() -> None:
    result = stats.beta_binomial(100, 1000, 120, 1000)
    assert result.chance_to_beat == pytest.approx(_integrated_prob(121, 881, 101, 901), abs=1e-7)
    assert result.control_interval == pytest.approx(
        (sps.beta.ppf(0.025, 101, 901), sps.beta.ppf(0.975, 101, 901))
    )
    lo, hi = result.lift_interval
    assert lo < 0.2 < hi  # the observed lift (0.12 / 0.10 - 1) is inside
    assert result.loss_choosing_variant < result.loss_keeping_control
    # Deterministic: the same figures every time (fixed Monte Carlo seed).
    assert stats.beta_binomial(100, 1000, 120, 1000) == result
    # "Lower is better" (e.g. support tickets): the variant's higher rate is now the worse one.
    worse = stats.beta_binomial(100, 1000, 120, 1000, lower_is_better=True)
    assert worse.chance_to_beat == pytest.approx(1 - result.chance_to_beat)
    assert worse.loss_choosing_variant == pytest.approx(result.loss_keeping_control)


def test_normal_model_for_means() -> None:
    result = stats.normal_means(10.0, 4.0, 100, 10.5, 9.0, 100)
    sd = math.sqrt(4 / 100 + 9 / 100)
    assert result.chance_to_beat == pytest.approx(sps.norm.cdf(0.5 / sd))
    # Expected loss of choosing the variant: E[max(-D, 0)], D ~ N(0.5, sd^2), by integration.
    reference, _ = integrate.quad(lambda d: -d * sps.norm.pdf(d, 0.5, sd), -np.inf, 0)
    assert result.loss_choosing_variant == pytest.approx(reference, rel=1e-6)
    assert result.variant_interval == pytest.approx((10.5 - 1.959964 * 0.3, 10.5 + 1.959964 * 0.3), rel=1e-5)


# --- frequentist -------------------------------------------------------------------------------------

WIKI_A1 = [27.5, 21.0, 19.0, 23.6, 17.0, 17.9, 16.9, 20.1, 21.9, 22.6, 23.1, 19.6, 19.0, 21.7, 21.4]
WIKI_A2 = [27.1, 22.0, 20.8, 23.4, 23.4, 23.5, 25.8, 22.0, 24.8, 20.2, 21.9, 22.1, 22.9, 20.5, 24.4]


def test_welch_matches_the_textbook_example_and_scipy() -> None:
    result = stats.welch_t_test(np.array(WIKI_A2), np.array(WIKI_A1))  # mean(A1) - mean(A2)
    assert round(result.t, 2) == -2.46
    assert round(result.dof, 1) == 25.0
    assert round(result.p_value, 3) == 0.021
    reference = sps.ttest_ind(WIKI_A1, WIKI_A2, equal_var=False)
    assert result.t == pytest.approx(reference.statistic)
    assert result.p_value == pytest.approx(reference.pvalue)
    ci = reference.confidence_interval(0.95)
    assert result.interval == pytest.approx((ci.low, ci.high))


def test_mixture_ratio_equals_the_integral_of_the_likelihood_ratio_over_the_mixture() -> None:
    n_eff, rho = 400.0, stats.mixture_rho(400)
    for z in (0.0, 1.0, 2.5):
        var = 1.0 / n_eff
        estimate = z * math.sqrt(var)
        reference, _ = integrate.quad(
            lambda th: math.exp((th * estimate - th * th / 2) / var) * sps.norm.pdf(th, 0, math.sqrt(rho)),  # noqa: B023
            -1,
            1,
            points=[0.0, estimate],
        )
        assert stats.mixture_ratio(z, n_eff, rho) == pytest.approx(reference, rel=1e-6)


def test_confidence_sequence_boundary_is_where_the_p_value_reaches_alpha() -> None:
    result = stats.msprt(0.10, 0.09, 5000, 0.12, 0.1056, 5000, n_planned=2500)
    lo, hi = result.interval
    # Moving the control mean so that the difference equals the half-width gives p = alpha exactly.
    at_edge = stats.msprt(0.10 + lo, 0.09, 5000, 0.12, 0.1056, 5000, n_planned=2500)
    assert at_edge.p_value == pytest.approx(0.05, rel=1e-6)
    assert result.significant == (lo > 0 or hi < 0)
    # The always-valid interval is wider than the fixed-horizon one (the price of peeking).
    assert hi - lo > 2 * 1.96 * result.std_error


def test_sequential_test_keeps_false_positives_below_alpha_when_peeking() -> None:
    """A small A/A simulation (fixed seed): 300 experiments, 20 looks each."""
    rng = np.random.default_rng(7)
    false_sequential = false_naive = 0
    for _ in range(300):
        a = rng.random(4000) < 0.2
        b = rng.random(4000) < 0.2
        hit_seq = hit_naive = False
        for look in range(200, 4001, 200):
            ca, cb = int(a[:look].sum()), int(b[:look].sum())
            pa, pb = ca / look, cb / look
            seq = stats.msprt(pa, pa * (1 - pa), look, pb, pb * (1 - pb), look, n_planned=2000)
            hit_seq |= seq.significant
            hit_naive |= stats.two_proportion_z(ca, look, cb, look) < 0.05
        false_sequential += hit_seq
        false_naive += hit_naive
    assert false_sequential / 300 <= 0.05
    assert false_naive / 300 > 0.10  # peeking at a fixed-horizon test inflates errors (why mSPRT)


# --- CUPED ----------------------------------------------------------------------------------------


def test_cuped_small_example_by_hand() -> None:
    # x: takes before; y: takes after. Pooled: mean x = 2, theta = cov(x,y)/var(x).
    x_c, y_c = np.array([0.0, 2.0, 4.0]), np.array([1.0, 3.0, 5.0])
    x_v, y_v = np.array([1.0, 2.0, 3.0]), np.array([3.0, 3.0, 6.0])
    x, y = np.concatenate([x_c, x_v]), np.concatenate([y_c, y_v])
    theta = float(np.sum((x - x.mean()) * (y - y.mean())) / np.sum((x - x.mean()) ** 2))
    result = stats.cuped(y_c, x_c, y_v, x_v)
    assert result.theta == pytest.approx(theta)
    assert result.raw_difference == pytest.approx(4.0 - 3.0)
    assert result.difference == pytest.approx((4.0 - 3.0) - theta * (2.0 - 2.0))
    # theta is the least-squares slope of y on x
    slope = np.linalg.lstsq(np.column_stack([np.ones_like(x), x]), y, rcond=None)[0][1]
    assert result.theta == pytest.approx(slope)


def test_cuped_reduces_variance_by_about_rho_squared_without_bias() -> None:
    rng = np.random.default_rng(11)
    n = 20_000
    x_c, x_v = rng.poisson(5, n).astype(float), rng.poisson(5, n).astype(float)
    y_c = 2 + 0.8 * x_c + rng.normal(0, 1.5, n)
    y_v = 2.1 + 0.8 * x_v + rng.normal(0, 1.5, n)
    result = stats.cuped(y_c, x_c, y_v, x_v)
    y, xx = np.concatenate([y_c, y_v]), np.concatenate([x_c, x_v])
    rho2 = np.corrcoef(xx, y)[0, 1] ** 2
    assert result.variance_reduction == pytest.approx(rho2, abs=0.01)
    assert result.std_error < result.raw_std_error * math.sqrt(1 - rho2) * 1.02
    assert result.difference == pytest.approx(0.1, abs=4 * result.std_error)
    # No covariate information (every x equal): no adjustment at all.
    flat = stats.cuped(y_c, np.zeros(n), y_v, np.zeros(n))
    assert flat.theta == 0.0 and flat.difference == pytest.approx(flat.raw_difference)
