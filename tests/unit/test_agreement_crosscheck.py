"""myoscore.agreement cross-checked on random data against statsmodels, scikit-learn and the
``krippendorff`` package, plus the not-evaluable and undefined cases the readers produce."""

from __future__ import annotations

import math
from typing import Literal

import krippendorff
import numpy as np
import pytest
from scipy import stats
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats import inter_rater

from myoscore.agreement import (
    bland_altman,
    cohen_kappa,
    fleiss_kappa,
    gwet_ac,
    icc,
    krippendorff_alpha,
    percent_agreement,
)
from myoscore.agreement.krippendorff import Level
from myoscore.domain import NOT_EVALUABLE

SEEDS = [0, 1, 2]
WEIGHTS: list[Literal["linear", "quadratic"] | None] = [None, "linear", "quadratic"]


def _two_readers(seed: int, n: int = 150, k: int = 6, missing: float = 0.1):
    """Correlated 0..k-1 ratings of two readers with NaN for not evaluable."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, k, n)
    r1 = np.clip(truth + rng.integers(-1, 2, n), 0, k - 1).astype(float)
    r2 = np.clip(truth + rng.integers(-2, 2, n), 0, k - 1).astype(float)
    r1[rng.random(n) < missing] = np.nan
    r2[rng.random(n) < missing] = np.nan
    return r1, r2


def _complete(r1: np.ndarray, r2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    keep = ~(np.isnan(r1) | np.isnan(r2))
    return r1[keep].astype(int), r2[keep].astype(int)


def _raters_table(seed: int, n: int = 40, raters: int = 4, k: int = 5, missing: float = 0.15):
    """Subjects × raters ratings on 1..k with NaN for not evaluable."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(1, k + 1, n)[:, None]
    table = np.clip(truth + rng.integers(-1, 2, (n, raters)), 1, k).astype(float)
    table[rng.random((n, raters)) < missing] = np.nan
    return table


