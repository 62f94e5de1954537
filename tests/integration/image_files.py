"""Typed access to the test inputs of other libraries: pydicom's bundled files, and the
NIfTI files that dcm2niix and the import write (``nibabel.load`` returns any image class)."""

from __future__ import annotations

import os

import nibabel
from pydicom.data import get_testdata_file


def pydicom_testdata(name: str) -> str:
    """The path of one of pydicom's bundled test files."""
    path = get_testdata_file(name)
    assert isinstance(path, str), f"{name} is not bundled with this pydicom"
    return path


def load_nifti1(path: str | os.PathLike[str]) -> nibabel.Nifti1Image:
    """A NIfTI-1 file (what dcm2niix and myoscore write)."""
    image = nibabel.load(os.fspath(path))
    assert isinstance(image, nibabel.Nifti1Image), f"{path} is a {type(image).__name__}"
    return image
