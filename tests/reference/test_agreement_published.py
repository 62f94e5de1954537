"""myoscore.agreement against published worked examples, with the printed numbers.

Every expected value below is written out as printed in the cited source (to its printed
precision) and never recomputed by the test. Where a number reached us through a second
source (a package's test suite quoting a book or a SAS/R printout), the comment says so.
"""

from __future__ import annotations

import numpy as np
import pytest

from myoscore.agreement import (
    bland_altman,
    cohen_kappa,
    fleiss_kappa,
    gwet_ac,
    icc,
    krippendorff_alpha,
)


def _pairs_from_table(table: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    """Expand a K × K count table (rows reader 1) into one rating pair per subject."""
    counts = np.asarray(table)
    k = counts.shape[0]
    rows = np.repeat(np.repeat(np.arange(k), k), counts.ravel())
    cols = np.repeat(np.tile(np.arange(k), k), counts.ravel())
    return rows, cols


# --- Cohen's kappa ----------------------------------------------------------------------

# Cohen J (1960), Educ Psychol Meas 20:37-46, worked example (N = 200, three categories):
# p_o = .70, p_c = .41, kappa = .49 (.492 to three places, as quoted by the R package tests
# that reproduce the example).
COHEN_1960 = [[88, 14, 18], [10, 40, 10], [2, 6, 12]]


def test_cohen_1960_worked_example() -> None:
    """Cohen (1960): p_o = .70, p_c = .41, kappa = .492."""
    r1, r2 = _pairs_from_table(COHEN_1960)
    res = cohen_kappa(r1, r2)
    assert res.n == 200
    assert res.observed == pytest.approx(0.70, abs=5e-4)
    assert res.expected == pytest.approx(0.41, abs=5e-4)
    assert res.kappa == pytest.approx(0.492, abs=5e-4)
    assert res.percent_agreement == pytest.approx(70.0)


# SAS PROC FREQ (AGREE) printout for the 3 × 3 table below, reproduced in statsmodels'
# test suite (statsmodels/stats/tests/test_inter_rater.py, "comparison to printout of a SAS
# example"). SAS's ASE is the Fleiss, Cohen & Everitt (1969) large-sample standard error and
# its "weighted kappa" uses Cicchetti-Allison weights, i.e. linear weights by position.
SAS_TABLE = [[0, 4, 1], [0, 8, 0], [0, 1, 5]]


def test_simple_kappa_and_fce_standard_error_match_sas() -> None:
    """Simple kappa 0.4842, ASE 0.1380, 95% CL 0.2137-0.7547; H0: ASE 0.1484, Z 3.2626."""
    res = cohen_kappa(*_pairs_from_table(SAS_TABLE))
    assert res.kappa == pytest.approx(0.4842, abs=5e-5)
    assert res.se == pytest.approx(0.1380, abs=5e-5)
    assert res.ci_low == pytest.approx(0.2137, abs=5e-5)
    assert res.ci_high == pytest.approx(0.7547, abs=5e-5)
    assert res.se_null == pytest.approx(0.1484, abs=5e-5)
    assert res.z == pytest.approx(3.2626, abs=5e-5)
    assert res.p_value == pytest.approx(0.0011, abs=5e-5)


def test_weighted_kappa_and_fce_standard_error_match_sas() -> None:
    """Weighted kappa 0.4701, ASE 0.1457, 95% CL 0.1845-0.7558; H0: ASE 0.1426, Z 3.2971."""
    res = cohen_kappa(*_pairs_from_table(SAS_TABLE), weights="linear")
    assert res.kappa == pytest.approx(0.4701, abs=5e-5)
    assert res.se == pytest.approx(0.1457, abs=5e-5)
    assert res.ci_low == pytest.approx(0.1845, abs=5e-5)
    assert res.ci_high == pytest.approx(0.7558, abs=5e-5)
    assert res.se_null == pytest.approx(0.1426, abs=5e-5)
    assert res.z == pytest.approx(3.2971, abs=5e-5)
    assert res.p_value == pytest.approx(0.0010, abs=5e-5)


# --- Fleiss' kappa ----------------------------------------------------------------------

# Fleiss JL (1971), Psychol Bull 76:378-382, Table 1: 30 patients, 6 psychiatric diagnoses
# each, counts per category (depression, personality disorder, schizophrenia, neurosis,
# other). Published: kappa = .430. R irr::kappam.fleiss on the same data prints
# kappa = 0.4302445, z = 17.65183 (quoted in statsmodels' test suite), which uses the
# Fleiss, Nee & Landis (1979) null variance.
FLEISS_1971 = [
    [0, 0, 0, 6, 0], [0, 3, 0, 0, 3], [0, 1, 4, 0, 1], [0, 0, 0, 0, 6], [0, 3, 0, 3, 0],
    [2, 0, 4, 0, 0], [0, 0, 4, 0, 2], [2, 0, 3, 1, 0], [2, 0, 0, 4, 0], [0, 0, 0, 0, 6],
    [1, 0, 0, 5, 0], [1, 1, 0, 4, 0], [0, 3, 3, 0, 0], [1, 0, 0, 5, 0], [0, 2, 0, 3, 1],
    [0, 0, 5, 0, 1], [3, 0, 0, 1, 2], [5, 1, 0, 0, 0], [0, 2, 0, 4, 0], [1, 0, 2, 0, 3],
    [0, 0, 0, 0, 6], [0, 1, 0, 5, 0], [0, 2, 0, 1, 3], [2, 0, 0, 4, 0], [1, 0, 0, 4, 1],
    [0, 5, 0, 1, 0], [4, 0, 0, 0, 2], [0, 2, 0, 4, 0], [1, 0, 5, 0, 0], [0, 0, 0, 0, 6],
]  # fmt: skip
DIAGNOSES = ["depression", "personality disorder", "schizophrenia", "neurosis", "other"]


def test_fleiss_1971_psychiatric_diagnoses() -> None:
    """Fleiss (1971) Table 1: kappa = .430 (R irr: 0.4302445, z = 17.65183)."""
    ratings = [[DIAGNOSES[c] for c, m in enumerate(row) for _ in range(m)] for row in FLEISS_1971]
    res = fleiss_kappa(ratings, categories=DIAGNOSES)
    assert res.kappa == pytest.approx(0.430, abs=5e-4)
    assert res.kappa == pytest.approx(0.4302445, abs=5e-8)
    assert res.z == pytest.approx(17.65183, abs=5e-6)
    assert (res.n, res.n_raters, res.n_excluded) == (30, 6, 0)
    assert res.category_counts == (26, 26, 30, 55, 43)


# --- Gwet's AC1 / AC2 -------------------------------------------------------------------

# Gwet KL (2014), Handbook of Inter-Rater Reliability, 4th ed., pp. 55-56 (the same 12 units
# × 4 raters as Krippendorff's example below, categories a-e, missing ratings): p_a = 0.8182,
# p_e = 0.1903, AC1 = 0.7754; Fleiss' generalised kappa p_e = 0.2387, kappa = 0.7612.
# Values as quoted in jmgirard/agreement tests/testthat/test-categorical_unordered.R; AC1 =
# 0.7754 is also quoted for Gwet (2021, 5th ed., p. 160) by another R package's tests.
N = None
GWET_UNORDERED = [
    ["a", "a", N, "a"], ["b", "b", "c", "b"], ["c", "c", "c", "c"], ["c", "c", "c", "c"],
    ["b", "b", "b", "b"], ["a", "b", "c", "d"], ["d", "d", "d", "d"], ["a", "a", "b", "a"],
    ["b", "b", "b", "b"], [N, "e", "e", "e"], [N, N, "a", "a"], [N, N, "c", N],
]  # fmt: skip


def test_gwet_handbook_ac1_with_missing_ratings() -> None:
    """Gwet (2014) pp. 55-56: p_a 0.8182, p_e 0.1903, AC1 0.7754."""
    res = gwet_ac(GWET_UNORDERED)
    assert res.name == "AC1"
    assert res.observed == pytest.approx(0.8182, abs=5e-5)
    assert res.expected == pytest.approx(0.1903, abs=5e-5)
    assert res.ac == pytest.approx(0.7754, abs=5e-5)
    assert res.n_excluded == 7
    assert res.n_subjects_excluded == 1  # unit 12 has a single rating


def test_gwet_handbook_fleiss_generalised_kappa() -> None:
    """Gwet (2014) pp. 55-56: Fleiss' kappa with missing ratings, p_e 0.2387, kappa 0.7612."""
    res = fleiss_kappa(GWET_UNORDERED)
    assert res.observed == pytest.approx(0.8182, abs=5e-5)
    assert res.expected == pytest.approx(0.2387, abs=5e-5)
    assert res.kappa == pytest.approx(0.7612, abs=5e-5)


# Gwet (2014) pp. 89-90 / Gwet (2021, 5th ed.) p. 165: 20 units × 5 raters on an ordinal
# 0-3 scale with missing ratings. AC1 = 0.5021 and quadratic AC2 = 0.8224, as quoted by an
# R package's tests for Gwet (2021, p. 165); the data are also jmgirard/agreement's
# `ordered` data set (data-raw/ordered.R) for Gwet (2014) pp. 89-90.
GWET_ORDERED = [
    [1, 1, 2, N, 2], [1, 1, 0, 1, N], [2, 3, 3, 3, N], [N, 0, 0, N, 0], [0, 0, 0, N, 0],
    [0, 0, 0, N, 0], [1, 0, 2, N, 1], [1, N, 2, 0, N], [2, 2, 2, N, 2], [2, 1, 1, 1, N],
    [N, 1, 0, 0, N], [0, 0, 0, 0, N], [1, 2, 2, 2, N], [3, 3, 2, 2, 3], [1, 1, 1, N, 1],
    [1, 1, 1, N, 1], [2, 1, 2, N, 2], [1, 2, 3, 3, N], [1, 1, 0, 1, N], [0, 0, 0, N, 0],
]  # fmt: skip


def test_gwet_handbook_ac2_quadratic_on_ordinal_scale() -> None:
    """Gwet (2021) p. 165: AC1 0.5021, AC2 (quadratic weights) 0.8224."""
    assert gwet_ac(GWET_ORDERED).ac == pytest.approx(0.5021, abs=5e-5)
    ac2 = gwet_ac(GWET_ORDERED, weights="quadratic")
    assert ac2.name == "AC2"
    assert ac2.ac == pytest.approx(0.8224, abs=5e-5)


# --- Krippendorff's alpha ---------------------------------------------------------------

# Krippendorff K (2011), "Computing Krippendorff's alpha-reliability", example C (nominal
# data, any number of observers, missing data): 4 observers × 12 units, 40 pairable values.
# Published: nominal alpha = 0.743, ordinal 0.815, interval 0.849. Here as subjects × raters.
KRIPPENDORFF_2011 = [
    [1, 1, N, 1], [2, 2, 3, 2], [3, 3, 3, 3], [3, 3, 3, 3], [2, 2, 2, 2], [1, 2, 3, 4],
    [4, 4, 4, 4], [1, 1, 2, 1], [2, 2, 2, 2], [N, 5, 5, 5], [N, N, 1, 1], [N, 3, N, N],
]  # fmt: skip


@pytest.mark.parametrize(
    ("level", "published"), [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849)]
)
def test_krippendorff_reliability_data_example(level: str, published: float) -> None:
    """Krippendorff (2011): alpha 0.743 / 0.815 / 0.849 with n.. = 40 pairable values."""
    res = krippendorff_alpha(KRIPPENDORFF_2011, level=level)  # type: ignore[arg-type]
    assert res.alpha == pytest.approx(published, abs=5e-4)
    assert res.n_pairable == 40
    assert res.n_units == 11
    assert res.n_units_excluded == 1  # the last unit has one value: not pairable


