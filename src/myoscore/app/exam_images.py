"""The image side of a read, without Qt: an exam's series as Volumes, grouped into stations.

Loading (:func:`load_exam_images`) runs on a worker thread when a read opens; the label
map is resampled once onto each series' grid, and :func:`largest_slice_point` finds where
a scored unit is largest so selecting an item can move the views there.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from collections.abc import Sequence as Seq
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from myoscore.domain import ImagingError, MyoscoreError, Sequence, Series
from myoscore.domain.blinding import ImageSources, reader_metadata

if TYPE_CHECKING:  # pragma: no cover - typing only
    from myoscore.app.remote_images import RemoteImages
    from myoscore.imaging import Volume as Volume  # re-exported: the GUI's type of an image

# The image stack (pydicom, nibabel, SimpleITK) is imported inside the loading functions:
# they run on a worker thread when a read opens, so signing in and showing the worklist
# does not wait for it.

__all__ = [
    "MEASURE_TISSUE",
    "BodyBox",
    "Box",
    "ExamImageCache",
    "ExamImages",
    "LabelMap",
    "LoadedSeries",
    "Station",
    "body_boxes",
    "direction_letters",
    "export_series_nifti",
    "largest_slice_point",
    "load_exam_images",
    "load_label_map",
    "load_volume",
    "measure_mask",
    "parse_label_table",
    "reader_volume",
    "tissue_values",
    "window_preset",
]


def direction_letters(vector: np.ndarray) -> str:
    """The patient-direction letters (``L``, ``PH``…) a screen direction points to (LPS)."""
    from myoscore.imaging import direction_letters as letters

    return letters(vector)


def export_series_nifti(series: Series, out: str | Path, *, values: str = "display") -> tuple[Path, Volume]:
    """Write one series as a NIfTI file (RAS affine); returns the file written and the volume."""
    from myoscore.imaging import write_nifti

    volume = load_volume(series, values=values)
    return write_nifti(volume, out), volume


def load_volume(series: Series, *, values: str = "display", remote: RemoteImages | None = None,
                fetch_progress: Callable[[int, int], None] | None = None) -> Volume:
    """Read a registered series from where it was imported (files are never copied), or,
    when this workstation does not have those files and the study has a DICOM server
    (``remote``), from the server by UID through the workstation's cache.

    ``values``: ``"display"`` (what readers score) or ``"real_world"`` (vendor floating-point
    or Real World Value Mapping values where the header has them; docs/imaging.md).
    ``fetch_progress(received_bytes, total_bytes)`` is called while a series comes from
    the server (``total_bytes`` 0 when the server does not say).
    """
    from myoscore.imaging import load_nifti, load_series

    missing = [f for f in series.files if not Path(f).exists()]
    if remote is not None and (missing or not series.files) and series.dicom_uid:
        fetched = remote.files(series, fetch_progress)
        return load_series([str(f) for f in fetched.files], part=series.part, values=values)
    if not series.files:
        raise ImagingError(f"series {series.id} ({series.description or series.kind}) has no files")
    if missing:
        raise ImagingError(
            f"series {series.id} ({series.description or series.kind}): {len(missing)} of {len(series.files)} "
            f"files are no longer where they were imported from, e.g. {missing[0]}"
        )
    if series.files[0].lower().endswith((".nii", ".nii.gz")):
        return load_nifti(series.files[0], values=values)
    return load_series(list(series.files), part=series.part, values=values)


def _fetch_progress(progress: Callable[[str], None], step: str) -> Callable[[int, int], None]:
    """Byte progress of a series coming from the study's server, as text, at most once
    per megabyte received (WADO-RS reports every network chunk)."""
    last = [-1]

    def report(received: int, total: int) -> None:
        megabytes = received // 2**20
        if megabytes == last[0] and received != total:
            return
        last[0] = megabytes
        of = f" of {total / 2**20:.1f} MB" if total else " MB"
        progress(f"fetching {step} from the study's image server: {received / 2**20:.1f}{of}")

    return report


@dataclass(frozen=True)
class LabelMap:
    """A muscle segmentation on its own grid, with what each label value means.

    ``units`` maps an atlas key (muscle, compartment or region: a muscle's label also
    counts for its compartment and region) and a side (``"R"``/``"L"``, or ``None`` for
    labels that have no side) to the label values that make it up.
    """

    volume: Volume
    names: Mapping[int, str]
    units: Mapping[tuple[str, str | None], tuple[int, ...]]

    def values_for(self, unit_key: str, side: str | None) -> tuple[int, ...]:
        """Label values of a unit on one side (both sides when ``side`` is None)."""
        if side is None:
            found = {v for (key, _side), values in self.units.items() if key == unit_key for v in values}
            return tuple(sorted(found))
        return self.units.get((unit_key, side), ())

    def regions(self) -> list[str]:
        """Atlas regions present in the map's voxels (``"thigh"``), in key order."""
        present = set(np.unique(self.volume.voxels).tolist())
        keys = {key.split(".")[0] for (key, side), values in self.units.items()
                if side is not None and present.intersection(values)}
        return sorted(keys)


