"""DICOM SR building and decoding without a database: both shipped protocols, every grade."""

from __future__ import annotations

from pathlib import Path

import pydicom
import pytest

from myoscore.app.schemes import protocol, scheme_library
from myoscore.domain import NOT_EVALUABLE, SchemeError
from myoscore.export.sr import InstanceReference, SrError, SrSubject, build_sr, read_sr, sr_ratings, write_sr
from myoscore.schemes.loader import load_scale

MR = "1.2.840.10008.5.1.4.1.1.4"


def _values(name: str) -> dict[str, tuple[str | None, float | None]]:
    """Every level of every scale once (cycling), NE on every seventh item, one consensus mean 2.5."""
    p = protocol(name)
    values: dict[str, tuple[str | None, float | None]] = {}
    for i, item in enumerate(p.items):
        scale = p.scales[item.scale]
        code = NOT_EVALUABLE if i % 7 == 6 else scale.codes[i % len(scale.codes)]
        values[item.key] = (code, scale.value_of(code))
    values[p.items[0].key] = (None, 2.5)
    return values


@pytest.mark.parametrize("name", ["nxp2_lower_limb", "imnm_whole_body"])
def test_round_trip_every_item(name: str, tmp_path: Path) -> None:
    """Build, write, read with highdicom and decode from the codes: the same values, observer and patient."""
    p = protocol(name)
    values = _values(name)
    refs = [InstanceReference("1.2.3", "1.2.3.4", MR, f"1.2.3.4.{i}") for i in range(3)]
    ds = build_sr(p, values, kind="consensus", observer="B", subject=SrSubject("SUBJ-0007", "1.2.3", "baseline"),
                  references=refs, library=scheme_library().scales)
    back = sr_ratings(read_sr(write_sr(ds, tmp_path / "sr.dcm")), p, scheme_library().scales)
    assert back.values == values
    assert (back.kind, back.observer, back.patient_id, back.study_uid) == ("consensus", "B", "SUBJ-0007", "1.2.3")
    assert back.references == tuple(refs)


def test_binary_grades_use_snomed_and_laterality(tmp_path: Path) -> None:
    """STIR positive is SNOMED CT 10828004; a sided item carries SNOMED CT Right/Left; known muscles are SNOMED CT."""
    p = protocol("imnm_whole_body")
    key = "stir.pelvis.gluteal.gluteus_maximus.L"
    ds = build_sr(p, {key: ("1", 1.0)}, kind="read", observer="A", subject=SrSubject("S", "1.2.3"),
                  library=scheme_library().scales)
    group = ds.ContentSequence[-1].ContentSequence[0]
    by_name = {c.ConceptNameCodeSequence[0].CodeMeaning: c for c in group.ContentSequence}
    assert by_name["STIR positivity"].ConceptCodeSequence[0].CodeValue == "10828004"
    site = by_name["Finding Site"]
    assert (site.ConceptCodeSequence[0].CodingSchemeDesignator, site.ConceptCodeSequence[0].CodeValue) == \
        ("SCT", "206007")
    assert site.ContentSequence[0].ConceptCodeSequence[0].CodeValue == "7771000"


def test_not_an_sr_is_a_clear_error(tmp_path: Path) -> None:
    """An image file, or an SR from another program, is refused with the file named."""
    path = tmp_path / "img.dcm"
    path.write_bytes(b"not dicom at all")
    with pytest.raises(SrError, match=r"img\.dcm"):
        read_sr(path)
    p = protocol("nxp2_lower_limb")
    ds = build_sr(p, {p.items[0].key: ("1", 1.0)}, kind="read", observer="A", subject=SrSubject("S", "1.2.3"))
    ds.Manufacturer = "someone else"
    other = write_sr(ds, tmp_path / "other.dcm")
    with pytest.raises(SrError, match="not written by myoscore"):
        sr_ratings(pydicom.dcmread(other), p)


def test_a_value_that_is_no_level_and_no_number_is_refused() -> None:
    """Building refuses an unknown code and names the item."""
    p = protocol("nxp2_lower_limb")
    with pytest.raises(SrError, match=p.items[0].key):
        build_sr(p, {p.items[0].key: ("9", None)}, kind="read", observer="A", subject=SrSubject("S", "1.2.3"))


def test_scale_concept_must_be_scheme_colon_value(tmp_path: Path) -> None:
    """A level's concept without a scheme is reported with file and key."""
    path = tmp_path / "bad.toml"
    path.write_text('[scale]\nname = "x"\nkind = "binary"\ntitle = "X"\n'
                    '[[level]]\ncode = "0"\nvalue = 0\nlabel = "No"\ndefinition = "No."\nconcept = "10828004"\n'
                    '[[level]]\ncode = "1"\nvalue = 1\nlabel = "Yes"\ndefinition = "Yes."\n', encoding="utf-8")
    with pytest.raises(SchemeError, match=r"level\[0\]\.concept"):
        load_scale(path)
