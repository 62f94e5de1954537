"""Label maps through the study's DICOM server, as DICOM Segmentation objects.

Sending (:func:`exam_segmentations`, called by ``remote_images.send_exams``): every label
map of an exam whose file this machine has becomes one SEG on the grid of one of the
exam's DICOM series (the series with the same grid, else the STIR, T1… its station
shares), drawn on that series' pseudonymised instances (docs/multisite.md). A label map
that cannot be converted is named in a sentence, and the images go anyway.

Reading (:func:`label_map_from_server`): at a site without the NIfTI file, the label map
series' SEG is fetched by UID through the workstation's cache and turned back into the
same label Volume and label table. The SEG's UIDs are derived from the label map's store
key (:func:`seg_series_uid`), so every site knows them from the shared database without
a column of their own, and sending twice stores the same instance (no pile-up).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from myoscore.domain import ImagingError, MyoscoreError, Series
from myoscore.domain import Sequence as Kind

if TYPE_CHECKING:  # pragma: no cover - typing only
    from myoscore.app.exam_images import LabelMap
    from myoscore.app.remote_images import RemoteImages
    from myoscore.imaging import Volume

log = logging.getLogger(__name__)

__all__ = ["SentExams", "exam_segmentations", "label_map_from_server", "seg_instance_uid", "seg_series_uid"]


@dataclass(frozen=True)
class SentExams:
    """What ``send_exams`` put on the study's server."""

    instances: int  # image instances, pseudonymised
    segmentations: int = 0  # label maps, as DICOM SEG
    problems: tuple[str, ...] = ()  # label maps not sent, each naming the series and why

    def lines(self) -> list[str]:
        return [f"sent {self.instances} instances (pseudonymised) and {self.segmentations} label map(s) as "
                f"DICOM SEG to the study's server", *self.problems]


def seg_series_uid(label_map: Series) -> str:
    """The SeriesInstanceUID of a label map's SEG, the same at every site."""
    from myoscore.imaging.segmentation import derived_uid

    return derived_uid("label map seg series", label_map.uid)


def seg_instance_uid(label_map: Series) -> str:
    from myoscore.imaging.segmentation import derived_uid

    return derived_uid("label map seg instance", label_map.uid)


@cache
def _unit_names() -> Mapping[str, str]:
    from myoscore.app.schemes import scheme_library
    from myoscore.schemes import UnitLevel

    return {unit.key: unit.name for atlas in scheme_library().atlases.values()
            for level in UnitLevel for unit in atlas.units(level)}


def _is_dicom_source(series: Series) -> bool:
    # A split part of one multi-frame file shares its file with the other parts: the
    # SEG could not name its frames alone, so it is no source.
    return (series.kind is not Kind.LABEL_MAP and bool(series.files) and not series.part
            and not series.files[0].lower().endswith((".nii", ".nii.gz")))


def _same_grid(a: Volume, b: Volume) -> bool:
    return a.shape == b.shape and bool(np.allclose(a.affine, b.affine, atol=1e-3))


def _source_for(labels: Volume, candidates: Sequence[Series],
                volumes: dict[int, Volume | None]) -> tuple[Series | None, str]:
    """The series to draw the label map on: the one with its grid, else the first (STIR,
    T1, … order) whose station it shares; and why none, when none."""
    from myoscore.app.exam_images import VIEW_ORDER, _group_stations, load_volume

    if not candidates:
        return None, "its exam has no DICOM series to draw it on"
    for series in candidates:
        if series.id not in volumes:
            try:
                volumes[series.id] = load_volume(series)
            except (MyoscoreError, OSError, ValueError):
                log.exception("label map SEG: series %s could not be read as a source", series.id)
                volumes[series.id] = None
    readable = sorted((s for s in candidates if volumes[s.id] is not None),
                      key=lambda s: (VIEW_ORDER.index(s.kind) if s.kind in VIEW_ORDER else 99, s.id))
    if not readable:
        return None, "none of its exam's DICOM series could be read"
    for series in readable:
        volume = volumes[series.id]
        if volume is not None and _same_grid(labels, volume):
            return series, ""
    grids = [labels, *(v for s in readable if (v := volumes[s.id]) is not None)]
    group = next(g for g in _group_stations(grids) if 0 in g)
    overlapping = [readable[i - 1] for i in sorted(group) if i > 0]
    if not overlapping:
        return None, "it overlaps none of its exam's DICOM series"
    return overlapping[0], ""


def exam_segmentations(series: Sequence[Series], subject_code: str) -> tuple[list[bytes], list[str]]:
    """The exam's label maps as DICOM SEG instances (bytes), and a sentence for each label
    map that could not be converted (which series, why)."""
    from myoscore.app.exam_images import load_label_map
    from myoscore.imaging.dicom_references import pseudonymised
    from myoscore.imaging.segmentation import build_segmentation, label_entries

    label_maps = [s for s in series if s.kind is Kind.LABEL_MAP]
    candidates = [s for s in series if _is_dicom_source(s)]
    volumes: dict[int, Volume | None] = {}
    built: list[bytes] = []
    problems: list[str] = []
    for record in label_maps:
        what = f"label map series {record.id} of exam {record.exam_id}"
        if record.files:
            what += f" ({Path(record.files[0]).name})"
        try:
            if not record.files or not all(Path(f).exists() for f in record.files):
                raise ImagingError("its file is not on this machine (send from the workstation that imported it)")
            label_map = load_label_map(record)
            source, why_not = _source_for(label_map.volume, candidates, volumes)
            if source is None:
                raise ImagingError(why_not)
            instances = [pseudonymised(f, subject_code) for f in source.files]
            built.append(build_segmentation(
                label_map.volume, instances, label_entries(label_map.names, label_map.units),
                unit_names=_unit_names(), series_uid=seg_series_uid(record), sop_uid=seg_instance_uid(record),
                what=what))
        except (MyoscoreError, OSError, ValueError) as exc:
            log.exception("%s: not converted to DICOM SEG", what)
            reason = str(exc).removeprefix(f"{what}: ")
            problems.append(f"{what} was not sent as a DICOM SEG: {reason}; the exam's images were sent without it")
    return built, problems


def label_map_from_server(series: Series, remote: RemoteImages,
                          grids: Mapping[str, Volume] | None = None) -> LabelMap:
    """A label map this workstation has no file of, from its SEG on the study's server (by
    UID, through the cache), on the grid of the series the SEG is drawn on (taken from
    ``grids`` by SeriesInstanceUID when loaded already, else fetched too)."""
    from myoscore.app.exam_images import LabelMap, parse_label_table
    from myoscore.imaging import load_series
    from myoscore.imaging.image_cache import fetch_series
    from myoscore.imaging.segmentation import read_segmentation, referenced_series

    what = f"label map series {series.id}"
    fetched = fetch_series(remote.server, remote.cache, "", seg_series_uid(series))
    if not fetched.files:
        raise ImagingError(f"{what} is not on the study's server: the coordinator sends it with its exam "
                           f"(myoscore server send)")
    data = Path(fetched.files[0]).read_bytes()
    source_uid = referenced_series(data, what)
    reference = (grids or {}).get(source_uid)
    if reference is None:
        source = fetch_series(remote.server, remote.cache, "", source_uid)
        reference = load_series([str(f) for f in source.files])
    volume, entries = read_segmentation(data, reference, what)
    names, units = parse_label_table([entry.table_entry() for entry in entries])
    return LabelMap(volume, names, units)
