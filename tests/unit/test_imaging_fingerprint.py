"""Same image or not: canonical orientation, grid tolerance, fingerprints and probes."""

from __future__ import annotations

import numpy as np

from myoscore.imaging import Volume
from myoscore.imaging.fingerprint import canonical, fingerprint, middle_planes, probe_of, same_content, volume_grid


def _volume(seed: int = 0, dtype: type[np.generic] = np.int16) -> Volume:
    voxels = np.random.default_rng(seed).integers(0, 1000, (5, 6, 7)).astype(dtype)
    affine = np.diag([0.8, 0.9, 4.0, 1.0])
    affine[:3, 3] = (-100.0, -80.0, 30.0)
    return Volume(voxels, affine, {})


def _flipped_and_transposed(volume: Volume) -> Volume:
    """The same image stored with rows reversed and the column and row axes swapped."""
    affine = np.array(volume.affine)
    rows = volume.shape[1]
    affine[:3, 3] += affine[:3, 1] * (rows - 1)
    affine[:3, 1] *= -1
    voxels = np.ascontiguousarray(np.asarray(volume.voxels)[:, ::-1, :])
    swapped = np.ascontiguousarray(voxels.transpose(0, 2, 1))
    affine[:, [0, 1]] = affine[:, [1, 0]]
    return Volume(swapped, affine, {})


def test_a_reoriented_copy_has_the_same_canonical_form_and_fingerprint() -> None:
    """Rows reversed and axes swapped (affine adjusted): equal canonical voxels and grid, equal digest."""
    volume = _volume()
    copy = _flipped_and_transposed(volume)
    assert copy.shape != volume.shape
    voxels_a, grid_a = canonical(volume)
    voxels_b, grid_b = canonical(copy)
    assert np.array_equal(voxels_a, voxels_b)
    assert grid_a.matches(grid_b)
    assert volume_grid(copy) == grid_b
    assert fingerprint(volume).same_as(fingerprint(copy)) is True


def test_int16_and_float32_of_equal_values_are_the_same_image() -> None:
    volume = _volume()
    as_float = Volume(np.asarray(volume.voxels, dtype=np.float32), volume.affine, {})
    assert fingerprint(volume).digest == fingerprint(as_float).digest


def test_rounding_differences_are_settled_by_the_voxel_comparison() -> None:
    """Values off by float rounding: digests differ, the sketch says maybe, the voxels say same."""
    volume = _volume(dtype=np.float32)
    nudged = Volume(np.asarray(volume.voxels) * np.float32(1 + 2e-7), volume.affine, {})
    assert fingerprint(volume).same_as(fingerprint(nudged)) is None
    assert same_content(volume, nudged)


def test_other_images_on_the_same_grid_differ() -> None:
    a, b = _volume(1), _volume(2)
    assert fingerprint(a).same_as(fingerprint(b)) is False
    assert not same_content(a, b)


def test_a_grid_moved_by_more_than_a_hundredth_of_a_millimetre_is_another_grid() -> None:
    volume = _volume()
    affine = np.array(volume.affine)
    affine[0, 3] += 0.005
    near = volume_grid(Volume(volume.voxels, affine, {}))
    affine[0, 3] += 0.02
    far = volume_grid(Volume(volume.voxels, affine, {}))
    assert volume_grid(volume).matches(near)
    assert not volume_grid(volume).matches(far)
    assert fingerprint(Volume(volume.voxels, affine, {})).same_as(fingerprint(volume)) is False


def test_the_probe_is_the_middle_planes_whichever_way_the_slices_run() -> None:
    """A stack stored bottom-up and the same stack top-down give the same probe; its middle
    planes alone (as read from one or two files) give it too."""
    volume = _volume()
    affine = np.array(volume.affine)
    affine[:3, 3] += affine[:3, 2] * (volume.shape[0] - 1)
    affine[:3, 2] *= -1
    reversed_stack = Volume(np.ascontiguousarray(np.asarray(volume.voxels)[::-1]), affine, {})
    grid = volume_grid(volume)
    assert len(middle_planes(grid)) == 1  # five slices: one middle plane
    probe = probe_of(volume, grid)
    other = probe_of(reversed_stack, volume_grid(reversed_stack))
    assert probe is not None
    assert other is not None
    assert probe.maybe_same(other)
    middle = Volume(np.asarray(volume.voxels)[2:3], _shifted(volume.affine, 2), {})
    alone = probe_of(middle, grid)
    assert alone is not None
    assert alone.maybe_same(probe)
    different = probe_of(_volume(3), grid)
    assert different is not None
    assert not probe.maybe_same(different)


def _shifted(affine: np.ndarray, k: int) -> np.ndarray:
    out = np.array(affine)
    out[:3, 3] += out[:3, 2] * k
    return out
