"""The export dataset: built from the shipped protocols, checked on construction.

The builders here are shared by the other ``test_export_*`` modules (imported by name).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pytest

from myoscore.agreement import cohen_kappa
from myoscore.app.schemes import protocol
from myoscore.domain import NOT_EVALUABLE, InvalidValue, NotFound
from myoscore.export import (
    CONSENSUS,
    AgreementRow,
    DerivedRow,
    ExamInfo,
    ExportDataset,
    RatingRow,
    derived_for,
    rating_rows,
    reader_source,
)
from myoscore.schemes import Protocol, ScaleKind
from myoscore.scores import reconcile_mean

READER_A, READER_B = reader_source("A"), reader_source("B")
#: Known cells of the seed 000 dataset (subject S-101, baseline).
FRACTIONAL_KEY = "edema.thigh.anterior.R"  # A 2, B 3 → consensus 2.5
NE_KEY = "edema.thigh.medial.R"  # NE from both readers and in consensus
ZERO_KEY = "edema.thigh.posterior.R"  # 0 from both readers


def random_codes(proto: Protocol, seed: int, ne_share: float = 0.05) -> dict[str, str]:
    """A plausible read: every item a level of its scale, a few not evaluable."""
    rng = np.random.default_rng(seed)
    codes = {}
    for item in proto.items:
        scale = proto.scales[item.scale]
        codes[item.key] = NOT_EVALUABLE if rng.random() < ne_share else str(rng.choice(scale.codes))
    return codes


def second_reader(proto: Protocol, first: Mapping[str, str], seed: int) -> dict[str, str]:
    """Another reader who mostly agrees: 80% the same code, else a neighbouring level."""
    rng = np.random.default_rng(seed)
    codes = {}
    for key, code in first.items():
        scale = proto.scale_of(key)
        if code == NOT_EVALUABLE or rng.random() < 0.8:
            codes[key] = code
        else:
            position = scale.codes.index(code)
            step = 1 if position == 0 else -1 if position == len(scale.codes) - 1 else int(rng.choice([-1, 1]))
            codes[key] = scale.codes[position + step]
    return codes


def mean_consensus(proto: Protocol, a: Mapping[str, str], b: Mapping[str, str]) -> dict[str, str | float]:
    """Seed 000's policy: the mean of the two readers (fractional where they differ);
    what the mean cannot decide (nominal, NE against a value) takes reader A's code."""
    result = reconcile_mean(proto, {"A": a, "B": b})
    out: dict[str, str | float] = {d.item_key: a[d.item_key] for d in result.discordant}
    for value in result.decided:
        out[value.item_key] = value.code if value.code is not None else float(value.value)
    return out


def agreement(proto: Protocol, pairs: list[tuple[Mapping[str, str], Mapping[str, str]]]) -> tuple[AgreementRow, ...]:
    """One row per indicator (all regions), computed with :func:`cohen_kappa`."""
    rows = []
    for indicator in dict.fromkeys(item.indicator for item in proto.items):
        items = [item for item in proto.items if item.indicator == indicator]
        scale = proto.scales[items[0].scale]
        first = [a[item.key] for a, _ in pairs for item in items]
        second = [b[item.key] for _, b in pairs for item in items]
        plain = cohen_kappa(first, second, categories=scale.codes)
        weighted = (cohen_kappa(first, second, categories=scale.codes, weights="linear")
                    if scale.kind is ScaleKind.ORDINAL else None)
        n_ne = sum(NOT_EVALUABLE in pair for pair in zip(first, second, strict=True))
        rows.append(AgreementRow(indicator, None, plain.n, n_ne, plain.percent_agreement, plain.kappa,
                                 None if weighted is None else weighted.kappa, plain.ci_low, plain.ci_high,
                                 label=indicator))
    rows.append(AgreementRow("Undefined example", "calf", 0, 3, math.nan, math.nan, None, math.nan, math.nan,
                             reason="no pair compared"))
    return tuple(rows)


