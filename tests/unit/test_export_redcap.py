"""REDCap: the import CSV and the data dictionary read back and checked against each other."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from myoscore.app.schemes import scheme_library
from myoscore.domain import MyoscoreError
from myoscore.export import (
    NE_MISSING_CODE,
    REDCAP_DICTIONARY_HEADER,
    ExportDataset,
    redcap_codes,
    redcap_item_names,
    redcap_name,
    write_redcap,
)
from myoscore.export.redcap import choices_of, redcap_choices
from myoscore.schemes import Protocol
from tests.unit.export_data import FRACTIONAL_KEY, NE_KEY, READER_A, ZERO_KEY, imnm_dataset, nxp2_dataset

REDCAP_NAME = re.compile(r"^[a-z](?:[a-z0-9]|_(?!_))*$")
REPEAT = ("redcap_repeat_instrument", "redcap_repeat_instance")


def read(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


def check_round_trip(data_path: Path, dictionary_path: Path) -> tuple[dict[str, dict[str, str]], list[dict[str, str]]]:
    """Every import column is in the dictionary, and every value is allowed by its field."""
    header, dictionary = read(dictionary_path)
    assert tuple(header) == REDCAP_DICTIONARY_HEADER
    fields = {row["Variable / Field Name"]: row for row in dictionary}
    assert dictionary[0]["Variable / Field Name"] == "record_id", "the record id is the first field"
    columns, rows = read(data_path)
    assert columns[0] == "record_id"
    assert [c for c in columns if c not in fields] == list(REPEAT)
    for row in rows:
        for column, cell in row.items():
            if column in REPEAT or cell == "":
                continue
            if cell == NE_MISSING_CODE:  # the project's Missing Data Code, in any field
                assert column in {f for f, r in fields.items() if r["Form Name"] == "mri_scores"}, column
                continue
            field = fields[column]
            kind, validation = field["Field Type"], field["Text Validation Type OR Show Slider Number"]
            if kind == "radio":
                assert cell in choices_of(field["Choices, Calculations, OR Slider Labels"]), (column, cell)
            elif kind == "yesno":
                assert cell in {"0", "1"}
            elif validation in {"number", "integer"}:
                if cell == "NE":  # the declared Missing Data Code
                    continue
                number = float(cell) if validation == "number" else int(cell)
                if field["Text Validation Min"]:
                    assert number >= float(field["Text Validation Min"]), (column, cell)
                if field["Text Validation Max"]:
                    assert number <= float(field["Text Validation Max"]), (column, cell)
    return fields, rows


def test_radio_round_trip_for_the_whole_body_protocol(tmp_path: Path) -> None:
    """Seed 004 consensus has no fractional value: every item is a radio field; NE is the
    Missing Data Code NE, never a choice with a number (issue 10: a raw 99 summed in REDCap)."""
    data = imnm_dataset()
    data_path, dictionary_path = write_redcap(data, tmp_path)
    assert (data_path.name, dictionary_path.name) == ("imnm_whole_body_redcap_import.csv",
                                                      "imnm_whole_body_redcap_dictionary.csv")
    fields, rows = check_round_trip(data_path, dictionary_path)
    items = redcap_item_names(data.protocol)
    assert {fields[name]["Field Type"] for name in items.values()} == {"radio"}
    assert fields[items["stir.pelvis.iliopsoas.psoas.R"]]["Choices, Calculations, OR Slider Labels"] == \
        "0, Negative | 1, Positive"
    # One instance per exam, numbered by exam order, plus one subject row per subject (groups).
    instances = [(r["record_id"], r["redcap_repeat_instance"]) for r in rows if r["redcap_repeat_instrument"]]
    assert instances == [("P-01", "1"), ("P-01", "2"), ("P-02", "1"), ("P-02", "2"), ("P-02", "3"), ("P-03", "1")]
    subjects = {r["record_id"]: r["group"] for r in rows if not r["redcap_repeat_instrument"]}
    assert subjects == {"P-01": "EARLY-BT", "P-02": "LATE", "P-03": "EARLY-UT"}
    # P-02's first exam had no T1: every T1 field is NE, never 0 or 99, and T1-LB is empty with 0 evaluated.
    first = next(r for r in rows if r["record_id"] == "P-02" and r["redcap_repeat_instance"] == "1")
    t1_fields = [items[it.key] for it in data.protocol.items if it.measure == "t1"]
    assert {first[name] for name in t1_fields} == {"NE"}
    assert first["t1_lb"] == ""
    assert first["t1_lb_n"] == "0"
    assert first["t1_lb_cmpl"] == "0"
    assert fields["t1_lb_cmpl"]["Field Type"] == "yesno"
    assert fields["t1_lb"]["Text Validation Max"] == "304"  # 38 atlas muscles × 2 × 4


def test_number_fields_when_consensus_holds_a_fractional_mean(tmp_path: Path) -> None:
    """Seed 000 mean consensus: 2.5 is written 2.5 in a number field (range 0–5), NE as NE."""
    data = nxp2_dataset()
    fields, rows = check_round_trip(*write_redcap(data, tmp_path))
    items = redcap_item_names(data.protocol)
    edema = fields[items[FRACTIONAL_KEY]]
    assert (edema["Field Type"], edema["Text Validation Type OR Show Slider Number"], edema["Text Validation Min"],
            edema["Text Validation Max"]) == ("text", "number", "0", "5")
    # The nominal edema pattern stays a radio field with positions as raw values.
    pattern = fields[items["edema_pattern.thigh"]]
    assert pattern["Field Type"] == "radio"
    assert pattern["Choices, Calculations, OR Slider Labels"] == \
        "0, None | 1, Patchy | 2, Diffuse | 3, Mixed"
    baseline = next(r for r in rows if r["record_id"] == "S-101" and r["redcap_repeat_instance"] == "1")
    assert baseline[items[FRACTIONAL_KEY]] == "2.5"
    assert baseline[items[NE_KEY]] == "NE"
    assert baseline[items[ZERO_KEY]] == "0"
    assert baseline["score_source"] == "consensus"
    assert (baseline["exam_label"], baseline["months_from_onset"], baseline["treated"]) == ("baseline", "3", "0")


def test_radio_refuses_a_fractional_mean(tmp_path: Path) -> None:
    """A radio field cannot hold 2.5: asking for one says so instead of rounding."""
    with pytest.raises(MyoscoreError, match=r"fractional.*numeric='number'"):
        write_redcap(nxp2_dataset(), tmp_path, numeric="radio")


def test_one_reader_as_radio(tmp_path: Path) -> None:
    """A reader's read has levels only: radio fields, NE as the Missing Data Code NE and 0 as 0."""
    data = nxp2_dataset()
    fields, rows = check_round_trip(*write_redcap(data, tmp_path, source=READER_A))
    items = redcap_item_names(data.protocol)
    assert fields[items[FRACTIONAL_KEY]]["Choices, Calculations, OR Slider Labels"].startswith(
        "0, Absent | 1, Mild, intrafascicular | 2, ")
    baseline = next(r for r in rows if r["record_id"] == "S-101" and r["redcap_repeat_instance"] == "1")
    assert (baseline[items[FRACTIONAL_KEY]], baseline[items[NE_KEY]], baseline[items[ZERO_KEY]]) == ("2", "NE", "0")
    assert baseline["score_source"] == READER_A