#: ``(row0, row1, col0, col1)``: a box of pixels, half-open, on a series' in-plane grid.
Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class BodyBox:
    """The body's bounding box on a series' grid (all slices), and each side's.

    ``sides`` maps ``"R"``/``"L"`` to the box of the patient's right or left part of the
    body: a leg or an arm when the limbs are apart, else that half of the trunk.
    """

    whole: Box
    sides: Mapping[str, Box]
    #: The body's connected components (1, 2, …; 0 is background) on the in-plane grid,
    #: and which pixels are on the patient's right (the rest is left).
    components: np.ndarray | None = None
    right_half: np.ndarray | None = None

    def side_box(self, side: str, unit: np.ndarray | None = None) -> Box | None:
        """The box of one side; with ``unit`` (pixels of the unit being scored, any slice)
        only the body parts it lies in: the arm for an arm muscle, not the arm and half
        the trunk; half the trunk for a trunk muscle."""
        whole_side = self.sides.get(side)
        if unit is None or self.components is None or self.right_half is None or not unit.any():
            return whole_side
        half = self.right_half if side == "R" else ~self.right_half
        touched = np.unique(self.components[unit & half])
        touched = touched[touched > 0]
        if touched.size == 0:
            return whole_side
        return _box_of(np.isin(self.components, touched) & half) or whole_side


@dataclass(frozen=True)
class LoadedSeries:
    """One displayable series: its store record, the volume, its window preset and,
    when its station has a label map, the labels resampled onto this series' grid."""

    series: Series
    volume: Volume
    window: tuple[float, float]  # (low, high) of the sequence kind's preset
    labels: np.ndarray | None = None
    #: Where the body is on this series' grid (whole body and each side), found from its
    #: voxels when it loaded; ``None`` when nothing stands out from the background.
    body: BodyBox | None = None

    @property
    def kind(self) -> Sequence:
        return self.series.kind


@dataclass(frozen=True)
class Station:
    """Series covering the same part of the body (their extents overlap), e.g. the
    thigh STIR and T1; the viewer shows one station at a time, its series linked."""

    name: str
    series: tuple[LoadedSeries, ...]
    label_map: LabelMap | None = None

    def largest_point(self, unit_key: str, side: str | None) -> tuple[np.ndarray, int] | None:
        """LPS centre (mm) of the unit on the label-map slice where it is largest, and
        that area in voxels; ``None`` without a label map or when the unit is absent."""
        if self.label_map is None:
            return None
        values = self.label_map.values_for(unit_key, side)
        if not values:
            return None
        return largest_slice_point(self.label_map.volume, values)