def nxp2_dataset() -> ExportDataset:
    """Seed 000: three subjects (one with a follow-up), readers A and B, mean consensus."""
    proto = protocol("nxp2_lower_limb")
    exams = (
        ExamInfo(1, "S-101", "baseline", 1, months_from_onset=3.0, treated=False),
        ExamInfo(2, "S-101", "follow-up", 2, months_from_onset=15.5, treated=True),
        ExamInfo(3, "S-102", "baseline", 1, months_from_onset=40.0, treated=True),
        ExamInfo(4, "S-103", "baseline", 1),
    )
    ratings: list[RatingRow] = []
    pairs = []
    for exam in exams:
        a = random_codes(proto, exam.exam_id)
        b = second_reader(proto, a, 100 + exam.exam_id)
        if exam.exam_id == 1:
            a.update({FRACTIONAL_KEY: "2", NE_KEY: NOT_EVALUABLE, ZERO_KEY: "0"})
            b.update({FRACTIONAL_KEY: "3", NE_KEY: NOT_EVALUABLE, ZERO_KEY: "0"})
        if exam.exam_id == 4:  # reader B left two items unscored
            del b["fat.calf.lateral.L"], b["edema_pattern.calf"]
        pairs.append((a, b))
        ratings += rating_rows(proto, exam.exam_id, READER_A, a)
        ratings += rating_rows(proto, exam.exam_id, READER_B, b)
        ratings += rating_rows(proto, exam.exam_id, CONSENSUS, mean_consensus(proto, a, b))
    return ExportDataset(proto, exams, tuple(ratings), derived_for(proto, ratings),
                         agreement(proto, pairs[:3]), groups={"S-101": "EARLY", "S-102": "EARLY", "S-103": "LATE"})


def imnm_dataset() -> ExportDataset:
    """Seed 004: three subjects, two with a follow-up; T1 missing for one whole exam."""
    proto = protocol("imnm_whole_body")
    exams = (
        ExamInfo(11, "P-01", "first MRI", 1, months_from_onset=2.0, treated=False),
        ExamInfo(12, "P-01", "last MRI", 2, months_from_onset=13.0, treated=True),
        ExamInfo(13, "P-02", "first MRI", 1, months_from_onset=60.0, treated=True),
        ExamInfo(14, "P-02", "second MRI", 2, months_from_onset=70.0, treated=True),
        ExamInfo(15, "P-02", "last MRI", 3, months_from_onset=84.0, treated=True),
        ExamInfo(16, "P-03", "first MRI", 1, months_from_onset=6.0, treated=False),
    )
    ratings: list[RatingRow] = []
    for exam in exams:
        a = random_codes(proto, 50 + exam.exam_id, ne_share=0.02)
        if exam.exam_id == 13:  # no T1 series in this exam (seed 004: "MRI study did not include ...")
            a.update({item.key: NOT_EVALUABLE for item in proto.items if item.measure == "t1"})
        b = second_reader(proto, a, 150 + exam.exam_id)
        ratings += rating_rows(proto, exam.exam_id, READER_A, a)
        ratings += rating_rows(proto, exam.exam_id, READER_B, b)
        ratings += rating_rows(proto, exam.exam_id, CONSENSUS, a)  # joint review agreed with A
    return ExportDataset(proto, exams, tuple(ratings), derived_for(proto, ratings),
                         groups={"P-01": "EARLY-BT", "P-02": "LATE", "P-03": "EARLY-UT"})


# -- tests -----------------------------------------------------------------------------------------
def test_builders_give_the_known_cells() -> None:
    """Consensus of S-101 baseline: 2 and 3 → 2.5 without a code; NE stays NE; 0 stays 0."""
    data = nxp2_dataset()
    consensus = data.ratings_of(1, CONSENSUS)
    assert (consensus[FRACTIONAL_KEY].code, consensus[FRACTIONAL_KEY].value) == (None, 2.5)
    assert consensus[NE_KEY].not_evaluable
    assert consensus[NE_KEY].value is None
    assert (consensus[ZERO_KEY].code, consensus[ZERO_KEY].value) == ("0", 0.0)
    assert data.sources == (READER_A, READER_B, CONSENSUS)
    assert "fat.calf.lateral.L" not in data.ratings_of(4, READER_B)


def test_derived_rows_follow_the_ratings() -> None:
    """edema_thigh_R of S-101 baseline consensus = 2.5 + (NE) + 0 with 2 of 3 evaluated."""
    data = nxp2_dataset()
    row = data.derived_of(1, CONSENSUS)["edema_thigh_R"]
    assert (row.value, row.n_evaluated) == (2.5, 2)


def test_exam_sources_are_ordered() -> None:
    """Rows come by subject, exam order, then readers by name and consensus last."""
    data = imnm_dataset()
    pairs = [(exam.subject, exam.order, source) for exam, source in data.exam_sources()]
    assert pairs[:4] == [("P-01", 1, READER_A), ("P-01", 1, READER_B), ("P-01", 1, CONSENSUS),
                         ("P-01", 2, READER_A)]
    assert len(pairs) == 6 * 3


