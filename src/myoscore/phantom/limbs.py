"""A synthetic thigh-and-calf exam pair for demos, tests and benchmarks.

:func:`write_phantom` writes one synthetic subject scanned twice (``baseline`` and
``followup``): axial thigh and calf stacks of both legs, as real DICOM (MR Image
Storage, or Enhanced MR with ``multiframe=True``; STIR and T1) and as NIfTI, plus a
label map of every region, a JSON label table and a JSON ground truth of the edema
(0–5) and fat (Fischer 0–4) grade of every muscle on each side at each timepoint.

Anatomy (analytic ellipses in millimetres, rendered in patient space so any grid
sees the same body): skin, subcutaneous fat, deep fascia, intermuscular fat,
femur / tibia / fibula (cortex and fatty marrow) and the 24 thigh and calf muscles
of the shipped atlas, placed where they lie at mid-thigh and mid-calf and changing
size along the leg (adductor brevis only proximally, biceps short head only
distally…). The **right and left legs differ** — the left is 8 % smaller and the
grades differ by side — so left/right labelling can be checked: in the standard
axial view the right leg is on the screen's left.

Intensities follow the ground truth: edema is bright on STIR (mild/moderate,
segmental or global as the 0–5 scale defines), fat replacement is bright on T1
(the fraction the Fischer grade describes) and dark on STIR.

Series (defaults): STIR TR 6770 / TE 70 / TI 230 ms, T1 TR 500 / TE 10 ms. The T1
stack has a different grid from the STIR stack (more, thinner slices; coarser
matrix; smaller field of view) so linked views have something to do.

Identifying fields are synthetic (``PatientName "PHANTOM^SUBJECT000"``) and listed
in :attr:`PhantomInfo.identifying` so blinding tests can search for them.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypedDict

import numpy as np
import numpy.typing as npt

from myoscore.domain import ImagingError, Sequence
from myoscore.imaging import Volume
from myoscore.phantom.atlas_keys import atlas_muscle_keys

__all__ = [
    "MUSCLE_KEYS",
    "NON_MUSCLE_LABELS",
    "PhantomInfo",
    "PhantomSeries",
    "muscle_label",
    "write_phantom",
]

_ATLAS = "lower_limb_compartments"
#: The phantom's two stations and the atlas regions they draw ("calf" is the lower
#: leg; an atlas that calls it "leg" works too).
_ATLAS_REGIONS = {"thigh": ("thigh",), "calf": ("calf", "leg")}
_KEYS = atlas_muscle_keys(_ATLAS, _ATLAS_REGIONS)
#: Every muscle the phantom draws, with a label of its own on each side: the muscles of
#: the shipped ``lower_limb_compartments`` atlas, in its order.
MUSCLE_KEYS: tuple[str, ...] = tuple(key for names in _KEYS.values() for key in names.values())


def _key(region: str, name: str) -> str:
    """Atlas key of a muscle of a phantom region by its last key part (``"soleus"``)."""
    return _KEYS[region][name]


#: Labels of the non-muscle regions (the same value on both sides).
NON_MUSCLE_LABELS: Mapping[str, int] = MappingProxyType(
    {
        "background": 0,
        "skin": 1,
        "subcutaneous_fat": 2,
        "fascia": 3,
        "intermuscular_fat": 4,
        "bone.femur": 5,
        "bone.tibia": 6,
        "bone.fibula": 7,
    }
)
_SIDE_BASE = {"R": 100, "L": 200}


def muscle_label(key: str, side: str) -> int:
    """Label value of a muscle on a side: 100 + index on the right, 200 + index on the left."""
    return _SIDE_BASE[side] + MUSCLE_KEYS.index(key)


# ------------------------------------------------------------------------------ anatomy
@dataclass(frozen=True)
class _Shape:
    """An ellipse in leg coordinates: u lateral, v posterior, mm on the reference leg.

    Centre and size interpolate from the proximal (t = 0) to the distal (t = 1) end
    of the stack; ``present`` is the t interval where it exists (it fades in/out
    over 0.1 at a bound inside [0, 1]).
    """

    label: str
    centre0: tuple[float, float]
    centre1: tuple[float, float]
    axes: tuple[float, float]
    angle: float = 0.0
    scale: tuple[float, float] = (1.0, 1.0)
    present: tuple[float, float] = (0.0, 1.0)

    def at(self, t: float) -> tuple[float, float, float, float] | None:
        lo, hi = self.present
        if t < lo or t > hi:
            return None
        fade = 1.0
        if lo > 0:
            fade = min(fade, (t - lo) / 0.1)
        if hi < 1:
            fade = min(fade, (hi - t) / 0.1)
        fade = max(0.25, min(1.0, fade))
        g = (self.scale[0] + (self.scale[1] - self.scale[0]) * t) * fade
        u = self.centre0[0] + (self.centre1[0] - self.centre0[0]) * t
        v = self.centre0[1] + (self.centre1[1] - self.centre0[1]) * t
        return u, v, self.axes[0] * g, self.axes[1] * g


def _m(name: str, c0: tuple[float, float], axes: tuple[float, float], angle: float = 0.0,
       c1: tuple[float, float] | None = None, scale: tuple[float, float] = (1.0, 1.0),
       present: tuple[float, float] = (0.0, 1.0)) -> _Shape:
    return _Shape(name, c0, c1 or c0, axes, angle, scale, present)


# Reference legs (mm semi-axes at the middle of the stack) and region layouts. Muscles
# are painted in this order, later ones over earlier ones; bones last.
_REGIONS: dict[str, dict[str, Any]] = {
    "thigh": {
        "leg": ((80.0, 74.0), (66.0, 62.0)),  # proximal, distal semi-axes (u, v)
        "reference": (75.0, 70.0),
        "subcutaneous": 12.0,
        "centre_x": 95.0,
        "z_centre": -330.0,
        "length": 180.0,
        "fov": (400.0, 380.0),  # STIR, T1 field of view across, mm
        "muscles": (
            _m("adductor_magnus", (-26, 28), (21, 16), -25, scale=(1.0, 0.8)),
            _m("vastus_intermedius", (4, -22), (26, 12)),
            _m("vastus_lateralis", (40, -10), (16, 31), 25),
            _m("vastus_medialis", (-31, -29), (14, 19), -35, scale=(0.6, 1.3)),
            _m("rectus_femoris", (0, -48), (16, 11), scale=(1.1, 0.7)),
            _m("sartorius", (-18, -55), (12, 8), 30, c1=(-55, -8)),
            _m("gracilis", (-60, 16), (7, 12), 20, c1=(-57, 24)),
            _m("adductor_longus", (-32, -2), (13, 10), -20, scale=(1.1, 0.6),
               present=(0.0, 0.75)),
            _m("adductor_brevis", (-14, 12), (10, 8), -20, present=(0.0, 0.45)),
            _m("semimembranosus", (-10, 44), (12, 9), 10, scale=(0.7, 1.2)),
            _m("semitendinosus", (-27, 55), (11, 9), -20),
            _m("biceps_femoris_long_head", (19, 51), (13, 11), 15),
            _m("biceps_femoris_short_head", (33, 31), (9, 8), 30,
               present=(0.4, 1.0)),
        ),
        "bones": (("bone.femur", (2.0, -2.0), 13.0, 8.0),),
    },
    "calf": {
        "leg": ((58.0, 55.0), (42.0, 40.0)),
        "reference": (52.0, 50.0),
        "subcutaneous": 7.0,
        "centre_x": 80.0,
        "z_centre": -640.0,
        "length": 160.0,
        "fov": (300.0, 280.0),
        "muscles": (
            _m("soleus", (4, 22), (24, 9)),
            _m("gastrocnemius_medialis", (-24, 30), (20, 13), -30,
               scale=(1.4, 0.7)),
            _m("gastrocnemius_lateralis", (16, 38), (15, 10), 15, scale=(1.3, 0.5)),
            _m("tibialis_anterior", (5, -30), (9, 12), 10),
            _m("extensor_digitorum_longus", (19, -22), (7, 8), 30),
            _m("extensor_hallucis_longus", (12, -13), (5, 6), present=(0.3, 1.0)),
            _m("peroneus_longus", (36, -6), (7, 11), 20),
            _m("peroneus_brevis", (35, 10), (6, 7), 10, scale=(0.6, 1.2)),
            _m("tibialis_posterior", (6, -4), (9, 7)),
            _m("flexor_digitorum_longus", (-10, 1), (7, 6), -20, scale=(0.7, 1.2)),
            _m("flexor_hallucis_longus", (20, 14), (8, 7), 20, scale=(0.7, 1.2)),
        ),
        "bones": (("bone.tibia", (-12.0, -26.0), 12.0, 7.0), ("bone.fibula", (26.0, 2.0), 6.0, 3.0)),
    },
}

for _region, _info in _REGIONS.items():  # short names → the atlas's keys
    _info["muscles"] = tuple(replace(shape, label=_key(_region, shape.label)) for shape in _info["muscles"])

# Left leg 8 % smaller than the right: the two sides must differ.
_SIDE_SCALE = {"R": 1.0, "L": 0.92}

# Tissue intensities (STIR, T1) before noise, at 1.5 T.
_TISSUE = {
    "background": (0.0, 0.0),
    "skin": (260.0, 520.0),
    "subcutaneous_fat": (70.0, 980.0),
    "fascia": (150.0, 260.0),
    "intermuscular_fat": (70.0, 940.0),
    "cortex": (15.0, 20.0),
    "marrow": (55.0, 900.0),
    "muscle": (230.0, 340.0),
}
_EDEMA_STIR = {"mild": 470.0, "moderate": 800.0}
# Edema grade → (amplitude, fraction of the muscle): 1 mild intrafascicular (patchy),
# 2 mild segmented, 3 mild global, 4 moderate segmented, 5 moderate global.
_EDEMA_PATTERN = {
    0: (None, 0.0),
    1: ("mild", 0.15),
    2: ("mild", 0.45),
    3: ("mild", 1.0),
    4: ("moderate", 0.45),
    5: ("moderate", 1.0),
}
# Fischer grade → fraction of the muscle replaced by fat.
_FAT_FRACTION = {0: 0.0, 1: 0.07, 2: 0.22, 3: 0.45, 4: 0.75}

_SEQUENCES = {
    Sequence.STIR: {
        "description": "STIR_tra",
        "tr": 6770.0,
        "te": 70.0,
        "ti": 230.0,
        "flip": 150.0,
        "scanning": ["SE", "IR"],
        "variant": ["SK", "SP", "MP"],
        "sequence_name": "*tir2d1_13",
        "etl": 13,
    },
    Sequence.T1: {
        "description": "t1_tse_tra",
        "tr": 500.0,
        "te": 10.0,
        "ti": None,
        "flip": 150.0,
        "scanning": ["SE"],
        "variant": ["SK", "SP", "OSP"],
        "sequence_name": "*tse2d1_3",
        "etl": 3,
    },
}


class _Scanner(TypedDict):
    model: str
    frequency: float  # MHz
    noise: float  # standard deviation of each (real, imaginary) noise channel
    gain: float


_SCANNERS: dict[float, _Scanner] = {
    1.5: {"model": "Avanto", "frequency": 63.68, "noise": 14.0, "gain": 1.0},
    3.0: {"model": "Skyra", "frequency": 123.25, "noise": 9.0, "gain": 1.25},
}
_STUDY_DATES = {"baseline": "20240115", "followup": "20250121"}
_MR_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.4"
_ENHANCED_MR_STORAGE = "1.2.840.10008.5.1.4.1.1.4.1"


# ------------------------------------------------------------------------------ results
@dataclass(frozen=True)
class PhantomSeries:
    """One written series of the phantom."""

    timepoint: str
    region: str
    sequence: Sequence
    dicom_dir: Path
    nifti_path: Path | None
    shape: tuple[int, int, int]
    spacing: tuple[float, float, float]
    affine: np.ndarray = field(repr=False, compare=False)
    n_files: int
    study_uid: str
    series_uid: str


@dataclass(frozen=True)
class PhantomInfo:
    """What :func:`write_phantom` wrote, and the truth it encodes."""

    out_dir: Path
    field_strength: float
    series: tuple[PhantomSeries, ...]
    label_maps: Mapping[str, Path]
    label_table_path: Path
    label_table: Mapping[str, int]
    ground_truth_path: Path
    ground_truth: Mapping[str, Any] = field(repr=False)
    identifying: Mapping[str, str] = field(repr=False)

    def to_json(self) -> dict[str, Any]:
        """Where everything is, as JSON-ready data (no identifying fields)."""
        return {
            "out_dir": str(self.out_dir),
            "field_strength": self.field_strength,
            "series": [
                {
                    "timepoint": item.timepoint,
                    "region": item.region,
                    "sequence": item.sequence.value,
                    "dicom_dir": str(item.dicom_dir),
                    "nifti_path": str(item.nifti_path) if item.nifti_path else None,
                    "shape": list(item.shape),
                    "spacing": [round(v, 6) for v in item.spacing],
                    "n_files": item.n_files,
                }
                for item in self.series
            ],
            "label_maps": {region: str(path) for region, path in self.label_maps.items()},
            "label_table": str(self.label_table_path),
            "ground_truth": str(self.ground_truth_path),
        }

    def get(self, timepoint: str, region: str, sequence: Sequence | str) -> PhantomSeries:
        """The series of one timepoint, region and sequence."""
        for item in self.series:
            if (item.timepoint, item.region, item.sequence) == (timepoint, region, sequence):
                return item
        raise KeyError(f"no phantom series {timepoint}/{region}/{sequence}")


# ----------------------------------------------------------------------- ground truth
def _grades(seed: int, timepoints: Iterable[str]) -> dict[str, Any]:
    rng = np.random.default_rng([seed, 7])
    edema_levels = np.arange(6)
    edema_p = np.array([0.35, 0.17, 0.15, 0.13, 0.1, 0.1])
    fat_levels = np.arange(5)
    fat_p = np.array([0.45, 0.25, 0.15, 0.1, 0.05])
    baseline: dict[str, Any] = {"edema": {}, "fat": {}}
    for side in ("R", "L"):
        baseline["edema"][side] = {
            key: int(rng.choice(edema_levels, p=edema_p)) for key in MUSCLE_KEYS
        }
        baseline["fat"][side] = {key: int(rng.choice(fat_levels, p=fat_p)) for key in MUSCLE_KEYS}
    # Fixed asymmetries, so that left/right mix-ups can never go unnoticed.
    baseline["edema"]["R"][_key("thigh", "vastus_lateralis")] = 5
    baseline["edema"]["L"][_key("thigh", "vastus_lateralis")] = 0
    baseline["edema"]["R"][_key("calf", "gastrocnemius_medialis")] = 0
    baseline["edema"]["L"][_key("calf", "gastrocnemius_medialis")] = 4
    baseline["fat"]["R"][_key("thigh", "semimembranosus")] = 0
    baseline["fat"]["L"][_key("thigh", "semimembranosus")] = 3
    baseline["subcutaneous_edema"] = {"thigh": {"R": True, "L": False},
                                      "calf": {"R": False, "L": bool(rng.integers(2))}}
    baseline["fascia_edema"] = {"thigh": {"R": True, "L": False},
                                "calf": {"R": bool(rng.integers(2)), "L": True}}

    # Follow-up after treatment: edema recedes, muscles with strong edema turn fatty.
    followup: dict[str, Any] = {"edema": {}, "fat": {}}
    for side in ("R", "L"):
        followup["edema"][side] = {}
        followup["fat"][side] = {}
        for key in MUSCLE_KEYS:
            edema = baseline["edema"][side][key]
            fat = baseline["fat"][side][key]
            followup["edema"][side][key] = int(max(0, edema - rng.integers(0, 3)))
            progression = int(edema >= 3) + int(edema > 0 and rng.random() < 0.3)
            followup["fat"][side][key] = int(min(4, fat + progression))
    followup["subcutaneous_edema"] = {"thigh": {"R": False, "L": False},
                                      "calf": {"R": False, "L": False}}
    followup["fascia_edema"] = {"thigh": {"R": True, "L": False},
                                "calf": {"R": False, "L": False}}
    all_points = {"baseline": baseline, "followup": followup}
    return {name: all_points[name] for name in timepoints}


# ---------------------------------------------------------------------------- rendering
@dataclass(frozen=True)
class _Grid:
    """An axial stack: columns along +x (patient left), rows along +y (posterior)."""

    rows: int
    columns: int
    pixel: float
    z: np.ndarray  # slice positions (ascending, LPS z), mm
    thickness: float

    @property
    def x(self) -> np.ndarray:
        return (np.arange(self.columns) - (self.columns - 1) / 2.0) * self.pixel

    @property
    def y(self) -> np.ndarray:
        return (np.arange(self.rows) - (self.rows - 1) / 2.0) * self.pixel

    @property
    def spacing(self) -> float:
        return float(self.z[1] - self.z[0]) if len(self.z) > 1 else self.thickness

    def position(self, k: int) -> tuple[float, float, float]:
        return (float(self.x[0]), float(self.y[0]), float(self.z[k]))

    def affine(self) -> np.ndarray:
        affine = np.eye(4)
        affine[0, 0] = self.pixel
        affine[1, 1] = self.pixel
        affine[2, 2] = self.spacing
        affine[:3, 3] = self.position(0)
        return affine


def _grids(region: str, shape: tuple[int, int, int]) -> dict[Sequence, _Grid]:
    n, rows, columns = shape
    info = _REGIONS[region]
    length = float(info["length"])
    z0 = float(info["z_centre"])
    stir_fov, t1_fov = info["fov"]
    stir_pixel = stir_fov / columns
    stir_step = length / n
    stir = _Grid(rows, columns, stir_pixel, z0 - length / 2 + (np.arange(n) + 0.5) * stir_step,
                 thickness=round(0.8 * stir_step, 3))
    # T1: more and thinner slices over the same length, shifted so that they interleave,
    # a coarser matrix and a smaller field of view.
    n_t1 = max(2, round(1.25 * n))
    t1_step = length / n_t1
    t1_columns = max(16, 2 * round(0.375 * columns))
    t1_rows = max(16, 2 * round(0.375 * rows))
    t1_pixel = t1_fov / t1_columns
    t1 = _Grid(t1_rows, t1_columns, t1_pixel,
               z0 - length / 2 + (np.arange(n_t1) + 0.5) * t1_step + 0.25 * t1_step,
               thickness=round(0.9 * t1_step, 3))
    return {Sequence.STIR: stir, Sequence.T1: t1}


class _Texture:
    """A smooth random field in patient space (sum of plane waves), values about ±1."""

    def __init__(self, rng: np.random.Generator, waves: int = 7) -> None:
        wavelength = rng.uniform(9.0, 30.0, waves)
        direction = rng.normal(size=(waves, 3))
        direction[:, 2] *= 0.35  # smoother along the leg
        direction /= np.linalg.norm(direction, axis=1, keepdims=True)
        self.k = direction * (2 * np.pi / wavelength)[:, None]
        self.phase = rng.uniform(0, 2 * np.pi, waves)
        self.norm = math.sqrt(2.0 / waves)

    def __call__(self, x: np.ndarray, y: np.ndarray, z: float) -> np.ndarray:
        """The field on the grid ``x`` (columns) × ``y`` (rows) of the slice at ``z``.

        cos(a + b) = cos a cos b − sin a sin b makes each wave separable in x and y,
        so the whole slice is one small product (einsum: no BLAS thread start-up).
        """
        a = np.outer(x, self.k[:, 0])  # (columns, waves)
        b = np.outer(y, self.k[:, 1]) + (self.k[:, 2] * z + self.phase)  # (rows, waves)
        left = np.concatenate([np.cos(b), -np.sin(b)], axis=1)
        right = np.concatenate([np.cos(a), np.sin(a)], axis=1)
        texture: np.ndarray = np.einsum("rw,cw->rc", left, right) * self.norm  # stubs: einsum -> Any
        return texture


def _ellipse(u: np.ndarray, v: np.ndarray, cu: float, cv: float, a: float, b: float,
             angle: float) -> np.ndarray:
    c, s = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    du, dv = u - cu, v - cv
    return ((du * c + dv * s) / a) ** 2 + ((-du * s + dv * c) / b) ** 2 <= 1.0


def _render_slice(
    region: str, grid: _Grid, z: float, label_ids: Mapping[str, int]
) -> tuple[np.ndarray, np.ndarray]:
    """Label map of one axial slice and a mask of bone marrow."""
    labels = np.zeros((grid.rows, grid.columns), dtype=np.int16)
    marrow = np.zeros((grid.rows, grid.columns), dtype=bool)
    _paint_limbs(_REGIONS[region], grid, z, label_ids, labels, marrow)
    return labels, marrow


def _paint_limbs(info: Mapping[str, Any], grid: _Grid, z: float, label_ids: Mapping[str, int],
                 labels: np.ndarray, marrow: np.ndarray) -> None:
    """Paint both limbs of one region layout (``_REGIONS`` entry) into a slice's arrays."""
    length = float(info["length"])
    top = float(info["z_centre"]) + length / 2
    t = float(np.clip((top - z) / length, 0.0, 1.0))  # 0 proximal, 1 distal
    (a0, b0), (a1, b1) = info["leg"]
    ref_a, ref_b = info["reference"]
    xs, ys = grid.x, grid.y
    for side, lateral in (("R", -1.0), ("L", 1.0)):
        side_scale = _SIDE_SCALE[side]
        big_a = (a0 + (a1 - a0) * t) * side_scale
        big_b = (b0 + (b1 - b0) * t) * side_scale
        cx = lateral * float(info["centre_x"])
        columns = np.flatnonzero(np.abs(xs - cx) <= big_a + 2 * grid.pixel)
        rows = np.flatnonzero(np.abs(ys) <= big_b + 2 * grid.pixel)
        if columns.size == 0 or rows.size == 0:
            continue
        window = (slice(rows[0], rows[-1] + 1), slice(columns[0], columns[-1] + 1))
        u = lateral * (xs[window[1]] - cx)[None, :]
        v = ys[window[0]][:, None]
        u, v = np.broadcast_arrays(u, v)
        su, sv = big_a / ref_a, big_b / ref_b
        sub = float(info["subcutaneous"]) * side_scale
        patch = labels[window]
        patch[_ellipse(u, v, 0, 0, big_a, big_b, 0)] = label_ids["skin"]
        patch[_ellipse(u, v, 0, 0, big_a - 2.0, big_b - 2.0, 0)] = label_ids["subcutaneous_fat"]
        patch[_ellipse(u, v, 0, 0, big_a - sub, big_b - sub, 0)] = label_ids["fascia"]
        inner = _ellipse(u, v, 0, 0, big_a - sub - 1.5, big_b - sub - 1.5, 0)
        patch[inner] = label_ids["intermuscular_fat"]
        # Muscles pack the compartment like cells: each voxel belongs to the muscle
        # whose ellipse-normalised distance is smallest; thin fat septa remain where
        # two muscles meet, and fat where no muscle is near.
        radii = []
        ids = []
        for shape in info["muscles"]:
            placed = shape.at(t)
            if placed is None:
                continue
            cu, cv, a, b = placed
            c, s = math.cos(math.radians(shape.angle)), math.sin(math.radians(shape.angle))
            du, dv = u - cu * su, v - cv * sv
            radii.append(np.hypot((du * c + dv * s) / (a * su), (-du * s + dv * c) / (b * sv)))
            ids.append(label_ids[f"{side}:{shape.label}"])
        if radii:
            stack = np.stack(radii)
            closest = np.argmin(stack, axis=0)
            if len(radii) > 1:
                nearest, second = np.partition(stack, 1, axis=0)[:2]
            else:
                nearest, second = stack[0], np.full_like(stack[0], np.inf)
            muscle = inner & (nearest <= 1.9) & (second - nearest > 0.05 * nearest + 0.02)
            patch[muscle] = np.asarray(ids, dtype=np.int16)[closest][muscle]
        marrow_patch = marrow[window]
        for name, (bu, bv), radius, marrow_radius in info["bones"]:
            scale = math.sqrt(su * sv)
            patch[_ellipse(u, v, bu * su, bv * sv, radius * scale, radius * scale, 0)] = (
                label_ids[name]
            )
            marrow_patch |= _ellipse(
                u, v, bu * su, bv * sv, marrow_radius * scale, marrow_radius * scale, 0
            )