# --- ICC --------------------------------------------------------------------------------

# Shrout PE, Fleiss JL (1979), Psychol Bull 86:420-428, Table 2: 6 targets × 4 judges, and
# the ICCs printed in the text. F ratios, df and 95% limits are those printed by R
# psych::ICC for the same table (as asserted in pingouin's tests/test_reliability.py).
SHROUT_FLEISS = [
    [9, 2, 5, 8],
    [6, 1, 3, 2],
    [8, 4, 6, 8],
    [7, 1, 2, 6],
    [10, 5, 6, 9],
    [6, 2, 4, 7],
]
SF_EXPECTED = {
    # name: (ICC, F, df2, lower, upper)
    "ICC(1,1)": (0.17, 1.8, 18, -0.13, 0.72),
    "ICC(2,1)": (0.29, 11.0, 15, 0.02, 0.76),
    "ICC(3,1)": (0.71, 11.0, 15, 0.34, 0.95),
    "ICC(1,k)": (0.44, 1.8, 18, -0.88, 0.91),
    "ICC(2,k)": (0.62, 11.0, 15, 0.07, 0.93),
    "ICC(3,k)": (0.91, 11.0, 15, 0.68, 0.99),
}


@pytest.mark.parametrize("name", list(SF_EXPECTED))
def test_shrout_fleiss_table_2(name: str) -> None:
    """Shrout & Fleiss (1979): .17 .29 .71 .44 .62 .91, with psych's F tests and limits."""
    value, f, df2, low, high = SF_EXPECTED[name]
    form = icc(SHROUT_FLEISS)[name]
    assert round(form.value, 2) == value
    assert round(form.f, 1) == f
    assert (form.df1, form.df2) == (5, df2)
    assert round(form.ci_low, 2) == low
    assert round(form.ci_high, 2) == high


