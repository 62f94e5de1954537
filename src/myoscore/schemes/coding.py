"""Export codings of atlas units and tissues (``scoring_schemes/coding/*.toml``).

Shared by the DICOM SR export (finding sites, ``myoscore.export.sr``) and the DICOM
Segmentation of label maps (segment types, ``myoscore.imaging.segmentation``), so one
checked code is used for one structure everywhere. A code is ``(scheme, value, meaning)``.
"""

from __future__ import annotations

import tomllib
from functools import cache
from types import MappingProxyType
from typing import Any

from myoscore.domain import MyoscoreError
from myoscore.resources import schemes_dir

__all__ = ["PRIVATE_SCHEME", "Code", "anatomy_codes", "tissue_codes"]

#: myoscore's private coding scheme designator (PS3.3 8.2: "99" prefix = private).
PRIVATE_SCHEME = "99MYOSCORE"

Code = tuple[str, str, str]


def _load(name: str) -> dict[str, Any]:
    path = schemes_dir() / "coding" / name
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise MyoscoreError(f"{path}: cannot be read as a coding table: {exc}") from exc


def _code(path: str, key: str, text: object, meaning: object) -> Code:
    scheme, _, value = str(text).partition(":")
    if not scheme or not value:
        raise MyoscoreError(f"scoring_schemes/coding/{path}: {key}: code must be SCHEME:VALUE, not {text!r}")
    return scheme, value, str(meaning)


@cache
def anatomy_codes() -> MappingProxyType[str, Code]:
    """Atlas unit key → its code (regions and the muscles with a checked SNOMED CT code)."""
    data = _load("anatomy.toml")
    return MappingProxyType({key: _code("anatomy.toml", key, entry["code"], entry["meaning"])
                             for key, entry in data.get("units", {}).items()})


@cache
def tissue_codes() -> MappingProxyType[str, tuple[Code, Code]]:
    """Label-table name of a non-muscle label (``skin``, ``bone.femur``) → (segmented
    property category, segmented property type)."""
    data = _load("tissues.toml")
    return MappingProxyType({
        key: (_code("tissues.toml", key, entry["category"], entry["category_meaning"]),
              _code("tissues.toml", key, entry["code"], entry["meaning"]))
        for key, entry in data.get("tissues", {}).items()})
