"""The one value every writer reads: a study's scores, pseudonymous by construction.

The app layer assembles an :class:`ExportDataset` from the database; tests build one by
hand. Writers read nothing else, so what is not in the dataset cannot reach a file.

There is deliberately no field for a name, a PatientID, a birth date, an exam date or a
file path: a subject is its pseudonymous code, an exam is a timepoint label and its
position among the subject's exams, and the only clinical fields are the two the
coordinator may choose to export (months from onset, treated yes/no).

Conventions shared by every row type
------------------------------------
``source``
    ``"reader:<name>"`` for one reader's read, ``"consensus"`` for the reconciled value
    (:data:`CONSENSUS`; :func:`reader_source` builds the other).
``code`` / ``value`` of a :class:`RatingRow`
    ========================  =============  ==========================================
    meaning                   ``code``       ``value``
    ========================  =============  ==========================================
    a level of the scale      ``"2a"``       the scale's number (``None`` if nominal)
    not evaluable             ``"NE"``       ``None``
    fractional mean           ``None``       e.g. ``2.5`` (consensus, mean policy)
    unscored                  ``None``       ``None``
    ========================  =============  ==========================================
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from myoscore.domain import NOT_EVALUABLE, InvalidValue, NotFound
from myoscore.domain.agreement import AgreementRow
from myoscore.schemes import Protocol, ScaleKind
from myoscore.scores import compute_scores

#: The source of consensus values.
CONSENSUS = "consensus"
_READER_PREFIX = "reader:"


def reader_source(name: str) -> str:
    """The ``source`` of one reader's ratings: ``"reader:<name>"``."""
    if not name:
        raise ValueError("a reader source needs the reader's name")
    return f"{_READER_PREFIX}{name}"


def _check_source(source: str) -> None:
    if source != CONSENSUS and not (source.startswith(_READER_PREFIX) and len(source) > len(_READER_PREFIX)):
        raise InvalidValue(f"source {source!r} is neither {CONSENSUS!r} nor 'reader:<name>'")


@dataclass(frozen=True)
class ExamInfo:
    """One exam as exported: never a name, PatientID, birth date or exam date.

    Attributes
    ----------
    exam_id
        The database id; used to join rows, never written to a file.
    subject
        The subject's pseudonymous code.
    label
        The timepoint label (``"baseline"``, ``"follow-up"``).
    order
        Position among the subject's exams, 1 = first (baseline).
    months_from_onset, treated
        Optional clinical fields the coordinator chose to export (``None``: not exported
        or unknown).
    """

    exam_id: int
    subject: str
    label: str
    order: int = 1
    months_from_onset: float | None = None
    treated: bool | None = None


@dataclass(frozen=True)
class RatingRow:
    """One item of one exam from one source (see the module docstring for code/value)."""

    exam_id: int
    item_key: str
    source: str
    code: str | None
    value: float | None = None

    @property
    def not_evaluable(self) -> bool:
        return self.code == NOT_EVALUABLE

    @property
    def unscored(self) -> bool:
        return self.code is None and self.value is None


@dataclass(frozen=True)
class DerivedRow:
    """One derived score of one exam from one source; ``value`` ``None`` when nothing was
    evaluated. ``name`` is the protocol's score name (``edema_total``, ``stir_pct_lb``).
    ``n_evaluated`` of ``n_items`` were evaluated; :attr:`complete` says whether all were."""

    exam_id: int
    source: str
    name: str
    value: float | None
    n_evaluated: int
    n_items: int = 0  # items the score covers (0: not given, as in hand-built rows)

    @property
    def complete(self) -> bool | None:
        """Every item of the score evaluated; ``None`` when ``n_items`` was not given."""
        return None if self.n_items == 0 else self.n_evaluated == self.n_items


