"""Is this the same image? Grids and content fingerprints in one canonical orientation.

A series imported twice under two names — a NIfTI conversion of a DICOM series, a copy
re-exported with new UIDs — is the same image when its **grid** (shape, spacing,
direction, origin) and its **voxel values** are the same once both are put in one
canonical orientation: array axes along patient L, P, S (LPS), each increasing. A
NIfTI converter may store the rows flipped or the axes in another order; the voxels
and the affine together still say the same thing, and the canonical form makes that
visible.

:func:`record_grid` needs only the headers (no pixels), so an import compares grids
first and reads pixels only for the few series whose grid matches another's.
:func:`fingerprint` hashes a loaded volume's canonical voxels as float32 (int16 and
float32 volumes hash alike when their values are equal) and keeps a small *sketch*
(evenly spaced samples, the mean): two fingerprints with equal grids and digests are
the same image; equal grids, different digests but close sketches (a converter that
applied the rescale slope in another precision) are settled by :func:`same_content`
on the two volumes, with a tolerance.

Which values a DICOM series is compared with: its display values (stored × rescale
slope + intercept, what myoscore shows and what ``series export-nifti`` writes by
default) and, when the header has a different real-world mapping
(:mod:`myoscore.imaging.scaling`: Philips floating point, Real World Value Mapping),
its real-world values too — what dcm2niix writes for Philips files.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from myoscore.imaging.geometry import plan_stack
from myoscore.imaging.records import SeriesRecord
from myoscore.imaging.scaling import DISPLAY
from myoscore.imaging.volume import LPS_TO_RAS, Volume

__all__ = [
    "Fingerprint",
    "Grid",
    "canonical",
    "fingerprint",
    "record_grid",
    "same_content",
    "size_key",
    "volume_grid",
]

#: Positions (origin, and so every voxel centre) agree within this many millimetres.
POSITION_TOLERANCE_MM = 0.01
#: Direction cosines and relative spacing agree within this.
DIRECTION_TOLERANCE = 1e-4
#: Voxel values: |a − b| ≤ atol + rtol·|b|, atol relative to the largest magnitude.
VALUE_RTOL = 1e-5
_SKETCH_SIZE = 1024


@dataclass(frozen=True)
class Grid:
    """A voxel grid in canonical orientation: ``shape`` ``(z, y, x)`` and the 4×4 affine
    (voxel index → LPS mm, as :class:`~myoscore.imaging.Volume`), flattened row by row."""

    shape: tuple[int, int, int]
    affine: tuple[float, ...]

    @property
    def matrix(self) -> npt.NDArray[np.float64]:
        return np.asarray(self.affine, dtype=np.float64).reshape(4, 4)

    @property
    def spacing(self) -> tuple[float, float, float]:
        norms = np.linalg.norm(self.matrix[:3, :3], axis=0)
        return (float(norms[0]), float(norms[1]), float(norms[2]))

    def matches(self, other: Grid) -> bool:
        """Same shape, spacing and direction, and the same origin within 0.01 mm."""
        if self.shape != other.shape:
            return False
        a, b = self.matrix, other.matrix
        spacing_a, spacing_b = np.linalg.norm(a[:3, :3], axis=0), np.linalg.norm(b[:3, :3], axis=0)
        if not np.allclose(spacing_a, spacing_b, rtol=DIRECTION_TOLERANCE, atol=0.0):
            return False
        if not np.allclose(a[:3, :3] / spacing_a, b[:3, :3] / spacing_b, rtol=0.0, atol=DIRECTION_TOLERANCE):
            return False
        return bool(np.all(np.abs(a[:3, 3] - b[:3, 3]) <= POSITION_TOLERANCE_MM))

    def z_range(self) -> tuple[float, float]:
        """Extent along the body (patient z, mm) of the eight corner voxel centres."""
        z, y, x = self.shape
        corners = np.array([(i, j, k, 1.0) for i in (0, x - 1) for j in (0, y - 1) for k in (0, z - 1)])
        along = (corners @ self.matrix.T)[:, 2]
        return float(along.min()), float(along.max())

    def size_key(self) -> tuple[tuple[int, float], ...]:
        """``(voxels, spacing)`` per axis, sorted: equal for grids that can match in any
        axis order (what a stored series' shape and spacing can be compared with)."""
        return _size_key(self.shape, self.spacing)


def _size_key(shape_zyx: tuple[int, ...], spacing_xyz: tuple[float, ...]) -> tuple[tuple[int, float], ...]:
    pairs = zip((shape_zyx[2], shape_zyx[1], shape_zyx[0]), spacing_xyz, strict=True)
    return tuple(sorted((int(n), round(float(s), 3)) for n, s in pairs))


def size_key(shape_zyx: tuple[int, ...], spacing_xyz: tuple[float, ...]) -> tuple[tuple[int, float], ...]:
    """:meth:`Grid.size_key` of a stored series' shape ``(z, y, x)`` and spacing ``(x, y, z)``."""
    if len(shape_zyx) != 3 or len(spacing_xyz) != 3:
        return ()
    return _size_key(shape_zyx, spacing_xyz)


def _canonical_axes(affine: npt.NDArray[np.float64]) -> tuple[list[bool], list[int]] | None:
    """Which index axes to flip, and the index axis along each patient axis; None when
    the grid is oblique enough that two index axes lie nearest one patient axis."""
    columns = affine[:3, :3]
    dominant = [int(np.argmax(np.abs(columns[:, a]))) for a in range(3)]
    if sorted(dominant) != [0, 1, 2]:
        return None
    flips = [bool(columns[dominant[a], a] < 0) for a in range(3)]
    order = [dominant.index(p) for p in range(3)]
    return flips, order


_Axes = tuple[list[bool], list[int]]


def _canonical_affine(shape_zyx: tuple[int, int, int], affine: npt.NDArray[np.float64],
                      axes: _Axes | None) -> tuple[tuple[int, int, int], npt.NDArray[np.float64]]:
    if axes is None:
        return shape_zyx, affine
    flips, order = axes
    sizes_ijk = [shape_zyx[2], shape_zyx[1], shape_zyx[0]]
    columns = affine[:3, :3].copy()
    origin = affine[:3, 3].copy()
    for a in range(3):
        if flips[a]:
            origin = origin + columns[:, a] * (sizes_ijk[a] - 1)
            columns[:, a] = -columns[:, a]
    out = np.eye(4)
    out[:3, :3] = columns[:, order]
    out[:3, 3] = origin
    sizes = [sizes_ijk[a] for a in order]
    return (sizes[2], sizes[1], sizes[0]), out


def canonical(volume: Volume) -> tuple[npt.NDArray[np.float32], Grid]:
    """The volume's voxels ``(z, y, x)`` as float32 with array axes along +L, +P, +S, and
    that grid. An oblique grid (no clear nearest patient axis per array axis) is kept as it is."""
    affine = np.asarray(volume.affine, dtype=np.float64)
    axes = _canonical_axes(affine)
    data = np.asarray(volume.voxels).transpose(2, 1, 0)  # [i, j, k]
    if axes is not None:
        flips, order = axes
        for a in range(3):
            if flips[a]:
                data = np.flip(data, axis=a)
        data = data.transpose(order)
    voxels = np.ascontiguousarray(data.transpose(2, 1, 0), dtype=np.float32)
    shape, matrix = _canonical_affine(volume.shape, affine, axes)
    return voxels, _grid(shape, matrix)


def _grid(shape: tuple[int, int, int], matrix: npt.NDArray[np.float64]) -> Grid:
    return Grid((int(shape[0]), int(shape[1]), int(shape[2])), tuple(float(v) for v in matrix.reshape(-1)))


def volume_grid(volume: Volume) -> Grid:
    """The canonical grid of a loaded volume (no voxel copy)."""
    affine = np.asarray(volume.affine, dtype=np.float64)
    shape, matrix = _canonical_affine(volume.shape, affine, _canonical_axes(affine))
    return _grid(shape, matrix)


def _record_affine(record: SeriesRecord) -> npt.NDArray[np.float64] | None:
    """A DICOM record's affine from its headers, as :func:`load_series` will build it."""
    from myoscore.imaging.dicom_volume import _affine

    slices = record.slices
    if not slices or len(record.orientation) != 6:
        return None
    plan = plan_stack([s.location for s in slices])
    if plan.fatal is not None:
        return None
    return _affine(record, slices, plan.slots)


def record_grid(record: SeriesRecord) -> Grid | None:
    """The canonical grid of an indexed series from its headers only; None when the
    headers do not give one (a stack that cannot be built)."""
    if record.source == "nifti":
        if len(record.affine) != 16:
            return None
        affine = np.asarray(record.affine, dtype=np.float64).reshape(4, 4)
        shape = record.shape
    else:
        found = _record_affine(record)
        if found is None:
            return None
        affine = found
        shape = record.shape
    canonical_shape, matrix = _canonical_affine(shape, affine, _canonical_axes(affine))
    return _grid(canonical_shape, matrix)


@dataclass(frozen=True)
class Fingerprint:
    """What one volume's values look like: its canonical grid, the hash of its canonical
    float32 voxels, and a sketch (evenly spaced samples and the mean, float64)."""

    grid: Grid
    values: str
    digest: str
    sketch: tuple[float, ...]

    def same_as(self, other: Fingerprint) -> bool | None:
        """True: the same image; False: not; None: grids equal and values close, but
        not bit for bit — compare the volumes with :func:`same_content` to decide."""
        if not self.grid.matches(other.grid):
            return False
        if self.digest == other.digest:
            return True
        a, b = np.asarray(self.sketch), np.asarray(other.sketch)
        if a.shape != b.shape or not _close(a, b, rtol=1e-4):
            return False
        return None


def _close(a: npt.NDArray[np.floating], b: npt.NDArray[np.floating], *, rtol: float) -> bool:
    scale = max(float(np.max(np.abs(a))) if a.size else 0.0, float(np.max(np.abs(b))) if b.size else 0.0, 1e-12)
    return bool(np.allclose(a, b, rtol=rtol, atol=rtol * scale, equal_nan=True))


def fingerprint(volume: Volume, values: str = DISPLAY) -> Fingerprint:
    """Fingerprint a loaded volume (``values``: which values it holds, for the record)."""
    voxels, grid = canonical(volume)
    flat = voxels.reshape(-1) + np.float32(0.0)  # −0.0 → +0.0: equal values, equal bytes
    digest = hashlib.blake2b(flat.tobytes(), digest_size=16).hexdigest()
    if flat.size:
        picks = flat[np.linspace(0, flat.size - 1, min(_SKETCH_SIZE, flat.size)).astype(np.int64)]
        sketch = (float(flat.mean(dtype=np.float64)), *(float(v) for v in picks))
    else:
        sketch = ()
    return Fingerprint(grid, values, digest, sketch)


def same_content(a: Volume, b: Volume) -> bool:
    """Whether two volumes are the same image: equal canonical grids and voxel values
    equal within float32 rounding (relative 1e-5 of the largest magnitude)."""
    voxels_a, grid_a = canonical(a)
    voxels_b, grid_b = canonical(b)
    if not grid_a.matches(grid_b):
        return False
    return _close(voxels_a.astype(np.float64), voxels_b.astype(np.float64), rtol=VALUE_RTOL)


# ------------------------------------------------------------------------------ probes
# Two series on one grid are most often different images (baseline and follow-up of a
# fixed protocol). A probe — the one or two canonical planes in the middle of the grid —
# tells most of them apart after reading one or two files instead of the whole series.


def middle_planes(grid: Grid) -> tuple[float, ...]:
    """Patient z (mm) of the canonical plane(s) in the middle of ``grid``: plane
    ``(n − 1) // 2`` and ``n // 2`` (one plane for odd n), the same set whichever way
    the slices were stored."""
    n = grid.shape[0]
    matrix = grid.matrix
    return tuple(sorted({float(matrix[2, 3] + k * matrix[2, 2]) for k in ((n - 1) // 2, n // 2)}))


@dataclass(frozen=True, eq=False)
class Probe:
    """The middle plane(s) of a volume in canonical orientation (``values``: which values)."""

    values: str
    positions: tuple[float, ...]
    planes: npt.NDArray[np.float32]

    def maybe_same(self, other: Probe) -> bool:
        """False when the same planes hold different values (then the volumes differ)."""
        if len(self.positions) != len(other.positions) or self.planes.shape != other.planes.shape:
            return True  # not comparable: let the full comparison decide
        if not np.allclose(self.positions, other.positions, rtol=0.0, atol=POSITION_TOLERANCE_MM):
            return True
        return _close(self.planes.astype(np.float64), other.planes.astype(np.float64), rtol=1e-4)


def probe_of(volume: Volume, grid: Grid, values: str = DISPLAY) -> Probe | None:
    """The probe of a volume holding (at least) the middle planes of ``grid``; None when
    it does not hold them (then compare whole volumes)."""
    voxels, own = canonical(volume)
    matrix = own.matrix
    wanted = middle_planes(grid)
    found = []
    for z in wanted:
        k = round(float((z - matrix[2, 3]) / matrix[2, 2])) if matrix[2, 2] else 0
        if not 0 <= k < voxels.shape[0] or abs(matrix[2, 3] + k * matrix[2, 2] - z) > POSITION_TOLERANCE_MM:
            return None
        found.append(voxels[k])
    if found and found[0].shape != (grid.shape[1], grid.shape[2]):
        return None
    return Probe(values, wanted, np.stack(found))


def probe_record(record: SeriesRecord) -> SeriesRecord | None:
    """The part of a DICOM record that holds its middle plane(s), to load on its own;
    None when the middle planes are not whole slices (the slice axis is not nearest
    patient z, or a middle slice is missing)."""
    from dataclasses import replace

    affine = _record_affine(record)
    if affine is None:
        return None
    axes = _canonical_axes(affine)
    if axes is None or axes[1][2] != 2:  # canonical z must be the stored slice axis
        return None
    plan = plan_stack([s.location for s in record.slices])
    n = plan.n_slots
    wanted = {(n - 1) // 2, n // 2}
    chosen = tuple(ref for ref, slot in zip(record.slices, plan.slots, strict=True) if slot in wanted)
    if len(chosen) != len(wanted):
        return None
    paths = tuple(dict.fromkeys(ref.path for ref in chosen))
    return replace(record, slices=chosen, paths=paths, shape=(len(chosen), record.shape[1], record.shape[2]),
                   issues=())


def files_grid(files: list[str], part: str = "") -> Grid | None:
    """The canonical grid of a registered series from its files' headers (a NIfTI
    header; DICOM headers, no pixels); None when the files do not give one."""
    from pathlib import Path

    from myoscore.imaging.dicom_index import index_paths
    from myoscore.imaging.nifti import NiftiProblem, inspect_nifti

    paths = [Path(f) for f in files]
    if not paths or not all(p.exists() for p in paths):
        return None
    if paths[0].name.lower().endswith((".nii", ".nii.gz")):
        try:
            facts = inspect_nifti(paths[0], check_data=False)
        except (NiftiProblem, OSError):
            return None
        dims = (*facts.shape, 1, 1)[:3]
        affine = LPS_TO_RAS @ facts.ras
        shape = (dims[2], dims[1], dims[0])
        canonical_shape, matrix = _canonical_affine(shape, affine, _canonical_axes(affine))
        return _grid(canonical_shape, matrix)
    found = [r for r in index_paths(paths).series if not part or r.split == part]
    return record_grid(found[0]) if len(found) == 1 else None