@dataclass(frozen=True)
class ExamImages:
    """Everything the viewer of one read shows. ``problems`` are reader-safe texts:
    they name the series kind and number, never a path (folder names can hold names)."""

    stations: tuple[Station, ...]
    problems: tuple[str, ...] = ()

    def station_for_region(self, region: str, canonical: Callable[[str], str] = str) -> int | None:
        """The first station one of whose series covers an atlas region (stored regions),
        or ``None``; ``canonical`` folds aliases (``calf`` / ``leg``)."""
        wanted = canonical(region)
        for index, station in enumerate(self.stations):
            if any(wanted in {canonical(r) for r in s.series.regions} for s in station.series):
                return index
        return None

    def locate(self, unit_key: str, side: str | None) -> tuple[int, np.ndarray] | None:
        """The station where a unit is largest and the LPS point to show, or ``None``."""
        best: tuple[int, np.ndarray, int] | None = None
        for index, station in enumerate(self.stations):
            found = station.largest_point(unit_key, side)
            if found is not None and (best is None or found[1] > best[2]):
                best = (index, found[0], found[1])
        return None if best is None else (best[0], best[1])


#: Window presets per sequence kind, as percentiles (low, high) of the non-zero voxels.
#: MR intensities have no absolute scale, so presets are relative to the data: STIR
#: keeps the bright end (edema) in range, T1 clips a little more to show fat contrast.
WINDOW_PRESETS: Mapping[Sequence, tuple[float, float]] = {
    Sequence.STIR: (1.0, 99.7),
    Sequence.T1: (0.5, 99.0),
}
DEFAULT_PRESET = (1.0, 99.5)


def window_preset(volume: Volume, kind: Sequence) -> tuple[float, float]:
    """The (low, high) display window of a kind's preset for this volume."""
    low_pct, high_pct = WINDOW_PRESETS.get(kind, DEFAULT_PRESET)
    voxels = volume.voxels
    step = max(1, round((voxels.size / 400_000) ** (1 / 3)))  # a subsample is plenty
    sample = np.asarray(voxels[::step, ::step, ::step], dtype=np.float32).ravel()
    sample = sample[sample > 0]
    if sample.size == 0:
        return (0.0, 1.0)
    low, high = (float(v) for v in np.percentile(sample, [low_pct, high_pct]))
    if high <= low:
        high = low + 1.0
    return (low, high)


def largest_slice_point(volume: Volume, values: Seq[int]) -> tuple[np.ndarray, int] | None:
    """LPS centre of the unit on the slice of ``volume`` where it has the most voxels,
    and that number of voxels."""
    mask = np.isin(volume.voxels, np.asarray(values, dtype=volume.voxels.dtype))
    areas = mask.sum(axis=(1, 2))
    if not areas.any():
        return None
    k = int(np.argmax(areas))
    rows, cols = np.nonzero(mask[k])
    return volume.index_to_patient((float(cols.mean()), float(rows.mean()), float(k))), int(areas[k])


def parse_label_table(data: Any) -> tuple[dict[int, str], dict[tuple[str, str | None], tuple[int, ...]]]:
    """Label names and atlas units from a label table (parsed JSON).

    Accepted shapes: ``{"R:thigh.anterior.rectus_femoris": 100, "skin": 1, ...}`` (name →
    value; ``"R:"``/``"L:"`` give the side), ``{"labels": [...]}`` or a list of objects
    ``{"value": 100, "key": "thigh.anterior.rectus_femoris", "side": "R"}``, or
    ``{"100": {"key": ..., "side": ...}}``. A muscle key also counts for its compartment
    and region (``thigh.anterior``, ``thigh``).
    """
    if isinstance(data, dict) and isinstance(data.get("labels"), (list, dict)):
        data = data["labels"]
    entries: list[dict[str, Any]] = []
    if isinstance(data, list):
        entries = [dict(e) for e in data if isinstance(e, dict)]
    elif isinstance(data, dict):
        for name, entry in data.items():
            if isinstance(entry, dict):
                entries.append({"value": name, **entry})
            elif isinstance(entry, int):
                prefix, _, key = str(name).rpartition(":")
                entries.append({"value": entry, "key": key, "side": prefix or None})
    names: dict[int, str] = {}
    units: dict[tuple[str, str | None], list[int]] = {}
    for entry in entries:
        raw_value = entry.get("value", entry.get("label", entry.get("id")))
        if raw_value is None:
            continue
        try:
            value = int(raw_value)
        except (TypeError, ValueError):
            continue
        key = str(entry.get("key") or entry.get("unit") or entry.get("muscle") or entry.get("name") or "")
        raw_side = entry.get("side")
        side = str(raw_side).upper()[:1] if raw_side else None
        side = side if side in ("R", "L") else None
        names[value] = str(entry.get("name") or key)
        parts = key.split(".")
        for depth in range(1, len(parts) + 1):
            units.setdefault((".".join(parts[:depth]), side), []).append(value)
    return names, {k: tuple(sorted(set(v))) for k, v in units.items()}


