"""Stations: which atlas regions each series of an exam covers, and what no series shows.

A series covers the atlas regions that a **label map** of the exam has inside the
series' extent along the body (its z-range in patient coordinates): a region counts when
at least :data:`MIN_REGION_FRACTION` of its labelled voxels lie within that range. A
series that no label map overlaps gets its regions from its **description**, by the
rules in ``scoring_schemes/stations/description_rules.toml`` (data, not code). A label
map covers the regions it labels.

The regions are stored on each series (the coordinator's series table and ``series list
--json`` show them). A read then knows which of its units lie in no series of the exam
(:func:`not_imaged_regions`): their item row says so, a value other than NE needs a
confirmation, and a protocol may pre-fill them NE.
"""

from __future__ import annotations

import logging
import re
import tomllib
from collections.abc import Iterable, Mapping
from collections.abc import Sequence as Seq
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from myoscore.domain import MyoscoreError, Sequence, Series
from myoscore.resources import schemes_dir

if TYPE_CHECKING:  # pragma: no cover - typing only
    from myoscore.app.exam_images import LabelMap
    from myoscore.app.sessions import CoordinatorSession
    from myoscore.imaging import Volume

log = logging.getLogger(__name__)

__all__ = [
    "MIN_REGION_FRACTION",
    "NOT_IMAGED",
    "DescriptionRules",
    "description_rules",
    "exam_regions",
    "load_description_rules",
    "not_imaged_regions",
    "refresh_exam_regions",
    "regions_in_range",
    "z_range_of",
]

#: A label map's region counts for a series when this share of its voxels lies in the
#: series' z-range (a thigh station's top slices show the lowest gluteal fibres; that
#: does not make it a pelvis series).
MIN_REGION_FRACTION = 0.2

#: What the item row and the confirmation say about a unit that no series shows.
NOT_IMAGED = "not in any series of this exam"

_WORD = re.compile(r"[a-z]+")


@dataclass(frozen=True)
class DescriptionRules:
    """Words of a series description → atlas regions, and region aliases across atlases."""

    rules: tuple[tuple[frozenset[str], tuple[str, ...]], ...]
    aliases: Mapping[str, str]

    def canonical(self, region: str) -> str:
        """One name per part of the body (``calf`` → ``leg``)."""
        return self.aliases.get(region, region)

    def regions_for(self, description: str) -> tuple[str, ...]:
        """Regions the words of ``description`` name, in rule order (empty: unknown)."""
        words = {w.removesuffix("s") if len(w) > 3 else w for w in _WORD.findall(description.lower())}
        words |= set(_WORD.findall(description.lower()))
        found: list[str] = []
        for match, regions in self.rules:
            if words & match:
                found += [r for r in regions if r not in found]
        return tuple(found)


def load_description_rules(path: Path) -> DescriptionRules:
    """Read a rules file; a bad one raises an error naming the file and the key."""
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise MyoscoreError(f"{path}: cannot read station rules: {exc}") from None
    rules: list[tuple[frozenset[str], tuple[str, ...]]] = []
    for number, rule in enumerate(data.get("rule", []), start=1):
        words, regions = rule.get("words"), rule.get("regions")
        if not (isinstance(words, list) and words and all(isinstance(w, str) for w in words)):
            raise MyoscoreError(f"{path}: rule {number}: 'words' must be a non-empty list of strings")
        if not (isinstance(regions, list) and regions and all(isinstance(r, str) for r in regions)):
            raise MyoscoreError(f"{path}: rule {number}: 'regions' must be a non-empty list of region keys")
        rules.append((frozenset(w.lower() for w in words), tuple(regions)))
    aliases = data.get("aliases", {})
    if not (isinstance(aliases, dict) and all(isinstance(v, str) for v in aliases.values())):
        raise MyoscoreError(f"{path}: 'aliases' must map region keys to region keys")
    return DescriptionRules(tuple(rules), dict(aliases))


@cache
def description_rules() -> DescriptionRules:
    """The shipped rules (``scoring_schemes/stations/description_rules.toml``)."""
    return load_description_rules(schemes_dir() / "stations" / "description_rules.toml")


def z_range_of(volume: Volume) -> tuple[float, float]:
    """The volume's extent along the body (patient z, mm) from its eight corner voxels."""
    return volume.extent_along((0.0, 0.0, 1.0))


