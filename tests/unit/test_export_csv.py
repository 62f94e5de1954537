"""Tidy and wide CSV: read back with the csv module and checked cell by cell."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from myoscore.export import CONSENSUS, ExamInfo, ExportDataset, spss_names, wide_names, write_tidy_csv, write_wide_csv
from myoscore.schemes import Protocol
from tests.unit.export_data import (
    FRACTIONAL_KEY,
    NE_KEY,
    READER_A,
    READER_B,
    ZERO_KEY,
    imnm_dataset,
    nxp2_dataset,
)


def read(path: Path) -> list[dict[str, str]]:
    raw = path.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf"), "no byte-order mark"
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


# -- tidy ------------------------------------------------------------------------------------------
def test_tidy_has_one_row_per_subject_exam_item_source(tmp_path: Path) -> None:
    """4 exams × 3 sources × 50 items = 600 rows, every item in every (exam, source)."""
    data = nxp2_dataset()
    path, *beside = write_tidy_csv(data, tmp_path)
    assert path.name == "nxp2_lower_limb_ratings_tidy.csv"
    assert {p.name for p in beside} >= {"nxp2_lower_limb_derived_tidy.csv", "nxp2_lower_limb_frequencies.csv"}
    rows = read(path)
    assert len(rows) == 4 * 3 * len(data.protocol.items) == 600
    keys = {(r["subject"], r["exam_order"], r["source"], r["item_key"]) for r in rows}
    assert len(keys) == 600
    assert list(rows[0]) == ["subject", "group", "timepoint", "exam_order", "months_from_onset", "treated", "source",
                             "item_key", "measure", "indicator", "sequence", "region", "compartment", "unit",
                             "unit_name", "unit_level", "side", "scale", "code", "value", "not_evaluable", "status"]


def test_tidy_known_cells(tmp_path: Path) -> None:
    """2.5 is written 2.5 with no code; NE has an empty value and flag 1; 0 is a 0 with flag 0."""
    rows = read(write_tidy_csv(nxp2_dataset(), tmp_path / "tidy.csv")[0])
    by = {(r["subject"], r["exam_order"], r["source"], r["item_key"]): r for r in rows}
    mean = by["S-101", "1", CONSENSUS, FRACTIONAL_KEY]
    assert (mean["code"], mean["value"], mean["not_evaluable"], mean["status"]) == ("", "2.5", "0", "mean")
    assert (by["S-101", "1", READER_A, FRACTIONAL_KEY]["value"], by["S-101", "1", READER_B, FRACTIONAL_KEY]["value"]) \
        == ("2", "3")
    ne = by["S-101", "1", CONSENSUS, NE_KEY]
    assert (ne["code"], ne["value"], ne["not_evaluable"], ne["status"]) == ("NE", "", "1", "not_evaluable")
    zero = by["S-101", "1", CONSENSUS, ZERO_KEY]
    assert (zero["code"], zero["value"], zero["not_evaluable"], zero["status"]) == ("0", "0", "0", "level")
    assert (mean["measure"], mean["region"], mean["unit"], mean["side"], mean["scale"], mean["sequence"]) == (
        "edema", "thigh", "thigh.anterior", "R", "edema_0_5", "STIR")
    assert (mean["group"], mean["timepoint"], mean["months_from_onset"], mean["treated"]) == ("EARLY", "baseline",
                                                                                             "3", "0")


def test_tidy_unscored_and_nominal(tmp_path: Path) -> None:
    """An item reader B skipped is an unscored row; a nominal code has no value."""
    rows = read(write_tidy_csv(nxp2_dataset(), tmp_path)[0])
    by = {(r["subject"], r["source"], r["item_key"]): r for r in rows if r["exam_order"] == "1"}
    skipped = by["S-103", READER_B, "fat.calf.lateral.L"]
    assert (skipped["code"], skipped["value"], skipped["not_evaluable"], skipped["status"]) == ("", "", "0",
                                                                                               "unscored")
    pattern = by["S-101", READER_A, "edema_pattern.thigh"]
    assert pattern["code"] in {"none", "patchy", "diffuse", "mixed"}
    assert pattern["value"] == ""
    assert pattern["side"] == ""
    assert pattern["compartment"] == ""


def test_tidy_without_groups_or_clinical_fields_has_no_such_columns(tmp_path: Path, nxp2: Protocol) -> None:
    """Columns the coordinator did not export are absent, not empty."""
    data = ExportDataset(nxp2, (ExamInfo(1, "S-9", "baseline"),))
    path = write_tidy_csv(data, tmp_path)[0]
    header = path.read_text(encoding="utf-8").splitlines()[0].split(",")
    assert header[:3] == ["subject", "timepoint", "exam_order"]
    assert not {"group", "months_from_onset", "treated"} & set(header)


# -- wide ------------------------------------------------------------------------------------------
SPSS_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")


@pytest.mark.parametrize("build", [nxp2_dataset, imnm_dataset])
def test_wide_column_names_are_legal_in_spss(tmp_path: Path, build) -> None:
    """Letters, digits, underscore; ≤ 64; starting with a letter; unique ignoring case; no reserved word."""
    path = write_wide_csv(build(), tmp_path)[0]
    header = read(path)[0].keys()
    assert all(SPSS_NAME.match(name) for name in header), [n for n in header if not SPSS_NAME.match(n)]
    assert len({name.upper() for name in header}) == len(header)
    assert not {name.upper() for name in header} & {"ALL", "AND", "BY", "EQ", "GE", "GT", "LE", "LT", "NE", "NOT",
                                                     "OR", "TO", "WITH"}


def test_wide_maps_item_keys_deterministically(nxp2: Protocol, imnm: Protocol) -> None:
    """``edema.thigh.anterior.R`` → ``edema_thigh_anterior_R``; the same protocol gives the same names."""
    items, scores = wide_names(nxp2)
    assert items["edema.thigh.anterior.R"] == "edema_thigh_anterior_R"
    assert items["edema_pattern.calf"] == "edema_pattern_calf"
    assert scores["edema_total"] == ("edema_total", "edema_total_n", "edema_total_complete")
    assert wide_names(imnm) == wide_names(imnm)
    assert wide_names(imnm)[0]["t1.thoracic.paraspinal.thoracic_paraspinal.L"] == \
        "t1_thoracic_paraspinal_thoracic_paraspinal_L"


def test_spss_names_shorten_clash_and_avoid_reserved_words() -> None:
    """Over 64 characters: cut and hashed; a clash ignoring case: hashed; NE, 1st: fixed."""
    long_key = "a." * 40 + "R"
    names = spss_names([long_key, "Edema.X", "edema_x", "NE", "1st.item", "x-y z"])
    assert len(names[long_key]) <= 64
    assert SPSS_NAME.match(names[long_key])
    assert names["Edema.X"] == "Edema_X"
    assert names["edema_x"] != "edema_x"
    assert names["edema_x"].startswith("edema_x_")
    assert names["NE"] == "NE_v"
    assert names["1st.item"] == "v_1st_item"
    assert names["x-y z"] == "x_y_z"
    assert spss_names([long_key])[long_key] == names[long_key]


def test_wide_has_one_row_per_exam_and_source_with_known_cells(tmp_path: Path) -> None:
    """12 rows; 2.5 is 2.5, NE the explicit code NE (counted; issue 10: it was the same empty
    cell as unscored), 0 a 0; derived scores with their n and complete flag."""
    data = nxp2_dataset()
    path = write_wide_csv(data, tmp_path / "wide.csv")[0]
    rows = read(path)
    assert len(rows) == 4 * 3
    consensus = next(r for r in rows if r["subject"] == "S-101" and r["exam_order"] == "1"
                     and r["source"] == CONSENSUS)
    assert consensus["edema_thigh_anterior_R"] == "2.5"
    assert consensus["edema_thigh_medial_R"] == "NE"
    assert consensus["edema_thigh_posterior_R"] == "0"
    assert int(consensus["n_not_evaluable"]) >= 1
    assert consensus["n_unscored"] == "0"
    derived = data.derived_of(1, CONSENSUS)
    assert consensus["edema_thigh_R"] == "2.5"
    assert consensus["edema_thigh_R_n"] == "2"
    assert consensus["edema_thigh_R_complete"] == "0"  # 2 of 3 compartments evaluated
    assert float(consensus["edema_total"]) == pytest.approx(derived["edema_total"].value)
    assert consensus["edema_pattern_thigh"] in {"none", "patchy", "diffuse", "mixed"}
    reader_b = next(r for r in rows if r["subject"] == "S-103" and r["source"] == READER_B)
    assert reader_b["fat_calf_lateral_L"] == ""
    assert reader_b["n_unscored"] == "2"


def test_wide_can_write_a_declared_missing_code(tmp_path: Path) -> None:
    """``not_evaluable="-9"`` writes -9 for NE, leaving unscored cells empty."""
    rows = read(write_wide_csv(nxp2_dataset(), tmp_path, not_evaluable="-9")[0])
    consensus = next(r for r in rows if r["subject"] == "S-101" and r["exam_order"] == "1"
                     and r["source"] == CONSENSUS)
    assert consensus["edema_thigh_medial_R"] == "-9"
    reader_b = next(r for r in rows if r["subject"] == "S-103" and r["source"] == READER_B)
    assert reader_b["fat_calf_lateral_L"] == ""


def test_wide_numbers_use_a_decimal_point_and_read_back_exactly(tmp_path: Path) -> None:
    """Every numeric cell parses with float(); percentages keep full precision."""
    data = imnm_dataset()
    rows = read(write_wide_csv(data, tmp_path, not_evaluable="")[0])
    row = next(r for r in rows if r["subject"] == "P-01" and r["exam_order"] == "1" and r["source"] == CONSENSUS)
    stir = data.derived_of(11, CONSENSUS)["stir_pct_lb"].value
    assert float(row["stir_pct_lb"]) == stir
    for name, cell in row.items():
        if name not in {"subject", "group", "timepoint", "source"} and cell:
            assert "," not in cell
            float(cell)
    # P-02's first exam had no T1: T1-LB has nothing evaluated and is empty, not 0.
    no_t1 = next(r for r in rows if r["subject"] == "P-02" and r["exam_order"] == "1" and r["source"] == CONSENSUS)
    assert no_t1["t1_lb"] == ""
    assert no_t1["t1_lb_n"] == "0"
