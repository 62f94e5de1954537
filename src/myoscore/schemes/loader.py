"""Load and validate scales, atlases and protocols from TOML.

Every problem is a :class:`~myoscore.domain.SchemeError` naming the file, the key
(as a path such as ``level[3].definition``) and what is wrong.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from myoscore.domain import NOT_EVALUABLE, ConsensusMethod, SchemeError
from myoscore.schemes.model import (
    POLICIES_FOR_KIND,
    Atlas,
    Compartment,
    DerivedFunction,
    DerivedScore,
    Item,
    Level,
    MeasurePolicy,
    Muscle,
    ProgressionScope,
    Protocol,
    Region,
    Scale,
    ScaleKind,
    UnitLevel,
)
from myoscore.schemes.snapshot import protocol_hash

SIDES = ("R", "L")
BODIES = ("lower", "upper")


class _Table:
    """A TOML table that reports missing or mistyped keys by file and path."""

    def __init__(self, file: str, path: str, data: Any) -> None:
        if not isinstance(data, dict):
            raise SchemeError(file, path or "(top level)", "must be a table")
        self.file, self.path, self.data = file, path, data

    def _key(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def error(self, key: str, problem: str) -> SchemeError:
        return SchemeError(self.file, self._key(key), problem)

    def text(self, key: str, default: str | None = None) -> str:
        value = self.data.get(key, default)
        if value is None:
            raise self.error(key, "is missing")
        if not isinstance(value, str) or not value.strip():
            raise self.error(key, f"must be a non-empty string, not {value!r}")
        return value

    def optional_text(self, key: str) -> str:
        return self.text(key) if key in self.data else ""

    def number(self, key: str) -> float | None:
        value = self.data.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.error(key, f"must be a number, not {value!r}")
        return float(value)

    def strings(self, key: str, default: list[str] | None = None) -> list[str]:
        value = self.data.get(key, default)
        if value is None:
            raise self.error(key, "is missing")
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.error(key, f"must be a list of strings, not {value!r}")
        return value

    def tables(self, key: str) -> list[_Table]:
        value = self.data.get(key)
        if value is None:
            raise self.error(key, f"is missing: the file needs at least one [[{key}]]")
        if not isinstance(value, list):
            raise self.error(key, f"must be an array of tables ([[{key}]])")
        return [_Table(self.file, f"{key}[{i}]", entry) for i, entry in enumerate(value)]

    def choice(self, key: str, choices: Iterable[str], default: str | None = None) -> str:
        value = self.text(key, default)
        options = list(choices)
        if value not in options:
            raise self.error(key, f"must be one of {', '.join(options)}, not {value!r}")
        return value

    def only(self, allowed: set[str]) -> None:
        unknown = sorted(set(self.data) - allowed)
        if unknown:
            raise self.error(unknown[0], f"unknown key (allowed: {', '.join(sorted(allowed))})")


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except OSError as exc:
        raise SchemeError(str(path), "(file)", f"cannot be read: {exc.strerror or exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise SchemeError(str(path), "(syntax)", f"is not valid TOML: {exc}") from exc


def _unique(file: str, kind: str, keys: Iterable[tuple[str, str]]) -> None:
    seen: set[str] = set()
    for path, key in keys:
        if key in seen:
            raise SchemeError(file, path, f"duplicate {kind} {key!r}")
        seen.add(key)


_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".svg")


def load_scale(path: Path) -> Scale:
    """Read one scale file (``[scale]`` and its ``[[level]]`` tables)."""
    file = str(path)
    top = _Table(file, "", _read_toml(path))
    top.only({"scale", "level"})
    head = _Table(file, "scale", top.data.get("scale"))
    head.only({"name", "kind", "title", "source", "description_source"})
    kind = ScaleKind(head.choice("kind", [k.value for k in ScaleKind]))
    levels = []
    for entry in top.tables("level"):
        entry.only({"code", "value", "label", "definition", "description", "images", "concept"})
        code = entry.text("code")
        if code == NOT_EVALUABLE:
            raise entry.error("code", f"{NOT_EVALUABLE!r} is reserved for not evaluable")
        value = entry.number("value")
        if kind is not ScaleKind.NOMINAL and value is None:
            raise entry.error("value", f"is missing: an {kind} level declares its number")
        if kind is ScaleKind.NOMINAL and value is not None:
            raise entry.error("value", "nominal levels have no number (they are not summed)")
        images = tuple(entry.strings("images", []))
        for number, name in enumerate(images):
            image = path.parent / name
            if Path(name).is_absolute() or ".." in Path(name).parts:
                raise entry.error(f"images[{number}]", f"{name!r} must be a file name relative to the scale's folder")
            if image.suffix.lower() not in _IMAGE_SUFFIXES:
                raise entry.error(f"images[{number}]", f"{name!r} is not a PNG, JPEG or SVG file")
            if not image.is_file():
                raise entry.error(f"images[{number}]", f"{name!r} does not exist in {path.parent}")
        concept = entry.optional_text("concept")
        scheme, _, concept_value = concept.partition(":")
        if concept and not (scheme.strip() and concept_value.strip()):
            raise entry.error("concept", f"must be 'SCHEME:VALUE' (e.g. 'SCT:10828004'), not {concept!r}")
        levels.append(Level(code, entry.text("label"), entry.text("definition"), value,
                            entry.optional_text("description"), images, concept))
    if any(lv.description for lv in levels) and "description_source" not in head.data:
        raise head.error("description_source", "is missing: say where the levels' descriptions come from")
    _unique(file, "level code", ((f"level[{i}].code", lv.code) for i, lv in enumerate(levels)))
    if len(levels) < 2:
        raise top.error("level", "a scale needs at least two levels")
    if kind is ScaleKind.BINARY and len(levels) != 2:
        raise top.error("level", f"a binary scale has exactly two levels, not {len(levels)}")
    if kind is not ScaleKind.NOMINAL:
        # Every level of an ordered or binary scale has a value (checked above), so the
        # filter only tells the type checker; it drops nothing.
        values = [lv.value for lv in levels if lv.value is not None]
        if values != sorted(values) or len(set(values)) != len(values):
            raise top.error("level", "values must increase strictly in the order levels are listed")
    return Scale(head.text("name"), kind, head.text("title"), head.optional_text("source"), tuple(levels),
                 head.optional_text("description_source"))


def load_atlas(path: Path) -> Atlas:
    """Read one atlas file: regions → compartments → muscles, with stable keys."""
    file = str(path)
    top = _Table(file, "", _read_toml(path))
    top.only({"atlas", "region", "compartment", "muscle"})
    head = _Table(file, "atlas", top.data.get("atlas"))
    head.only({"name", "version", "title", "source"})

    regions = []
    for entry in top.tables("region"):
        entry.only({"key", "name", "body"})
        regions.append(Region(entry.text("key"), entry.text("name"), entry.choice("body", BODIES)))
    _unique(file, "region", ((f"region[{i}].key", r.key) for i, r in enumerate(regions)))
    region_keys = {r.key for r in regions}

    compartments = []
    for entry in top.tables("compartment"):
        entry.only({"key", "name", "region"})
        region = entry.text("region")
        if region not in region_keys:
            raise entry.error("region", f"unknown region {region!r}")
        compartments.append(Compartment(entry.text("key"), entry.text("name"), region))
    _unique(file, "compartment", ((f"compartment[{i}].key", c.key) for i, c in enumerate(compartments)))
    region_of = {c.key: c.region for c in compartments}

    muscles = []
    for entry in top.tables("muscle"):
        entry.only({"key", "name", "compartment", "order"})
        compartment = entry.text("compartment")
        if compartment not in region_of:
            raise entry.error("compartment", f"unknown compartment {compartment!r}")
        order = entry.number("order")
        if order is None:
            raise entry.error("order", "is missing")
        muscles.append(
            Muscle(entry.text("key"), entry.text("name"), compartment, region_of[compartment], int(order))
        )
    _unique(file, "muscle", ((f"muscle[{i}].key", m.key) for i, m in enumerate(muscles)))
    all_keys = [("region", r.key) for r in regions] + [("compartment", c.key) for c in compartments]
    _unique(file, "key across regions and compartments", all_keys)
    return Atlas(
        head.text("name"), head.text("version"), head.text("title"), head.optional_text("source"),
        tuple(regions), tuple(compartments), tuple(muscles),
    )


def load_protocol(path: Path, scales: Mapping[str, Scale], atlases: Mapping[str, Atlas]) -> Protocol:
    """Read one protocol file and resolve its items against scales and atlases."""
    file = str(path)
    top = _Table(file, "", _read_toml(path))
    top.only({"protocol", "items", "derived", "progression", "agreement"})
    head = _Table(file, "protocol", top.data.get("protocol"))
    head.only({"name", "version", "title", "source", "atlas", "prefill_not_imaged"})
    atlas_name = head.text("atlas")
    atlas = atlases.get(atlas_name)
    if atlas is None:
        raise head.error("atlas", f"unknown atlas {atlas_name!r} (known: {', '.join(sorted(atlases))})")

    items: list[Item] = []
    policies: list[MeasurePolicy] = []
    used_scales: dict[str, Scale] = {}
    measures: set[str] = set()
    for entry in top.tables("items"):
        entry.only({"measure", "label", "indicator", "scale", "sequence", "unit", "sides", "regions",
                    "reconcile", "reconcile_quote"})
        measure = entry.text("measure")
        if measure in measures:
            raise entry.error("measure", f"duplicate measure {measure!r}")
        measures.add(measure)
        scale_name = entry.text("scale")
        if scale_name not in scales:
            raise entry.error("scale", f"unknown scale {scale_name!r} (known: {', '.join(sorted(scales))})")
        used_scales[scale_name] = scales[scale_name]
        policies.append(_policy(entry, measure, scales[scale_name]))
        sides = entry.strings("sides")
        for side in sides:
            if side not in SIDES:
                raise entry.error("sides", f"unknown side {side!r} (use R and L)")
        level = UnitLevel(entry.choice("unit", [u.value for u in UnitLevel]))
        wanted = entry.strings("regions", [r.key for r in atlas.regions])
        for region in wanted:
            if region not in {r.key for r in atlas.regions}:
                raise entry.error("regions", f"unknown region {region!r} in atlas {atlas.name}")
        label = entry.text("label")
        item_sides: list[str | None] = [*sides] or [None]  # None: one item without a side
        for unit in atlas.units(level):
            if unit.region not in wanted:
                continue
            for item_side in item_sides:
                key = f"{measure}.{unit.key}" + (f".{item_side}" if item_side else "")
                items.append(
                    Item(key, measure, label, entry.text("indicator", label), scale_name,
                         entry.text("sequence"), unit, item_side)
                )

    derived = [_derived(entry, items, atlas) for entry in _optional_tables(top, "derived")]
    _unique(file, "derived score", ((f"derived[{i}].name", d.name) for i, d in enumerate(derived)))
    for i, score in enumerate(derived):
        for key in score.item_keys:
            scale = used_scales[next(it.scale for it in items if it.key == key)]
            if scale.kind is ScaleKind.NOMINAL:
                raise SchemeError(file, f"derived[{i}]", f"item {key!r} has a nominal scale, which has no numbers")

    prefill = head.data.get("prefill_not_imaged", False)
    if not isinstance(prefill, bool):
        raise head.error("prefill_not_imaged", "must be true or false")
    progression = _progression(top, items, used_scales, atlas)
    min_pairs = 10
    if "agreement" in top.data:
        agreement = _Table(file, "agreement", top.data["agreement"])
        agreement.only({"min_pairs"})
        number = agreement.number("min_pairs")
        if number is not None:
            if number < 1 or number != int(number):
                raise agreement.error("min_pairs", f"must be a whole number ≥ 1, not {number:g}")
            min_pairs = int(number)
    protocol = Protocol(
        head.text("name"), head.text("version"), head.text("title"), head.optional_text("source"),
        atlas.name, used_scales, tuple(items), tuple(derived), policies=tuple(policies),
        progression=progression, min_pairs=min_pairs, prefill_not_imaged=prefill,
    )
    return _with_hash(protocol)


def _policy(entry: _Table, measure: str, scale: Scale) -> MeasurePolicy:
    """The measure's reconciliation policy; one its scale cannot take is refused here."""
    method = ConsensusMethod(entry.choice("reconcile", [m.value for m in ConsensusMethod],
                                          ConsensusMethod.REVIEW.value))
    allowed = POLICIES_FOR_KIND[scale.kind]
    if method not in allowed:
        why = {ScaleKind.NOMINAL: "a nominal scale has no numbers to average or to call positive",
               ScaleKind.BINARY: "the mean of present and absent (0.5) is no finding",
               ScaleKind.ORDINAL: "any_positive and both_positive are for binary scales"}[scale.kind]
        raise entry.error("reconcile", f"{method.value!r} cannot reconcile measure {measure!r} on the "
                          f"{scale.kind.value} scale {scale.name}: {why} "
                          f"(use {', '.join(sorted(m.value for m in allowed))})")
    return MeasurePolicy(measure, method, entry.optional_text("reconcile_quote"))