def regions_in_range(label_map: LabelMap, z_range: tuple[float, float]) -> tuple[str, ...]:
    """Atlas regions of a label map with at least :data:`MIN_REGION_FRACTION` of their
    voxels inside ``z_range`` (patient z, mm), in key order."""
    volume = label_map.volume
    voxels = np.asarray(volume.voxels)
    n = voxels.shape[0]
    centres = volume.index_to_patient(
        np.array([((voxels.shape[2] - 1) / 2, (voxels.shape[1] - 1) / 2, k) for k in range(n)], dtype=float)
    )[:, 2]
    low, high = z_range
    half = abs(float(centres[1] - centres[0])) / 2 if n > 1 else 0.0
    inside = (centres >= low - half) & (centres <= high + half)
    if not inside.any():
        return ()
    found = []
    for region in label_map.regions():
        values = sorted({v for (key, side), vs in label_map.units.items()
                         if side is not None and key == region for v in vs})
        mask = np.isin(voxels, np.asarray(values, dtype=voxels.dtype))
        total = int(mask.sum())
        if total and mask[inside].sum() >= MIN_REGION_FRACTION * total:
            found.append(region)
    return tuple(found)


def _overlaps(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return min(a[1], b[1]) - max(a[0], b[0]) > 0


_Coverage = tuple[tuple[str, ...], tuple[float, float] | None]


def exam_regions(series: Seq[Series], volumes: Mapping[int, Volume] | None = None,
                 rules: DescriptionRules | None = None) -> dict[int, _Coverage]:
    """Regions and z-range of every series of one exam, by series id.

    ``volumes`` may hold already loaded volumes by series id; others are loaded (label
    maps always: their voxels are needed). A series that cannot be read keeps the regions
    its description gives, and no z-range.
    """
    from myoscore.app.exam_images import load_label_map, load_volume

    rules = rules or description_rules()
    volumes = dict(volumes or {})
    label_maps: list[tuple[LabelMap, tuple[float, float]]] = []
    result: dict[int, _Coverage] = {}
    for record in series:
        if record.kind is not Sequence.LABEL_MAP:
            continue
        try:
            label_map = load_label_map(record)
        except (MyoscoreError, OSError, ValueError):
            log.exception("label map series %s could not be read for its regions", record.id)
            result[record.id] = ((), None)
            continue
        map_extent = z_range_of(label_map.volume)
        label_maps.append((label_map, map_extent))
        result[record.id] = (tuple(label_map.regions()), map_extent)
    for record in series:
        if record.kind is Sequence.LABEL_MAP:
            continue
        extent: tuple[float, float] | None = record.z_range
        if extent is None:
            try:
                volume = volumes.get(record.id) or load_volume(record)
                extent = z_range_of(volume)
            except (MyoscoreError, OSError, ValueError):
                log.exception("series %s could not be read for its z-range", record.id)
        regions: list[str] = []
        overlapping = [m for m, m_extent in label_maps if extent is not None and _overlaps(extent, m_extent)]
        if overlapping:
            assert extent is not None
            for label_map in overlapping:
                regions += [r for r in regions_in_range(label_map, extent) if r not in regions]
        else:
            regions = list(rules.regions_for(record.description))
        result[record.id] = (tuple(regions), extent)
    return result


def refresh_exam_regions(coordinator: CoordinatorSession, exam_ids: Iterable[int]) -> int:
    """Recompute and store the regions of every series of these exams; returns how many
    series changed. Called after an import (a label map added later re-labels its exam)."""
    changed = 0
    for exam_id in dict.fromkeys(exam_ids):
        series = coordinator.series(exam_id)
        updates = {sid: value for sid, value in exam_regions(series).items()
                   if value != next((s.regions, s.z_range) for s in series if s.id == sid)}
        if updates:
            coordinator.set_series_regions(updates)
            changed += len(updates)
    return changed


def not_imaged_regions(series: Seq[Series], regions: Iterable[str],
                       rules: DescriptionRules | None = None) -> frozenset[str]:
    """Which of ``regions`` (a protocol's atlas region keys) no image series of the exam
    covers. Empty when coverage is unknown: no image series, or one whose regions are
    unknown (no label map and a description no rule knows) — a guess never blocks scoring."""
    rules = rules or description_rules()
    images = [s for s in series if s.kind is not Sequence.LABEL_MAP]
    if not images or any(not s.regions for s in images):
        return frozenset()
    covered = {rules.canonical(r) for s in images for r in s.regions}
    return frozenset(r for r in regions if rules.canonical(r) not in covered)