def _label_table() -> dict[str, int]:
    table = dict(NON_MUSCLE_LABELS)
    for side in ("R", "L"):
        for key in MUSCLE_KEYS:
            table[f"{side}:{key}"] = muscle_label(key, side)
    return table


def _intensity(
    labels: np.ndarray,
    marrow: np.ndarray,
    grid: _Grid,
    z: float,
    sequence: Sequence,
    truth: Mapping[str, Any],
    region: str,
    textures: tuple[_Texture, _Texture],
    table: Mapping[str, int],
) -> npt.NDArray[np.float64]:
    column = 0 if sequence == Sequence.STIR else 1
    lookup = np.zeros(max(table.values()) + 1, dtype=np.float64)
    for name, value in table.items():
        if ":" in name:
            lookup[value] = _TISSUE["muscle"][column]
        elif name.startswith("bone."):
            lookup[value] = _TISSUE["cortex"][column]
        else:
            lookup[value] = _TISSUE[name][column]
    image: npt.NDArray[np.float64] = lookup[labels]  # fancy indexing keeps lookup's dtype
    image[marrow & (labels >= table["bone.femur"]) & (labels <= table["bone.fibula"])] = (
        _TISSUE["marrow"][column]
    )
    edema_field = textures[0](grid.x, grid.y, z)
    fat_field = textures[1](grid.x, grid.y, z)
    region_keys = tuple(_KEYS[region].values())
    for side in ("R", "L"):
        for key in region_keys:
            mask = labels == table[f"{side}:{key}"]
            if not mask.any():
                continue
            strength, fraction = _EDEMA_PATTERN[truth["edema"][side][key]]
            if strength is not None:
                values = edema_field[mask]
                cut = np.quantile(values, 1.0 - fraction) if fraction < 1.0 else -np.inf
                edematous = np.zeros_like(mask)
                edematous[mask] = values >= cut
                if sequence == Sequence.STIR:
                    image[edematous] = _EDEMA_STIR[strength]
                else:
                    image[edematous] *= 0.9
            fat_fraction = _FAT_FRACTION[truth["fat"][side][key]]
            if fat_fraction > 0:
                values = fat_field[mask]
                cut = np.quantile(values, 1.0 - fat_fraction)
                fatty = np.zeros_like(mask)
                fatty[mask] = values >= cut
                image[fatty] = _TISSUE["intermuscular_fat"][column]
    # Subcutaneous and fascial edema (STIR only), on the side the truth says.
    if sequence == Sequence.STIR:
        midline = grid.x[None, :] < 0  # patient right is −x
        for side, on_side in (("R", midline), ("L", ~midline)):
            if truth["subcutaneous_edema"][region][side]:
                sub = (labels == table["subcutaneous_fat"]) & on_side & (edema_field > 0.2)
                image[sub] = 420.0
            if truth["fascia_edema"][region][side]:
                image[(labels == table["fascia"]) & on_side] = 650.0
    return image


