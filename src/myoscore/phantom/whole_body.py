"""A synthetic whole-body exam pair for seed 004's protocol: stations, truth, label maps.

:func:`write_whole_body_phantom` writes one synthetic subject scanned twice
(``baseline`` and ``followup``) on a whole-body protocol: axial STIR and T1 stacks in
six **stations** (leg, thigh, pelvis, lumbar, upper arm, shoulder girdle), both sides,
as real DICOM (MR Image Storage) and NIfTI, a label map per station, a JSON label table
and a JSON ground truth of every muscle's STIR positivity (0/1) and Fischer grade (0–4)
on each side at each timepoint. Muscle keys are those of the shipped
``whole_body_muscles`` atlas, read from its TOML file.

Geometry as a scanner writes it: every station of a timepoint shares one
FrameOfReferenceUID and one patient coordinate system (LPS, z increasing toward the
head, z = 0 at the hip joints), neighbouring stations **overlap** by 30–40 mm, and each
series records the table position of its station (``TablePosition``, the station's
centre brought to the isocentre). The T1 stack of a station has another grid than its
STIR stack (more, thinner slices; coarser pixels), so linked views have work to do.

Anatomy is analytic (ellipses in millimetres, in patient space): trunk with viscera,
lungs, vertebrae, pelvis and scapulae; thighs and legs (the layouts of the thigh-and-calf
phantom, :mod:`myoscore.phantom.limbs`, plus pectineus and popliteus); arms at the sides.
Matrices are coarse (5 mm pixels by default) so the whole pair writes in about a second.
"""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Iterable, Mapping
from collections.abc import Sequence as Seq
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import numpy.typing as npt

from myoscore.domain import ImagingError, Sequence
from myoscore.imaging import Volume
from myoscore.phantom import limbs
from myoscore.phantom.atlas_keys import atlas_muscle_keys

__all__ = [
    "STATIONS",
    "WB_MUSCLE_KEYS",
    "WholeBodyInfo",
    "WholeBodySeries",
    "wb_muscle_label",
    "write_whole_body_phantom",
]

_ATLAS = "whole_body_muscles"
_REGIONS = ("pelvis", "thigh", "leg", "lumbar", "shoulder", "chest", "arm", "thoracic")
_KEYS = atlas_muscle_keys(_ATLAS, {region: (region,) for region in _REGIONS})


def _atlas_order() -> tuple[str, ...]:
    from myoscore.phantom.atlas_keys import shipped_atlas

    return tuple(m.key for m in sorted(shipped_atlas(_ATLAS).muscles, key=lambda m: m.order))


#: Every muscle of the shipped ``whole_body_muscles`` atlas, in its order.
WB_MUSCLE_KEYS = _atlas_order()

#: Labels that are not muscles (the same value on both sides).
_TISSUE_LABELS: Mapping[str, int] = MappingProxyType(
    {
        **limbs.NON_MUSCLE_LABELS,
        "bone.humerus": 8,
        "bone.pelvis": 9,
        "bone.vertebra": 10,
        "bone.scapula": 11,
        "lung": 12,
        "viscera": 13,
    }
)
_SIDE_BASE = {"R": 100, "L": 200}


def wb_muscle_label(key: str, side: str) -> int:
    """Label value of a whole-body muscle: 100 + atlas index on the right, 200 + on the left."""
    return _SIDE_BASE[side] + WB_MUSCLE_KEYS.index(key)


def _key(region: str, name: str) -> str:
    return _KEYS[region][name]


# ------------------------------------------------------------------------------ stations
@dataclass(frozen=True)
class StationSpec:
    """One table position: what it covers along the body and its field of view."""

    name: str
    z_range: tuple[float, float]  # LPS z (mm), inferior → superior
    fov: tuple[float, float]  # across (x), front-to-back (y), mm
    body_part: str  # BodyPartExamined
    words: str  # in the series description, as scanners name stations


#: The six stations, feet first as a whole-body exam is acquired; neighbours overlap.
STATIONS: tuple[StationSpec, ...] = (
    StationSpec("leg", (-890.0, -470.0), (320.0, 200.0), "LEG", "legs"),
    StationSpec("thigh", (-500.0, -60.0), (400.0, 240.0), "THIGH", "thighs"),
    StationSpec("pelvis", (-100.0, 170.0), (440.0, 280.0), "PELVIS", "pelvis"),
    StationSpec("lumbar", (135.0, 335.0), (400.0, 280.0), "LSPINE", "abdomen lumbar"),
    StationSpec("arm", (300.0, 510.0), (560.0, 300.0), "ARM", "upper arms"),
    StationSpec("shoulder", (475.0, 705.0), (560.0, 300.0), "SHOULDER", "shoulders"),
)
_STATION_NAMES = tuple(s.name for s in STATIONS)