def _label_table_path(series: Series) -> Path | None:
    """The JSON label table of a label map: beside it (same stem, or ``labels.json``)
    or one folder up (the phantom's layout)."""
    candidates: list[Path] = []
    for name in (*series.files[:1], series.path):
        if not name:
            continue
        path = Path(name)
        stem = path.name.removesuffix(".gz").removesuffix(".nii")
        folder = path if path.is_dir() else path.parent
        candidates += [path.with_name(stem + ".json"), folder / "labels.json", folder.parent / "labels.json"]
    return next((c for c in candidates if c.is_file()), None)


def load_label_map(series: Series, *, remote: RemoteImages | None = None,
                   grids: Mapping[str, Volume] | None = None) -> LabelMap:
    """A label map series and its JSON table (no table: values without meaning). Without
    its file on this machine and with the study's server (``remote``): from its DICOM SEG
    there (``app.label_map_seg``), on the grid of the series it is drawn on (``grids``:
    loaded series by SeriesInstanceUID)."""
    if remote is not None and (not series.files or not all(Path(f).exists() for f in series.files)):
        from myoscore.app.label_map_seg import label_map_from_server

        return label_map_from_server(series, remote, grids)
    volume = load_volume(series)
    table = _label_table_path(series)
    names, units = parse_label_table(json.loads(table.read_text(encoding="utf-8"))) if table else ({}, {})
    return LabelMap(volume, names, units)


#: Series kinds the viewer shows first, in this order (STIR and T1 side by side).
VIEW_ORDER = (Sequence.STIR, Sequence.T1, Sequence.T2, Sequence.DIXON_FAT, Sequence.DIXON_WATER,
              Sequence.DIXON_IN, Sequence.DIXON_OUT, Sequence.OTHER)


def _group_stations(volumes: Seq[Volume]) -> list[list[int]]:
    """Indices of volumes grouped by overlapping extent along the first one's normal.

    Two volumes share a station when they overlap by more than half of the shorter one:
    the STIR and T1 of one table position do, neighbouring stations of a whole-body exam
    (which overlap by a few centimetres so nothing falls between them) do not."""
    if not volumes:
        return []
    axis = volumes[0].slice_normal
    extents = [v.extent_along(axis) for v in volumes]
    groups: list[list[int]] = []
    for index, (low, high) in enumerate(extents):
        for group in groups:
            if any(min(high, extents[g][1]) - max(low, extents[g][0])
                   > 0.5 * min(high - low, extents[g][1] - extents[g][0]) for g in group):
                group.append(index)
                break
        else:
            groups.append([index])
    # Head first (highest position along the normal), as a reader scrolls down the body.
    return sorted(groups, key=lambda g: -max(extents[i][1] for i in g))


def reader_volume(volume: Volume) -> Volume:
    """The volume as a reader may have it: allow-listed metadata
    (:func:`myoscore.domain.blinding.reader_metadata`), warnings only counted (they name files)."""
    from myoscore.imaging import Volume

    warnings = (f"{len(volume.warnings)} problem(s) noted while reading this series; the coordinator can see them",
                ) if volume.warnings else ()
    return Volume(volume.voxels, volume.affine, reader_metadata(volume.metadata), warnings)