def _progression(top: _Table, items: list[Item], scales: Mapping[str, Scale],
                 atlas: Atlas) -> ProgressionScope | None:
    if "progression" not in top.data:
        return None
    entry = _Table(top.file, "progression", top.data["progression"])
    entry.only({"stir", "t1", "regions", "body", "stir_threshold", "t1_step", "quote"})
    places: dict[str, set[tuple[str, str | None]]] = {}
    for item in items:
        if scales[item.scale].kind is not ScaleKind.NOMINAL:
            places.setdefault(item.measure, set()).add((item.unit.key, item.side))
    stir, t1 = entry.text("stir"), entry.text("t1")
    for key, measure in (("stir", stir), ("t1", t1)):
        if measure not in places:
            raise entry.error(key, f"unknown or nominal measure {measure!r} (numeric measures: "
                              f"{', '.join(places) or 'none'})")
    known_regions = [r.key for r in atlas.regions]
    if "regions" in entry.data and "body" in entry.data:
        raise entry.error("regions", "give regions or body, not both")
    if "body" in entry.data:
        body = entry.choice("body", BODIES)
        regions = [r.key for r in atlas.regions if r.body == body]
    else:
        regions = entry.strings("regions", known_regions)
        for region in regions:
            if region not in known_regions:
                raise entry.error("regions", f"unknown region {region!r} in atlas {atlas.name}")
    region_of = {it.unit.key: it.unit.region for it in items}
    shared = {p for p in places[stir] & places[t1] if region_of[p[0]] in regions}
    if not shared:
        raise entry.error("t1", f"no unit of regions {', '.join(regions)} has both a {stir!r} and a {t1!r} item")
    threshold, step = entry.number("stir_threshold"), entry.number("t1_step")
    return ProgressionScope(stir, t1, tuple(regions), 1.0 if threshold is None else threshold,
                            1.0 if step is None else step, entry.optional_text("quote"))


