"""Sequence classification from vendor-shaped headers (Siemens, GE, Philips)."""

from __future__ import annotations

from typing import Any

import pytest

from myoscore.domain import Sequence
from myoscore.imaging import classify_series, kind_from_name

# Header fields as the three main vendors write them (values as pydicom returns them:
# multi-valued fields as lists, numbers as floats or strings).
SIEMENS_STIR = {
    "Manufacturer": "SIEMENS",
    "SeriesDescription": "t2_tirm_tra_thigh",
    "ProtocolName": "t2_tirm_tra_thigh",
    "ScanningSequence": ["SE", "IR"],
    "SequenceVariant": ["SK", "SP", "MP"],
    "RepetitionTime": 6770.0,
    "EchoTime": 70.0,
    "InversionTime": 230.0,
    "ImageType": ["ORIGINAL", "PRIMARY", "M", "NORM", "DIS2D"],
}
SIEMENS_T1 = {
    "Manufacturer": "SIEMENS",
    "SeriesDescription": "t1_tse_tra",
    "ScanningSequence": "SE",
    "SequenceVariant": ["SK", "SP", "OSP"],
    "RepetitionTime": "500",
    "EchoTime": "10",
    "ImageType": "ORIGINAL\\PRIMARY\\M\\NORM\\DIS2D",
}
SIEMENS_DIXON = {
    "Manufacturer": "SIEMENS",
    "SeriesDescription": "t1_vibe_dixon_tra_W",
    "ScanningSequence": "GR",
    "SequenceVariant": ["SK", "SP", "OSP"],
    "RepetitionTime": 6.6,
    "EchoTime": 2.39,
}
GE_STIR = {
    "Manufacturer": "GE MEDICAL SYSTEMS",
    "SeriesDescription": "Ax STIR Thighs",
    "ScanningSequence": ["SE", "IR"],
    "SequenceVariant": ["SK", "OSP"],
    "RepetitionTime": 5500.0,
    "EchoTime": 42.0,
    "InversionTime": 150.0,
    "ImageType": ["ORIGINAL", "PRIMARY", "OTHER"],
}
GE_IDEAL = {
    "Manufacturer": "GE MEDICAL SYSTEMS",
    "SeriesDescription": "Ax T2 FSE IDEAL",
    "ScanningSequence": "SE",
    "RepetitionTime": 3000.0,
    "EchoTime": 60.0,
}
PHILIPS_T1 = {
    "Manufacturer": "Philips Medical Systems",
    "SeriesDescription": "T1W_TSE",
    "ProtocolName": "WIP T1W_TSE SENSE",
    "ScanningSequence": "SE",
    "SequenceVariant": "SK",
    "RepetitionTime": 600.0,
    "EchoTime": 8.0,
    "ImageType": ["ORIGINAL", "PRIMARY", "M_SE", "M", "SE"],
}
PHILIPS_MDIXON = {
    "Manufacturer": "Philips Medical Systems",
    "SeriesDescription": "mDIXON_TSE",
    "ScanningSequence": "SE",
    "RepetitionTime": 650.0,
    "EchoTime": 10.0,
}


def with_fields(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**base, **changes}


def test_siemens_stir_by_inversion_time_names_timing() -> None:
    """A Siemens TIRM with TI 230 ms is STIR and the reason quotes TI and TR."""
    kind, reason = classify_series(SIEMENS_STIR)
    assert kind is Sequence.STIR
    assert reason == "InversionTime 230 ms, TR 6770 ms → STIR"


def test_ge_stir_with_short_ti() -> None:
    """GE STIR at 1.5 T (TI 150 ms) is STIR."""
    assert classify_series(GE_STIR)[0] is Sequence.STIR


def test_stir_by_description_when_inversion_time_missing() -> None:
    """Without InversionTime the description 'STIR' still decides, and says so."""
    fields = with_fields(GE_STIR, InversionTime=None)
    kind, reason = classify_series(fields)
    assert kind is Sequence.STIR
    assert "SeriesDescription 'Ax STIR Thighs'" in reason


def test_long_inversion_time_is_not_stir() -> None:
    """FLAIR-like TI 2500 ms must not be mistaken for STIR although the description says IR."""
    fields = with_fields(SIEMENS_STIR, InversionTime=2500.0, RepetitionTime=9000.0)
    kind, reason = classify_series(fields)
    assert kind is Sequence.OTHER
    assert "2500" in reason


def test_mprage_like_inversion_is_t1() -> None:
    """TI 900 ms with TR 2000 ms is a T1-weighted inversion recovery."""
    fields = {"SeriesDescription": "t1_mprage", "InversionTime": 900, "RepetitionTime": 2000,
              "EchoTime": 3}
    assert classify_series(fields)[0] is Sequence.T1


@pytest.mark.parametrize("fields", [SIEMENS_T1, PHILIPS_T1], ids=["siemens", "philips"])
def test_t1_vendor_headers(fields: dict[str, Any]) -> None:
    """Siemens t1_tse and Philips T1W_TSE are T1."""
    kind, reason = classify_series(fields)
    assert kind is Sequence.T1
    assert "T1" in reason


def test_t1_by_timing_without_description() -> None:
    """No description: TR 500 / TE 10 is T1 by timing, and the reason quotes it."""
    kind, reason = classify_series({"RepetitionTime": 500, "EchoTime": 10})
    assert kind is Sequence.T1
    assert reason == "TR 500 ms, TE 10 ms → T1"


def test_t2_by_timing_and_by_description() -> None:
    """TR 4000 / TE 90 is T2; 't2_tse_tra' is T2 whatever the timing."""
    assert classify_series({"RepetitionTime": 4000, "EchoTime": 90})[0] is Sequence.T2
    assert classify_series({"SeriesDescription": "t2_tse_tra"})[0] is Sequence.T2