# ------------------------------------------------------------------------------- anatomy
# Keyframes (z, u, v, a, b, angle): u lateral from the segment's centre line (mm, > 0 is
# away from the midline), v posterior, (a, b) semi-axes, angle in degrees. Between two
# keyframes everything interpolates linearly; outside the first and last z, absent.
_Key = tuple[float, float, float, float, float, float]


@dataclass(frozen=True)
class _Part:
    label: str  # atlas key or tissue label name
    keys: tuple[_Key, ...]

    def at(self, z: float) -> tuple[float, float, float, float, float] | None:
        frames = sorted(self.keys)
        if z < frames[0][0] or z > frames[-1][0]:
            return None
        for low, high in itertools.pairwise(frames):
            if low[0] <= z <= high[0]:
                w = (z - low[0]) / (high[0] - low[0]) if high[0] > low[0] else 0.0
                u, v, a, b, angle = (lo + (hi - lo) * w for lo, hi in zip(low[1:], high[1:], strict=True))
                return u, v, a, b, angle
        _, u, v, a, b, angle = frames[0]
        return u, v, a, b, angle


def _p(label: str, *keys: _Key) -> _Part:
    return _Part(label, tuple(keys))


def _trunk_muscles() -> tuple[_Part, ...]:
    k = _key
    return (
        # Pelvic girdle
        _p(k("pelvis", "gluteus_maximus"), (-70, 100, 72, 45, 22, 20), (0, 105, 82, 55, 28, 30),
           (60, 95, 92, 55, 25, 25), (140, 90, 95, 35, 14, 20)),
        _p(k("pelvis", "gluteus_medius"), (25, 140, 22, 22, 16, -70), (90, 128, 40, 35, 20, -60),
           (165, 118, 45, 38, 13, -40)),
        _p(k("pelvis", "gluteus_minimus"), (25, 124, 6, 17, 10, -60), (120, 112, 16, 24, 8, -50)),
        _p(k("pelvis", "tensor_fasciae_latae"), (-45, 140, -52, 10, 8, 0), (60, 146, -30, 12, 10, 0)),
        _p(k("pelvis", "piriformis"), (40, 72, 58, 24, 8, 20), (100, 42, 76, 24, 8, 30)),
        _p(k("pelvis", "obturator_internus"), (-20, 62, 30, 10, 14, 0), (40, 52, 24, 11, 18, 0)),
        _p(k("pelvis", "obturator_externus"), (-55, 62, -10, 16, 7, 0), (-12, 58, -5, 18, 8, 0)),
        _p(k("pelvis", "gemelli"), (0, 86, 50, 14, 5, 10), (25, 86, 46, 14, 5, 10)),
        _p(k("pelvis", "quadratus_femoris"), (-55, 86, 56, 18, 7, 10), (-8, 86, 55, 20, 7, 10)),
        _p(k("pelvis", "iliacus"), (15, 84, -42, 14, 10, 0), (80, 86, -10, 22, 14, 0), (155, 98, 18, 30, 10, -30)),
        _p(k("pelvis", "psoas"), (-35, 86, -56, 14, 11, 0), (20, 80, -45, 18, 14, 0), (100, 58, 0, 22, 18, 0),
           (220, 44, 14, 22, 18, 0), (335, 34, 24, 12, 10, 0)),
        # Lumbar spine (lower body in seed 004)
        _p(k("lumbar", "lumbar_paraspinal"), (55, 30, 70, 19, 15, 0), (200, 32, 70, 26, 23, 0),
           (350, 30, 66, 22, 19, 0)),
        # Thoracic spine, scapular girdle, chest (upper body)
        _p(k("thoracic", "thoracic_paraspinal"), (345, 30, 70, 21, 18, 0), (500, 28, 74, 20, 17, 0),
           (700, 22, 60, 16, 14, 0)),
        _p(k("shoulder", "latissimus_dorsi"), (250, 95, 70, 34, 7, 20), (400, 112, 68, 34, 10, 30),
           (520, 128, 60, 24, 13, 40)),
        _p(k("shoulder", "serratus_anterior"), (330, 138, 0, 10, 34, 0), (560, 130, 10, 12, 30, 0)),
        _p(k("shoulder", "trapezius"), (450, 40, 100, 34, 6, 10), (620, 70, 88, 45, 8, 20),
           (720, 45, 42, 30, 12, -30)),
        _p(k("shoulder", "rhomboids"), (480, 52, 98, 22, 6, 15), (620, 46, 95, 20, 6, 20)),
        _p(k("shoulder", "levator_scapulae"), (600, 58, 66, 10, 10, 0), (720, 40, 32, 10, 12, 0)),
        _p(k("shoulder", "subscapularis"), (480, 95, 74, 26, 7, 15), (620, 100, 68, 32, 8, 15)),
        _p(k("shoulder", "infraspinatus"), (480, 92, 86, 30, 8, 15), (620, 96, 86, 35, 9, 15)),
        _p(k("shoulder", "teres_major"), (460, 126, 58, 14, 10, 40), (540, 114, 68, 15, 9, 30)),
        _p(k("shoulder", "teres_minor"), (520, 110, 76, 12, 7, 0), (580, 112, 74, 12, 7, 0)),
        _p(k("shoulder", "supraspinatus"), (625, 98, 56, 30, 10, 10), (690, 88, 58, 35, 10, 10)),
        _p(k("chest", "pectoralis_major"), (430, 70, -96, 40, 10, -5), (530, 82, -95, 55, 13, -10),
           (645, 96, -88, 45, 12, -10)),
        _p(k("chest", "pectoralis_minor"), (520, 90, -74, 22, 7, -15), (625, 100, -70, 20, 7, -20)),
    )