def test_shrout_fleiss_mcgraw_wong_names_point_to_the_same_forms() -> None:
    """ICC(A,1) is ICC(2,1), ICC(C,k) is ICC(3,k) (McGraw & Wong 1996, Table 4)."""
    res = icc(SHROUT_FLEISS)
    assert res["ICC(A,1)"] is res["ICC(2,1)"]
    assert res["ICC(C,k)"] is res["ICC(3,k)"]
    assert res["ICC(k)"] is res["ICC(1,k)"]


# --- Bland-Altman -----------------------------------------------------------------------

# Bland JM, Altman DG (1986), Lancet 327:307-310, Table 1: PEFR (l/min) of 17 subjects,
# first reading by the Wright and the mini Wright meter. Published: mean difference -2.1,
# SD 38.8, limits of agreement -79.7 to 75.5 (mean ± 2 SD, from the rounded mean and SD),
# 95% CI of the lower limit -114.3 to -45.1 (as quoted by the R package presize's tests).
WRIGHT = [494, 395, 516, 434, 476, 557, 413, 442, 650, 433, 417, 656, 267, 478, 178, 423, 427]
MINI = [512, 430, 520, 428, 500, 600, 364, 380, 658, 445, 432, 626, 260, 477, 259, 350, 451]


def test_bland_altman_1986_pefr() -> None:
    """Bland & Altman (1986): bias -2.1, SD 38.8, limits -79.7 to 75.5 with 2 SD."""
    res = bland_altman(WRIGHT, MINI, multiplier=2.0)
    assert round(res.bias, 1) == -2.1
    assert round(res.sd, 1) == 38.8
    # The paper's limits are computed from the rounded bias and SD.
    assert round(round(res.bias, 1) - 2 * round(res.sd, 1), 1) == -79.7
    assert round(round(res.bias, 1) + 2 * round(res.sd, 1), 1) == 75.5
    assert res.loa_low == pytest.approx(-79.7, abs=0.1)
    assert res.loa_high == pytest.approx(75.5, abs=0.1)
    assert res.loa_low_ci[0] == pytest.approx(-114.3, abs=0.2)
    assert res.loa_low_ci[1] == pytest.approx(-45.1, abs=0.2)
