"""Reconciliation policies on small hand-made reads of one exam."""

from __future__ import annotations

import pytest

from myoscore.domain import ConsensusMethod, InvalidValue, MyoscoreError
from myoscore.schemes import Protocol
from myoscore.scores import DiscordanceKind, compare, reconcile, reconcile_adjudicator, reconcile_mean, reconcile_review

A = {
    "edema.thigh.anterior.R": "2",  # B says 3: ordinal, different
    "edema.thigh.anterior.L": "4",  # B says 4: equal
    "edema.thigh.medial.R": "NE",  # B says 1: not evaluable against a value
    "edema.thigh.medial.L": "NE",  # B says NE: equal
    "fat.calf.lateral.R": "0",  # B did not score it
    "subcutaneous_edema.thigh.anterior.R": "1",  # B says 0: binary, different
    "edema_pattern.thigh": "patchy",  # B says diffuse: nominal, different
    "edema_pattern.calf": "mixed",  # B says mixed: equal
}
B = {
    "edema.thigh.anterior.R": "3",
    "edema.thigh.anterior.L": "4",
    "edema.thigh.medial.R": "1",
    "edema.thigh.medial.L": "NE",
    "subcutaneous_edema.thigh.anterior.R": "0",
    "edema_pattern.thigh": "diffuse",
    "edema_pattern.calf": "mixed",
}
READS = {"A": A, "B": B}


def decided(result) -> dict[str, tuple[str | None, float | None]]:
    return {v.item_key: (v.code, v.value) for v in result.decided}


def test_compare_classifies_every_difference(nxp2: Protocol) -> None:
    """Equal codes (NE = NE included) are concordant; each other pair gets its kind."""
    concordant, discordant, unscored = compare(nxp2, READS)
    assert set(concordant) == {"edema.thigh.anterior.L", "edema.thigh.medial.L", "edema_pattern.calf"}
    kinds = {d.item_key: d.kind for d in discordant}
    assert kinds == {
        "edema.thigh.anterior.R": DiscordanceKind.VALUES,
        "edema.thigh.medial.R": DiscordanceKind.NOT_EVALUABLE,
        "fat.calf.lateral.R": DiscordanceKind.UNSCORED,
        "subcutaneous_edema.thigh.anterior.R": DiscordanceKind.VALUES,
        "edema_pattern.thigh": DiscordanceKind.NOMINAL,
    }
    assert unscored == len(nxp2.items) - 8


def test_mean_keeps_fractions(nxp2: Protocol) -> None:
    """Mean: 2 and 3 → 2.5 (not rounded; code None as 2.5 is no level); 1 and 0 → 0.5;
    4 and 4 → 4 with its code; NE and NE → NE."""
    result = reconcile_mean(nxp2, READS)
    values = decided(result)
    assert values["edema.thigh.anterior.R"] == (None, 2.5)
    assert values["subcutaneous_edema.thigh.anterior.R"] == (None, 0.5)
    assert values["edema.thigh.anterior.L"] == ("4", 4.0)
    assert values["edema.thigh.medial.L"] == ("NE", None)
    assert all(v.method is ConsensusMethod.MEAN for v in result.decided)
    mean = next(v for v in result.decided if v.item_key == "edema.thigh.anterior.R")
    assert dict(mean.sources) == {"A": "2", "B": "3"}


def test_mean_leaves_ne_against_value_and_nominal_discordant(nxp2: Protocol) -> None:
    """NE against 1 has no mean, nor do patchy and diffuse: both need review, as does an
    item one reader left unscored. None of them gets a consensus value."""
    result = reconcile_mean(nxp2, READS)
    left = {d.item_key: d for d in result.discordant}
    assert set(left) == {"edema.thigh.medial.R", "edema_pattern.thigh", "fat.calf.lateral.R"}
    assert dict(left["edema.thigh.medial.R"].codes) == {"A": "NE", "B": "1"}
    assert dict(left["edema.thigh.medial.R"].values) == {"A": None, "B": 1.0}
    assert dict(left["fat.calf.lateral.R"].codes) == {"A": "0", "B": None}
    assert not set(left) & set(decided(result))