def _optional_tables(top: _Table, key: str) -> list[_Table]:
    return top.tables(key) if key in top.data else []


def _derived(entry: _Table, items: list[Item], atlas: Atlas) -> DerivedScore:
    entry.only({"name", "label", "function", "measure", "items", "regions", "sides", "body", "threshold"})
    function = DerivedFunction(entry.choice("function", [f.value for f in DerivedFunction]))
    known = {it.key for it in items}
    if "items" in entry.data:
        keys = entry.strings("items")
        for key in keys:
            if key not in known:
                raise entry.error("items", f"unknown item {key!r}")
    else:
        measure = entry.text("measure")
        if measure not in {it.measure for it in items}:
            raise entry.error("measure", f"unknown measure {measure!r}")
        regions = entry.strings("regions", [r.key for r in atlas.regions])
        for region in regions:
            if region not in {r.key for r in atlas.regions}:
                raise entry.error("regions", f"unknown region {region!r}")
        sides = entry.strings("sides", list(SIDES))
        body = entry.choice("body", BODIES, "lower") if "body" in entry.data else None
        keys = [
            it.key for it in items
            if it.measure == measure and it.unit.region in regions
            and (it.side is None or it.side in sides) and (body is None or it.unit.body == body)
        ]
        if not keys:
            raise entry.error("name", "selects no item")
    threshold = entry.number("threshold")
    return DerivedScore(
        entry.text("name"), entry.text("label"), function, tuple(keys),
        1.0 if threshold is None else threshold,
    )