def _trunk_tissue() -> tuple[tuple[_Part, ...], tuple[_Part, ...]]:
    """(soft tissue painted before the muscles, bones painted after them), one side."""
    before = (
        _p("viscera", (-35, 0, -15, 1, 1, 0), (380, 0, -15, 1, 1, 0)),  # sized from the outline
        _p("lung", (380, 66, 0, 44, 52, 0), (600, 64, 2, 48, 58, 0), (665, 52, 10, 30, 36, 0)),
    )
    after = (
        _p("bone.vertebra", (100, 0, 22, 20, 18, 0), (720, 0, 28, 16, 14, 0)),
        _p("bone.pelvis", (-45, 26, -62, 18, 8, 0), (-12, 26, -60, 16, 8, 0)),  # pubis
        _p("bone.pelvis", (15, 0, 58, 24, 14, 0), (100, 0, 64, 28, 14, 0)),  # sacrum
        _p("bone.pelvis", (60, 92, 28, 40, 8, -40), (165, 100, 38, 34, 7, -45)),  # iliac wing
        _p("bone.femur", (-25, 86, 0, 20, 20, 0), (40, 86, 0, 22, 22, 0)),  # femoral head
        _p("bone.scapula", (470, 95, 84, 36, 4, 15), (660, 98, 80, 40, 4, 15)),
    )
    return before, after


#: Trunk outline (z, a, b): semi-axes of the body's cross-section, centred on the midline.
_TRUNK = ((-75.0, 170.0, 108.0), (0.0, 180.0, 115.0), (120.0, 172.0, 115.0), (200.0, 152.0, 108.0),
          (330.0, 156.0, 115.0), (450.0, 166.0, 124.0), (620.0, 172.0, 122.0), (710.0, 120.0, 95.0))
_TRUNK_FAT = 12.0

# Arms hang at the sides: centre x = ±_ARM_X, outline radius by z.
_ARM_X = 218.0
_ARM = ((290.0, 37.0), (500.0, 45.0), (620.0, 52.0), (700.0, 46.0))
_ARM_FAT = 7.0


def _arm_parts() -> tuple[_Part, ...]:
    k = _key
    return (
        _p(k("shoulder", "deltoid"), (540, 24, 0, 20, 25, 0), (600, 10, 0, 40, 38, 0), (695, 4, 0, 42, 40, 0)),
        _p(k("arm", "triceps_brachii"), (295, 0, 17, 21, 13, 0), (450, 0, 22, 28, 15, 0), (600, 0, 25, 22, 16, 0)),
        _p(k("arm", "brachialis"), (295, 0, -4, 22, 10, 0), (430, 0, -8, 14, 8, 0)),
        _p(k("arm", "biceps_brachii"), (320, 0, -21, 15, 10, 0), (450, 0, -25, 18, 12, 0), (640, -10, -33, 8, 6, 0)),
        _p(k("arm", "coracobrachialis"), (480, -20, -8, 10, 8, 0), (620, -25, -15, 8, 8, 0)),
        _p("bone.humerus", (290, 0, 0, 11, 11, 0), (630, 0, 0, 12, 12, 0), (650, 0, 0, 22, 22, 0),
           (700, 0, 0, 22, 22, 0)),
    )