def test_nominal_equal_codes_are_taken(nxp2: Protocol) -> None:
    """Two equal nominal codes need no review, under every policy."""
    for policy in (ConsensusMethod.MEAN, ConsensusMethod.REVIEW):
        assert decided(reconcile(nxp2, READS, policy))["edema_pattern.calf"] == ("mixed", None)


def test_review_takes_concordant_and_lists_the_rest(nxp2: Protocol) -> None:
    """Review: the three concordant items are taken; all five discordant ones (including
    2 vs 3, which mean would average) wait for a decision."""
    result = reconcile_review(nxp2, READS)
    assert set(decided(result)) == {"edema.thigh.anterior.L", "edema.thigh.medial.L", "edema_pattern.calf"}
    assert len(result.discordant) == 5
    assert all(v.method is ConsensusMethod.REVIEW for v in result.decided)


def test_review_decisions_decide_discordant_items(nxp2: Protocol) -> None:
    """A decision gives the agreed code and its number; undecided items stay listed; a code
    outside the scale is refused."""
    result = reconcile_review(nxp2, READS, {"edema.thigh.anterior.R": "3", "edema_pattern.thigh": "diffuse",
                                            "edema.thigh.medial.R": "NE"})
    values = decided(result)
    assert values["edema.thigh.anterior.R"] == ("3", 3.0)
    assert values["edema_pattern.thigh"] == ("diffuse", None)
    assert values["edema.thigh.medial.R"] == ("NE", None)
    assert {d.item_key for d in result.discordant} == {"fat.calf.lateral.R", "subcutaneous_edema.thigh.anterior.R"}
    with pytest.raises(InvalidValue, match="not a level of edema_0_5"):
        reconcile_review(nxp2, READS, {"edema.thigh.anterior.R": "2.5"})


def test_adjudicator_decides_only_discordant_items(nxp2: Protocol) -> None:
    """C's codes decide each discordant item C scored; C's codes on concordant items are
    not asked (4 stays 4 although C says 0); an item C did not score stays discordant."""
    c = {"edema.thigh.anterior.R": "3", "edema.thigh.anterior.L": "0", "edema.thigh.medial.R": "1",
         "edema_pattern.thigh": "patchy", "subcutaneous_edema.thigh.anterior.R": "1"}
    result = reconcile_adjudicator(nxp2, READS, "C", c)
    values = decided(result)
    assert values["edema.thigh.anterior.R"] == ("3", 3.0)
    assert values["edema.thigh.anterior.L"] == ("4", 4.0)
    assert values["edema.thigh.medial.R"] == ("1", 1.0)
    assert values["edema_pattern.thigh"] == ("patchy", None)
    assert [d.item_key for d in result.discordant] == ["fat.calf.lateral.R"]
    adjudicated = next(v for v in result.decided if v.item_key == "edema.thigh.anterior.R")
    assert dict(adjudicated.sources) == {"A": "2", "B": "3", "C": "3"}
    assert all(v.method is ConsensusMethod.ADJUDICATOR for v in result.decided)


def test_adjudicator_must_be_a_third_reader(nxp2: Protocol) -> None:
    """The adjudicator cannot be one of the two readers, and the policy needs one."""
    with pytest.raises(MyoscoreError, match="one of the two readers"):
        reconcile_adjudicator(nxp2, READS, "A", A)
    with pytest.raises(MyoscoreError, match="third reader"):
        reconcile(nxp2, READS, "adjudicator")


def test_readers_codes_are_not_changed(nxp2: Protocol) -> None:
    """Reconciliation reads the readers' codes and never writes to them."""
    before = (dict(A), dict(B))
    for policy in ConsensusMethod:
        reconcile(nxp2, READS, policy, adjudicator="C", adjudicator_codes={"edema.thigh.anterior.R": "3"})
    assert before == (A, B)
