"""The reading loop without a window: one reader, one read, one item at a time.

A :class:`ReadingSession` sits on a signed-in :class:`~myoscore.store.ReaderSession`
(so everything it can see is blinded by the store) and holds the current read, the
current item (and so its side) and the read's protocol. Each method that changes
something persists it before returning — a rating is durable the moment it is given —
and returns a small frozen :class:`Changes` saying *what* changed, so a window redraws
only that (the Anki pattern). The keymap (:mod:`myoscore.app.keymap`) is a table of
functions of this object; the GUI tests press keys, the unit tests call the functions.

This module also holds the Qt-free image side of a read: loading its series as
:class:`~myoscore.imaging.volume.Volume` objects (run off the GUI thread by the
caller), the label map and where each scored unit is largest.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from collections.abc import Sequence as Seq
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from myoscore.domain import (
    NOT_EVALUABLE,
    InvalidValue,
    MyoscoreError,
    NotFound,
    Rating,
    Read,
    ReadLocked,
    ReadStatus,
    Sequence,
    Series,
)
from myoscore.schemes import Protocol
from myoscore.schemes.model import Item, Level, Scale
from myoscore.store import Database, ReaderSession, user_names

if TYPE_CHECKING:  # pragma: no cover - typing only
    from myoscore.imaging import Volume

# The image stack (pydicom, nibabel, SimpleITK) is imported inside the loading functions:
# they run on a worker thread when a read opens, so signing in and showing the worklist
# does not wait for it.

__all__ = [
    "Changes",
    "ExamImages",
    "LabelMap",
    "LoadedSeries",
    "ReadingSession",
    "Station",
    "load_exam_images",
    "load_label_map",
    "parse_label_table",
    "sign_in_names",
]


# --------------------------------------------------------------------------- Changes
@dataclass(frozen=True)
class Changes:
    """What one action changed; a window redraws only these parts.

    Attributes
    ----------
    value
        A stored rating changed (set, cleared or restored by undo).
    item
        The current item (and so possibly the side, the scale and the unit) changed.
    progress
        The number of scored items changed.
    status
        The read's status changed (assigned → in progress, or submitted and locked).
    keys
        The item keys whose stored value changed.
    """

    value: bool = False
    item: bool = False
    progress: bool = False
    status: bool = False
    keys: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return self.value or self.item or self.progress or self.status

    def __or__(self, other: Changes) -> Changes:
        return Changes(
            self.value or other.value,
            self.item or other.item,
            self.progress or other.progress,
            self.status or other.status,
            tuple(dict.fromkeys((*self.keys, *other.keys))),
        )


NOTHING = Changes()


@dataclass(frozen=True)
class _UndoStep:
    item_key: str
    previous: str | None  # the code stored before the change; None = unscored


# --------------------------------------------------------------------- ReadingSession
class ReadingSession:
    """One reader working through one read, item by item.

    Parameters
    ----------
    reader
        The signed-in reader's blinded session; every read and write goes through it.
    read_id
        One of the reader's own reads (others are refused by the store).
    start
        ``"first_unscored"`` (default) opens at the first item without a value, or at
        the first item when all are scored; ``"first"`` always at the first item.
    """

    def __init__(self, reader: ReaderSession, read_id: int, *, start: str = "first_unscored") -> None:
        self._reader = reader
        self._read = reader.read(read_id)
        self._protocol = reader.protocol(read_id)
        self._ratings: dict[str, Rating] = reader.ratings(read_id)
        self._items = self._protocol.items
        if not self._items:
            raise MyoscoreError(f"protocol {self._protocol.name} has no items to score")
        self._index_of = {item.key: i for i, item in enumerate(self._items)}
        self._undo: list[_UndoStep] = []
        self._index = 0
        if start == "first_unscored":
            self._index = next((i for i, it in enumerate(self._items) if it.key not in self._ratings), 0)

    # ------------------------------------------------------------------ state
    @property
    def reader_session(self) -> ReaderSession:
        return self._reader

    @property
    def read(self) -> Read:
        """The read as last loaded (status and progress refreshed after changes)."""
        return self._read

    @property
    def read_id(self) -> int:
        return self._read.id

    @property
    def protocol(self) -> Protocol:
        return self._protocol

    @property
    def items(self) -> tuple[Item, ...]:
        return self._items

    @property
    def index(self) -> int:
        return self._index

    @property
    def item(self) -> Item:
        return self._items[self._index]

    @property
    def side(self) -> str | None:
        """``"R"``, ``"L"`` or ``None`` for an item not scored per side."""
        return self.item.side

    @property
    def scale(self) -> Scale:
        return self.scale_of(self.item.key)

    def scale_of(self, item_key: str) -> Scale:
        return self._protocol.scale_of(item_key)

    @property
    def locked(self) -> bool:
        """True once submitted: the read opens read-only."""
        return self._read.status is ReadStatus.SUBMITTED

    def rating(self, item_key: str) -> Rating | None:
        return self._ratings.get(item_key)

    def code(self, item_key: str | None = None) -> str | None:
        """The stored code of an item (the current one by default), or ``None``."""
        rating = self._ratings.get(item_key or self.item.key)
        return rating.code if rating else None

    @property
    def ratings(self) -> Mapping[str, Rating]:
        return dict(self._ratings)

    @property
    def done(self) -> int:
        return sum(1 for item in self._items if item.key in self._ratings)

    @property
    def total(self) -> int:
        return len(self._items)

    def progress_by_region(self) -> dict[str, tuple[int, int]]:
        """``{region key: (scored, total)}`` in protocol order."""
        out: dict[str, list[int]] = {}
        for item in self._items:
            counts = out.setdefault(item.unit.region, [0, 0])
            counts[1] += 1
            counts[0] += item.key in self._ratings
        return {key: (done, total) for key, (done, total) in out.items()}

    def unscored(self) -> tuple[str, ...]:
        """Item keys without a value, in protocol order (what Submit warns about)."""
        return tuple(item.key for item in self._items if item.key not in self._ratings)

    def level_for_position(self, position: int) -> Level:
        """The current scale's level at ``position`` (the digit key shown beside it)."""
        levels = self.scale.levels
        if not 0 <= position < len(levels):
            last = len(levels) - 1
            raise InvalidValue(
                f"{self.scale.title} has {len(levels)} levels: use keys 0–{last} "
                f"(key {position} has no level)"
            )
        return levels[position]

    def can_undo(self) -> bool:
        return bool(self._undo)

    # ---------------------------------------------------------------- values
    def set_value(self, code: str) -> Changes:
        """Store ``code`` for the current item (durable on return), then move on.

        Raises
        ------
        ReadLocked
            The read is submitted.
        InvalidValue
            ``code`` is not a level of the item's scale nor "NE".
        """
        item = self.item
        changes = self._store(item.key, code)
        return changes | self._move_to(self._index + 1)

    def set_level(self, position: int) -> Changes:
        """Store the level at ``position`` of the current scale (how digit keys work,
        so codes such as ``"2a"``/``"2b"`` have a key too), then move on."""
        self._check_writable()
        return self.set_value(self.level_for_position(position).code)

    def mark_not_evaluable(self) -> Changes:
        """Store "not evaluable" (a value of its own, never a 0), then move on."""
        return self.set_value(NOT_EVALUABLE)

    def clear(self) -> Changes:
        """Remove the current item's value; it becomes unscored again. Stays on the item."""
        return self._store(self.item.key, None)

    def undo(self) -> Changes:
        """Restore the value stored before the last change (persisted) and go to its item."""
        self._check_writable()
        if not self._undo:
            return NOTHING
        step = self._undo.pop()
        changes = self._store(step.item_key, step.previous, record=False)
        return changes | self._move_to(self._index_of[step.item_key])

    def submit(self) -> Changes:
        """Lock the read. The caller has warned about :meth:`unscored` items and asked."""
        self._check_writable()
        self._reader.submit(self._read.id)
        self._read = self._reader.read(self._read.id)
        self._undo.clear()
        return Changes(status=True)

    # ------------------------------------------------------------- navigation
    def next_item(self) -> Changes:
        return self._move_to(self._index + 1)

    def previous_item(self) -> Changes:
        return self._move_to(self._index - 1)

    def next_unscored(self) -> Changes:
        """The next item without a value after the current one, wrapping around."""
        n = len(self._items)
        for step in range(1, n + 1):
            i = (self._index + step) % n
            if self._items[i].key not in self._ratings:
                return self._move_to(i)
        return NOTHING

    def switch_side(self) -> Changes:
        """The same measure on the same unit, other side (nothing for unsided items)."""
        item = self.item
        if item.side is None:
            return NOTHING
        other = {"R": "L", "L": "R"}.get(item.side)
        for i, candidate in enumerate(self._items):
            if (candidate.measure == item.measure and candidate.unit.key == item.unit.key
                    and candidate.side == other):
                return self._move_to(i)
        return NOTHING

    def go_to(self, item_key: str) -> Changes:
        if item_key not in self._index_of:
            raise NotFound(f"protocol {self._protocol.name} has no item {item_key!r}")
        return self._move_to(self._index_of[item_key])

    # ---------------------------------------------------------------- helpers
    def _move_to(self, index: int) -> Changes:
        index = max(0, min(index, len(self._items) - 1))
        if index == self._index:
            return NOTHING
        self._index = index
        return Changes(item=True)

    def _check_writable(self) -> None:
        if self.locked:
            raise ReadLocked(
                f"{self._read.subject_code} {self._read.exam_label} is submitted and locked; "
                "a coordinator can reopen it"
            )

    def _store(self, item_key: str, code: str | None, *, record: bool = True) -> Changes:
        """Persist one value (``None`` clears) through the reader session."""
        self._check_writable()
        previous = self.code(item_key)
        if code == previous:
            return NOTHING
        if code is None:
            self._reader.clear(self._read.id, item_key)
            del self._ratings[item_key]
        else:
            self._ratings[item_key] = self._reader.rate(self._read.id, item_key, code)
        if record:
            self._undo.append(_UndoStep(item_key, previous))
        status_before = self._read.status
        if status_before is ReadStatus.ASSIGNED:
            # The store moved it to in progress with the first rating.
            self._read = self._reader.read(self._read.id)
        else:
            self._read = replace(self._read, done=self.done)
        return Changes(
            value=True,
            progress=(previous is None) != (code is None),
            status=self._read.status is not status_before,
            keys=(item_key,),
        )