def _interp(table: Seq[tuple[float, ...]], z: float) -> tuple[float, ...] | None:
    if z < table[0][0] or z > table[-1][0]:
        return None
    for low, high in itertools.pairwise(table):
        if low[0] <= z <= high[0]:
            w = (z - low[0]) / (high[0] - low[0])
            return tuple(lo + (hi - lo) * w for lo, hi in zip(low[1:], high[1:], strict=True))
    return tuple(table[-1][1:])


# Limbs: the thigh-and-calf phantom's layouts stretched over the whole thigh and leg, with
# the whole-body atlas's keys and its two extra muscles.
def _limb_infos() -> dict[str, dict[str, Any]]:
    from dataclasses import replace

    infos: dict[str, dict[str, Any]] = {}
    extra = {
        "thigh": (limbs._m("pectineus", (-30, -14), (12, 9), -20, present=(0.0, 0.14)),),
        "leg": (limbs._m("popliteus", (4, 12), (15, 5), 0, present=(0.0, 0.16)),),
    }
    for region, source, top, bottom, centre_x in (("thigh", "thigh", -40.0, -490.0, 100.0),
                                                   ("leg", "calf", -480.0, -890.0, 86.0)):
        info = dict(limbs._REGIONS[source])
        muscles = [replace(shape, label=_key(region, shape.label.rsplit(".", 1)[-1])) for shape in info["muscles"]]
        muscles += [replace(shape, label=_key(region, shape.label)) for shape in extra[region]]
        info.update(muscles=tuple(muscles), z_centre=(top + bottom) / 2, length=top - bottom, centre_x=centre_x)
        infos[region] = info
    return infos


_LIMBS = _limb_infos()
_TRUNK_MUSCLES = _trunk_muscles()
_TRUNK_BEFORE, _TRUNK_AFTER = _trunk_tissue()
_ARM_PARTS = _arm_parts()

_MARROW_BONES = ("bone.femur", "bone.tibia", "bone.humerus", "bone.vertebra", "bone.pelvis")


def _label_table() -> dict[str, int]:
    table = dict(_TISSUE_LABELS)
    for side in ("R", "L"):
        for key in WB_MUSCLE_KEYS:
            table[f"{side}:{key}"] = wb_muscle_label(key, side)
    return table


def _paint_parts(parts: Seq[_Part], z: float, u: np.ndarray, v: np.ndarray, where: np.ndarray,
                 patch: np.ndarray, marrow: np.ndarray, ids: Mapping[str, int], side: str) -> None:
    for part in parts:
        placed = part.at(z)
        if placed is None:
            continue
        cu, cv, a, b, angle = placed
        inside = limbs._ellipse(u, v, cu, cv, a, b, angle) & where
        name = part.label if part.label in ids else f"{side}:{part.label}"
        patch[inside] = ids[name]
        if part.label in _MARROW_BONES:
            marrow |= limbs._ellipse(u, v, cu, cv, 0.65 * a, 0.65 * b, angle) & where


def _render_slice(grid: limbs._Grid, z: float, ids: Mapping[str, int]) -> tuple[np.ndarray, np.ndarray]:
    """Label map and marrow mask of one axial slice at patient z (mm)."""
    labels = np.zeros((grid.rows, grid.columns), dtype=np.int16)
    marrow = np.zeros((grid.rows, grid.columns), dtype=bool)
    x, y = np.meshgrid(grid.x, grid.y)
    trunk = _interp(_TRUNK, z)
    if trunk is not None:
        a, b = trunk
        labels[limbs._ellipse(x, y, 0, 0, a, b, 0)] = ids["skin"]
        labels[limbs._ellipse(x, y, 0, 0, a - 2, b - 2, 0)] = ids["subcutaneous_fat"]
        labels[limbs._ellipse(x, y, 0, 0, a - _TRUNK_FAT, b - _TRUNK_FAT, 0)] = ids["fascia"]
        inner = limbs._ellipse(x, y, 0, 0, a - _TRUNK_FAT - 1.5, b - _TRUNK_FAT - 1.5, 0)
        labels[inner] = ids["intermuscular_fat"]
        viscera = _TRUNK_BEFORE[0].at(z)
        if viscera is not None:
            labels[inner & limbs._ellipse(x, y, 0, -15, a - 62, b - 48, 0)] = ids["viscera"]
        for side, lateral in (("R", -1.0), ("L", 1.0)):
            u = lateral * x
            half = inner & (u >= 0)
            _paint_parts(_TRUNK_BEFORE[1:], z, u, y, half, labels, marrow, ids, side)
            _paint_parts(_TRUNK_MUSCLES, z, u, y, half, labels, marrow, ids, side)
            _paint_parts(_TRUNK_AFTER, z, u, y, inner & (u >= -30), labels, marrow, ids, side)
    arm = _interp(_ARM, z)
    if arm is not None:
        (radius,) = arm
        for side, lateral in (("R", -1.0), ("L", 1.0)):
            u = lateral * x - _ARM_X
            labels[limbs._ellipse(u, y, 0, 0, radius, radius, 0)] = ids["skin"]
            labels[limbs._ellipse(u, y, 0, 0, radius - 2, radius - 2, 0)] = ids["subcutaneous_fat"]
            labels[limbs._ellipse(u, y, 0, 0, radius - _ARM_FAT, radius - _ARM_FAT, 0)] = ids["fascia"]
            inner = limbs._ellipse(u, y, 0, 0, radius - _ARM_FAT - 1.5, radius - _ARM_FAT - 1.5, 0)
            labels[inner] = ids["intermuscular_fat"]
            _paint_parts(_ARM_PARTS, z, u, y, inner, labels, marrow, ids, side)
    for info in _LIMBS.values():
        top = info["z_centre"] + info["length"] / 2
        bottom = info["z_centre"] - info["length"] / 2
        if bottom <= z <= top:
            limbs._paint_limbs(info, grid, z, ids, labels, marrow)
    return labels, marrow


