"""The public surface of myoscore.agreement: exports, input checking, bootstrap, edge paths."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

import myoscore.agreement as agreement
from myoscore.agreement import (
    cohen_kappa,
    fleiss_kappa,
    gwet_ac,
    icc,
    krippendorff_alpha,
)
from myoscore.domain import NOT_EVALUABLE, InvalidValue

PUBLIC = {
    "AlphaResult",
    "BlandAltmanResult",
    "FleissResult",
    "GwetResult",
    "ICCForm",
    "ICCResult",
    "KappaResult",
    "bland_altman",
    "cohen_kappa",
    "fleiss_kappa",
    "gwet_ac",
    "icc",
    "krippendorff_alpha",
    "percent_agreement",
}


def test_public_api_is_exactly_the_documented_names() -> None:
    """__all__ is explicit and complete; every export exists and has a docstring."""
    assert set(agreement.__all__) == PUBLIC
    for name in agreement.__all__:
        assert getattr(agreement, name).__doc__


def test_results_are_frozen() -> None:
    """A result cannot be edited after the fact (it may end up in a report)."""
    res = cohen_kappa([0, 1, 1, 0], [0, 1, 0, 0])
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.kappa = 1.0  # type: ignore[misc]


@pytest.mark.parametrize(
    ("r1", "r2", "categories"),
    [
        (["0", "1", "7"], ["0", "1", "1"], ["0", "1", "2"]),  # undeclared code
        ([0, 1, 2], [0, 1, 1], ["0", "1", "2"]),  # numbers against a coded scale
        (np.array([0, 1, 9]), np.array([0, 1, 1]), [0, 1, 2]),  # numeric fast path
        (np.array([0.0, 1.5, np.nan]), np.array([0.0, 1.0, 1.0]), [0, 1]),  # non-integral
    ],
)
def test_a_value_outside_the_declared_scale_is_an_invalid_value(r1, r2, categories) -> None:
    """InvalidValue names the offending value and the declared categories."""
    with pytest.raises(InvalidValue, match="not in the declared categories"):
        cohen_kappa(r1, r2, categories=categories)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: cohen_kappa([0, 1], [0]), "same subjects"),
        (lambda: cohen_kappa([0, 1], [0, 1], weights="cubic"), "weights"),  # type: ignore[arg-type]  # refused
        (lambda: cohen_kappa([0, 1], [0, 1], categories=[0, 0, 1]), "twice"),
        (lambda: cohen_kappa([0, 1], [0, 1], categories=[]), "empty"),
        (lambda: cohen_kappa([0, 1], [0, 1], categories=[0, None]), "missing marker"),
        (lambda: cohen_kappa([0, "a"], [0, 1]), "pass categories"),
        (lambda: cohen_kappa([0, 1], [0, 1], bootstrap=-1), "bootstrap"),
        (lambda: cohen_kappa([0, 1], [0, 1], confidence=95), "confidence"),
        (lambda: krippendorff_alpha([[1, 2]], level="ratio"), "level"),  # type: ignore[arg-type]
        (lambda: fleiss_kappa([1, 2, 3]), "subjects × raters"),
        (lambda: icc([[1, "x"], [2, 3]]), "not a number"),
    ],
)
def test_malformed_arguments_raise_value_error(call, message: str) -> None:
    """Programming errors are loud, unlike undefined statistics."""
    with pytest.raises(ValueError, match=message):
        call()


def test_continuous_scores_accept_not_evaluable_markers() -> None:
    """Bland-Altman and ICC take None, NaN and NOT_EVALUABLE alike and count them."""
    ba = agreement.bland_altman([10, 12, NOT_EVALUABLE, 9, None], [11, 12, 14, float("nan"), 8])
    assert (ba.n, ba.n_excluded) == (2, 3)
    assert icc([[1, NOT_EVALUABLE], [2, 3], [4, 5.5], [3, 3]]).n_excluded == 1


def test_perfect_agreement_has_zero_standard_error() -> None:
    """kappa = 1 exactly, SE 0, CI [1, 1]; the null SE is still positive."""
    res = cohen_kappa([0, 1, 2, 2, 1, 0], [0, 1, 2, 2, 1, 0], weights="quadratic")
    assert res.kappa == pytest.approx(1.0)
    assert res.se == pytest.approx(0.0, abs=1e-12)
    assert (res.ci_low, res.ci_high) == pytest.approx((1.0, 1.0))
    assert res.se_null > 0


def test_bootstrap_is_seeded_and_brackets_kappa() -> None:
    """Same seed, same interval; another seed, another; close to Wald for a large sample."""
    rng = np.random.default_rng(11)
    a = rng.integers(0, 6, 3000)
    b = np.clip(a + rng.integers(-1, 2, 3000), 0, 5)
    first = cohen_kappa(a, b, weights="linear", bootstrap=500, seed=42)
    again = cohen_kappa(a, b, weights="linear", bootstrap=500, seed=42)
    other = cohen_kappa(a, b, weights="linear", bootstrap=500, seed=43)
    assert (first.boot_ci_low, first.boot_ci_high) == (again.boot_ci_low, again.boot_ci_high)
    assert first.boot_ci_low != other.boot_ci_low
    assert first.boot_ci_low < first.kappa < first.boot_ci_high
    assert first.boot_ci_low == pytest.approx(first.ci_low, abs=0.01)
    assert first.boot_ci_high == pytest.approx(first.ci_high, abs=0.01)
    assert first.bootstrap == 500
    assert first.boot_undefined == 0
    assert math.isnan(cohen_kappa(a, b).boot_ci_low)  # not requested


def test_bootstrap_counts_undefined_replicates() -> None:
    """Resamples where one category fills the table are counted, not averaged in."""
    res = cohen_kappa([0, 0, 0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0, 0, 1], bootstrap=400, seed=1)
    assert 0 < res.boot_undefined < 400
    assert res.boot_ci_high == pytest.approx(1.0)


def test_categories_default_to_every_value_given_on_every_code_path() -> None:
    """A value seen only in an excluded pair is still an observed category (arrays and lists)."""
    a = np.array([0, 1, 2, np.nan, 1])
    b = np.array([0, 1, np.nan, 5, 1])
    from_arrays = cohen_kappa(a, b)
    from_lists = cohen_kappa([0, 1, 2, None, 1], [0, 1, None, 5, 1])
    assert from_arrays.categories == from_lists.categories == (0, 1, 2, 5)
    assert from_arrays.confusion == from_lists.confusion
    assert from_arrays.n_excluded == from_lists.n_excluded == 2


def test_fractional_scores_are_categories_too() -> None:
    """Half grades (consensus means such as 2.5) code by value on the sorted path."""
    res = cohen_kappa(np.array([0.0, 0.5, 1.0, 0.5]), np.array([0.0, 0.5, 0.5, 0.5]))
    assert res.categories == (0.0, 0.5, 1.0)
    assert res.confusion == ((1, 0, 0), (0, 2, 0), (0, 1, 0))


def test_multi_rater_functions_accept_codes_and_not_evaluable_markers() -> None:
    """String level codes with NOT_EVALUABLE in a subjects × raters matrix."""
    ne = NOT_EVALUABLE
    table = [["0", "1", "1"], ["2a", "2a", ne], ["2b", "2a", "2b"], ["0", "0", "0"], [ne, ne, "1"]]
    scale = ["0", "1", "2a", "2b"]
    res = fleiss_kappa(table, categories=scale)
    assert (res.n, res.n_excluded, res.n_subjects_excluded) == (4, 3, 1)
    assert res.category_counts == (4, 3, 3, 2)
    ac2 = gwet_ac(table, categories=scale, weights="linear")
    assert ac2.n == 4
    assert not math.isnan(ac2.ac)
    # Interval alpha on codes uses positions in the declared scale.
    positions = [[None if c == ne else scale.index(c) for c in row] for row in table]
    assert krippendorff_alpha(table, "interval", scale).alpha == pytest.approx(
        krippendorff_alpha(positions, "interval").alpha
    )


def test_declared_categories_change_gwet_chance_agreement() -> None:
    """AC1's chance agreement divides by q - 1: unused declared levels count."""
    table = [[0, 0], [0, 1], [1, 1], [0, 0], [1, 1]]
    assert gwet_ac(table).expected != pytest.approx(gwet_ac(table, categories=[0, 1, 2]).expected)


