"""Scales, atlases and protocols: the reading method as data.

Instances are built and validated by :mod:`myoscore.schemes.loader`; here they are
plain frozen dataclasses so the rest of the program can trust them.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from myoscore.domain import NOT_EVALUABLE, ConsensusMethod, NotFound


class ScaleKind(enum.StrEnum):
    ORDINAL = "ordinal"
    BINARY = "binary"
    NOMINAL = "nominal"


class UnitLevel(enum.StrEnum):
    """What an item is scored on: a whole region, a compartment or one muscle."""

    REGION = "region"
    COMPARTMENT = "compartment"
    MUSCLE = "muscle"


class DerivedFunction(enum.StrEnum):
    SUM = "sum"
    PERCENT_POSITIVE = "percent_positive"
    PERCENT_OF_MAX = "percent_of_max"
    COUNT_POSITIVE = "count_positive"
    ANY_POSITIVE = "any_positive"


@dataclass(frozen=True)
class Level:
    """One grade of a scale. ``value`` is what it contributes to sums and
    statistics (``None`` for nominal scales); ``code`` is what is typed and stored."""

    code: str
    label: str
    definition: str
    value: float | None
    #: The longer description shown on the scale card (the cited grading system's
    #: fuller wording, or a reading note); ``""`` when the definition says it all.
    description: str = ""
    #: Reference images for the card: file names relative to the scale file's folder.
    images: tuple[str, ...] = ()
    #: The coded concept this grade leaves as in DICOM SR, ``"SCHEME:VALUE"`` (meaning =
    #: ``label``), e.g. ``"SCT:10828004"``; empty: myoscore's private code
    #: (docs/structured_reports.md). A coding of the grade for export, not part of how a
    #: read is scored, so it is neither in the protocol snapshot nor in its hash.
    concept: str = field(default="", compare=False)


@dataclass(frozen=True)
class Scale:
    name: str
    kind: ScaleKind
    title: str
    source: str
    levels: tuple[Level, ...]
    #: Where the levels' longer descriptions come from (a citation), when they have any.
    description_source: str = ""

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(level.code for level in self.levels)

    def level(self, code: str) -> Level:
        for level in self.levels:
            if level.code == code:
                return level
        raise NotFound(f"scale {self.name} has no level {code!r} (levels: {', '.join(self.codes)})")

    def accepts(self, code: str) -> bool:
        """True for every level code and for not evaluable."""
        return code == NOT_EVALUABLE or code in self.codes

    def value_of(self, code: str) -> float | None:
        """The number a code contributes to sums; ``None`` when not evaluable or nominal."""
        if code == NOT_EVALUABLE:
            return None
        return self.level(code).value

    @property
    def max_value(self) -> float | None:
        values = [lv.value for lv in self.levels if lv.value is not None]
        return max(values) if values else None


@dataclass(frozen=True)
class Region:
    key: str
    name: str
    body: str  # "lower" or "upper": STIR%LB and STIR%UB are computed separately


@dataclass(frozen=True)
class Compartment:
    key: str
    name: str
    region: str


@dataclass(frozen=True)
class Muscle:
    key: str
    name: str
    compartment: str
    region: str
    order: int


@dataclass(frozen=True)
class AtlasUnit:
    """Anything an item can be scored on, with where it sits in the atlas."""

    key: str
    name: str
    level: UnitLevel
    region: str
    compartment: str | None
    body: str


@dataclass(frozen=True)
class Atlas:
    name: str
    version: str
    title: str
    source: str
    regions: tuple[Region, ...]
    compartments: tuple[Compartment, ...]
    muscles: tuple[Muscle, ...]

    def region(self, key: str) -> Region:
        for region in self.regions:
            if region.key == key:
                return region
        raise NotFound(f"atlas {self.name} has no region {key!r}")

    def units(self, level: UnitLevel) -> tuple[AtlasUnit, ...]:
        """The atlas's regions, compartments or muscles, in display order."""
        body = {r.key: r.body for r in self.regions}
        if level is UnitLevel.REGION:
            return tuple(AtlasUnit(r.key, r.name, level, r.key, None, r.body) for r in self.regions)
        if level is UnitLevel.COMPARTMENT:
            return tuple(
                AtlasUnit(c.key, c.name, level, c.region, c.key, body[c.region])
                for c in self.compartments
            )
        return tuple(
            AtlasUnit(m.key, m.name, level, m.region, m.compartment, body[m.region])
            for m in sorted(self.muscles, key=lambda m: m.order)
        )