def _finish(image: npt.NDArray[np.float64], rng: np.random.Generator, scanner: _Scanner,
            grid: _Grid) -> npt.NDArray[np.uint16]:
    # A [1 2 1]/4 blur in both directions (partial volume at edges; σ ≈ 0.7 pixel).
    smooth = image.copy()
    smooth[1:-1, :] = 0.25 * image[:-2, :] + 0.5 * image[1:-1, :] + 0.25 * image[2:, :]
    blurred = smooth.copy()
    blurred[:, 1:-1] = 0.25 * smooth[:, :-2] + 0.5 * smooth[:, 1:-1] + 0.25 * smooth[:, 2:]
    smooth = blurred
    # Coil sensitivity: a gentle left-right and anterior-posterior shading.
    shading = (1.0 + 0.08 * np.cos(grid.x / 180.0)[None, :] * np.cos(grid.y / 150.0)[:, None])
    signal = smooth * shading * scanner["gain"]
    sigma = scanner["noise"]
    real = signal + sigma * rng.standard_normal(signal.shape, dtype=np.float32)
    imaginary = sigma * rng.standard_normal(signal.shape, dtype=np.float32)
    # Magnitude of complex Gaussian noise: Rician. float64 (numpy's stubs lose the dtype of
    # float64 + float32).
    noisy: npt.NDArray[np.float64] = np.hypot(real, imaginary)
    return np.clip(np.rint(noisy), 0, 4095).astype(np.uint16)