# --------------------------------------------------------------------------- ground truth
# How often a muscle of each region is STIR-positive at baseline and how fatty it is,
# roughly as seed 004 reports for an early, untreated patient (pelvis and thighs more
# than legs; trapezius and supraspinatus most in the upper body).
_STIR_P = {"pelvis": 0.5, "thigh": 0.45, "leg": 0.2, "lumbar": 0.5, "shoulder": 0.4, "chest": 0.3,
           "arm": 0.3, "thoracic": 0.4}
_FAT_P = np.array([0.55, 0.25, 0.12, 0.06, 0.02])


def _truth(seed: int) -> dict[str, Any]:
    rng = np.random.default_rng([seed, 4])
    region_of = {key: key.split(".")[0] for key in WB_MUSCLE_KEYS}
    baseline: dict[str, Any] = {"stir": {}, "fat": {}}
    for side in ("R", "L"):
        baseline["stir"][side] = {k: int(rng.random() < _STIR_P[region_of[k]]) for k in WB_MUSCLE_KEYS}
        baseline["fat"][side] = {k: int(rng.choice(5, p=_FAT_P)) for k in WB_MUSCLE_KEYS}
    # Fixed asymmetries, so that left/right and station mix-ups can never go unnoticed.
    for (region, name), (right, left) in {
        ("pelvis", "gluteus_medius"): (1, 0), ("pelvis", "psoas"): (0, 1),
        ("thigh", "adductor_magnus"): (1, 1), ("shoulder", "deltoid"): (0, 1),
        ("shoulder", "supraspinatus"): (1, 0), ("leg", "gastrocnemius_medialis"): (1, 0),
    }.items():
        baseline["stir"]["R"][_key(region, name)] = right
        baseline["stir"]["L"][_key(region, name)] = left
    baseline["fat"]["R"][_key("shoulder", "subscapularis")] = 3
    baseline["fat"]["L"][_key("shoulder", "subscapularis")] = 0
    baseline["fat"]["R"][_key("lumbar", "lumbar_paraspinal")] = 2
    baseline["fat"]["L"][_key("lumbar", "lumbar_paraspinal")] = 2
    # Follow-up after treatment: most STIR-positive muscles turn negative, about one in
    # four progresses on T1 (seed 004: 22 %), and a few negative ones progress too.
    followup: dict[str, Any] = {"stir": {}, "fat": {}}
    for side in ("R", "L"):
        followup["stir"][side] = {}
        followup["fat"][side] = {}
        for key in WB_MUSCLE_KEYS:
            positive = baseline["stir"][side][key]
            fat = baseline["fat"][side][key]
            followup["stir"][side][key] = int(positive and rng.random() < 0.2)
            progressed = rng.random() < (0.3 if positive else 0.08)
            followup["fat"][side][key] = int(min(4, fat + progressed))
    return {"baseline": baseline, "followup": followup}


# ------------------------------------------------------------------------------ intensity
_EXTRA_TISSUE = {"lung": (8.0, 12.0), "viscera": (330.0, 420.0)}
_STIR_POSITIVE = (640.0, 0.6)  # STIR signal of edematous muscle, fraction of the muscle