def test_icc_with_perfect_consistency_has_no_division_warning() -> None:
    """A constant rater offset: consistency ICCs are 1 with CI [1, 1], agreement ICCs < 1."""
    res = icc([[1, 2], [2, 3], [3, 4], [5, 6]])
    c1 = res["ICC(C,1)"]
    assert c1.value == pytest.approx(1.0)
    assert (c1.ci_low, c1.ci_high) == (1.0, 1.0)
    assert math.isinf(c1.f)
    assert c1.p_value == 0.0
    a1 = res["ICC(A,1)"]
    assert 0 < a1.value < 1
    assert a1.ci_low < a1.value < a1.ci_high
    assert res["icc2"] is a1
    with pytest.raises(KeyError, match="not an ICC form"):
        res["ICC(4,1)"]


def test_icc_without_subject_or_residual_variance_reports_undefined_forms() -> None:
    """Every subject rated alike, raters offset: F is 0/0 (NaN), consistency forms undefined."""
    res = icc([[1, 2], [1, 2], [1, 2]])
    assert res.reason is None
    c1 = res["ICC(3,1)"]
    assert math.isnan(c1.value)
    assert math.isnan(c1.f)
    assert c1.reason is not None
    assert res["ICC(1,1)"].value == pytest.approx(-1.0)
    assert res["ICC(2,1)"].value == pytest.approx(0.0)
