"""Use cases over the scheme library: list, show, validate; find a level's reference images."""

from __future__ import annotations

import os
import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any

from myoscore.domain import NotFound, SchemeError
from myoscore.resources import schemes_dir
from myoscore.schemes import (
    Item,
    Level,
    Protocol,
    Scale,
    SchemeLibrary,
    load_atlas,
    load_library,
    load_protocol,
    load_scale,
)
from myoscore.schemes.snapshot import protocol_to_dict

#: The scheme types the GUI shows (it imports them from here: gui -> app only).
__all__ = [
    "Item",
    "Level",
    "Protocol",
    "Scale",
    "SchemeLibrary",
    "describe",
    "list_schemes",
    "protocol",
    "reference_image",
    "scheme_directories",
    "scheme_library",
    "validate_path",
]


def scheme_directories() -> list[Path]:
    """The shipped schemes, then any study directories in ``MYOSCORE_SCHEMES`` (os.pathsep)."""
    extra = [Path(p) for p in os.environ.get("MYOSCORE_SCHEMES", "").split(os.pathsep) if p]
    return [schemes_dir(), *extra]


@lru_cache(maxsize=4)
def _library(directories: tuple[Path, ...]) -> SchemeLibrary:
    return load_library(*directories)


def scheme_library() -> SchemeLibrary:
    return _library(tuple(scheme_directories()))


def protocol(name: str) -> Protocol:
    return scheme_library().protocol(name)


def list_schemes() -> dict[str, list[dict[str, str]]]:
    library = scheme_library()
    return {
        "scales": [{"name": s.name, "kind": s.kind.value, "title": s.title} for s in library.scales.values()],
        "atlases": [{"name": a.name, "version": a.version, "title": a.title} for a in library.atlases.values()],
        "protocols": [
            {"name": p.name, "version": p.version, "hash": p.hash, "title": p.title}
            for p in library.protocols.values()
        ],
    }


def describe(name: str) -> dict[str, Any]:
    """A protocol (or a scale or atlas) as the JSON ``myoscore schemes show`` prints."""
    library = scheme_library()
    if name in library.protocols:
        data = protocol_to_dict(library.protocols[name])
        data["hash"] = library.protocols[name].hash
        for item in data["items"]:
            unit = item.pop("unit")
            item.update(unit=unit["key"], unit_name=unit["name"], unit_level=unit["level"],
                        region=unit["region"], compartment=unit["compartment"], body=unit["body"])
        return data
    if name in library.scales:
        scale = library.scales[name]
        return {"name": scale.name, "kind": scale.kind.value, "title": scale.title, "source": scale.source,
                "levels": [{"code": lv.code, "label": lv.label, "definition": lv.definition, "value": lv.value}
                           for lv in scale.levels]}
    if name in library.atlases:
        atlas = library.atlases[name]
        return {"name": atlas.name, "version": atlas.version, "title": atlas.title, "source": atlas.source,
                "regions": [vars(r) for r in atlas.regions],
                "compartments": [vars(c) for c in atlas.compartments],
                "muscles": [vars(m) for m in atlas.muscles]}
    raise NotFound(f"no protocol, scale or atlas named {name!r}")


def validate_path(path: Path) -> list[str]:
    """Validate a scheme file, or a folder of them, against the shipped library.

    Returns one line per valid scheme; raises :class:`SchemeError` on the first problem.
    """
    if not path.exists():
        raise SchemeError(str(path), "(file)", "does not exist")
    if path.is_dir():
        others = [d for d in scheme_directories() if d.resolve() != path.resolve()]
        library = load_library(*others, path)
        inside = [name for name, file in library.files.items() if path.resolve() in file.resolve().parents]
        return [f"{name}: ok ({library.files[name]})" for name in inside]
    try:
        tables = set(tomllib.loads(path.read_text(encoding="utf-8")))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError):
        tables = set()  # the loader below reports the syntax error with its line
    if "scale" in tables:
        scale = load_scale(path)
        return [f"scale {scale.name}: ok, {len(scale.levels)} levels"]
    if "atlas" in tables:
        atlas = load_atlas(path)
        return [f"atlas {atlas.name}: ok, {len(atlas.regions)} regions, {len(atlas.muscles)} muscles"]
    library = scheme_library()
    proto = load_protocol(path, library.scales, library.atlases)
    return [f"protocol {proto.name} {proto.version}: ok, {len(proto.items)} items, hash {proto.hash[:12]}"]


def reference_image(scale: Scale, name: str) -> Path | None:
    """Where a level's reference image is: ``name`` in the ``scales/`` folder of the
    scheme directory that holds the scale (the shipped one or one a study added)."""
    for directory in scheme_directories():
        candidate = directory / "scales" / name
        if candidate.is_file():
            return candidate
    return None
