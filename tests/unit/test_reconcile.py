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
    """Mean: 2 and 3 → 2.5 (not rounded; code None as 2.5 is no level); 4 and 4 → 4 with
    its code; NE and NE → NE."""
    result = reconcile_mean(nxp2, READS)
    values = decided(result)
    assert values["edema.thigh.anterior.R"] == (None, 2.5)
    assert values["edema.thigh.anterior.L"] == ("4", 4.0)
    assert values["edema.thigh.medial.L"] == ("NE", None)
    methods = {v.item_key: v.method for v in result.decided}
    assert methods.pop("edema_pattern.calf") is ConsensusMethod.REVIEW  # nominal: never "mean"
    assert set(methods.values()) == {ConsensusMethod.MEAN}
    mean = next(v for v in result.decided if v.item_key == "edema.thigh.anterior.R")
    assert dict(mean.sources) == {"A": "2", "B": "3"}


def test_mean_leaves_ne_against_value_and_nominal_discordant(nxp2: Protocol) -> None:
    """NE against 1 has no mean, nor do patchy and diffuse: both need review, as does an
    item one reader left unscored. None of them gets a consensus value."""
    result = reconcile_mean(nxp2, READS)
    left = {d.item_key: d for d in result.discordant}
    assert set(left) == {"edema.thigh.medial.R", "edema_pattern.thigh", "fat.calf.lateral.R",
                         "subcutaneous_edema.thigh.anterior.R"}
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


def test_mean_never_averages_present_absent(nxp2: Protocol) -> None:
    """Issue 10: a discordant present/absent pair (subcutaneous edema 1 vs 0) goes to review
    under the study-wide mean and under the protocol's own policy; it never becomes 0.5."""
    for policy in (ConsensusMethod.MEAN, None):
        result = reconcile(nxp2, READS, policy)
        assert "subcutaneous_edema.thigh.anterior.R" not in decided(result)
        assert "subcutaneous_edema.thigh.anterior.R" in {d.item_key for d in result.discordant}
        assert all(v.value in (None, 0.0, 1.0) for v in result.decided if v.item_key.startswith("subcutaneous"))


def test_protocol_policy_averages_only_muscle_edema(nxp2: Protocol) -> None:
    """Seed 000's protocol: edema 2 vs 3 → 2.5 (mean); Fischer 1 vs 2 waits for review
    (never 1.5); concordant items carry their measure's method."""
    reads = {"A": {**A, "fat.thigh.anterior.R": "1"}, "B": {**B, "fat.thigh.anterior.R": "2"}}
    result = reconcile(nxp2, reads)
    values = decided(result)
    assert values["edema.thigh.anterior.R"] == (None, 2.5)
    assert "fat.thigh.anterior.R" not in values
    assert {d.item_key for d in result.discordant} >= {"fat.thigh.anterior.R", "subcutaneous_edema.thigh.anterior.R"}
    methods = {v.item_key: v.method for v in result.decided}
    assert methods["edema.thigh.anterior.L"] is ConsensusMethod.MEAN
    assert methods["edema_pattern.calf"] is ConsensusMethod.REVIEW
    assert result.policy is None


def test_seed_004_protocol_reviews_every_muscle(imnm: Protocol) -> None:
    """Seed 004: STIR 0 vs 1 and Fischer 1 vs 3 both wait for joint review."""
    reads = {"A": {"stir.thigh.anterior.rectus_femoris.R": "0", "t1.thigh.anterior.rectus_femoris.R": "1"},
             "B": {"stir.thigh.anterior.rectus_femoris.R": "1", "t1.thigh.anterior.rectus_femoris.R": "3"}}
    keys = [k for k in imnm.item_keys if k.endswith("rectus_femoris.R")]
    reads = {r: {keys[i]: code for i, code in enumerate(codes.values())} for r, codes in reads.items()}
    result = reconcile(imnm, reads)
    assert not result.decided
    assert len(result.discordant) == 2


def test_any_and_both_positive_on_binary(nxp2: Protocol) -> None:
    """any_positive: 1 vs 0 → 1 (code kept); both_positive: 1 vs 0 → 0; on an ordinal item
    they do not apply and the item is reviewed."""
    key = "subcutaneous_edema.thigh.anterior.R"
    anyp = decided(reconcile(nxp2, READS, ConsensusMethod.ANY_POSITIVE))
    bothp = decided(reconcile(nxp2, READS, ConsensusMethod.BOTH_POSITIVE))
    assert anyp[key] == ("1", 1.0)
    assert bothp[key] == ("0", 0.0)
    assert "edema.thigh.anterior.R" not in anyp
