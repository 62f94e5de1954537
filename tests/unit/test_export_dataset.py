"""The export dataset: built from the shipped protocols, checked on construction."""

from __future__ import annotations

import pytest

from myoscore.app.schemes import protocol
from myoscore.domain import InvalidValue, NotFound
from myoscore.export import (
    CONSENSUS,
    AgreementRow,
    DerivedRow,
    ExamInfo,
    ExportDataset,
    RatingRow,
)
from myoscore.schemes import Protocol
from tests.unit.export_data import FRACTIONAL_KEY, NE_KEY, READER_A, READER_B, ZERO_KEY, imnm_dataset, nxp2_dataset


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
