"""The statistics of an experiment report, on plain per-member values: each outcome's
difference between the arms (treatment minus control) with its 95% interval and p-value, and
the sample-ratio check of the arms' sizes.

Every test and interval comes from statsmodels or scipy, not from formulas written here:
- a rate (activation, active, qualified): the two-proportion z-test and its interval with the
  Agresti-Caffo adjustment (statsmodels ``test_proportions_2indep`` and
  ``confint_proportions_2indep``), or, when a cell of the 2x2 table holds fewer than 5 members,
  Fisher's exact test (scipy) with Newcombe's interval;
- a mean per member (adoption events, pipeline): Welch's t-test (scipy ``ttest_ind`` with
  unequal variances) and its interval;
- the arms' sizes: a chi-square goodness-of-fit test (scipy ``chisquare``) against the split.

scipy and statsmodels are imported by the functions that use them: together they take ~2 s to
import, which neither the CLI's start nor the API's should pay.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

CONFIDENCE = 0.95
# below it, the arms' sizes are too unlikely under the configured split: the assignment (or
# what is counted) is broken, and no outcome of the report can be trusted
SRM_THRESHOLD = 0.001
# a 2x2 cell below this many members: the z-test's normal approximation does not hold
SMALL_CELL = 5

Z_TEST = "two-proportion z-test (Agresti-Caffo)"
FISHER = "Fisher's exact test"
WELCH = "Welch's t-test"


@dataclass(frozen=True)
class Comparison:
    """One outcome in both arms: the rate or the mean of each, the difference (treatment minus
    control), its 95% interval and the p-value of the test that gave them (None where the arms
    are too small to say)."""

    control: float | None
    treatment: float | None
    difference: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    test: str | None


@dataclass(frozen=True)
class SampleRatio:
    """The arms' sizes against the split: ``expected`` and ``observed`` per arm (members),
    the chi-square test's p-value, and ``mismatch`` when it is below 0.001. A cohort has no
    expected sizes."""

    expected: dict[str, float] | None
    observed: dict[str, int]
    p_value: float | None
    mismatch: bool


_NOTHING = Comparison(None, None, None, None, None, None, None)


def compare_rates(control: Sequence[bool], treatment: Sequence[bool]) -> Comparison:
    """The share of members with the outcome in each arm, and the difference of shares."""
    return compare_counts(sum(control), len(control), sum(treatment), len(treatment))


def compare_counts(hits_c: int, n_c: int, hits_t: int, n_t: int) -> Comparison:
    """compare_rates from the counts: ``hits`` of ``n`` members in each arm had the outcome."""
    if not n_c or not n_t:
        rate_c = hits_c / n_c if n_c else None
        rate_t = hits_t / n_t if n_t else None
        return Comparison(rate_c, rate_t, None, None, None, None, None)
    rate_c, rate_t = hits_c / n_c, hits_t / n_t
    alpha = 1 - CONFIDENCE
    from statsmodels.stats.proportion import (
        confint_proportions_2indep,
        test_proportions_2indep,
    )

    if min(hits_c, n_c - hits_c, hits_t, n_t - hits_t) < SMALL_CELL:
        from scipy.stats import fisher_exact

        p_value = fisher_exact([[hits_t, n_t - hits_t], [hits_c, n_c - hits_c]]).pvalue
        low, high = confint_proportions_2indep(
            hits_t, n_t, hits_c, n_c, method="newcomb", compare="diff", alpha=alpha
        )
        test = FISHER
    else:
        method = "agresti-caffo"
        p_value = test_proportions_2indep(
            hits_t, n_t, hits_c, n_c, method=method, compare="diff"
        ).pvalue
        low, high = confint_proportions_2indep(
            hits_t, n_t, hits_c, n_c, method=method, compare="diff", alpha=alpha
        )
        test = Z_TEST
    return Comparison(
        rate_c, rate_t, rate_t - rate_c, _number(low), _number(high), _number(p_value), test
    )


def compare_means(control: Sequence[float], treatment: Sequence[float]) -> Comparison:
    """The mean per member in each arm, and the difference of means."""
    n_c, n_t = len(control), len(treatment)
    mean_c = sum(control) / n_c if n_c else None
    mean_t = sum(treatment) / n_t if n_t else None
    if mean_c is None or mean_t is None:
        return Comparison(mean_c, mean_t, None, None, None, None, None)
    difference = mean_t - mean_c
    if n_c < 2 or n_t < 2:  # no variance to estimate
        return Comparison(mean_c, mean_t, difference, None, None, None, None)
    from scipy.stats import ttest_ind

    result = ttest_ind(treatment, control, equal_var=False)
    p_value = _number(result.pvalue)
    if p_value is None:  # neither arm varies: nothing to test
        return Comparison(mean_c, mean_t, difference, None, None, None, None)
    interval = result.confidence_interval(CONFIDENCE)
    low, high = _number(interval.low), _number(interval.high)
    return Comparison(mean_c, mean_t, difference, low, high, p_value, WELCH)


def sample_ratio(control: int, treatment: int, share: float | None) -> SampleRatio:
    """Whether ``control`` and ``treatment`` members are what a ``share`` in treatment makes
    likely (None: a cohort, which sets the sizes itself)."""
    observed = {"control": control, "treatment": treatment}
    total = control + treatment
    if share is None or total == 0:
        return SampleRatio(None, observed, None, False)
    expected = {"control": total * (1 - share), "treatment": total * share}
    from scipy.stats import chisquare

    p_value = _number(
        chisquare([control, treatment], [expected["control"], expected["treatment"]]).pvalue
    )
    return SampleRatio(expected, observed, p_value, p_value is not None and p_value < SRM_THRESHOLD)


def _number(value: object) -> float | None:
    """A float from a library's result; None for NaN (a test that cannot be computed: both
    arms without any variance, say)."""
    number = float(value)  # type: ignore[arg-type]  # numpy scalars convert
    return None if math.isnan(number) else number
