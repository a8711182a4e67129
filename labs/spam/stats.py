"""How sure a comparison is: intervals over folds, and a paired test of two models.

Every model is scored on the same k grouped folds, so two models can be compared fold by
fold. The folds share most of their training data, which makes the per-fold differences
correlated and the plain t-test far too confident; Nadeau and Bengio's corrected resampled
t-test (Machine Learning 52, 2003) inflates the variance by ``n_test / n_train`` for it.
A difference whose interval contains 0 is reported as "no detectable difference".
"""

import math

import numpy as np
from scipy import stats

CONFIDENCE = 0.95
MIN_FOLDS = 3  # folds an interval needs: from 2, the t quantile is 12.7 and the interval
# spans more than F1's whole range (a quick run's "0.796 (0.185-1.406)")
NO_INTERVAL = f"fewer than {MIN_FOLDS} folds: no usable interval"


def mean_interval(values, confidence=CONFIDENCE, test_fraction=None, bounds=(0.0, 1.0)):
    """Mean and its t confidence interval over folds, within ``bounds`` (F1's range): no
    interval (NaN) from fewer than ``MIN_FOLDS`` folds. With ``test_fraction`` (repeated
    k-fold: every message is tested once per repeat), the variance gets the same
    Nadeau–Bengio correction as the paired test."""
    values = np.asarray(values, dtype=float)
    mean = float(values.mean()) if len(values) else math.nan
    if len(values) < MIN_FOLDS:
        return mean, math.nan, math.nan
    factor = 1 / len(values) + (test_fraction / (1 - test_fraction) if test_fraction else 0)
    half = stats.t.ppf((1 + confidence) / 2, len(values) - 1) * math.sqrt(
        factor * values.var(ddof=1))
    return mean, max(bounds[0], mean - half), min(bounds[1], mean + half)


def corrected_paired_test(first, second, test_fraction, confidence=CONFIDENCE):
    """``first - second`` over the same folds: mean difference, its corrected interval and
    two-sided p-value (Nadeau–Bengio). ``test_fraction`` is n_test / (n_train + n_test)."""
    differences = np.asarray(first, dtype=float) - np.asarray(second, dtype=float)
    folds = len(differences)
    mean = float(differences.mean())
    if folds < MIN_FOLDS:
        return {"difference": mean, "low": math.nan, "high": math.nan, "p_value": math.nan}
    variance = differences.var(ddof=1)
    standard_error = math.sqrt((1 / folds + test_fraction / (1 - test_fraction)) * variance)
    if standard_error == 0:
        low = high = mean
        p_value = 1.0 if mean == 0 else 0.0
    else:
        t_value = stats.t.ppf((1 + confidence) / 2, folds - 1)
        # a difference of two F1s lies in [-1, 1]
        low = max(-1.0, mean - t_value * standard_error)
        high = min(1.0, mean + t_value * standard_error)
        p_value = float(2 * stats.t.sf(abs(mean) / standard_error, folds - 1))
    return {"difference": mean, "low": float(low), "high": float(high), "p_value": p_value}


def verdict(test):
    """Plain words for a paired test of ``first - second``."""
    if math.isnan(test["low"]):
        return NO_INTERVAL
    if test["low"] > 0:
        return "better"
    if test["high"] < 0:
        return "worse"
    return "no detectable difference"