def load_exam_images(series: Seq[Series] | ImageSources, progress: Callable[[str], None] | None = None, *,
                     remote: RemoteImages | None = None) -> ExamImages:
    """Load an exam's series for viewing (slow: call it off the GUI thread).

    Image series are grouped into stations by overlapping extent (thigh, calf), each
    ordered STIR, T1, then others. A label map series (kind ``LABEL_MAP``, with a JSON
    table beside it) joins the station it overlaps and is resampled (nearest neighbour)
    onto every series' grid there, so an overlay slice is a plain array slice. A series
    that cannot be read is reported in ``problems`` by kind and number only.

    Given a reader session's :class:`~myoscore.domain.blinding.ImageSources`, every series
    and volume in the result is the reader's allow-listed view (no description, path,
    file name or free-text metadata).
    """
    views: dict[int, Series] = {}
    if isinstance(series, ImageSources):
        pairs = series.for_loading()
        views = {record.id: view for record, view in pairs}
        series = [record for record, _ in pairs]
    images = sorted((s for s in series if s.kind is not Sequence.LABEL_MAP),
                    key=lambda s: (VIEW_ORDER.index(s.kind) if s.kind in VIEW_ORDER else 99, s.id))
    problems: list[str] = []
    loaded: list[tuple[Series, Volume]] = []
    for number, record in enumerate(images, start=1):
        step = f"{record.kind.value} ({number} of {len(images)})"
        if progress is not None:
            progress(f"loading {step}")
        try:
            fetching = None if progress is None else _fetch_progress(progress, step)
            loaded.append((record, load_volume(record, remote=remote, fetch_progress=fetching)))
        except (MyoscoreError, OSError, ValueError):
            # The message names files and folders; a reader gets the kind and number only.
            named = views[record.id].description if views else f"series {record.id}"
            problems.append(f"{record.kind.value} {named} could not be read; the coordinator can see why")
    label_maps: list[LabelMap] = []
    grids = {record.dicom_uid: volume for record, volume in loaded}
    for record in (s for s in series if s.kind is Sequence.LABEL_MAP):
        try:
            label_maps.append(load_label_map(record, remote=remote, grids=grids))
        except (MyoscoreError, OSError, ValueError):
            named = views[record.id].description if views else f"series {record.id}"
            problems.append(f"label map {named} could not be read")
    volumes = [v for _, v in loaded] + [m.volume for m in label_maps]
    stations: list[Station] = []
    for number, group in enumerate(_group_stations(volumes), start=1):
        members = [loaded[i] for i in group if i < len(loaded)]
        if not members:
            continue
        maps = [label_maps[i - len(loaded)] for i in group if i >= len(loaded)]
        label_map = maps[0] if maps else None
        shown = []
        for record, volume in sorted(members, key=lambda m: images.index(m[0])):
            labels = _labels_on_grid(label_map.volume, volume) if label_map is not None else None
            preset = window_preset(volume, record.kind)
            body = body_boxes(volume, preset)
            if views:
                record, volume = views[record.id], reader_volume(volume)
            shown.append(LoadedSeries(record, volume, preset, labels, body))
        # The stored regions of the station's first series (its own coverage, app.coverage),
        # else what its label map holds.
        regions = list(shown[0].series.regions) or (label_map.regions() if label_map is not None else [])
        if label_map is not None and views:
            label_map = replace(label_map, volume=reader_volume(label_map.volume))
        name = " + ".join(r.capitalize() for r in regions) or f"Station {number}"
        stations.append(Station(name, tuple(shown), label_map))
    return ExamImages(tuple(stations), tuple(problems))