# --------------------------------------------------------------------------------- DICOM
def _uid(*parts: object) -> str:
    """A deterministic UID under the 2.25 (UUID-derived) root from the given parts."""
    import hashlib

    digest = hashlib.sha256("|".join(["myoscore-phantom", *map(str, parts)]).encode()).digest()
    return f"2.25.{int.from_bytes(digest[:16], 'big')}"


def _base_dataset(
    *,
    identifying: Mapping[str, str],
    timepoint: str,
    region: str,
    sequence: Sequence,
    field_strength: float,
    study_uid: str,
    series_uid: str,
    frame_uid: str,
    series_number: int,
    grid: _Grid,
) -> Any:
    from pydicom.dataset import Dataset

    params = _SEQUENCES[sequence]
    scanner = _SCANNERS[field_strength]
    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.StudyDate = identifying["StudyDate_" + timepoint]
    ds.SeriesDate = ds.StudyDate
    ds.AcquisitionDate = ds.StudyDate
    ds.ContentDate = ds.StudyDate
    ds.StudyTime = "093000"
    ds.SeriesTime = f"09{30 + series_number:02d}00"
    ds.AccessionNumber = identifying["AccessionNumber_" + timepoint]
    ds.Modality = "MR"
    ds.Manufacturer = "SIEMENS"
    ds.InstitutionName = identifying["InstitutionName"]
    ds.ReferringPhysicianName = identifying["ReferringPhysicianName"]
    ds.StudyDescription = "MRI LOWER LIMBS MYOSITIS"
    ds.SeriesDescription = f"{params['description']}_{region}"
    ds.ManufacturerModelName = scanner["model"]
    ds.PatientName = identifying["PatientName"]
    ds.PatientID = identifying["PatientID"]
    ds.PatientBirthDate = identifying["PatientBirthDate"]
    ds.PatientSex = "F"
    ds.PatientAge = "054Y" if timepoint == "baseline" else "055Y"
    ds.BodyPartExamined = "LEG" if region == "calf" else "THIGH"
    ds.ScanningSequence = params["scanning"]
    ds.SequenceVariant = params["variant"]
    ds.ScanOptions = ["IR"] if sequence == Sequence.STIR else ["SAT1"]
    ds.MRAcquisitionType = "2D"
    ds.SequenceName = params["sequence_name"]
    ds.SliceThickness = grid.thickness
    ds.SpacingBetweenSlices = round(grid.spacing, 6)
    ds.RepetitionTime = params["tr"]
    ds.EchoTime = params["te"]
    if params["ti"] is not None:
        ds.InversionTime = params["ti"]
    ds.NumberOfAverages = 1
    ds.ImagingFrequency = scanner["frequency"]
    ds.ImagedNucleus = "1H"
    ds.EchoNumbers = 1
    ds.MagneticFieldStrength = field_strength
    ds.EchoTrainLength = params["etl"]
    ds.PixelBandwidth = 250
    ds.ProtocolName = ds.SeriesDescription
    ds.FlipAngle = params["flip"]
    ds.PatientPosition = "FFS"
    ds.StudyInstanceUID = study_uid
    ds.SeriesInstanceUID = series_uid
    ds.StudyID = "1"
    ds.SeriesNumber = series_number
    ds.FrameOfReferenceUID = frame_uid
    ds.PositionReferenceIndicator = ""
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows = grid.rows
    ds.Columns = grid.columns
    ds.PixelSpacing = [round(grid.pixel, 6), round(grid.pixel, 6)]
    ds.BitsAllocated = 16
    ds.BitsStored = 12
    ds.HighBit = 11
    ds.PixelRepresentation = 0
    ds.WindowCenter = 500 if sequence == Sequence.STIR else 600
    ds.WindowWidth = 1000 if sequence == Sequence.STIR else 1200
    return ds