def _intensity(labels: np.ndarray, marrow: np.ndarray, grid: limbs._Grid, z: float, sequence: Sequence,
               truth: Mapping[str, Any], textures: tuple[limbs._Texture, limbs._Texture],
               table: Mapping[str, int]) -> npt.NDArray[np.float64]:
    column = 0 if sequence == Sequence.STIR else 1
    lookup = np.zeros(max(table.values()) + 1, dtype=np.float64)
    for name, value in table.items():
        if ":" in name:
            lookup[value] = limbs._TISSUE["muscle"][column]
        elif name.startswith("bone."):
            lookup[value] = limbs._TISSUE["cortex"][column]
        elif name in _EXTRA_TISSUE:
            lookup[value] = _EXTRA_TISSUE[name][column]
        else:
            lookup[value] = limbs._TISSUE[name][column]
    image: npt.NDArray[np.float64] = lookup[labels]
    image[marrow & (labels >= 5) & (labels <= 11)] = limbs._TISSUE["marrow"][column]
    edema_field = textures[0](grid.x, grid.y, z)
    fat_field = textures[1](grid.x, grid.y, z)
    present = set(np.unique(labels).tolist())
    for side in ("R", "L"):
        for key in WB_MUSCLE_KEYS:
            value = table[f"{side}:{key}"]
            if value not in present:
                continue
            mask = labels == value
            if truth["stir"][side][key]:
                values = edema_field[mask]
                cut = np.quantile(values, 1.0 - _STIR_POSITIVE[1])
                edematous = np.zeros_like(mask)
                edematous[mask] = values >= cut
                if sequence == Sequence.STIR:
                    image[edematous] = _STIR_POSITIVE[0]
                else:
                    image[edematous] *= 0.9
            fat_fraction = limbs._FAT_FRACTION[truth["fat"][side][key]]
            if fat_fraction > 0:
                values = fat_field[mask]
                cut = np.quantile(values, 1.0 - fat_fraction)
                fatty = np.zeros_like(mask)
                fatty[mask] = values >= cut
                image[fatty] = limbs._TISSUE["intermuscular_fat"][column]
    return image


def _station_grids(station: StationSpec, pixel: float, slices: int) -> dict[Sequence, limbs._Grid]:
    low, high = station.z_range
    length = high - low
    columns = max(32, 2 * round(station.fov[0] / pixel / 2))
    rows = max(32, 2 * round(station.fov[1] / pixel / 2))
    step = length / slices
    stir = limbs._Grid(rows, columns, station.fov[0] / columns, low + (np.arange(slices) + 0.5) * step,
                       thickness=round(0.8 * step, 3))
    n_t1 = max(2, round(1.25 * slices))
    t1_step = length / n_t1
    t1_columns = max(32, 2 * round(0.4 * columns))
    t1_rows = max(32, 2 * round(0.4 * rows))
    t1 = limbs._Grid(t1_rows, t1_columns, station.fov[0] * 0.95 / t1_columns,
                     low + (np.arange(n_t1) + 0.5) * t1_step + 0.25 * t1_step, thickness=round(0.9 * t1_step, 3))
    return {Sequence.STIR: stir, Sequence.T1: t1}


# ------------------------------------------------------------------------------- results
@dataclass(frozen=True)
class WholeBodySeries:
    """One written series: a station, a sequence, a timepoint."""

    timepoint: str
    station: str
    sequence: Sequence
    dicom_dir: Path
    nifti_path: Path | None
    shape: tuple[int, int, int]
    z_range: tuple[float, float]  # centres of the first and last slice, LPS mm
    table_position: float
    series_uid: str
    study_uid: str
    n_files: int


@dataclass(frozen=True)
class WholeBodyInfo:
    """What :func:`write_whole_body_phantom` wrote, and the truth it encodes."""

    out_dir: Path
    series: tuple[WholeBodySeries, ...]
    label_maps: Mapping[str, Path]
    label_table_path: Path
    label_table: Mapping[str, int]
    ground_truth_path: Path
    ground_truth: Mapping[str, Any] = field(repr=False)
    regions: Mapping[str, tuple[str, ...]] = field(repr=False)  # station → atlas regions drawn
    identifying: Mapping[str, str] = field(repr=False)

    def to_json(self) -> dict[str, Any]:
        """Where everything is, as JSON-ready data (no identifying fields)."""
        return {
            "out_dir": str(self.out_dir),
            "series": [
                {"timepoint": s.timepoint, "station": s.station, "sequence": s.sequence.value,
                 "dicom_dir": str(s.dicom_dir), "nifti_path": str(s.nifti_path) if s.nifti_path else None,
                 "shape": list(s.shape), "z_range": [round(v, 3) for v in s.z_range],
                 "table_position": s.table_position, "n_files": s.n_files}
                for s in self.series
            ],
            "stations": {name: list(regions) for name, regions in self.regions.items()},
            "label_maps": {name: str(path) for name, path in self.label_maps.items()},
            "label_table": str(self.label_table_path),
            "ground_truth": str(self.ground_truth_path),
        }

    def get(self, timepoint: str, station: str, sequence: Sequence | str) -> WholeBodySeries:
        for item in self.series:
            if (item.timepoint, item.station, item.sequence) == (timepoint, station, sequence):
                return item
        raise KeyError(f"no whole-body phantom series {timepoint}/{station}/{sequence}")