class ExamImageCache:
    """Loaded exams kept for the next open: the reader's current exam and the next one
    of the worklist, loaded in the background while the reader scores (no Qt here: the
    GUI runs :meth:`load` on a worker thread, the CLI and tests call it directly).

    Keyed by the exam's series (ids and files), so a series added or re-imported is a
    new key. Thread-safe: when two threads ask for the same exam (the prefetch is still
    running when the reader opens it), the second waits for the first load instead of
    reading the files again. Holds at most ``capacity`` exams, least recently used out.
    """

    def __init__(self, capacity: int = 2, remote: RemoteImages | None = None) -> None:
        self.capacity = capacity
        self.remote = remote  # the study's DICOM server through this workstation's cache
        self._lock = threading.Lock()
        self._done: OrderedDict[tuple[object, ...], ExamImages] = OrderedDict()
        self._running: dict[tuple[object, ...], threading.Event] = {}

    @staticmethod
    def key(series: Seq[Series] | ImageSources) -> tuple[object, ...]:
        # A reader's (blinded) load and a coordinator's of the same series are not one entry.
        blinded = isinstance(series, ImageSources)
        records = [record for record, _ in series.for_loading()] if isinstance(series, ImageSources) else series
        return (blinded, *sorted((s.id, s.kind.value, tuple(s.files)) for s in records))

    def get(self, series: Seq[Series] | ImageSources) -> ExamImages | None:
        """The exam if it is loaded already (never waits, never reads a file)."""
        key = self.key(series)
        with self._lock:
            found = self._done.get(key)
            if found is not None:
                self._done.move_to_end(key)
            return found

    def loading(self, series: Seq[Series] | ImageSources) -> bool:
        with self._lock:
            return self.key(series) in self._running

    def load(self, series: Seq[Series] | ImageSources,
             progress: Callable[[str], None] | None = None) -> ExamImages:
        """The exam's images: from the cache, from a load already running, or loaded now."""
        key = self.key(series)
        event = threading.Event()
        while True:
            with self._lock:
                found = self._done.get(key)
                if found is not None:
                    self._done.move_to_end(key)
                    return found
                running = self._running.get(key)
                if running is None:
                    self._running[key] = event
                    break
            running.wait()  # another thread loads it; then take its result (or load, if it failed)
        try:
            images = load_exam_images(series, progress, remote=self.remote)
        finally:
            with self._lock:
                del self._running[key]
            event.set()
        with self._lock:
            self._done[key] = images
            self._done.move_to_end(key)
            while len(self._done) > self.capacity:
                self._done.popitem(last=False)
        return images

    def clear(self) -> None:
        with self._lock:
            self._done.clear()


def _labels_on_grid(labels: Volume, reference: Volume) -> np.ndarray:
    """The label map sampled (nearest) at every voxel of ``reference``."""
    from myoscore.imaging import resample_like

    same = labels.shape == reference.shape and np.allclose(labels.affine, reference.affine, atol=1e-4)
    if same:
        return np.asarray(labels.voxels)
    return np.asarray(resample_like(labels, reference, "nearest").voxels)


# ------------------------------------------------------------------ body and measures
def _box_of(mask: np.ndarray) -> Box | None:
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask.any(axis=0))
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


