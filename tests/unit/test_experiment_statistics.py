"""An experiment report's statistics on generated populations whose true lift is known: the 95%
interval covers the truth in about 95% of runs, the tests pick the right method, the sample-ratio
check flags a broken split."""

from __future__ import annotations

import numpy as np
import pytest

from accolade.service.experiment_statistics import (
    FISHER,
    WELCH,
    Z_TEST,
    compare_means,
    compare_rates,
    sample_ratio,
)

SEEDS = range(200)
N = 2000  # members per arm


def covered(comparison, truth: float) -> bool:
    return comparison.ci_low <= truth <= comparison.ci_high


def test_the_interval_of_a_rate_covers_the_true_lift_95_times_in_100():
    hits = 0
    for seed in SEEDS:
        rng = np.random.default_rng(seed)
        control = (rng.random(N) < 0.20).tolist()
        treatment = (rng.random(N) < 0.25).tolist()
        found = compare_rates(control, treatment)
        assert found.test == Z_TEST
        hits += covered(found, 0.05)
    assert 0.92 <= hits / len(SEEDS) <= 0.98, hits


def test_the_interval_of_a_mean_covers_the_true_difference_95_times_in_100():
    events, money = 0, 0
    for seed in SEEDS:
        rng = np.random.default_rng(10_000 + seed)
        # adoption events per member (counts), and pipeline per member (skewed amounts)
        found = compare_means(rng.poisson(2.0, N).tolist(), rng.poisson(2.4, N).tolist())
        assert found.test == WELCH
        events += covered(found, 0.4)
        found = compare_means(rng.exponential(1000, N).tolist(), rng.exponential(1200, N).tolist())
        money += covered(found, 200)
    assert 0.92 <= events / len(SEEDS) <= 0.98, events
    assert 0.92 <= money / len(SEEDS) <= 0.98, money


def test_a_real_lift_is_found_and_no_lift_is_not():
    rng = np.random.default_rng(7)
    lift = compare_rates((rng.random(N) < 0.20).tolist(), (rng.random(N) < 0.26).tolist())
    assert lift.p_value < 0.001
    assert lift.ci_low > 0
    rng = np.random.default_rng(8)  # a seed whose null run is not one of the 5% false alarms
    same = compare_rates((rng.random(N) < 0.20).tolist(), (rng.random(N) < 0.20).tolist())
    assert same.p_value > 0.01
    assert same.ci_low < 0 < same.ci_high


def test_rates_are_shares_and_the_difference_is_treatment_minus_control():
    found = compare_rates([True] * 30 + [False] * 70, [True] * 45 + [False] * 55)
    assert (found.control, found.treatment) == (0.30, 0.45)
    assert found.difference == pytest.approx(0.15)
    assert found.ci_low < found.difference < found.ci_high


def test_small_counts_use_fishers_exact_test():
    found = compare_rates([True] * 2 + [False] * 20, [True] * 9 + [False] * 13)
    assert found.test == FISHER
    assert 0 < found.p_value < 0.05
    assert found.ci_low < found.difference < found.ci_high


def test_an_empty_arm_gives_no_test():
    found = compare_rates([], [True, False])
    assert (found.control, found.treatment, found.p_value, found.test) == (None, 0.5, None, None)
    means = compare_means([3.0], [1.0, 2.0])
    assert (means.control, means.difference, means.p_value) == (3.0, -1.5, None)


def test_arms_without_variance_give_a_difference_and_no_test():
    found = compare_means([0, 0, 0], [0, 0, 0, 0])
    assert (found.difference, found.ci_low, found.p_value, found.test) == (0, None, None, None)


def test_the_sample_ratio_check_flags_a_broken_split_only():
    rng = np.random.default_rng(3)
    treated = int((rng.random(4000) < 0.3).sum())
    fine = sample_ratio(4000 - treated, treated, 0.3)
    assert fine.expected == {"control": 2800.0, "treatment": 1200.0}
    assert fine.observed == {"control": 4000 - treated, "treatment": treated}
    assert not fine.mismatch
    broken = sample_ratio(1000, 1200, 0.5)
    assert broken.mismatch
    assert broken.p_value < 0.001


def test_a_cohort_has_no_expected_sizes():
    found = sample_ratio(475, 25, None)
    assert (found.expected, found.p_value, found.mismatch) == (None, None, False)
