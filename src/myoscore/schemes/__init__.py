"""Scales, atlases and protocols as validated data (TOML files in ``scoring_schemes/``)."""

from myoscore.schemes.loader import (
    SchemeLibrary,
    load_atlas,
    load_library,
    load_protocol,
    load_scale,
)
from myoscore.schemes.model import (
    Atlas,
    AtlasUnit,
    Compartment,
    DerivedFunction,
    DerivedScore,
    Item,
    Level,
    Muscle,
    Protocol,
    Region,
    Scale,
    ScaleKind,
    UnitLevel,
)
from myoscore.schemes.snapshot import protocol_from_json, protocol_hash, protocol_to_json

__all__ = [
    "Atlas",
    "AtlasUnit",
    "Compartment",
    "DerivedFunction",
    "DerivedScore",
    "Item",
    "Level",
    "Muscle",
    "Protocol",
    "Region",
    "Scale",
    "ScaleKind",
    "SchemeLibrary",
    "UnitLevel",
    "load_atlas",
    "load_library",
    "load_protocol",
    "load_scale",
    "protocol_from_json",
    "protocol_hash",
    "protocol_to_json",
]
