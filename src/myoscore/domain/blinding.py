"""What a reader may see of a series and of a volume: an allow-list, not a deny-list.

A series reaches a reader as its sequence kind, an opaque index within the exam
(``series 2``), and its grid (shape, spacing, number of slices files). Never the raw
SeriesDescription, the kind's reason (it quotes the description), the folder, the file
names, or import issues (they name files): SeriesDescription and folder names often
carry a patient's name. Volume metadata a reader gets keeps only the named technical
keys below, each of a checked type; everything else is dropped, whatever it is.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from collections.abc import Sequence as Seq
from dataclasses import replace
from typing import Any

from myoscore.domain.model import Sequence, Series

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


def reader_series(series: Series, index: int) -> Series:
    """The reader's view of a series: kind, opaque index, grid; nothing taken from text."""
    return replace(series, description=f"series {index}", kind_reason="", path="", files=(), issues=())


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

    def __init__(self, records: Seq[Series]) -> None:
        ordered = sorted(records, key=lambda s: s.id)
        self._records = tuple(ordered)
        self.views = tuple(reader_series(record, index) for index, record in enumerate(ordered, start=1))

    def __len__(self) -> int:
        return len(self.views)

    def __iter__(self) -> Iterator[Series]:
        return iter(self.views)

    def __repr__(self) -> str:
        return f"ImageSources({list(self.views)!r})"

    def for_loading(self) -> tuple[tuple[Series, Series], ...]:
        """``(record with files, reader's view)`` pairs: for the image loader only."""
        return tuple(zip(self._records, self.views, strict=True))
