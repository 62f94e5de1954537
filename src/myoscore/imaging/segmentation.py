"""Label maps as DICOM Segmentation (SEG) objects, and back (docs/multisite.md).

A label map (one integer per voxel, with a label table saying what each value is) leaves
for the study's DICOM server as one **BINARY** Segmentation instance built with highdicom:
one segment per label value, on the grid of one of the exam's DICOM series (its *source*;
the label map is resampled onto it, nearest neighbour, when the grids differ), referencing
the source's instances. BINARY rather than LABELMAP: the Label Map Segmentation SOP class
(2024) is not known to the DICOM tools and servers a study uses today (pynetdicom's
storage contexts, dcmtk/dicom3tools of Debian 12, Orthanc 1.10), the Segmentation Storage
class is; empty frames are left out, so a segment costs only the slices it is on.

What makes the label table recoverable from the SEG alone, per segment:

- ``SegmentLabel`` = the table's spelling: ``R:thigh.anterior.rectus_femoris`` (side, unit
  key) or ``skin``;
- ``SegmentDescription`` = ``myoscore label 101`` (the label value in the voxels), with
  ``: <name>`` when the table names the label other than by its key;
- the side also coded (Segmented Property Type Modifier, in the type's item: SCT 24028007 Right, 7771000 Left);
- category and type coded: muscles and units with a checked SNOMED CT code
  (``scoring_schemes/coding/anatomy.toml``, the SR's finding sites) as SCT 91723000
  Anatomical Structure + that code; tissues and bones (``coding/tissues.toml``) with
  theirs; every other label ``99MYOSCORE:<unit key>`` with the unit's name.

Label 0 is the background (no segment); a table entry for it is kept in
``ContentDescription`` (``background: <name>``). Reading (:func:`read_segmentation`)
puts each frame back by its position on the source series' grid, so the label Volume has
exactly the source's geometry.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from myoscore.domain import ImagingError
from myoscore.imaging.volume import Volume
from myoscore.schemes.coding import PRIVATE_SCHEME, Code, anatomy_codes, tissue_codes

__all__ = [
    "SEG_SERIES_DESCRIPTION",
    "LabelEntry",
    "build_segmentation",
    "derived_uid",
    "label_entries",
    "read_segmentation",
    "referenced_series",
    "segment_codes",
    "segmentation_source",
]

#: The SEG's SeriesDescription: fixed words, never the label map's file or series name.
SEG_SERIES_DESCRIPTION = "Muscle label map"
ANATOMICAL_STRUCTURE: Code = ("SCT", "91723000", "Anatomical Structure")
_LATERALITY: Mapping[str, Code] = {"R": ("SCT", "24028007", "Right"), "L": ("SCT", "7771000", "Left")}
_SIDE_OF_CODE = {code[1]: side for side, code in _LATERALITY.items()}
_DESCRIPTION = re.compile(r"myoscore label (\d+)( \(not in the label table\))?(?:: (.*))?", re.DOTALL)
_BACKGROUND = re.compile(r"background: (.+)")
_GRID_TOLERANCE_MM = 1e-3
_EMPTY_TYPE2 = ("PatientBirthDate", "PatientSex", "StudyDate", "StudyTime", "ReferringPhysicianName",
                "AccessionNumber", "StudyID")


@dataclass(frozen=True)
class LabelEntry:
    """One label of a label table: its voxel value, unit key, side and name."""

    value: int
    key: str
    side: str | None = None
    name: str = ""
    in_table: bool = True  # False: the value is in the voxels but the table does not name it

    @property
    def label(self) -> str:
        """The SEG's segment label: the table's own spelling (``R:thigh.anterior.sartorius``)."""
        if not self.in_table:
            return f"label {self.value}"
        return f"{self.side}:{self.key}" if self.side else self.key

    def table_entry(self) -> dict[str, Any]:
        """This label as an entry of a label table (the list form ``parse_label_table`` reads)."""
        return {"value": self.value, "key": self.key, "side": self.side, "name": self.name or self.key}


def derived_uid(*parts: str) -> str:
    """A UID derived from ``parts``: the same parts give the same UID at every site."""
    from pydicom.uid import generate_uid

    return str(generate_uid(entropy_srcs=["myoscore", *parts]))


def label_entries(names: Mapping[int, str], units: Mapping[tuple[str, str | None], Sequence[int]]) -> list[LabelEntry]:
    """The label table's entries back from its parsed form (names by value; units, where a
    muscle's value also counts for its compartment and region): each value's own key is
    the longest one holding it."""
    entries: list[LabelEntry] = []
    for value in sorted(names):
        holders = [(key, side) for (key, side), values in units.items() if value in values]
        key, side = max(holders, key=lambda ks: (ks[0].count("."), len(ks[0]))) if holders else (names[value], None)
        entries.append(LabelEntry(int(value), key, side, names[value]))
    return entries


def segment_codes(entry: LabelEntry, unit_names: Mapping[str, str]) -> tuple[Code, Code]:
    """(segmented property category, segmented property type) of one label."""
    tissue = tissue_codes().get(entry.key)
    if tissue is not None:
        return tissue
    checked = anatomy_codes().get(entry.key)
    if checked is not None:
        return ANATOMICAL_STRUCTURE, checked
    if not entry.in_table:
        return ANATOMICAL_STRUCTURE, (PRIVATE_SCHEME, "unnamed_label", "Label not in the label table")
    meaning = unit_names.get(entry.key) or entry.name or entry.key
    return ANATOMICAL_STRUCTURE, (PRIVATE_SCHEME, entry.key, meaning)


# ---------------------------------------------------------------- source geometry


@dataclass(frozen=True)
class _SourceGrid:
    """The source series' frames: where each is, in the order of the source instances."""

    positions: np.ndarray  # (frames, 3) LPS mm, in source order (instances, or frames of one file)
    affine: np.ndarray  # the grid as a Volume affine, slices sorted along the normal
    slice_of_frame: np.ndarray  # index of each source frame on that grid
    rows: int
    columns: int