def test_dataset_refuses_a_code_outside_the_scale(nxp2: Protocol) -> None:
    """A 6 on the 0–5 edema scale names the item, exam and source."""
    with pytest.raises(InvalidValue, match=r"edema\.thigh\.anterior\.R.*exam 1.*'6'"):
        ExportDataset(nxp2, (ExamInfo(1, "S", "baseline"),), (RatingRow(1, "edema.thigh.anterior.R", CONSENSUS, "6"),))


def test_dataset_refuses_a_value_that_is_not_the_code_s(nxp2: Protocol) -> None:
    """Code 2 carries the value 2, not 3; NE carries no value."""
    with pytest.raises(InvalidValue, match="has value 2"):
        ExportDataset(nxp2, (ExamInfo(1, "S", "b"),), (RatingRow(1, "edema.thigh.anterior.R", CONSENSUS, "2", 3.0),))
    with pytest.raises(InvalidValue, match="has value None"):
        ExportDataset(nxp2, (ExamInfo(1, "S", "b"),), (RatingRow(1, "edema.thigh.anterior.R", CONSENSUS, "NE", 0.0),))


def test_dataset_refuses_a_mean_on_a_nominal_item_or_out_of_range(nxp2: Protocol) -> None:
    """A fractional mean needs a numeric scale and must lie inside it."""
    exams = (ExamInfo(1, "S", "b"),)
    with pytest.raises(InvalidValue, match="numeric scale"):
        ExportDataset(nxp2, exams, (RatingRow(1, "edema_pattern.thigh", CONSENSUS, None, 1.5),))
    with pytest.raises(InvalidValue, match="outside"):
        ExportDataset(nxp2, exams, (RatingRow(1, "edema.thigh.anterior.R", CONSENSUS, None, 5.5),))


def test_dataset_refuses_unknown_exam_item_score_and_source(nxp2: Protocol) -> None:
    """Every reference is checked; the message names what is missing."""
    exams = (ExamInfo(1, "S", "b"),)
    with pytest.raises(NotFound, match="no exam with id 2"):
        ExportDataset(nxp2, exams, (RatingRow(2, "edema.thigh.anterior.R", CONSENSUS, "1", 1.0),))
    with pytest.raises(NotFound, match=r"no item 'edema\.knee\.R'"):
        ExportDataset(nxp2, exams, (RatingRow(1, "edema.knee.R", CONSENSUS, "1", 1.0),))
    with pytest.raises(NotFound, match="no derived score 'stir_pct_lb'"):
        ExportDataset(nxp2, exams, derived=(DerivedRow(1, CONSENSUS, "stir_pct_lb", 1.0, 1),))
    with pytest.raises(InvalidValue, match="neither"):
        ExportDataset(nxp2, exams, (RatingRow(1, "edema.thigh.anterior.R", "A", "1", 1.0),))


def test_dataset_refuses_duplicates(nxp2: Protocol) -> None:
    """One row per exam × item × source, distinct exam orders per subject."""
    row = RatingRow(1, "edema.thigh.anterior.R", CONSENSUS, "1", 1.0)
    with pytest.raises(InvalidValue, match="appears twice"):
        ExportDataset(nxp2, (ExamInfo(1, "S", "b"),), (row, row))
    with pytest.raises(InvalidValue, match="distinct orders"):
        ExportDataset(nxp2, (ExamInfo(1, "S", "b", 1), ExamInfo(2, "S", "c", 1)))


def test_dataset_has_no_field_for_identity() -> None:
    """Pseudonymous by construction: no name, PatientID, birth date, exam date or path field."""
    from dataclasses import fields

    assert [f.name for f in fields(ExamInfo)] == ["exam_id", "subject", "label", "order", "months_from_onset",
                                                  "treated"]
    names = {f.name for cls in (RatingRow, DerivedRow, AgreementRow, ExportDataset) for f in fields(cls)}
    for forbidden in ("patient_name", "patient_id", "birth_date", "exam_date", "date", "path", "files"):
        assert forbidden not in names


def test_dataset_is_frozen_and_copies_groups() -> None:
    """Changing the caller's group mapping afterwards changes nothing in the dataset."""
    groups = {"S-101": "EARLY"}
    data = ExportDataset(protocol("nxp2_lower_limb"), (ExamInfo(1, "S-101", "b"),), groups=groups)
    groups["S-101"] = "LATE"
    assert data.group_of("S-101") == "EARLY"
    with pytest.raises(AttributeError):
        data.exams = ()  # type: ignore[misc]