@pytest.mark.parametrize("name", ["nxp2_lower_limb", "imnm_whole_body"])
def test_field_names_follow_redcap_rules(name: str) -> None:
    """Lowercase letters, digits, single underscores; start with a letter; ≤ 26; unique; readable."""
    proto = scheme_library().protocol(name)
    names = list(redcap_item_names(proto).values())
    assert all(REDCAP_NAME.match(n) and len(n) <= 26 for n in names), [n for n in names if len(n) > 26]
    assert len(set(names)) == len(names)
    assert redcap_item_names(proto) == redcap_item_names(proto)


def test_field_names_are_short_and_readable(nxp2: Protocol, imnm: Protocol) -> None:
    """Measure, the shortest unambiguous unit part, and the side."""
    assert redcap_item_names(imnm)["stir.pelvis.iliopsoas.psoas.R"] == "stir_psoas_r"
    assert redcap_item_names(imnm)["t1.thoracic.paraspinal.thoracic_paraspinal.L"] == "t1_thoracic_paraspinal_l"
    assert redcap_item_names(nxp2)["edema.thigh.anterior.R"] == "edema_thigh_anterior_r"
    assert redcap_item_names(nxp2)["edema_pattern.calf"] == "edema_pattern_calf"


def test_redcap_name_shortens_and_hashes_deterministically() -> None:
    """Too long: words shortened; a clash or reserved name: a hash suffix; a leading digit: f_."""
    taken: set[str] = set()
    long_name = redcap_name("extraordinarily.long.measure.name.with.many.words.R", taken)
    assert len(long_name) <= 26
    assert REDCAP_NAME.match(long_name)
    again = redcap_name("extraordinarily.long.measure.name.with.many.words.R", taken, key="other")
    assert again != long_name
    assert len(again) <= 26
    assert redcap_name("2nd", set()) == "f_2nd"
    assert redcap_name("record_id", set()).startswith("record_id_")
    assert redcap_name("mri_scores_complete", set()) != "mri_scores_complete"


def test_codes_map_to_integer_raw_values() -> None:
    """Declared integer values are the raw values (2a → 2, 2b → 3); nominal scales use positions."""
    scales = scheme_library().scales
    codes, ne = redcap_codes(scales["mercuri_modified"])
    assert codes == {"0": 0, "1": 1, "2a": 2, "2b": 3, "3": 4, "4": 5}
    assert ne == "NE"
    choices = choices_of(redcap_choices(scales["mercuri_modified"]))
    assert choices["3"].startswith("2b: ")
    assert choices["1"] == "Traces"
    assert "99" not in choices
    assert redcap_codes(scales["edema_pattern"]) == ({"none": 0, "patchy": 1, "diffuse": 2, "mixed": 3}, "NE")
    assert redcap_codes(scales["fischer_0_4"])[0] == {str(i): i for i in range(5)}


def test_dictionary_without_groups_or_clinical_fields(tmp_path: Path, imnm: Protocol) -> None:
    """Fields for data the dataset does not carry are left out of both files."""
    full = imnm_dataset()
    data = ExportDataset(imnm, tuple(e.__class__(e.exam_id, e.subject, e.label, e.order) for e in full.exams),
                         full.ratings, full.derived)
    fields, rows = check_round_trip(*write_redcap(data, tmp_path))
    assert not {"group", "months_from_onset", "treated"} & set(fields)
    # Subjects with a follow-up get a subject row carrying Δ; every other row is an exam.
    subject_rows = [r for r in rows if r["redcap_repeat_instrument"] != "mri_scores"]
    assert {r["record_id"] for r in subject_rows} == {"P-01", "P-02", "P-03"}
    with_delta = {r["record_id"] for r in subject_rows if r["t1_lb_d"] != "" or r["stir_pct_lb_d"] != ""}
    assert with_delta <= {"P-01", "P-02"}
    assert with_delta
