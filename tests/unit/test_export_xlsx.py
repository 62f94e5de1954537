"""XLSX workbook: opened with openpyxl, sheet by sheet."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openpyxl
import pytest

from myoscore.export import CONSENSUS, SHEETS, write_xlsx
from tests.unit.export_data import FRACTIONAL_KEY, NE_KEY, READER_A, ZERO_KEY, nxp2_dataset


@pytest.fixture(scope="module")
def workbook(tmp_path_factory: pytest.TempPathFactory) -> openpyxl.Workbook:
    [path] = write_xlsx(nxp2_dataset(), tmp_path_factory.mktemp("xlsx"))
    assert path.name == "nxp2_lower_limb_scores.xlsx"
    return openpyxl.load_workbook(path)


def table(workbook: openpyxl.Workbook, sheet: str) -> list[dict[str, Any]]:
    """A sheet's rows by header (openpyxl is untyped: a cell holds any value)."""
    rows = list(workbook[sheet].iter_rows(values_only=True))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def test_sheets_and_frozen_headers(workbook: openpyxl.Workbook) -> None:
    """The sheets in order; each header row bold and frozen, columns sized to fit."""
    assert tuple(workbook.sheetnames) == SHEETS == (
        "ratings", "consensus", "derived", "changes", "progression", "frequencies", "patterns", "units", "agreement",
        "dictionary", "codes", "items", "scores", "about")
    for ws in workbook:
        assert ws.freeze_panes == "A2", ws.title
        assert all(cell.font.bold for cell in ws[1])
        assert 8 <= ws.column_dimensions["A"].width <= 60


def test_ratings_and_consensus_sheets(workbook: openpyxl.Workbook) -> None:
    """Readers' rows on one sheet, consensus on the other; 2.5 a number, NE distinct from 0."""
    ratings, consensus = table(workbook, "ratings"), table(workbook, "consensus")
    assert len(ratings) == 4 * 2 * 50
    assert len(consensus) == 4 * 50
    assert {r["source"] for r in ratings} == {READER_A, "reader:B"}
    assert {r["source"] for r in consensus} == {CONSENSUS}
    by = {(r["subject"], r["exam_order"], r["item_key"]): r for r in consensus}
    mean = by["S-101", 1, FRACTIONAL_KEY]
    assert (mean["code"], mean["value"], mean["status"]) == (None, 2.5, "mean")
    ne = by["S-101", 1, NE_KEY]
    assert (ne["code"], ne["value"], ne["not_evaluable"]) == ("NE", None, 1)
    zero = by["S-101", 1, ZERO_KEY]
    assert (zero["code"], zero["value"], zero["not_evaluable"]) == ("0", 0, 0)
    assert workbook["consensus"]["A2"].value == "S-101"


def test_derived_and_agreement_sheets(workbook: openpyxl.Workbook) -> None:
    """Derived scores with their range; agreement rows with undefined statistics left empty."""
    derived = table(workbook, "derived")
    assert len(derived) == 4 * 3 * 7
    thigh = next(r for r in derived if r["subject"] == "S-101" and r["exam_order"] == 1
                 and r["source"] == CONSENSUS and r["score"] == "edema_thigh_R")
    assert (thigh["value"], thigh["n_evaluated"], thigh["n_items"], thigh["minimum"], thigh["maximum"]) == (
        2.5, 2, 3, 0, 15)
    agreement = table(workbook, "agreement")
    assert [r["indicator"] for r in agreement][:2] == ["Muscle edema", "Fatty infiltration"]
    edema = agreement[0]
    assert isinstance(edema["kappa"], float)
    assert edema["ci_low"] < edema["kappa"] < edema["ci_high"]
    assert isinstance(edema["weighted_kappa"], float)
    undefined = agreement[-1]
    assert (undefined["kappa"], undefined["percent_agreement"], undefined["reason"]) == (None, None,
                                                                                         "no pair compared")


def test_dictionary_explains_every_column_of_every_sheet(workbook: openpyxl.Workbook) -> None:
    """Each sheet has a purpose row and each of its columns a non-empty description."""
    explained = {(r["sheet"], r["column"]) for r in table(workbook, "dictionary") if r["description"]}
    for ws in workbook:
        assert (ws.title, None) in explained
        for cell in ws[1]:
            assert (ws.title, cell.value) in explained, (ws.title, cell.value)


def test_codes_sheet_explains_every_code_with_its_definition(workbook: openpyxl.Workbook) -> None:
    """Every level of every scale in use, plus NE per scale, with the paper's definition."""
    codes = table(workbook, "codes")
    scales = nxp2_dataset().protocol.scales
    for name, scale in scales.items():
        rows = [r for r in codes if r["scale"] == name]
        assert [r["code"] for r in rows] == [*scale.codes, "NE"]
        assert all(r["definition"] for r in rows)
    edema_3 = next(r for r in codes if r["scale"] == "edema_0_5" and r["code"] == "3")
    assert (edema_3["value"], edema_3["label"], edema_3["redcap_raw"]) == (3, "Mild, intrafascicular, global", 3)
    ne = next(r for r in codes if r["scale"] == "edema_0_5" and r["code"] == "NE")
    assert ne["value"] is None
    assert ne["redcap_raw"] == "NE"
    assert "Never counted as 0" in ne["definition"]


def test_items_scores_and_about(workbook: openpyxl.Workbook) -> None:
    """Items carry their wide-CSV and REDCap names; the protocol's hash identifies the method."""
    items = {r["item_key"]: r for r in table(workbook, "items")}
    assert len(items) == 50
    assert (items[FRACTIONAL_KEY]["wide_column"], items[FRACTIONAL_KEY]["redcap_field"]) == (
        "edema_thigh_anterior_R", "edema_thigh_anterior_r")
    scores = {r["score"]: r for r in table(workbook, "scores")}
    assert (scores["edema_total"]["maximum"], scores["edema_total"]["n_items"]) == (60, 12)
    about = {r["property"]: r["content"] for r in table(workbook, "about")}
    dataset = nxp2_dataset()
    assert about["protocol"] == "nxp2_lower_limb"
    assert about["protocol_hash"] == dataset.protocol.hash
    assert about["subjects"] == 3
    assert about["exams"] == 4


def test_workbook_path_may_name_the_file(tmp_path: Path) -> None:
    """A path ending in .xlsx is used as is (its folder created)."""
    [path] = write_xlsx(nxp2_dataset(), tmp_path / "out" / "study.xlsx")
    assert path == tmp_path / "out" / "study.xlsx"
    assert path.read_bytes()[:2] == b"PK"