def body_boxes(volume: Volume, window: tuple[float, float] | None = None) -> BodyBox | None:
    """The body on a series, found from its voxels (not the field of view).

    A pixel is body when, on some slice, it is brighter than a quarter of the way into
    the display window (MR background is noise near zero; every tissue but cortical
    bone and air-filled gut is brighter). The connected components of that projection
    are kept when they are at least a tenth of the largest (two legs are two components;
    noise specks and coil artefacts are not). Each side's box is the part of the body on
    the patient's right or left of the body's centre along the patient's left–right axis.
    """
    from scipy import ndimage

    voxels = volume.voxels
    low, high = window if window is not None else window_preset(volume, Sequence.OTHER)
    threshold = low + 0.25 * (high - low)
    step = max(1, voxels.shape[0] // 40)  # 40 slices are plenty to find the body
    projection = np.asarray(voxels[::step], dtype=np.float32).max(axis=0) > threshold
    projection = ndimage.binary_opening(projection, iterations=1)
    components, count = ndimage.label(projection)
    if count == 0:
        return None
    sizes = np.bincount(components.ravel())[1:]
    keep = np.flatnonzero(sizes >= 0.1 * sizes.max()) + 1
    body = np.isin(components, keep)
    body = ndimage.binary_fill_holes(body)
    parts, _count = ndimage.label(body)
    whole = _box_of(body)
    if whole is None:
        return None
    # Patient x (LPS: + is the patient's left) of every pixel of the grid's first slice.
    rows, cols = np.indices(body.shape)
    affine = volume.affine
    patient_x = affine[0, 0] * cols + affine[0, 1] * rows
    inside = patient_x[body]
    centre = 0.5 * (float(inside.min()) + float(inside.max()))
    right = patient_x < centre
    sides: dict[str, Box] = {}
    for side, half in (("R", right), ("L", ~right)):
        box = _box_of(body & half)
        if box is not None:
            sides[side] = box
    return BodyBox(whole, sides, parts.astype(np.int32), right)


#: Label names (in a label table) of the tissue a region-level measure is scored on, by
#: measure: the sector of it nearest a compartment is that compartment's.
MEASURE_TISSUE: Mapping[str, tuple[str, ...]] = {
    "subcutaneous_edema": ("subcutaneous_fat", "subcutaneous"),
    "fascia_edema": ("fascia",),
}


def tissue_values(label_map: LabelMap, unit_key: str, side: str | None, measure: str) -> tuple[int, ...]:
    """Label values of a measure's own tissue for a unit, when the map labels it per unit.

    A label map may carry the tissue per compartment (``thigh.anterior.subcutaneous`` or
    ``thigh.anterior.fascia``, sided like muscles); then those labels are the outline.
    """
    suffixes = {"subcutaneous_edema": ("subcutaneous", "subcutaneous_fat"), "fascia_edema": ("fascia",)}
    for suffix in suffixes.get(measure, ()):
        found = label_map.values_for(f"{unit_key}.{suffix}", side)
        if found:
            return found
    return ()


def measure_mask(slice_labels: np.ndarray, label_map: LabelMap, unit_key: str, side: str | None,
                 measure: str) -> np.ndarray | None:
    """The pixels of one label slice that a measure of a unit is scored on, or ``None``
    when the measure is scored on the unit's muscles themselves (muscle edema, fat).

    Subcutaneous edema of a compartment is scored on *the subcutaneous sector of that
    compartment*, fascia edema on its *fascial envelope*: when the label map labels
    those per compartment (see :func:`tissue_values`) they are used as they are;
    otherwise (the phantom, most segmentations) the map's generic tissue label
    (``subcutaneous_fat``, ``fascia``) is split by nearest muscle: a tissue pixel belongs
    to the compartment and side of the muscle closest to it.
    """
    if measure not in MEASURE_TISSUE:
        return None
    own = tissue_values(label_map, unit_key, side, measure)
    if own:
        return np.isin(slice_labels, own)
    tissue = [v for name in MEASURE_TISSUE[measure] for v in label_map.values_for(name, None)]
    unit = label_map.values_for(unit_key, side)
    if not tissue or not unit:
        return np.zeros(slice_labels.shape, dtype=bool)
    region = unit_key.split(".")[0]
    muscles = np.asarray(label_map.values_for(region, None) or unit)
    tissue_mask = np.isin(slice_labels, tissue)
    muscle_mask = np.isin(slice_labels, muscles)
    if not tissue_mask.any() or not muscle_mask.any():
        return np.zeros(slice_labels.shape, dtype=bool)
    box = _box_of(tissue_mask | muscle_mask)
    assert box is not None
    r0, r1, c0, c1 = box
    from scipy import ndimage

    crop_labels = slice_labels[r0:r1, c0:c1]
    _distance, (near_r, near_c) = ndimage.distance_transform_edt(~muscle_mask[r0:r1, c0:c1], return_indices=True)
    nearest = crop_labels[near_r, near_c]
    mask = np.zeros(slice_labels.shape, dtype=bool)
    mask[r0:r1, c0:c1] = tissue_mask[r0:r1, c0:c1] & np.isin(nearest, unit)
    return mask