def sign_in_names(database: Database) -> list[str]:
    """Names for the sign-in picker (active users; no other detail leaves here)."""
    return user_names(database)


# ------------------------------------------------------------------- images of a read
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


@dataclass(frozen=True)
class LoadedSeries:
    """One displayable series: its store record, the volume, its window preset and,
    when its station has a label map, the labels resampled onto this series' grid."""

    series: Series
    volume: Volume
    window: tuple[float, float]  # (low, high) of the sequence kind's preset
    labels: np.ndarray | None = None

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


def load_label_map(series: Series) -> LabelMap:
    """A label map series and its JSON table (no table: values without meaning)."""
    from myoscore.app.images import load_volume

    volume = load_volume(series)
    table = _label_table_path(series)
    names, units = parse_label_table(json.loads(table.read_text(encoding="utf-8"))) if table else ({}, {})
    return LabelMap(volume, names, units)


#: Series kinds the viewer shows first, in this order (STIR and T1 side by side).
VIEW_ORDER = (Sequence.STIR, Sequence.T1, Sequence.T2, Sequence.DIXON_FAT, Sequence.DIXON_WATER,
              Sequence.DIXON_IN, Sequence.DIXON_OUT, Sequence.OTHER)


def _extent(volume: Volume, axis: np.ndarray) -> tuple[float, float]:
    """The volume's extent (mm) along ``axis``, from its eight corner voxels."""
    z, y, x = volume.shape
    corners = np.array([(i, j, k) for i in (0, x - 1) for j in (0, y - 1) for k in (0, z - 1)], dtype=float)
    along = volume.index_to_patient(corners) @ axis
    return float(along.min()), float(along.max())


