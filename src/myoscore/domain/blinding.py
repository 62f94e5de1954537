"""What a reader may see of a series and of a volume: an allow-list, not a deny-list.

A series reaches a reader as its sequence kind, an opaque index within the exam
(``series 2``), and its grid (shape, spacing, number of slices files). Never the raw
SeriesDescription, the kind's reason (it quotes the description), the folder, the file
names, or import issues (they name files): SeriesDescription and folder names often
carry a patient's name. Volume metadata a reader gets keeps only the named technical
keys below, each of a checked type; everything else is dropped, whatever it is.

*Timepoint blinding* (a study setting, on by default): a reader sees neither the subject
code that links a subject's exams nor the timepoint label. Each read then shows its own
opaque code (``R-7Q4KZP``) instead, and nothing a reader's session returns links two
reads of one subject: no exam id, no series id or UID, no worklist seed (from which the
order of exam ids could be rebuilt), no repeat flag.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from collections.abc import Sequence as Seq
from dataclasses import replace
from typing import Any

from myoscore.domain.model import BlindedExam, Read, Sequence, Series

#: Volume metadata keys a reader may see, with the type each must have.
READER_METADATA: dict[str, type] = {
    "format": str,
    "modality": str,
    "sequence": str,
    "repetition_time": float,
    "echo_time": float,
    "inversion_time": float,
    "flip_angle": float,
    "magnetic_field_strength": float,
    "slice_thickness": float,
}
#: The only text values allowed for the text keys.
_TEXT_VALUES: dict[str, frozenset[str]] = {
    "format": frozenset({"dicom", "nifti"}),
    "modality": frozenset({"MR", "CT", "PT", "OT"}),
    "sequence": frozenset(s.value for s in Sequence),
}


#: The study setting (``study_settings.name``) of timepoint blinding; a missing row means on.
TIMEPOINT_BLINDING = "timepoint_blinding"


def reader_series(series: Series, index: int, *, linked: bool = True) -> Series:
    """The reader's view of a series: kind, opaque index, grid; nothing taken from text.

    ``linked=False`` (timepoint blinding): the stored series and exam ids and the UID are
    replaced too (the index is the id, the exam is 0), so no two exams can be told apart
    as imported one after the other."""
    view = replace(series, description=f"series {index}", kind_reason="", path="", files=(), issues=())
    return view if linked else replace(view, id=index, exam_id=0, uid="")


def timepoint_blinded_read(read: Read) -> Read:
    """A read as a timepoint-blinded reader sees it: its opaque code instead of the subject
    code, no timepoint label, and nothing that links it to another read of the subject."""
    return replace(read, exam_id=0, subject_code=read.code or f"read {read.id}", exam_label="", seed="",
                   repeat=0)


def timepoint_blinded_exam(read: Read) -> BlindedExam:
    """The exam of a read as a timepoint-blinded reader sees it: the read's code only."""
    return BlindedExam(0, read.code or f"read {read.id}", "")


def read_title(read: Read) -> str:
    """How a read is named to its reader: ``SUBJ-0001 · follow-up``, or its code alone
    (``R-7Q4KZP``) under timepoint blinding."""
    return " · ".join(part for part in (read.subject_code, read.exam_label) if part)


def reader_metadata(metadata: Mapping[str, Any]) -> dict[str, Any]:
    """The allow-listed part of a volume's metadata (text only from known vocabularies)."""
    kept: dict[str, Any] = {}
    for key, kind in READER_METADATA.items():
        value = metadata.get(key)
        if kind is float:
            if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
                kept[key] = float(value)
        elif isinstance(value, str) and value in _TEXT_VALUES[key]:
            kept[key] = value
    return kept


class ImageSources:
    """An exam's series as a reader session hands them to the image loader.

    What it shows (``views``, ``repr``, iteration) is the reader's view of each series;
    where the files are stays inside, for :func:`myoscore.app.exam_images.load_exam_images`
    only, so no value a reader's API call returns names a folder or a file.
    """

    __slots__ = ("_records", "views")

    def __init__(self, records: Seq[Series], *, linked: bool = True) -> None:
        ordered = sorted(records, key=lambda s: s.id)
        self._records = tuple(ordered)
        self.views = tuple(reader_series(record, index, linked=linked)
                           for index, record in enumerate(ordered, start=1))

    def __len__(self) -> int:
        return len(self.views)

    def __iter__(self) -> Iterator[Series]:
        return iter(self.views)

    def __repr__(self) -> str:
        return f"ImageSources({list(self.views)!r})"

    def for_loading(self) -> tuple[tuple[Series, Series], ...]:
        """``(record with files, reader's view)`` pairs: for the image loader only."""
        return tuple(zip(self._records, self.views, strict=True))