def _file_meta(sop_class: str, sop_instance: str, transfer_syntax: str) -> Any:
    from pydicom.dataset import FileMetaDataset
    from pydicom.uid import PYDICOM_IMPLEMENTATION_UID, UID

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = UID(sop_class)
    meta.MediaStorageSOPInstanceUID = UID(sop_instance)
    meta.TransferSyntaxUID = UID(transfer_syntax)
    meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    return meta


def _save(ds: Any, path: Path, transfer_syntax: str) -> None:
    from pydicom.uid import ExplicitVRLittleEndian

    if transfer_syntax != ExplicitVRLittleEndian:
        ds.compress(transfer_syntax)
    ds.save_as(path, enforce_file_format=True)


def _write_single_frames(
    base: Any, images: np.ndarray, grid: _Grid, folder: Path, transfer_syntax: str,
    series_uid: str,
) -> int:
    from pydicom.uid import ExplicitVRLittleEndian

    n = len(grid.z)
    ds = base  # reused: every per-slice element is overwritten before each save
    for number, k in enumerate(range(n - 1, -1, -1), start=1):
        # Instance 1 is the most proximal slice, as scanners number a head-to-feet stack.
        sop_uid = _uid(series_uid, number)
        ds.file_meta = _file_meta(_MR_IMAGE_STORAGE, sop_uid, ExplicitVRLittleEndian)
        ds.ImageType = ["ORIGINAL", "PRIMARY", "M", "NORM", "DIS2D"]
        ds.SOPClassUID = _MR_IMAGE_STORAGE
        ds.SOPInstanceUID = sop_uid
        ds.InstanceNumber = number
        ds.AcquisitionNumber = 1
        ds.ImagePositionPatient = [round(v, 6) for v in grid.position(k)]
        ds.SliceLocation = round(float(grid.z[k]), 6)
        ds.PixelData = np.ascontiguousarray(images[k]).tobytes()
        _save(ds, folder / f"IM{number:04d}.dcm", transfer_syntax)
    return n