def _group_stations(volumes: Seq[Volume]) -> list[list[int]]:
    """Indices of volumes grouped by overlapping extent along the first one's normal."""
    if not volumes:
        return []
    axis = volumes[0].slice_normal
    extents = [_extent(v, axis) for v in volumes]
    groups: list[list[int]] = []
    for index, (low, high) in enumerate(extents):
        for group in groups:
            if any(min(high, extents[g][1]) - max(low, extents[g][0]) > 0 for g in group):
                group.append(index)
                break
        else:
            groups.append([index])
    # Head first (highest position along the normal), as a reader scrolls down the body.
    return sorted(groups, key=lambda g: -max(extents[i][1] for i in g))


def load_exam_images(series: Seq[Series], progress: Callable[[str], None] | None = None) -> ExamImages:
    """Load an exam's series for viewing (slow: call it off the GUI thread).

    Image series are grouped into stations by overlapping extent (thigh, calf), each
    ordered STIR, T1, then others. A label map series (kind ``LABEL_MAP``, with a JSON
    table beside it) joins the station it overlaps and is resampled (nearest neighbour)
    onto every series' grid there, so an overlay slice is a plain array slice. A series
    that cannot be read is reported in ``problems`` by kind and number only.
    """
    from myoscore.app.images import load_volume

    images = sorted((s for s in series if s.kind is not Sequence.LABEL_MAP),
                    key=lambda s: (VIEW_ORDER.index(s.kind) if s.kind in VIEW_ORDER else 99, s.id))
    problems: list[str] = []
    loaded: list[tuple[Series, Volume]] = []
    for number, record in enumerate(images, start=1):
        if progress is not None:
            progress(f"loading {record.kind.value} ({number} of {len(images)})")
        try:
            loaded.append((record, load_volume(record)))
        except (MyoscoreError, OSError, ValueError):
            # The message names files and folders; a reader gets the kind and number only.
            problems.append(f"{record.kind.value} series {record.id} could not be read; the coordinator can see why")
    label_maps: list[LabelMap] = []
    for record in (s for s in series if s.kind is Sequence.LABEL_MAP):
        try:
            label_maps.append(load_label_map(record))
        except (MyoscoreError, OSError, ValueError):
            problems.append(f"label map series {record.id} could not be read")
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
            shown.append(LoadedSeries(record, volume, window_preset(volume, record.kind), labels))
        regions = label_map.regions() if label_map is not None else []
        name = " + ".join(r.capitalize() for r in regions) or f"Station {number}"
        stations.append(Station(name, tuple(shown), label_map))
    return ExamImages(tuple(stations), tuple(problems))


def _labels_on_grid(labels: Volume, reference: Volume) -> np.ndarray:
    """The label map sampled (nearest) at every voxel of ``reference``."""
    from myoscore.imaging import resample_like

    same = labels.shape == reference.shape and np.allclose(labels.affine, reference.affine, atol=1e-4)
    if same:
        return np.asarray(labels.voxels)
    return np.asarray(resample_like(labels, reference, "nearest").voxels)