@dataclass(frozen=True)
class ExportDataset:
    """Everything a writer may write, checked against the protocol when built.

    ``groups`` maps a subject code to a group label (``"EARLY-BT"``) for the bar chart by
    group and a ``group`` column; ``None`` when the study has no groups.

    Raises :class:`~myoscore.domain.NotFound` for an unknown exam, item or score and
    :class:`~myoscore.domain.InvalidValue` for a code or value the item's scale does not
    allow, a malformed source, or a duplicated row.
    """

    protocol: Protocol
    exams: tuple[ExamInfo, ...]
    ratings: tuple[RatingRow, ...] = ()
    derived: tuple[DerivedRow, ...] = ()
    agreement: tuple[AgreementRow, ...] = ()
    groups: Mapping[str, str] | None = None
    #: Consensus items decided / stale / pending when the dataset was built (only decided
    #: values are in ``ratings``); ``None`` when not known (hand-built datasets).
    consensus_status: Mapping[str, int] | None = None
    #: Why an exam has no ratings from a source, by ``(exam_id, source)``
    #: (``"no consensus yet (1 of 2 reads submitted)"``); see :meth:`why_absent`.
    absent: Mapping[tuple[int, str], str] = field(default_factory=dict)
    _by_exam_source: Mapping[tuple[int, str], Mapping[str, RatingRow]] = field(
        default_factory=dict, init=False, repr=False, compare=False)
    _exam_by_id: Mapping[int, ExamInfo] = field(default_factory=dict, init=False, repr=False, compare=False)
    _derived_by_exam_source: Mapping[tuple[int, str], Mapping[str, DerivedRow]] = field(
        default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for name in ("exams", "ratings", "derived", "agreement"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        if self.groups is not None:
            object.__setattr__(self, "groups", MappingProxyType(dict(self.groups)))
        object.__setattr__(self, "absent", MappingProxyType(dict(self.absent)))
        exam_ids = {exam.exam_id for exam in self.exams}
        if len(exam_ids) != len(self.exams):
            raise InvalidValue("an exam_id appears twice in the dataset's exams")
        object.__setattr__(self, "_exam_by_id", MappingProxyType({exam.exam_id: exam for exam in self.exams}))
        orders = [(exam.subject, exam.order) for exam in self.exams]
        if len(set(orders)) != len(orders) or any(exam.order < 1 for exam in self.exams):
            raise InvalidValue("each subject's exams need distinct orders 1, 2, …")
        index: dict[tuple[int, str], dict[str, RatingRow]] = {}
        for row in self.ratings:
            if row.exam_id not in exam_ids:
                raise NotFound(f"rating of item {row.item_key!r}: no exam with id {row.exam_id}")
            _check_source(row.source)
            self._check_rating(row)
            by_item = index.setdefault((row.exam_id, row.source), {})
            if row.item_key in by_item:
                raise InvalidValue(f"item {row.item_key!r} of exam {row.exam_id} from {row.source} appears twice")
            by_item[row.item_key] = row
        object.__setattr__(self, "_by_exam_source", MappingProxyType(
            {key: MappingProxyType(value) for key, value in index.items()}))
        scores = {score.name for score in self.protocol.derived}
        derived: dict[tuple[int, str], dict[str, DerivedRow]] = {}
        for d in self.derived:
            if d.exam_id not in exam_ids:
                raise NotFound(f"derived score {d.name!r}: no exam with id {d.exam_id}")
            if d.name not in scores:
                raise NotFound(f"protocol {self.protocol.name} has no derived score {d.name!r}")
            _check_source(d.source)
            by_name = derived.setdefault((d.exam_id, d.source), {})
            if d.name in by_name:
                raise InvalidValue(f"derived score {d.name!r} of exam {d.exam_id} from {d.source} appears twice")
            by_name[d.name] = d
        object.__setattr__(self, "_derived_by_exam_source", MappingProxyType(
            {key: MappingProxyType(value) for key, value in derived.items()}))

    def _check_rating(self, row: RatingRow) -> None:
        scale = self.protocol.scale_of(row.item_key)  # NotFound names the protocol and key
        where = f"item {row.item_key!r} of exam {row.exam_id} from {row.source}"
        if row.code is None:
            if row.value is None:
                return
            if scale.kind is ScaleKind.NOMINAL or not math.isfinite(row.value):
                raise InvalidValue(f"{where}: a value without a code ({row.value!r}) needs a numeric scale")
            numbers = [lv.value for lv in scale.levels if lv.value is not None]
            if not min(numbers) <= row.value <= max(numbers):
                raise InvalidValue(f"{where}: {row.value!r} is outside {scale.name}'s range")
            return
        if not scale.accepts(row.code):
            raise InvalidValue(f"{where}: {row.code!r} is not a level of {scale.name} "
                               f"(levels: {', '.join(scale.codes)}, or {NOT_EVALUABLE})")
        expected = scale.value_of(row.code)
        if row.value != expected:
            raise InvalidValue(f"{where}: code {row.code!r} has value {expected!r} in {scale.name}, "
                               f"not {row.value!r}")

    # -- lookups the writers share -----------------------------------------------------------
    def exam(self, exam_id: int) -> ExamInfo:
        found = self._exam_by_id.get(exam_id)
        if found is None:
            raise NotFound(f"no exam with id {exam_id}")
        return found

    @property
    def exams_in_order(self) -> tuple[ExamInfo, ...]:
        """Exams by subject code, then by order."""
        return tuple(sorted(self.exams, key=lambda e: (e.subject, e.order)))

    @property
    def subjects(self) -> tuple[str, ...]:
        return tuple(sorted({exam.subject for exam in self.exams}))

    @property
    def sources(self) -> tuple[str, ...]:
        """Every source with ratings or derived scores: readers by name, then consensus."""
        present = {source for _, source in (*self._by_exam_source, *self._derived_by_exam_source)}
        return tuple(sorted(present - {CONSENSUS})) + ((CONSENSUS,) if CONSENSUS in present else ())

    def group_of(self, subject: str) -> str | None:
        return None if self.groups is None else self.groups.get(subject)

    def ratings_of(self, exam_id: int, source: str) -> Mapping[str, RatingRow]:
        """The rows of one exam from one source by item key (empty if none)."""
        return self._by_exam_source.get((exam_id, source), MappingProxyType({}))

    def has_ratings(self, exam_id: int, source: str) -> bool:
        return (exam_id, source) in self._by_exam_source

    def why_absent(self, exam_id: int, source: str) -> str:
        """Why exam ``exam_id`` has no ratings from ``source``: the reason the app recorded
        in :attr:`absent`, else a generic one ("no consensus yet", "no submitted read by A")."""
        given = self.absent.get((exam_id, source))
        if given:
            return given
        if source == CONSENSUS:
            return "no consensus yet"
        return f"no submitted read by {source.removeprefix(_READER_PREFIX)}"

    def left_out(self, source: str, exams: Iterable[ExamInfo] | None = None) -> tuple[tuple[ExamInfo, str], ...]:
        """The exams (of ``exams``, default all, in output order) with no ratings from
        ``source``, each with :meth:`why_absent`."""
        scope = self.exams_in_order if exams is None else tuple(exams)
        return tuple((exam, self.why_absent(exam.exam_id, source)) for exam in scope
                     if not self.has_ratings(exam.exam_id, source))

    def derived_of(self, exam_id: int, source: str) -> Mapping[str, DerivedRow]:
        """The derived scores of one exam from one source by score name (empty if none)."""
        return self._derived_by_exam_source.get((exam_id, source), MappingProxyType({}))

    def exam_sources(self) -> list[tuple[ExamInfo, str]]:
        """Every (exam, source) pair with ratings or derived scores, in output order."""
        by_exam: dict[int, set[str]] = {}
        for exam_id, source in (*self._by_exam_source, *self._derived_by_exam_source):
            by_exam.setdefault(exam_id, set()).add(source)
        order = {source: i for i, source in enumerate(self.sources)}
        return [(exam, source) for exam in self.exams_in_order
                for source in sorted(by_exam.get(exam.exam_id, ()), key=order.__getitem__)]


# -- builders for the app layer and for tests ---------------------------------------------------
def rating_rows(protocol: Protocol, exam_id: int, source: str,
                codes: Mapping[str, str | float | None]) -> tuple[RatingRow, ...]:
    """Rows from ``item_key → code`` (a level code or ``"NE"``), in protocol order.

    A float instead of a code is a fractional consensus mean (code ``None``); ``None`` or an
    absent key is an unscored item and gives no row.
    """
    rows = []
    for key in protocol.item_keys:
        given = codes.get(key)
        if given is None:
            continue
        if isinstance(given, str):
            rows.append(RatingRow(exam_id, key, source, given, protocol.scale_of(key).value_of(given)))
        else:
            rows.append(RatingRow(exam_id, key, source, None, float(given)))
    unknown = set(codes) - set(protocol.item_keys)
    if unknown:
        raise NotFound(f"protocol {protocol.name} has no item {sorted(unknown)[0]!r}")
    return tuple(rows)


def derived_rows(protocol: Protocol, exam_id: int, source: str,
                 values: Mapping[str, float | None]) -> tuple[DerivedRow, ...]:
    """Every derived score the protocol declares, computed with :func:`myoscore.scores.compute_scores`."""
    return tuple(DerivedRow(exam_id, source, r.name, r.value, r.n_evaluated, r.n_items)
                 for r in compute_scores(protocol, values))


def derived_for(protocol: Protocol, ratings: Iterable[RatingRow]) -> tuple[DerivedRow, ...]:
    """Derived scores for every (exam, source) of ``ratings``, in order of first appearance."""
    values: dict[tuple[int, str], dict[str, float | None]] = {}
    for row in ratings:
        bucket = values.setdefault((row.exam_id, row.source), {})
        if not row.unscored:
            bucket[row.item_key] = row.value
    return tuple(d for (exam_id, source), vals in values.items()
                 for d in derived_rows(protocol, exam_id, source, vals))