# --- Cohen's kappa vs statsmodels and scikit-learn ------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("weights", WEIGHTS)
def test_cohen_matches_statsmodels_kappa_and_standard_errors(seed: int, weights) -> None:
    """kappa, FCE (1969) SE and null SE equal statsmodels' on the same confusion table."""
    r1, r2 = _two_readers(seed)
    ours = cohen_kappa(r1, r2, categories=range(6), weights=weights)
    a, b = _complete(r1, r2)
    table = inter_rater.to_table(np.column_stack([a, b]), bins=np.arange(7) - 0.5)[0]
    ref = inter_rater.cohens_kappa(table, wt=weights)
    assert np.array_equal(ours.confusion_array, table)
    assert ours.kappa == pytest.approx(ref.kappa, abs=1e-12)
    assert ours.se == pytest.approx(ref.std_kappa, abs=1e-12)
    assert ours.se_null == pytest.approx(ref.std_kappa0, abs=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("weights", WEIGHTS)
def test_cohen_matches_scikit_learn(seed: int, weights) -> None:
    """kappa equals sklearn's cohen_kappa_score over the same declared labels."""
    r1, r2 = _two_readers(seed)
    a, b = _complete(r1, r2)
    expected = cohen_kappa_score(a, b, labels=list(range(6)), weights=weights)
    assert cohen_kappa(r1, r2, categories=range(6), weights=weights).kappa == pytest.approx(
        expected, abs=1e-12
    )


def test_python_lists_and_arrays_give_the_same_result() -> None:
    """List input with None (the store's shape) and NaN arrays take different code paths."""
    r1, r2 = _two_readers(3)
    first, second = ([None if math.isnan(v) else int(v) for v in r] for r in (r1, r2))
    for weights in WEIGHTS:
        arr = cohen_kappa(r1, r2, weights=weights)
        lst = cohen_kappa(first, second, weights=weights)
        assert (lst.kappa, lst.se, lst.n, lst.n_excluded) == pytest.approx(
            (arr.kappa, arr.se, arr.n, arr.n_excluded), abs=1e-12
        )
        assert lst.categories == arr.categories
        assert lst.confusion == arr.confusion


# --- Fleiss, Krippendorff, Gwet, ICC, Bland-Altman vs references ------------------------


@pytest.mark.parametrize("seed", SEEDS)
def test_fleiss_matches_statsmodels_on_complete_data(seed: int) -> None:
    """With every rating present, Fleiss' kappa equals statsmodels' fleiss_kappa."""
    table = _raters_table(seed, missing=0.0).astype(int)
    counts = inter_rater.aggregate_raters(table, n_cat=None)[0]
    res = fleiss_kappa(table)
    assert res.kappa == pytest.approx(inter_rater.fleiss_kappa(counts), abs=1e-12)
    assert res.n_excluded == 0


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval"])
def test_krippendorff_matches_krippendorff_package(seed: int, level: Level) -> None:
    """alpha with missing values equals the krippendorff package (raters × units input)."""
    table = _raters_table(seed)
    expected = krippendorff.alpha(reliability_data=table.T, level_of_measurement=level)
    assert krippendorff_alpha(table, level=level).alpha == pytest.approx(expected, abs=1e-10)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("weights", WEIGHTS)
def test_gwet_two_readers_matches_the_closed_form_from_the_confusion_table(
    seed: int, weights
) -> None:
    """Two readers, complete data: AC1/AC2 from Gwet (2014, ch. 4) on the 2-way table.

    p_a = Σ w_kl p_kl; π_k = (p_k. + p_.k) / 2; p_e = T_w Σ π_k (1 - π_k) / (q (q - 1)).
    """
    r1, r2 = _two_readers(seed, k=5)
    a, b = _complete(r1, r2)
    q = 5
    p = np.zeros((q, q))
    np.add.at(p, (a, b), 1.0)
    p /= p.sum()
    pos = np.arange(q)
    d = np.abs(pos[:, None] - pos[None, :]) / (q - 1)
    w = {None: np.eye(q), "linear": 1 - d, "quadratic": 1 - d**2}[weights]
    pa = (w * p).sum()
    pi = (p.sum(0) + p.sum(1)) / 2
    pe = w.sum() * (pi * (1 - pi)).sum() / (q * (q - 1))
    res = gwet_ac(np.column_stack([a, b]), categories=range(q), weights=weights)
    assert res.ac == pytest.approx((pa - pe) / (1 - pe), abs=1e-12)


def test_icc_mean_squares_match_a_statsmodels_two_way_anova() -> None:
    """MS rows / cols / error and ICC(2,1) agree with statsmodels' OLS ANOVA table."""
    import pandas as pd
    import statsmodels.formula.api as smf
    from statsmodels.stats.anova import anova_lm

    rng = np.random.default_rng(7)
    y = rng.normal(10, 3, (12, 1)) + rng.normal(0, 1, (1, 3)) + rng.normal(0, 1, (12, 3))
    long = pd.DataFrame(
        {"y": y.ravel(), "s": np.repeat(np.arange(12), 3), "r": np.tile(np.arange(3), 12)}
    )
    aov = anova_lm(smf.ols("y ~ C(s) + C(r)", data=long).fit())
    msr, msc, mse = aov["mean_sq"].to_numpy()
    res = icc(y)
    assert (res.ms_rows, res.ms_cols, res.ms_error) == pytest.approx((msr, msc, mse), rel=1e-10)
    n, k = y.shape
    icc21 = (msr - mse) / (msr + (k - 1) * mse + k * (msc - mse) / n)
    assert res["ICC(2,1)"].value == pytest.approx(icc21, rel=1e-10)
    assert res["ICC(3,1)"].f == pytest.approx(msr / mse, rel=1e-10)


def test_bland_altman_bias_interval_matches_scipy_one_sample_t() -> None:
    """The bias CI is the one-sample t interval of the differences."""
    rng = np.random.default_rng(5)
    x = rng.normal(30, 8, 40)
    y = x + rng.normal(1.5, 3, 40)
    res = bland_altman(x, y, confidence=0.9)
    ci = stats.ttest_1samp(x - y, 0.0).confidence_interval(0.9)
    assert (res.bias_ci_low, res.bias_ci_high) == pytest.approx((ci.low, ci.high), abs=1e-10)
    assert res.loa_high - res.loa_low == pytest.approx(2 * 1.96 * np.std(x - y, ddof=1))


# --- not evaluable, declared categories, undefined cases --------------------------------


def test_not_evaluable_ratings_are_excluded_pairwise_and_counted() -> None:
    """None, NaN and NOT_EVALUABLE on either side drop the pair and are counted."""
    r1 = ["0", "1", None, "2", NOT_EVALUABLE, "1", "0", "2", "1", "0"]
    r2 = ["0", "1", "1", float("nan"), "2", "1", None, "2", "0", "0"]
    res = cohen_kappa(r1, r2, categories=["0", "1", "2"])
    assert res.n_excluded == 4
    assert res.n == 6
    assert sum(map(sum, res.confusion)) == 6
    kept = (0, 1, 5, 7, 8, 9)
    clean = cohen_kappa([r1[i] for i in kept], [r2[i] for i in kept], categories=["0", "1", "2"])
    assert res.kappa == pytest.approx(clean.kappa)
    assert res.percent_agreement == pytest.approx(100 * 5 / 6)
    assert percent_agreement(r1, r2) == pytest.approx(100 * 5 / 6)


def test_unused_declared_category_stays_in_the_table_and_moves_the_weights() -> None:
    """Scale 0-5 with grade 2 never used: a 6 × 6 table, and grade 3 stays 3 steps from 0."""
    r1 = [0, 1, 1, 3, 4, 0, 5, 4, 1, 3, 5, 0]
    r2 = [0, 1, 3, 3, 4, 1, 4, 4, 0, 4, 5, 1]
    for weights in ("linear", "quadratic"):
        declared = cohen_kappa(r1, r2, categories=range(6), weights=weights)
        observed = cohen_kappa(r1, r2, weights=weights)
        assert observed.categories == (0, 1, 3, 4, 5)
        assert len(declared.confusion) == 6
        assert declared.confusion[2] == (0,) * 6
        assert [row[2] for row in declared.confusion] == [0] * 6
        assert abs(declared.kappa - observed.kappa) > 1e-3
        assert declared.kappa == pytest.approx(
            cohen_kappa_score(r1, r2, labels=list(range(6)), weights=weights), abs=1e-12
        )
    # Unweighted kappa does not depend on empty categories.
    assert cohen_kappa(r1, r2, categories=range(6)).kappa == pytest.approx(
        cohen_kappa(r1, r2).kappa
    )


def test_unused_categories_at_the_end_rescale_weights_without_changing_weighted_kappa() -> None:
    """Grades 4-5 unused: every distance shrinks by the same factor, which cancels in κ_w."""
    r1 = [0, 1, 1, 2, 3, 0, 2, 3, 1, 2]
    r2 = [0, 1, 2, 2, 3, 1, 2, 2, 1, 3]
    declared = cohen_kappa(r1, r2, categories=range(6), weights="quadratic")
    observed = cohen_kappa(r1, r2, weights="quadratic")
    assert len(declared.confusion) == 6
    assert len(observed.confusion) == 4
    assert declared.kappa == pytest.approx(observed.kappa, abs=1e-12)
    assert declared.observed != pytest.approx(observed.observed)  # the weights did change


def test_string_level_codes_are_ordered_by_declared_position() -> None:
    """Codes "2a"/"2b" take their place in the declared scale, not an alphabetical one."""
    scale = ["0", "1", "2a", "2b", "3", "4"]
    r1 = ["0", "2a", "2b", "3", "1", "2a", "4", "0", "2b", "3"]
    r2 = ["0", "2b", "2b", "3", "2a", "2a", "3", "1", "3", "3"]
    as_int = {code: i for i, code in enumerate(scale)}
    for weights in ("linear", "quadratic"):
        res = cohen_kappa(r1, r2, categories=scale, weights=weights)
        ref = cohen_kappa([as_int[c] for c in r1], [as_int[c] for c in r2], range(6), weights)
        assert res.kappa == pytest.approx(ref.kappa, abs=1e-12)
        assert res.categories == tuple(scale)
    # Declared "10" after "9" (string sorting would put it before "2").
    res = cohen_kappa(["9", "10", "2"], ["10", "10", "2"], categories=["2", "9", "10"])
    assert res.confusion == ((1, 0, 0), (0, 0, 1), (0, 0, 1))


def test_single_category_used_by_both_readers_is_nan_with_reason() -> None:
    """Everything graded 0 by both: expected agreement 1, kappa undefined, no warning."""
    for weights in WEIGHTS:
        res = cohen_kappa([0] * 8, [0] * 8, categories=range(6), weights=weights)
        assert math.isnan(res.kappa)
        assert math.isnan(res.se)
        assert math.isnan(res.ci_low)
        assert res.reason is not None
        assert "single category" in res.reason
        assert res.percent_agreement == 100.0
        assert res.n == 8


def test_fewer_than_two_subjects_is_nan_with_reason() -> None:
    """One rated pair, or none at all, gives NaN and says why."""
    one = cohen_kappa([1, None], [2, 3], categories=[1, 2, 3])
    assert math.isnan(one.kappa)
    assert one.reason is not None
    assert "fewer than two" in one.reason
    assert (one.n, one.n_excluded) == (1, 1)
    none = cohen_kappa([None, 1], [2, None])
    assert math.isnan(none.kappa)
    assert math.isnan(none.observed)
    assert none.reason is not None
    assert "no subject" in none.reason
    assert none.n_excluded == 2
    empty = cohen_kappa([], [])
    assert empty.n == 0
    assert math.isnan(empty.kappa)


def test_multi_rater_undefined_cases_are_nan_with_reason() -> None:
    """One category everywhere: Fleiss and alpha undefined; AC1 = 1 (its expected
    agreement is 0, not 1); a single declared category leaves AC1 undefined too."""
    same = [["1", "1", "1"]] * 5
    fleiss = fleiss_kappa(same, categories=["0", "1"])
    assert math.isnan(fleiss.kappa)
    assert fleiss.reason is not None
    alpha = krippendorff_alpha(same)
    assert math.isnan(alpha.alpha)
    assert alpha.reason is not None
    assert "expected disagreement" in alpha.reason
    ac1 = gwet_ac(same, categories=["0", "1"])
    assert ac1.ac == pytest.approx(1.0)
    assert ac1.reason is None
    assert math.isnan(gwet_ac(same).ac)
    assert gwet_ac(same).reason is not None
    single = fleiss_kappa([[1, 2, None], [None, None, 3]])
    assert math.isnan(single.kappa)
    assert single.reason is not None
    assert (single.n, single.n_excluded, single.n_subjects_excluded) == (1, 3, 1)


def test_icc_and_bland_altman_undefined_cases_are_nan_with_reason() -> None:
    """No variance, one subject, one pair: NaN with a reason; missing rows are counted."""
    constant = icc([[3, 3], [3, 3], [3, 3]])
    assert constant.reason is not None
    assert all(math.isnan(f.value) and f.reason for f in constant.forms)
    one = icc([[1, 2], [None, 3]])
    assert one.reason is not None
    assert one.n_excluded == 1
    ba = bland_altman([1.0, None, 3.0], [1.5, 2.0, None])
    assert math.isnan(ba.sd)
    assert ba.reason is not None
    assert (ba.n, ba.n_excluded) == (1, 2)


def test_interval_alpha_on_continuous_scores_skips_the_coincidence_matrix() -> None:
    """1 200 distinct scores: no K × K matrix is built; alpha still follows its definition,
    D_o = Σ_u Σ_{i≠j in u} (v_i - v_j)² / (m_u - 1) / n and D_e = mean over all pairs."""
    rng = np.random.default_rng(9)
    truth = rng.normal(40, 10, 600)
    table = np.column_stack([truth + rng.normal(0, 3, 600), truth + rng.normal(1, 3, 600)])
    table[rng.random(table.shape) < 0.05] = np.nan
    res = krippendorff_alpha(table, level="interval")
    assert len(res.categories) > 1000
    assert res.coincidence is None
    pairable = table[(~np.isnan(table)).sum(axis=1) == 2]  # two raters: pairable = complete
    values = pairable.ravel()
    n = values.size
    d_o = (2 * (pairable[:, 0] - pairable[:, 1]) ** 2).sum() / n
    d_e = ((values[:, None] - values[None, :]) ** 2).sum() / (n * (n - 1))
    assert res.alpha == pytest.approx(1 - d_o / d_e, abs=1e-10)


@pytest.mark.parametrize("level", ["nominal", "interval"])
def test_matrix_free_disagreements_match_the_package(monkeypatch, level: Level) -> None:
    """The O(N·K) nominal and interval forms equal the krippendorff package."""
    import myoscore.agreement.krippendorff as kmod

    monkeypatch.setattr(kmod, "MAX_COINCIDENCE", 0)
    table = _raters_table(4)
    res = krippendorff_alpha(table, level=level)
    assert res.coincidence is None
    expected = krippendorff.alpha(reliability_data=table.T, level_of_measurement=level)
    assert res.alpha == pytest.approx(expected, abs=1e-10)