def test_word_matching_does_not_find_t1_inside_t12() -> None:
    """'T12' (a vertebra) is not 'T1'; the timing decides instead."""
    fields = {"SeriesDescription": "sag T12-L1", "RepetitionTime": 4000, "EchoTime": 100}
    assert classify_series(fields)[0] is Sequence.T2


@pytest.mark.parametrize(
    ("image_type", "expected"),
    [
        (["DERIVED", "PRIMARY", "DIXON", "WATER"], Sequence.DIXON_WATER),
        (["DERIVED", "PRIMARY", "DIXON", "FAT"], Sequence.DIXON_FAT),
        (["ORIGINAL", "PRIMARY", "DIXON", "IN_PHASE"], Sequence.DIXON_IN),
        (["ORIGINAL", "PRIMARY", "DIXON", "OPP_PHASE"], Sequence.DIXON_OUT),
        (["DERIVED", "PRIMARY", "M", "DIXON", "W"], Sequence.DIXON_WATER),
    ],
)
def test_siemens_dixon_from_image_type(image_type: list[str], expected: Sequence) -> None:
    """Siemens Dixon maps are told apart by ImageType (DIXON + WATER/FAT/IN/OPP or W)."""
    kind, reason = classify_series(with_fields(SIEMENS_DIXON, ImageType=image_type))
    assert kind is expected
    assert reason.startswith("ImageType ")


@pytest.mark.parametrize(
    ("component", "expected"),
    [("WATER", Sequence.DIXON_WATER), ("FAT", Sequence.DIXON_FAT),
     ("IN_PHASE", Sequence.DIXON_IN), ("OUT_PHASE", Sequence.DIXON_OUT)],
)
def test_ge_ideal_from_image_type(component: str, expected: Sequence) -> None:
    """GE IDEAL writes the component as an ImageType value."""
    fields = with_fields(GE_IDEAL, ImageType=["DERIVED", "PRIMARY", "IDEAL", component])
    assert classify_series(fields)[0] is expected


@pytest.mark.parametrize(
    ("image_type", "expected"),
    [
        (["ORIGINAL", "PRIMARY", "W", "W", "DERIVED"], Sequence.DIXON_WATER),
        (["ORIGINAL", "PRIMARY", "F_SE", "F", "SE"], Sequence.DIXON_FAT),
        (["ORIGINAL", "PRIMARY", "IP_SE", "IP", "SE"], Sequence.DIXON_IN),
        (["ORIGINAL", "PRIMARY", "OP_SE", "OP", "SE"], Sequence.DIXON_OUT),
    ],
)
def test_philips_mdixon_from_image_type(image_type: list[str], expected: Sequence) -> None:
    """Philips mDIXON: the marker is in the description, the component in ImageType."""
    assert classify_series(with_fields(PHILIPS_MDIXON, ImageType=image_type))[0] is expected


@pytest.mark.parametrize(
    ("description", "expected"),
    [
        ("mDIXON_TSE W", Sequence.DIXON_WATER),
        ("sT1W_mDIXON_TSE_F", Sequence.DIXON_FAT),
        ("mDIXON ip", Sequence.DIXON_IN),
        ("mDIXON_opp", Sequence.DIXON_OUT),
    ],
)
def test_philips_mdixon_from_description(description: str, expected: Sequence) -> None:
    """Without a component in ImageType, the description's W/F/ip/opp decides."""
    kind, reason = classify_series(with_fields(PHILIPS_MDIXON, SeriesDescription=description))
    assert kind is expected
    assert description in reason


def test_single_letter_image_type_needs_a_dixon_marker() -> None:
    """ImageType 'W' without any Dixon marker is not read as water (Philips T1 stays T1)."""
    fields = with_fields(PHILIPS_T1, ImageType=["ORIGINAL", "PRIMARY", "W", "W"])
    assert classify_series(fields)[0] is Sequence.T1


def test_dixon_without_component_falls_through_to_timing() -> None:
    """A Dixon series whose component cannot be told is classified by the other rules."""
    kind, _ = classify_series({"SeriesDescription": "mDIXON", "RepetitionTime": 600,
                               "EchoTime": 10})
    assert kind is Sequence.T1


def test_nothing_known_is_other_with_reason() -> None:
    """An empty header is OTHER and the reason says that no rule matched."""
    kind, reason = classify_series({})
    assert kind is Sequence.OTHER
    assert "no rule matched" in reason


def test_proton_density_is_other() -> None:
    """Long TR and short TE (proton density) is neither T1 nor T2."""
    assert classify_series({"RepetitionTime": 3000, "EchoTime": 20})[0] is Sequence.OTHER


def test_zero_inversion_time_is_ignored() -> None:
    """Exporters write InversionTime 0 for non-IR sequences: it must not force a decision."""
    fields = with_fields(SIEMENS_T1, InversionTime="0")
    assert classify_series(fields)[0] is Sequence.T1


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("thigh_stir.nii.gz", Sequence.STIR),
        ("sub-01_T1w.nii", Sequence.T1),
        ("calf_t2.nii.gz", Sequence.T2),
        ("dixon_water.nii.gz", Sequence.DIXON_WATER),
        ("labels.nii.gz", Sequence.OTHER),
    ],
)
def test_kind_from_nifti_file_name(name: str, expected: Sequence) -> None:
    """NIfTI files are classified by their name, and the reason names the file."""
    kind, reason = kind_from_name(name)
    assert kind is expected
    assert name in reason