@dataclass(frozen=True)
class Item:
    """One thing a reader scores: a measure on one atlas unit and side."""

    key: str
    measure: str
    label: str
    indicator: str
    scale: str
    sequence: str
    unit: AtlasUnit
    side: str | None

    @property
    def title(self) -> str:
        side = {"R": "right", "L": "left"}.get(self.side or "", "")
        return f"{self.label}: {self.unit.name}" + (f", {side}" if side else "")


@dataclass(frozen=True)
class DerivedScore:
    """A number computed from a read's ratings, declared in the protocol file."""

    name: str
    label: str
    function: DerivedFunction
    item_keys: tuple[str, ...]
    threshold: float = 1.0  # value ≥ threshold counts as positive


#: Which reconciliation policies a scale kind can take (checked when a protocol loads).
POLICIES_FOR_KIND: dict[ScaleKind, frozenset[ConsensusMethod]] = {
    ScaleKind.ORDINAL: frozenset({ConsensusMethod.MEAN, ConsensusMethod.REVIEW, ConsensusMethod.ADJUDICATOR}),
    ScaleKind.BINARY: frozenset({ConsensusMethod.REVIEW, ConsensusMethod.ADJUDICATOR, ConsensusMethod.ANY_POSITIVE,
                                 ConsensusMethod.BOTH_POSITIVE}),
    ScaleKind.NOMINAL: frozenset({ConsensusMethod.REVIEW, ConsensusMethod.ADJUDICATOR}),
}


@dataclass(frozen=True)
class MeasurePolicy:
    """How one measure's discordant values become consensus, and the paper's words for it."""

    measure: str
    method: ConsensusMethod = ConsensusMethod.REVIEW
    quote: str = ""  # the sentence of the paper that states the policy


@dataclass(frozen=True)
class ProgressionScope:
    """The longitudinal STIR → T1 analysis of seed 004 (Fig. 4), as the protocol declares it:
    which measures are matched and which atlas regions it covers."""

    stir_measure: str
    t1_measure: str
    regions: tuple[str, ...]
    stir_threshold: float = 1.0
    t1_step: float = 1.0
    quote: str = ""


@dataclass(frozen=True)
class Protocol:
    """Which items a read contains and which derived scores it reports.

    ``hash`` is the SHA-256 of the resolved protocol (items, scales and atlas units);
    every read records it, so a read always knows the exact protocol it used.
    """

    name: str
    version: str
    title: str
    source: str
    atlas: str
    scales: dict[str, Scale]
    items: tuple[Item, ...]
    derived: tuple[DerivedScore, ...]
    hash: str = field(default="", compare=False)
    # Reading option: items of regions that no series of the exam covers are pre-filled NE
    # when a read is opened (audited as "prefill_ne"), instead of one key per region.
    prefill_not_imaged: bool = False
    policies: tuple[MeasurePolicy, ...] = ()  # one per measure; a measure not listed: review
    progression: ProgressionScope | None = None
    min_pairs: int = 10  # agreement cells with fewer pairs are greyed (too few to read)

    def policy(self, measure: str) -> MeasurePolicy:
        """The reconciliation policy of one measure (joint review unless declared)."""
        for policy in self.policies:
            if policy.measure == measure:
                return policy
        return MeasurePolicy(measure)

    def policy_of(self, item_key: str) -> ConsensusMethod:
        return self.policy(self.item(item_key).measure).method

    @property
    def measures(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(item.measure for item in self.items))

    def regions_of(self, item_keys: tuple[str, ...] | list[str]) -> tuple[str, ...]:
        """The atlas regions some of the items lie in, in protocol order (a score's scope)."""
        wanted = set(item_keys)
        return tuple(dict.fromkeys(item.unit.region for item in self.items if item.key in wanted))

    def item(self, key: str) -> Item:
        found = self._items_by_key.get(key)
        if found is None:
            raise NotFound(f"protocol {self.name} has no item {key!r}")
        return found

    def scale_of(self, item_key: str) -> Scale:
        return self.scales[self.item(item_key).scale]

    @property
    def item_keys(self) -> tuple[str, ...]:
        return tuple(item.key for item in self.items)

    @property
    def _items_by_key(self) -> dict[str, Item]:
        # Cached on the frozen instance: protocols have hundreds of items.
        cache = self.__dict__.get("_by_key")
        if cache is None:
            cache = {item.key: item for item in self.items}
            object.__setattr__(self, "_by_key", cache)
        return cache