_STUDY_DATES = {"baseline": "20240304", "followup": "20250317"}


def write_whole_body_phantom(
    out_dir: str | os.PathLike[str],
    *,
    pixel_mm: float = 5.0,
    slices: int = 12,
    seed: int = 0,
    timepoints: Iterable[str] = ("baseline", "followup"),
    stations: Iterable[str] = _STATION_NAMES,
    nifti: bool = True,
) -> WholeBodyInfo:
    """Write the synthetic whole-body exam pair and return where everything is.

    Parameters
    ----------
    out_dir
        Created if needed. Layout: ``dicom/<timepoint>/<station>_<seq>/IM0001.dcm…``,
        ``nifti/<timepoint>/<station>_<seq>.nii.gz``, ``labels/<station>_labels.nii.gz``
        (on the station's STIR grid), ``labels.json`` (name → value; muscles as
        ``"R:pelvis.gluteal.gluteus_medius"``), ``ground_truth.json``.
    pixel_mm
        STIR pixel size (the T1 matrix is 0.4× as many pixels across). 5 mm: a 64 × 112
        shoulder slice; 2 mm for screenshots.
    slices
        STIR slices per station (T1: 1.25×).
    seed
        Fixes the truth, textures, noise and UIDs.
    timepoints, stations
        Subsets to write (all by default).
    nifti
        Also write each series as NIfTI.
    """
    from pydicom.uid import ExplicitVRLittleEndian

    timepoints = tuple(timepoints)
    chosen = tuple(stations)
    for name in timepoints:
        if name not in _STUDY_DATES:
            raise ImagingError(f"unknown phantom timepoint {name!r}; use baseline and/or followup")
    for name in chosen:
        if name not in _STATION_NAMES:
            raise ImagingError(f"unknown whole-body station {name!r}; use {', '.join(_STATION_NAMES)}")
    if not 1.0 <= pixel_mm <= 10.0 or slices < 2:
        raise ImagingError(f"whole-body phantom needs 1–10 mm pixels and ≥ 2 slices, got {pixel_mm}, {slices}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    identifying = {
        "PatientName": f"PHANTOM^WHOLEBODY{seed:03d}",
        "PatientID": f"PHANTOM-WB-{seed:04d}",
        "PatientBirthDate": "19620515",
        "InstitutionName": "PHANTOM GENERAL HOSPITAL",
        "ReferringPhysicianName": "PHANTOM^REFERRER",
        "StudyDate_baseline": _STUDY_DATES["baseline"],
        "StudyDate_followup": _STUDY_DATES["followup"],
        "AccessionNumber_baseline": f"PHWB{seed:04d}B",
        "AccessionNumber_followup": f"PHWB{seed:04d}F",
    }
    truth_all = _truth(seed)
    truth = {name: truth_all[name] for name in timepoints}
    table = _label_table()
    scanner = limbs._SCANNERS[1.5]
    texture_rng = np.random.default_rng([seed, 13])
    textures = (limbs._Texture(texture_rng), limbs._Texture(texture_rng))
    names = {value: name for name, value in table.items()}

    label_maps: dict[str, Path] = {}
    regions: dict[str, tuple[str, ...]] = {}
    written: list[WholeBodySeries] = []
    for station_index, station in enumerate(s for s in STATIONS if s.name in chosen):
        grids = _station_grids(station, pixel_mm, slices)
        rendered = {
            sequence: tuple(np.stack(parts) for parts in zip(
                *(_render_slice(grid, float(z), table) for z in grid.z), strict=True))
            for sequence, grid in grids.items()
        }
        stir_labels = rendered[Sequence.STIR][0]
        regions[station.name] = tuple(sorted({
            names[int(v)].split(":", 1)[1].split(".")[0] for v in np.unique(stir_labels) if ":" in names.get(int(v), "")
        }))
        if nifti:
            from myoscore.imaging import write_nifti

            label_path = out / "labels" / f"{station.name}_labels.nii.gz"
            write_nifti(Volume(stir_labels, grids[Sequence.STIR].affine(),
                               {"format": "nifti", "series_description": f"phantom {station.name} labels"}),
                        label_path)
            label_maps[station.name] = label_path
        table_position = -round((station.z_range[0] + station.z_range[1]) / 2, 1)
        for time_index, timepoint in enumerate(timepoints):
            study_uid = limbs._uid("wb", seed, timepoint, "study")
            frame_uid = limbs._uid("wb", seed, timepoint, "frame")  # one frame of reference per exam
            for sequence_index, (sequence, grid) in enumerate(grids.items()):
                labels, marrow = rendered[sequence]
                rng = np.random.default_rng([seed, 99, time_index, station_index, sequence_index])
                images = np.stack([
                    limbs._finish(_intensity(labels[k], marrow[k], grid, float(grid.z[k]), sequence,
                                             truth[timepoint], textures, table), rng, scanner, grid)
                    for k in range(len(grid.z))
                ])
                series_number = 100 + 10 * station_index + sequence_index
                series_uid = limbs._uid("wb", seed, timepoint, station.name, sequence.value, "series")
                name = f"{station.name}_{sequence.value.lower()}"
                folder = out / "dicom" / timepoint / name
                folder.mkdir(parents=True, exist_ok=True)
                for stale in folder.glob("IM*.dcm"):
                    stale.unlink()
                base = limbs._base_dataset(
                    identifying=identifying, timepoint=timepoint, region="thigh", sequence=sequence,
                    field_strength=1.5, study_uid=study_uid, series_uid=series_uid, frame_uid=frame_uid,
                    series_number=1, grid=grid,
                )
                base.SeriesNumber = series_number
                words = limbs._SEQUENCES[sequence]["description"]
                base.StudyDescription = "MRI WHOLE BODY MYOSITIS"
                base.SeriesDescription = f"WB_{words}_{station.words.replace(' ', '_')}"
                base.ProtocolName = base.SeriesDescription
                base.BodyPartExamined = station.body_part
                base.TablePosition = table_position
                base.SeriesTime = f"{10 + station_index:02d}{5 * sequence_index:02d}00"  # feet first
                n_files = limbs._write_single_frames(base, images, grid, folder, ExplicitVRLittleEndian,
                                                     series_uid)
                nifti_path = None
                if nifti:
                    from myoscore.imaging import write_nifti

                    nifti_path = out / "nifti" / timepoint / f"{name}.nii.gz"
                    write_nifti(Volume(images.astype(np.int16), grid.affine(),
                                       {"format": "nifti", "sequence": sequence.value,
                                        "series_description": str(base.SeriesDescription)}), nifti_path)
                written.append(WholeBodySeries(
                    timepoint=timepoint, station=station.name, sequence=sequence, dicom_dir=folder,
                    nifti_path=nifti_path, shape=(images.shape[0], images.shape[1], images.shape[2]),
                    z_range=(float(grid.z[0]), float(grid.z[-1])), table_position=table_position,
                    series_uid=series_uid, study_uid=study_uid, n_files=n_files,
                ))

    ground_truth = {
        "description": "myoscore synthetic whole-body phantom: STIR positivity and Fischer grade per muscle and side",
        "atlas": _ATLAS,
        "seed": seed,
        "scales": {"stir": "stir_binary", "fat": "fischer_0_4"},
        "sides": {"R": "patient right (image left in axial views)", "L": "patient left"},
        "stations": {s.name: {"z_range": list(s.z_range), "regions": list(regions.get(s.name, ()))}
                     for s in STATIONS if s.name in chosen},
        "timepoints": truth,
    }
    truth_path = out / "ground_truth.json"
    truth_path.write_text(json.dumps(ground_truth, indent=2, sort_keys=True) + "\n")
    table_path = out / "labels.json"
    table_path.write_text(json.dumps(table, indent=2) + "\n")
    return WholeBodyInfo(
        out_dir=out, series=tuple(written), label_maps=MappingProxyType(label_maps),
        label_table_path=table_path, label_table=MappingProxyType(table), ground_truth_path=truth_path,
        ground_truth=ground_truth, regions=MappingProxyType(regions),
        identifying=MappingProxyType({k: v for k, v in identifying.items() if "_" not in k}
                                     | {"StudyDate": identifying["StudyDate_baseline"]}),
    )