def _write_enhanced(
    base: Any, images: np.ndarray, grid: _Grid, folder: Path, transfer_syntax: str,
    series_uid: str, sequence: Sequence,
) -> int:
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence as DicomSequence
    from pydicom.uid import ExplicitVRLittleEndian

    params = _SEQUENCES[sequence]
    ds = base
    sop_uid = _uid(series_uid, "enhanced")
    ds.file_meta = _file_meta(_ENHANCED_MR_STORAGE, sop_uid, ExplicitVRLittleEndian)
    ds.SOPClassUID = _ENHANCED_MR_STORAGE
    ds.SOPInstanceUID = sop_uid
    ds.ImageType = ["ORIGINAL", "PRIMARY", "M", "NONE"]
    ds.InstanceNumber = 1
    ds.ContentQualification = "RESEARCH"
    ds.ImageComments = "myoscore synthetic phantom"
    ds.AcquisitionContrast = "T2" if sequence == Sequence.STIR else "T1"
    ds.PixelPresentation = "MONOCHROME"
    ds.VolumetricProperties = "VOLUME"
    ds.VolumeBasedCalculationTechnique = "NONE"
    ds.ComplexImageComponent = "MAGNITUDE"
    ds.BurnedInAnnotation = "NO"
    ds.LossyImageCompression = "00"
    ds.PresentationLUTShape = "IDENTITY"
    # Classic attributes that Enhanced MR keeps in functional groups.
    for keyword in ("ImagePositionPatient", "ImageOrientationPatient", "PixelSpacing",
                    "SliceThickness", "SpacingBetweenSlices", "RepetitionTime", "EchoTime",
                    "InversionTime", "FlipAngle", "EchoTrainLength", "WindowCenter",
                    "WindowWidth", "EchoNumbers"):
        if keyword in ds:
            delattr(ds, keyword)

    dimension_uid = _uid(series_uid, "dimension")
    organisation = Dataset()
    organisation.DimensionOrganizationUID = dimension_uid
    ds.DimensionOrganizationSequence = DicomSequence([organisation])
    dimensions = []
    for pointer, group in ((0x00209056, 0x00209111), (0x00209057, 0x00209111)):
        item = Dataset()
        item.DimensionOrganizationUID = dimension_uid
        item.DimensionIndexPointer = pointer
        item.FunctionalGroupPointer = group
        dimensions.append(item)
    ds.DimensionIndexSequence = DicomSequence(dimensions)

    shared = Dataset()
    measures = Dataset()
    measures.PixelSpacing = [round(grid.pixel, 6), round(grid.pixel, 6)]
    measures.SliceThickness = grid.thickness
    measures.SpacingBetweenSlices = round(grid.spacing, 6)
    shared.PixelMeasuresSequence = DicomSequence([measures])
    orientation = Dataset()
    orientation.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    shared.PlaneOrientationSequence = DicomSequence([orientation])
    transform = Dataset()
    transform.RescaleIntercept = 0
    transform.RescaleSlope = 1
    transform.RescaleType = "US"
    shared.PixelValueTransformationSequence = DicomSequence([transform])
    timing = Dataset()
    timing.RepetitionTime = params["tr"]
    timing.FlipAngle = params["flip"]
    timing.EchoTrainLength = params["etl"]
    timing.RFEchoTrainLength = params["etl"]
    timing.GradientEchoTrainLength = 0
    shared.MRTimingAndRelatedParametersSequence = DicomSequence([timing])
    echo = Dataset()
    echo.EffectiveEchoTime = params["te"]
    shared.MREchoSequence = DicomSequence([echo])
    modifier = Dataset()
    modifier.InversionRecovery = "YES" if params["ti"] is not None else "NO"
    if params["ti"] is not None:
        modifier.InversionTimes = [params["ti"]]
    modifier.FlowCompensation = "NONE"
    modifier.SpatialPresaturation = "NONE"
    modifier.PartialFourier = "NO"
    shared.MRModifierSequence = DicomSequence([modifier])
    frame_type = Dataset()
    frame_type.FrameType = ["ORIGINAL", "PRIMARY", "M", "NONE"]
    frame_type.PixelPresentation = "MONOCHROME"
    frame_type.VolumetricProperties = "VOLUME"
    frame_type.VolumeBasedCalculationTechnique = "NONE"
    frame_type.ComplexImageComponent = "MAGNITUDE"
    frame_type.AcquisitionContrast = ds.AcquisitionContrast
    shared.MRImageFrameTypeSequence = DicomSequence([frame_type])
    ds.SharedFunctionalGroupsSequence = DicomSequence([shared])

    n = len(grid.z)
    order = list(range(n - 1, -1, -1))  # proximal first, like the single-frame series
    per_frame = []
    for number, k in enumerate(order, start=1):
        item = Dataset()
        position = Dataset()
        position.ImagePositionPatient = [round(v, 6) for v in grid.position(k)]
        item.PlanePositionSequence = DicomSequence([position])
        content = Dataset()
        content.StackID = "1"
        content.InStackPositionNumber = number
        content.DimensionIndexValues = [1, number]
        item.FrameContentSequence = DicomSequence([content])
        per_frame.append(item)
    ds.PerFrameFunctionalGroupsSequence = DicomSequence(per_frame)
    ds.NumberOfFrames = n
    ds.PixelData = np.ascontiguousarray(images[order]).tobytes()
    _save(ds, folder / "IM0001.dcm", transfer_syntax)
    return 1