def _with_hash(protocol: Protocol) -> Protocol:
    from dataclasses import replace

    return replace(protocol, hash=protocol_hash(protocol))


@dataclass
class SchemeLibrary:
    """Every scale, atlas and protocol found in one or more scheme directories."""

    scales: dict[str, Scale] = field(default_factory=dict)
    atlases: dict[str, Atlas] = field(default_factory=dict)
    protocols: dict[str, Protocol] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)

    def protocol(self, name: str) -> Protocol:
        from myoscore.domain import NotFound

        if name not in self.protocols:
            known = ", ".join(sorted(self.protocols)) or "none"
            raise NotFound(f"unknown protocol {name!r} (known: {known})")
        return self.protocols[name]


def load_library(*directories: Path) -> SchemeLibrary:
    """Load ``scales/``, ``atlases/`` and ``protocols/`` from each directory in turn.

    Later directories may add schemes but not redefine a name already loaded.
    """
    library = SchemeLibrary()
    for kind, loader_fn, target in (
        ("scales", load_scale, library.scales),
        ("atlases", load_atlas, library.atlases),
    ):
        for directory in directories:
            for path in sorted((directory / kind).glob("*.toml")):
                scheme = loader_fn(path)
                _register(library, target, scheme.name, scheme, path)
    for directory in directories:
        for path in sorted((directory / "protocols").glob("*.toml")):
            protocol = load_protocol(path, library.scales, library.atlases)
            _register(library, library.protocols, protocol.name, protocol, path)
    return library


def _register(library: SchemeLibrary, target: dict[str, Any], name: str, scheme: Any, path: Path) -> None:
    previous = library.files.get(name)
    if name in target and previous is not None:
        raise SchemeError(str(path), "name", f"{name!r} is already defined in {previous}")
    target[name] = scheme
    library.files[name] = path
