"""The one image type of myoscore: a voxel array plus an affine to patient space.

Coordinate convention (stated once, here)
-----------------------------------------
``Volume.voxels`` is ordered ``(z, y, x)`` = ``(slice k, row j, column i)``.

``Volume.affine`` maps a voxel index written as ``(i, j, k, 1)`` = ``(column, row,
slice, 1)`` to **patient coordinates in LPS millimetres** — the DICOM convention:
+x points to the patient's Left, +y to Posterior, +z to Superior (head). DICOM
headers are used as they are; NIfTI files (which are RAS by definition) are
converted at the edges only, in :mod:`myoscore.imaging.nifti` and
:meth:`Volume.to_nibabel`. SimpleITK is LPS too, so :meth:`Volume.to_simpleitk`
needs no flip.

Column 0 of the affine is the direction of increasing column index scaled by the
column spacing (DICOM ``ImageOrientationPatient[0:3] * PixelSpacing[1]``), column 1
the direction of increasing row index scaled by the row spacing, column 2 the step
from one slice to the next, column 3 the centre of the first voxel
(``ImagePositionPatient`` of slice 0).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:  # pragma: no cover - typing only
    import nibabel
    import SimpleITK

#: Metadata keys a Volume may carry. None of them identifies a patient.
METADATA_KEYS = frozenset(
    {
        "format",
        "modality",
        "sequence",
        "sequence_reason",
        "series_description",
        "protocol_name",
        "series_number",
        "repetition_time",
        "echo_time",
        "inversion_time",
        "flip_angle",
        "magnetic_field_strength",
        "manufacturer",
        "manufacturer_model",
        "slice_thickness",
        "image_type",
        "transfer_syntax",
        # Which part of a split series (echo, repetition, stack…), e.g. "echo 2, TE 20 ms".
        "series_part",
        # Intensities (myoscore.imaging.scaling): which values the voxels hold ("display"
        # or "real_world") and their units; where real-world values differ from the
        # display values, where they come from and their units.
        "values",
        "value_units",
        "real_world_source",
        "real_world_units",
    }
)

#: LPS → RAS (and back: it is its own inverse). NIfTI edges only.
LPS_TO_RAS = np.diag([-1.0, -1.0, 1.0, 1.0])

# Letter for the positive and the negative direction of each LPS axis.
_AXIS_LETTERS = (("L", "R"), ("P", "A"), ("S", "I"))


class OrientationLabels(NamedTuple):
    """Patient-direction letters at the four screen edges of a slice.

    The slice is shown with column index increasing to the right and row index
    increasing downwards (the DICOM display convention). For a standard axial
    slice this is ``("R", "L", "A", "P")``: the patient's right on the screen left.
    Oblique directions get up to three letters, dominant first (``"LA"``).
    """

    left: str
    right: str
    top: str
    bottom: str


def direction_letters(vector: npt.ArrayLike, threshold: float = 0.3) -> str:
    """Patient-direction letters of an LPS vector, dominant component first.

    Components whose share of the unit vector is below ``threshold`` are ignored,
    so a slightly oblique axial row direction is still ``"L"``.
    """
    v = np.asarray(vector, dtype=float)
    norm = float(np.linalg.norm(v))
    if norm == 0.0:
        return "?"
    v = v / norm
    letters = []
    for axis in np.argsort(-np.abs(v)):
        if abs(v[axis]) < threshold:
            break
        letters.append(_AXIS_LETTERS[axis][0 if v[axis] > 0 else 1])
    return "".join(letters)


def _readonly(array: np.ndarray) -> np.ndarray:
    view = array.view()
    view.flags.writeable = False
    return view


@dataclass(frozen=True, eq=False)
class Volume:
    """A 3-D image: voxels ``(z, y, x)`` and an affine to LPS millimetres.

    Parameters
    ----------
    voxels
        Array of shape ``(slices, rows, columns)``; int16 when the stored values are
        integers that fit, float32 otherwise. Stored read-only.
    affine
        4×4 matrix mapping ``(column i, row j, slice k, 1)`` to LPS millimetres.
    metadata
        Non-identifying facts only (keys in :data:`METADATA_KEYS`): modality,
        sequence kind, series description, TR/TE/TI, field strength, scanner model.
        Patient name, ID, birth date, dates and institution are never stored here.
    warnings
        Problems met while building the volume that did not prevent it (missing
        slices filled with zeros, slightly uneven spacing), each naming positions.
    """

    voxels: np.ndarray
    affine: npt.NDArray[np.float64]
    metadata: Mapping[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        voxels = np.asarray(self.voxels)
        if voxels.ndim != 3:
            raise ValueError(f"Volume voxels must be 3-D (z, y, x), got shape {voxels.shape}")
        affine = np.array(self.affine, dtype=np.float64)
        if affine.shape != (4, 4):
            raise ValueError(f"Volume affine must be 4×4, got shape {affine.shape}")
        if not np.allclose(affine[3], [0.0, 0.0, 0.0, 1.0]):
            raise ValueError(f"Volume affine must end with row (0, 0, 0, 1), got {affine[3]}")
        if abs(np.linalg.det(affine[:3, :3])) < 1e-12:
            raise ValueError("Volume affine is singular (a zero spacing or parallel axes)")
        unknown = set(self.metadata) - METADATA_KEYS
        if unknown:
            raise ValueError(
                f"Volume metadata keys not allowed (possibly identifying): {sorted(unknown)}"
            )
        object.__setattr__(self, "voxels", _readonly(voxels))
        object.__setattr__(self, "affine", _readonly(affine))
        object.__setattr__(self, "metadata", MappingProxyType(dict(self.metadata)))
        object.__setattr__(self, "warnings", tuple(self.warnings))

    # ------------------------------------------------------------------ geometry
    @property
    def shape(self) -> tuple[int, int, int]:
        """``(slices, rows, columns)``."""
        z, y, x = self.voxels.shape
        return (z, y, x)

    @property
    def spacing(self) -> tuple[float, float, float]:
        """Voxel size ``(x, y, z)`` in mm: column spacing, row spacing, slice step."""
        norms = np.linalg.norm(self.affine[:3, :3], axis=0)
        return (float(norms[0]), float(norms[1]), float(norms[2]))

    @property
    def direction(self) -> npt.NDArray[np.float64]:
        """3×3 unit direction cosines of the column, row and slice axes (as columns)."""
        # numpy's stubs type norm(..., axis=...) as Any; the quotient is float64.
        cosines: npt.NDArray[np.float64] = self.affine[:3, :3] / np.linalg.norm(self.affine[:3, :3], axis=0)
        return cosines

    @property
    def slice_normal(self) -> npt.NDArray[np.float64]:
        """Unit normal of the slice plane (row direction × column direction)."""
        n = np.cross(self.direction[:, 0], self.direction[:, 1])
        return n / np.linalg.norm(n)

    def index_to_patient(self, ijk: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """LPS mm of voxel index ``(i, j, k)`` (column, row, slice); accepts ``(..., 3)``."""
        idx = np.asarray(ijk, dtype=np.float64)
        return idx @ self.affine[:3, :3].T + self.affine[:3, 3]

    def extent_along(self, axis: npt.ArrayLike) -> tuple[float, float]:
        """The volume's extent (mm) along ``axis`` (an LPS direction), from its eight corner voxels."""
        z, y, x = self.shape
        corners = np.array([(i, j, k) for i in (0, x - 1) for j in (0, y - 1) for k in (0, z - 1)], dtype=float)
        along = self.index_to_patient(corners) @ np.asarray(axis, dtype=np.float64)
        return float(along.min()), float(along.max())

    def patient_to_index(self, xyz: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Fractional voxel index ``(i, j, k)`` of an LPS point; accepts ``(..., 3)``."""
        pts = np.asarray(xyz, dtype=np.float64)
        inverse = np.linalg.inv(self.affine)
        # numpy's stubs lose the dtype of inv(float64) @ float64; it stays float64.
        index: npt.NDArray[np.float64] = pts @ inverse[:3, :3].T + inverse[:3, 3]
        return index

    def slice_position(self, k: int) -> npt.NDArray[np.float64]:
        """LPS mm of the first voxel of slice ``k`` (its ``ImagePositionPatient``)."""
        return self.index_to_patient((0.0, 0.0, float(k)))

    def slice_location(self, k: int) -> float:
        """Signed distance in mm of slice ``k`` along the slice normal."""
        return float(np.dot(self.slice_position(k), self.slice_normal))

    def orientation_labels(self) -> OrientationLabels:
        """Patient-direction letters at the screen edges of a slice of this volume."""
        column_dir = self.affine[:3, 0]
        row_dir = self.affine[:3, 1]
        return OrientationLabels(
            left=direction_letters(-column_dir),
            right=direction_letters(column_dir),
            top=direction_letters(-row_dir),
            bottom=direction_letters(row_dir),
        )

    def plane(self) -> str:
        """``"axial"``, ``"coronal"``, ``"sagittal"`` or ``"oblique"`` from the normal."""
        normal = np.abs(self.slice_normal)
        axis = int(np.argmax(normal))
        if normal[axis] < math.cos(math.radians(30)):
            return "oblique"
        return ("sagittal", "coronal", "axial")[axis]

    def nbytes(self) -> int:
        return int(self.voxels.nbytes)

    # ---------------------------------------------------------------- converters
    def to_nibabel(self) -> nibabel.Nifti1Image:
        """A ``nibabel.Nifti1Image`` (data ``(x, y, z)``, RAS affine, sform and qform set)."""
        try:
            import nibabel
        except ImportError as exc:  # pragma: no cover - nibabel is a dependency
            raise ImportError("Volume.to_nibabel needs nibabel (pip install nibabel)") from exc

        data = np.ascontiguousarray(self.voxels.transpose(2, 1, 0))
        ras = LPS_TO_RAS @ self.affine
        image = nibabel.Nifti1Image(data, ras)
        image.set_sform(ras, code=1)  # 1 = scanner anatomical
        image.set_qform(ras, code=1)
        image.header.set_xyzt_units(xyz="mm")
        # A neutral description: the series' own (DICOM SeriesDescription or an incoming
        # NIfTI descrip) can carry a patient's name, and an export must not (issue 11).
        sequence = str(self.metadata.get("sequence", ""))
        neutral = f"myoscore {sequence}" if sequence.replace("_", "").isalnum() else "myoscore"
        image.header["descrip"] = neutral.encode("ascii")
        return image

    def to_simpleitk(self) -> SimpleITK.Image:
        """A ``SimpleITK.Image`` (LPS like ITK; array order ``(z, y, x)`` like ours)."""
        try:
            import SimpleITK
        except ImportError as exc:  # pragma: no cover - SimpleITK is a dependency
            raise ImportError("Volume.to_simpleitk needs SimpleITK (pip install SimpleITK)") from exc

        image = SimpleITK.GetImageFromArray(np.ascontiguousarray(self.voxels))
        image.SetSpacing(self.spacing)
        image.SetOrigin(tuple(float(v) for v in self.affine[:3, 3]))
        image.SetDirection(tuple(float(v) for v in self.direction.ravel()))
        return image

    @classmethod
    def from_simpleitk(
        cls,
        image: SimpleITK.Image,
        metadata: Mapping[str, Any] | None = None,
        warnings: tuple[str, ...] = (),
    ) -> Volume:
        """Build a Volume from a 3-D ``SimpleITK.Image`` (LPS, so no flip)."""
        import SimpleITK

        if image.GetDimension() != 3:
            raise ValueError(f"expected a 3-D SimpleITK image, got {image.GetDimension()}-D")
        direction = np.array(image.GetDirection(), dtype=np.float64).reshape(3, 3)
        affine = np.eye(4)
        affine[:3, :3] = direction * np.array(image.GetSpacing())
        affine[:3, 3] = image.GetOrigin()
        voxels = SimpleITK.GetArrayFromImage(image)
        return cls(voxels, affine, metadata or {}, warnings)

    def __repr__(self) -> str:
        spacing = ", ".join(f"{s:.3g}" for s in self.spacing)
        labels = self.orientation_labels()
        return (
            f"Volume(shape={self.shape}, dtype={self.voxels.dtype}, spacing=({spacing}) mm, "
            f"labels={tuple(labels)}, sequence={self.metadata.get('sequence', '?')})"
        )