# ------------------------------------------------------------------------------- writer
def write_phantom(
    out_dir: str | os.PathLike[str],
    *,
    shape: tuple[int, int, int] = (20, 256, 256),
    field_strength: float = 1.5,
    seed: int = 0,
    timepoints: Iterable[str] = ("baseline", "followup"),
    regions: Iterable[str] = ("thigh", "calf"),
    sequences: Iterable[Sequence] = (Sequence.STIR, Sequence.T1),
    nifti: bool = True,
    multiframe: bool = False,
    transfer_syntax: str | None = None,
) -> PhantomInfo:
    """Write the synthetic exam pair and return where everything is.

    Parameters
    ----------
    out_dir
        Created if needed. Layout: ``dicom/<timepoint>/<region>_<seq>/IM0001.dcm…``,
        ``nifti/<timepoint>/<region>_<seq>.nii.gz``, ``labels/<region>_labels.nii.gz``
        (on the STIR grid), ``labels.json`` (label name → value; muscles as
        ``"R:thigh.anterior.rectus_femoris"``), ``ground_truth.json``.
    shape
        STIR stack ``(slices, rows, columns)``; T1 gets ~1.25× the slices and a
        0.75× matrix. ``(60, 512, 512)`` for the loading benchmark.
    field_strength
        1.5 or 3.0 (tesla): scanner model, frequency, signal and noise.
    seed
        Fixes the grades, textures, noise and UIDs: the same seed writes the same files.
    timepoints, regions, sequences
        Subsets to write (all by default).
    nifti
        Also write each series as NIfTI (the DICOM geometry, RAS on disk).
    multiframe
        One Enhanced MR file per series instead of one file per slice.
    transfer_syntax
        DICOM transfer syntax UID; default Explicit VR Little Endian. RLE Lossless and
        JPEG 2000 Lossless are encoded with pydicom's plugins.
    """
    from pydicom.uid import ExplicitVRLittleEndian

    if field_strength not in _SCANNERS:
        raise ImagingError(f"phantom field_strength must be 1.5 or 3.0, got {field_strength}")
    if len(shape) != 3 or shape[0] < 2 or min(shape[1:]) < 32:
        raise ImagingError(f"phantom shape must be (slices ≥ 2, rows ≥ 32, columns ≥ 32), got {shape}")
    timepoints = tuple(timepoints)
    regions = tuple(regions)
    sequences = tuple(Sequence(s) for s in sequences)
    for name in timepoints:
        if name not in _STUDY_DATES:
            raise ImagingError(f"unknown phantom timepoint {name!r}; use baseline and/or followup")
    for name in regions:
        if name not in _REGIONS:
            raise ImagingError(f"unknown phantom region {name!r}; use thigh and/or calf")
    for sequence in sequences:
        if sequence not in _SEQUENCES:
            raise ImagingError(f"the phantom writes STIR and T1 only, not {sequence}")
    syntax = transfer_syntax or ExplicitVRLittleEndian

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    identifying = {
        "PatientName": f"PHANTOM^SUBJECT{seed:03d}",
        "PatientID": f"PHANTOM-{seed:04d}",
        "PatientBirthDate": "19700101",
        "InstitutionName": "PHANTOM GENERAL HOSPITAL",
        "ReferringPhysicianName": "PHANTOM^REFERRER",
        "StudyDate_baseline": _STUDY_DATES["baseline"],
        "StudyDate_followup": _STUDY_DATES["followup"],
        "AccessionNumber_baseline": f"PHACC{seed:04d}B",
        "AccessionNumber_followup": f"PHACC{seed:04d}F",
    }
    truth = _grades(seed, ("baseline", "followup"))
    truth = {name: truth[name] for name in timepoints}
    table = _label_table()
    scanner = _SCANNERS[field_strength]
    texture_rng = np.random.default_rng([seed, 11])
    textures = (_Texture(texture_rng), _Texture(texture_rng))

    label_maps: dict[str, Path] = {}
    written: list[PhantomSeries] = []
    for region_index, region in enumerate(regions):
        grids = _grids(region, shape)
        # Labels depend on anatomy only: render once per grid, reuse for every timepoint.
        rendered: dict[Sequence, tuple[np.ndarray, np.ndarray]] = {}
        for sequence in sequences:
            grid = grids[sequence]
            slices = [_render_slice(region, grid, float(z), table) for z in grid.z]
            rendered[sequence] = (
                np.stack([s[0] for s in slices]),
                np.stack([s[1] for s in slices]),
            )
        if nifti:
            stir_grid = grids[Sequence.STIR]
            stir_labels: tuple[np.ndarray, np.ndarray | None] | None = rendered.get(Sequence.STIR)
            if stir_labels is None:
                stir_labels = (
                    np.stack([_render_slice(region, stir_grid, float(z), table)[0]
                              for z in stir_grid.z]),
                    None,
                )
            from myoscore.imaging import write_nifti

            label_path = out / "labels" / f"{region}_labels.nii.gz"
            write_nifti(Volume(stir_labels[0], stir_grid.affine(), {"format": "nifti",
                        "series_description": f"phantom {region} labels"}), label_path)
            label_maps[region] = label_path

        for time_index, timepoint in enumerate(timepoints):
            study_uid = _uid(seed, timepoint, "study")
            frame_uid = _uid(seed, timepoint, region, "frame")
            for sequence_index, sequence in enumerate(sequences):
                grid = grids[sequence]
                labels, marrow = rendered[sequence]
                rng = np.random.default_rng([seed, time_index, region_index, sequence_index])
                images = np.stack([
                    _finish(
                        _intensity(labels[k], marrow[k], grid, float(grid.z[k]), sequence,
                                   truth[timepoint], region, textures, table),
                        rng, scanner, grid,
                    )
                    for k in range(len(grid.z))
                ])
                series_number = 1 + region_index * 10 + sequence_index
                series_uid = _uid(seed, timepoint, region, sequence.value, "series")
                name = f"{region}_{sequence.value.lower()}"
                folder = out / "dicom" / timepoint / name
                folder.mkdir(parents=True, exist_ok=True)
                for stale in folder.glob("IM*.dcm"):  # an earlier phantom of another size
                    stale.unlink()
                base = _base_dataset(
                    identifying=identifying, timepoint=timepoint, region=region,
                    sequence=sequence, field_strength=field_strength, study_uid=study_uid,
                    series_uid=series_uid, frame_uid=frame_uid, series_number=series_number,
                    grid=grid,
                )
                if multiframe:
                    n_files = _write_enhanced(base, images, grid, folder, syntax, series_uid,
                                              sequence)
                else:
                    n_files = _write_single_frames(base, images, grid, folder, syntax, series_uid)
                nifti_path = None
                if nifti:
                    from myoscore.imaging import write_nifti

                    nifti_path = out / "nifti" / timepoint / f"{name}.nii.gz"
                    metadata = {"format": "nifti", "sequence": sequence.value,
                                "series_description": str(base.SeriesDescription)}
                    write_nifti(Volume(images.astype(np.int16), grid.affine(), metadata),
                                nifti_path)
                written.append(
                    PhantomSeries(
                        timepoint=timepoint,
                        region=region,
                        sequence=sequence,
                        dicom_dir=folder,
                        nifti_path=nifti_path,
                        shape=(images.shape[0], images.shape[1], images.shape[2]),
                        spacing=(grid.pixel, grid.pixel, grid.spacing),
                        affine=grid.affine(),
                        n_files=n_files,
                        study_uid=study_uid,
                        series_uid=series_uid,
                    )
                )

    ground_truth = {
        "description": "myoscore synthetic phantom: grades per muscle and side",
        "seed": seed,
        "field_strength": field_strength,
        "scales": {"edema": "edema_0_5", "fat": "fischer_0_4"},
        "sides": {"R": "patient right (image left in axial views)", "L": "patient left"},
        "timepoints": truth,
    }
    truth_path = out / "ground_truth.json"
    truth_path.write_text(json.dumps(ground_truth, indent=2, sort_keys=True) + "\n")
    table_path = out / "labels.json"
    table_path.write_text(json.dumps(table, indent=2) + "\n")
    return PhantomInfo(
        out_dir=out,
        field_strength=field_strength,
        series=tuple(written),
        label_maps=MappingProxyType(label_maps),
        label_table_path=table_path,
        label_table=MappingProxyType(table),
        ground_truth_path=truth_path,
        ground_truth=ground_truth,
        identifying=MappingProxyType(
            {k: v for k, v in identifying.items() if "_" not in k}
            | {"StudyDate": identifying["StudyDate_baseline"]}
        ),
    )