def _floats(value: Any, count: int, what: str) -> np.ndarray:
    try:
        numbers = np.array([float(v) for v in value], dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ImagingError(f"{what} is not {count} numbers") from exc
    if numbers.shape != (count,):
        raise ImagingError(f"{what} is not {count} numbers")
    return numbers


def _source_grid(datasets: Sequence[Any], what: str) -> _SourceGrid:
    first = datasets[0]
    frames = int(getattr(first, "NumberOfFrames", 1) or 1)
    if frames > 1:
        if len(datasets) > 1:
            raise ImagingError(f"{what}: its source series mixes a multi-frame file with other files")
        shared = first.SharedFunctionalGroupsSequence[0]
        per_frame = first.PerFrameFunctionalGroupsSequence

        def group(index: int, name: str) -> Any:
            own = per_frame[index]
            return own.get(name) or shared.get(name)

        positions = [_floats(group(i, "PlanePositionSequence")[0].ImagePositionPatient, 3,
                             f"{what}: a frame's position") for i in range(frames)]
        orientation = _floats(group(0, "PlaneOrientationSequence")[0].ImageOrientationPatient, 6,
                              f"{what}: the source's orientation")
        spacing = _floats(group(0, "PixelMeasuresSequence")[0].PixelSpacing, 2, f"{what}: the source's pixel spacing")
    else:
        missing = [k for k in ("ImagePositionPatient", "ImageOrientationPatient", "PixelSpacing") if k not in first]
        if missing:
            raise ImagingError(f"{what}: its source series has no {', '.join(missing)}")
        positions = [_floats(ds.ImagePositionPatient, 3, f"{what}: an instance's position") for ds in datasets]
        orientation = _floats(first.ImageOrientationPatient, 6, f"{what}: the source's orientation")
        spacing = _floats(first.PixelSpacing, 2, f"{what}: the source's pixel spacing")
        if any(not np.allclose(_floats(ds.ImageOrientationPatient, 6, what), orientation, atol=1e-4)
               for ds in datasets):
            raise ImagingError(f"{what}: the source series' instances are not all parallel")
    row_dir, col_dir = orientation[:3], orientation[3:]
    normal = np.cross(row_dir, col_dir)
    located = np.array(positions)
    along = located @ normal
    order = np.argsort(along, kind="stable")
    slice_of_frame = np.empty(len(order), dtype=np.int64)
    slice_of_frame[order] = np.arange(len(order))
    if len(order) > 1 and np.min(np.diff(along[order])) < 1e-3:
        raise ImagingError(f"{what}: its source series has two frames at one position")
    affine = np.eye(4)
    affine[:3, 0] = row_dir * spacing[1]  # columns step along the row direction
    affine[:3, 1] = col_dir * spacing[0]
    affine[:3, 2] = ((located[order[-1]] - located[order[0]]) / (len(order) - 1) if len(order) > 1
                     else normal * float(getattr(first, "SpacingBetweenSlices", 0) or
                                         getattr(first, "SliceThickness", 1) or 1))
    affine[:3, 3] = located[order[0]]
    return _SourceGrid(located, affine, slice_of_frame, int(first.Rows), int(first.Columns))


def segmentation_source(sources: Sequence[bytes], what: str) -> tuple[list[Any], Volume]:
    """The source instances as datasets (headers only) and their grid as an empty Volume."""
    import pydicom

    if not sources:
        raise ImagingError(f"{what}: no source instances to reference")
    try:
        datasets = [pydicom.dcmread(io.BytesIO(data), stop_before_pixels=True) for data in sources]
    except (pydicom.errors.InvalidDicomError, OSError, ValueError) as exc:
        raise ImagingError(f"{what}: a source instance is not readable DICOM: {exc}") from exc
    for ds in datasets:
        # Type 2 attributes the SEG copies (present, may be empty): pseudonymisation
        # removed them from the instances, so the SEG has them empty too.
        for keyword in _EMPTY_TYPE2:
            if keyword not in ds:
                setattr(ds, keyword, "")
    grid = _source_grid(datasets, what)
    shape = (len(grid.slice_of_frame), grid.rows, grid.columns)
    return datasets, Volume(np.zeros(shape, dtype=np.uint8), grid.affine)


# ---------------------------------------------------------------- writing


def build_segmentation(labels: Volume, sources: Sequence[bytes], entries: Sequence[LabelEntry], *,
                       unit_names: Mapping[str, str], series_uid: str, sop_uid: str, what: str,
                       series_number: int = 950) -> bytes:
    """The label map as one BINARY DICOM Segmentation on the grid of ``sources`` (the
    pseudonymised instances of one series, as they are sent: the SEG copies its patient
    and study from them), resampled onto it (nearest) when the grids differ.

    ``entries`` is the label table (:func:`label_entries`); a value in the voxels that the
    table does not name becomes a segment ``label <value>``. ``what`` names the label map
    in error messages. Raises :class:`ImagingError` with a sentence when it cannot be built.
    """
    import highdicom as hd

    from myoscore import __version__
    from myoscore.imaging.resample import resample_like

    datasets, reference = segmentation_source(sources, what)
    grid = _source_grid(datasets, what)
    same = labels.shape == reference.shape and np.allclose(labels.affine, reference.affine, atol=_GRID_TOLERANCE_MM)
    on_grid = np.asarray(labels.voxels if same else resample_like(labels, reference, "nearest").voxels)
    if on_grid.dtype.kind == "f" and (not np.all(np.isfinite(on_grid))
                                      or not np.array_equal(on_grid, np.round(on_grid))):
        raise ImagingError(f"{what}: its voxels are not whole numbers, so it is no label map")
    values = np.unique(on_grid).astype(np.int64)
    if values.size and (values[0] < 0 or values[-1] > 65535):
        raise ImagingError(f"{what}: label values must be 0 to 65535, found {values[0]} to {values[-1]}")
    present = {int(v) for v in values if v > 0}
    if not present:
        raise ImagingError(f"{what}: no labelled voxel lies on the grid of its source series")
    by_value = {e.value: e for e in entries if e.value > 0}
    for value in sorted(present - set(by_value)):
        by_value[value] = LabelEntry(value, f"label {value}", None, "", in_table=False)
    ordered = [by_value[v] for v in sorted(by_value)]
    too_long = [e.label for e in ordered if len(e.label) > 64]
    if too_long:
        raise ImagingError(f"{what}: label {too_long[0]!r} is longer than a DICOM segment label (64 characters)")

    lookup = np.zeros(max(int(values[-1]), max(by_value)) + 1, dtype=np.uint16)
    for number, entry in enumerate(ordered, start=1):
        lookup[entry.value] = number
    numbers = lookup[on_grid.astype(np.int64)]
    # Frame i of the SEG's array belongs to source frame i (highdicom's correspondence).
    pixel_array = numbers[grid.slice_of_frame]
    if len(ordered) < 256:
        pixel_array = pixel_array.astype(np.uint8)

    def concept(code: Code) -> Any:
        return hd.sr.CodedConcept(value=code[1], scheme_designator=code[0], meaning=code[2][:64])

    descriptions = []
    for number, entry in enumerate(ordered, start=1):
        category, kind = segment_codes(entry, unit_names)
        description = hd.seg.SegmentDescription(
            segment_number=number, segment_label=entry.label,
            segmented_property_category=concept(category), segmented_property_type=concept(kind),
            # myoscore does not know how an imported label map was made; MANUAL is the
            # type that claims no algorithm (docs/structured_reports.md).
            algorithm_type=hd.seg.SegmentAlgorithmTypeValues.MANUAL,
        )
        text = f"myoscore label {entry.value}" + ("" if entry.in_table else " (not in the label table)")
        if entry.in_table and entry.name and entry.name != entry.key:
            text += f": {entry.name}"
        description.SegmentDescription = text
        laterality = _LATERALITY.get(entry.side or "")
        if laterality is not None:
            # PS3.3 Table 10-32: the modifier sits in the type's code item.
            description.SegmentedPropertyTypeCodeSequence[0].SegmentedPropertyTypeModifierCodeSequence = [
                concept(laterality)]
        descriptions.append(description)
    background = next((e for e in entries if e.value == 0), None)
    try:
        seg = hd.seg.Segmentation(
            source_images=datasets, pixel_array=pixel_array,
            segmentation_type=hd.seg.SegmentationTypeValues.BINARY, segment_descriptions=descriptions,
            series_instance_uid=series_uid, series_number=series_number, sop_instance_uid=sop_uid,
            instance_number=1, manufacturer="myoscore", manufacturer_model_name="myoscore",
            software_versions=__version__, device_serial_number="none",
            content_label="MUSCLES",
            content_description=f"background: {background.label}"[:64] if background else None,
            series_description=SEG_SERIES_DESCRIPTION,
        )
    except (ValueError, TypeError, AttributeError) as exc:
        raise ImagingError(f"{what}: highdicom could not build the segmentation: {exc}") from exc
    from pydicom.dataset import Dataset

    private = Dataset()
    private.CodingSchemeDesignator = PRIVATE_SCHEME
    private.CodingSchemeName = "myoscore private codes (docs/structured_reports.md)"
    private.CodingSchemeResponsibleOrganization = "myoscore"
    seg.CodingSchemeIdentificationSequence = [private]
    buffer = io.BytesIO()
    seg.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


# ---------------------------------------------------------------- reading


def _is_segmentation(ds: Any) -> bool:
    return str(getattr(ds, "SOPClassUID", "")) == "1.2.840.10008.5.1.4.1.1.66.4"


def referenced_series(data: bytes, what: str) -> str:
    """The SeriesInstanceUID of the series a SEG is drawn on."""
    ds = _read(data, what, pixels=False)
    try:
        return str(ds.ReferencedSeriesSequence[0].SeriesInstanceUID)
    except (AttributeError, IndexError) as exc:
        raise ImagingError(f"{what}: the segmentation names no source series") from exc


def _read(data: bytes, what: str, *, pixels: bool) -> Any:
    import pydicom

    try:
        ds = pydicom.dcmread(io.BytesIO(data), stop_before_pixels=not pixels)
    except (pydicom.errors.InvalidDicomError, OSError, ValueError) as exc:
        raise ImagingError(f"{what}: not readable DICOM: {exc}") from exc
    if not _is_segmentation(ds):
        raise ImagingError(f"{what}: not a DICOM Segmentation (SOP class {getattr(ds, 'SOPClassUID', '?')})")
    return ds


def _entry(item: Any) -> LabelEntry:
    number = int(item.SegmentNumber)
    label = str(getattr(item, "SegmentLabel", "") or f"segment {number}")
    found = _DESCRIPTION.fullmatch(str(getattr(item, "SegmentDescription", "") or ""))
    if found and found.group(2):
        return LabelEntry(int(found.group(1)), label, None, "", in_table=False)
    value = int(found.group(1)) if found else number
    types = getattr(item, "SegmentedPropertyTypeCodeSequence", None) or []
    modifiers = (getattr(types[0], "SegmentedPropertyTypeModifierCodeSequence", None) or []) if types else []
    coded = next((_SIDE_OF_CODE[str(m.CodeValue)] for m in modifiers
                  if str(getattr(m, "CodeValue", "")) in _SIDE_OF_CODE), None)
    prefix, colon, rest = label.partition(":")
    side: str | None
    if colon and prefix.upper() in ("R", "L"):
        side, key = prefix.upper(), rest
    else:
        side, key = coded, label
    name = found.group(3) if found and found.group(3) else key
    return LabelEntry(value, key, side, name)


def _frame_item(frame: Any, shared: Any, name: str, where: str) -> Any:
    """A functional group of one frame: its own, else the one all frames share (one segment)."""
    found = frame.get(name) or (shared.get(name) if shared is not None else None)
    if not found:
        raise ImagingError(f"{where} has no {name}")
    return found[0]


def read_segmentation(data: bytes, reference: Volume, what: str) -> tuple[Volume, list[LabelEntry]]:
    """A BINARY SEG back as a label Volume on ``reference``'s grid (the series it references:
    every frame is put at its position there) and the label table it carries."""
    ds = _read(data, what, pixels=True)
    if str(getattr(ds, "SegmentationType", "")) != "BINARY":
        raise ImagingError(f"{what}: only BINARY segmentations are read, not {getattr(ds, 'SegmentationType', '?')}")
    entries = {int(item.SegmentNumber): _entry(item) for item in ds.SegmentSequence}
    value_of = {number: entry.value for number, entry in entries.items()}
    frames = np.asarray(ds.pixel_array)
    if frames.ndim == 2:
        frames = frames[np.newaxis]
    if frames.shape[1:] != reference.shape[1:]:
        raise ImagingError(f"{what}: its frames are {frames.shape[1]}×{frames.shape[2]}, its source series' "
                           f"slices {reference.shape[1]}×{reference.shape[2]}")
    biggest = max(value_of.values(), default=0)
    voxels = np.zeros(reference.shape, dtype=np.int16 if biggest < 2**15 else np.int32)
    inverse = np.linalg.inv(reference.affine)
    shared = ds.SharedFunctionalGroupsSequence[0] if "SharedFunctionalGroupsSequence" in ds else None
    for index, frame in enumerate(ds.PerFrameFunctionalGroupsSequence):
        where = f"{what}: frame {index + 1}"
        number = int(_frame_item(frame, shared, "SegmentIdentificationSequence", where).ReferencedSegmentNumber)
        position = _floats(_frame_item(frame, shared, "PlanePositionSequence", where).ImagePositionPatient, 3,
                           f"{where}'s position")
        i, j, k = (inverse @ np.append(position, 1.0))[:3]
        slice_index = round(float(k))
        if abs(i) > 1e-2 or abs(j) > 1e-2 or abs(k - slice_index) > 1e-2 or not 0 <= slice_index < reference.shape[0]:
            raise ImagingError(f"{what}: frame {index + 1} does not lie on a slice of its source series")
        if number not in value_of:
            raise ImagingError(f"{what}: frame {index + 1} is of segment {number}, which the SEG does not describe")
        voxels[slice_index][frames[index] > 0] = value_of[number]
    table = [e for e in entries.values() if e.in_table]
    background = _BACKGROUND.fullmatch(str(getattr(ds, "ContentDescription", "") or ""))
    if background:
        side, _, key = background.group(1).rpartition(":")
        side_value = side if side in ("R", "L") else None
        table.append(LabelEntry(0, key if side_value else background.group(1), side_value,
                                key if side_value else background.group(1)))
    metadata = {"format": "dicom-seg", "modality": "SEG"}
    return Volume(voxels, reference.affine, metadata), sorted(table, key=lambda e: e.value)
