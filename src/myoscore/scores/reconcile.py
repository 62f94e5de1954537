"""Reconciliation of two readers' reads of one exam into consensus values (pure).

Input is each reader's level codes by item key (``"NE"`` for not evaluable; an absent key
is an item the reader left unscored). Output is what consensus should hold, and what is
still discordant. Nothing here changes a reader's rating: the store keeps consensus in
its own table.

Each measure's policy is protocol data (:class:`myoscore.schemes.MeasurePolicy`, with the
paper's sentence); :class:`myoscore.domain.ConsensusMethod` names them:

``mean`` (seed 000 muscle edema: "The mean score of two observers was assigned as the degree of muscle edema.")
    Ordinal scales only. Equal codes are taken; different numbers become their mean,
    kept fractional (2 and 3 give 2.5, code ``None``). A value against *not evaluable* has
    no mean and stays discordant.
``review`` (seed 004: "observers reviewed the muscles together to agree the final score")
    Equal codes are taken; every other item is listed with both codes until the
    coordinator records the agreed code (``decisions``).
``adjudicator``
    Equal codes are taken; a third reader's code decides each discordant item.
``any_positive`` / ``both_positive``
    Binary scales: a discordant pair is positive when either reader (any) or only when
    both (both, so never on a discordant pair) say positive.

A scale that cannot take a policy (the mean of a nominal or present/absent scale) is
refused when the protocol loads; a study-wide policy asked for at run time reviews those
items instead (:func:`applicable`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from myoscore.domain import NOT_EVALUABLE, ConsensusMethod, InvalidValue, MyoscoreError
from myoscore.schemes import POLICIES_FOR_KIND, Protocol, ScaleKind

#: One reader's codes by item key; an item the reader did not score is absent.
Codes = Mapping[str, str]


class DiscordanceKind:
    """Why two readers' codes for one item do not simply agree."""

    VALUES = "values"  # two different levels of an ordinal or binary scale
    NOMINAL = "nominal"  # two different levels of a nominal scale: no mean exists
    NOT_EVALUABLE = "not_evaluable"  # one reader gave a value, the other said not evaluable
    UNSCORED = "unscored"  # one reader left the item unscored


@dataclass(frozen=True)
class ConsensusValue:
    """What consensus holds for one item of one exam.

    ``code`` is a level code or ``"NE"``; ``None`` for a fractional mean that is no level.
    ``value`` is the number (``None`` when not evaluable or nominal). ``sources`` maps each
    reader to the code they gave.
    """

    item_key: str
    code: str | None
    value: float | None
    method: ConsensusMethod
    sources: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Discordance:
    """An item on which the readers differ and that the policy did not decide."""

    item_key: str
    kind: str
    codes: Mapping[str, str | None]  # reader → code (None: unscored)
    values: Mapping[str, float | None]


@dataclass(frozen=True)
class Reconciliation:
    policy: ConsensusMethod | None  # None: each measure's policy from the protocol
    decided: tuple[ConsensusValue, ...]
    discordant: tuple[Discordance, ...]
    n_unscored: int  # items neither reader scored: no consensus, nothing to review


def _check_two(reads: Mapping[str, Codes]) -> tuple[str, str]:
    if len(reads) != 2:
        raise ValueError(f"reconciliation takes exactly two readers' reads, got {len(reads)}: {', '.join(reads)}")
    first, second = reads
    return first, second


def _value(protocol: Protocol, key: str, code: str | None) -> float | None:
    return None if code is None else protocol.scale_of(key).value_of(code)


def compare(protocol: Protocol, reads: Mapping[str, Codes]) -> tuple[list[str], list[Discordance], int]:
    """Split the protocol's items into concordant keys and discordances.

    Returns ``(concordant, discordant, n_unscored)``; items neither reader scored are only
    counted. Every pair of different codes is a discordance here, whatever the policy.
    """
    a, b = _check_two(reads)
    concordant: list[str] = []
    discordant: list[Discordance] = []
    unscored = 0
    for item in protocol.items:
        key = item.key
        code_a, code_b = reads[a].get(key), reads[b].get(key)
        if code_a is None and code_b is None:
            unscored += 1
            continue
        if code_a == code_b:
            concordant.append(key)
            continue
        if code_a is None or code_b is None:
            kind = DiscordanceKind.UNSCORED
        elif NOT_EVALUABLE in (code_a, code_b):
            kind = DiscordanceKind.NOT_EVALUABLE
        elif protocol.scales[item.scale].kind is ScaleKind.NOMINAL:
            kind = DiscordanceKind.NOMINAL
        else:
            kind = DiscordanceKind.VALUES
        discordant.append(Discordance(
            key, kind, {a: code_a, b: code_b},
            {a: _value(protocol, key, code_a), b: _value(protocol, key, code_b)},
        ))
    return concordant, discordant, unscored


def _sources(reads: Mapping[str, Codes], key: str) -> dict[str, str]:
    return {reader: codes[key] for reader, codes in reads.items() if key in codes}


def _taken(protocol: Protocol, reads: Mapping[str, Codes], key: str, code: str,
           method: ConsensusMethod) -> ConsensusValue:
    return ConsensusValue(key, code, protocol.scale_of(key).value_of(code), method, _sources(reads, key))


def check_code(protocol: Protocol, key: str, code: str) -> str:
    """A code the coordinator records must be a level of the item's scale, or NE."""
    scale = protocol.scale_of(key)
    code = code.strip()
    if not scale.accepts(code):
        raise InvalidValue(f"{key}: {code!r} is not a level of {scale.name} "
                           f"(use {', '.join(scale.codes)} or {NOT_EVALUABLE} for not evaluable)")
    return code


def applicable(protocol: Protocol, key: str, method: ConsensusMethod) -> ConsensusMethod:
    """``method`` when the item's scale can take it, else joint review (a nominal or binary
    item under a study-wide ``mean`` is reviewed, never averaged)."""
    kind = protocol.scale_of(key).kind
    return method if method in POLICIES_FOR_KIND[kind] else ConsensusMethod.REVIEW


def _decide(protocol: Protocol, reads: Mapping[str, Codes], item: Discordance, method: ConsensusMethod,
            adjudicator: str | None, adjudicator_codes: Codes | None) -> ConsensusValue | None:
    """What ``method`` decides for one discordant item, or ``None`` (left for review)."""
    numbers = [v for v in item.values.values() if v is not None]
    both = item.kind == DiscordanceKind.VALUES and len(numbers) == 2
    key = item.item_key
    if method is ConsensusMethod.MEAN and both:
        return ConsensusValue(key, None, (numbers[0] + numbers[1]) / 2.0, method, _sources(reads, key))
    if method in (ConsensusMethod.ANY_POSITIVE, ConsensusMethod.BOTH_POSITIVE) and both:
        chosen = max(numbers) if method is ConsensusMethod.ANY_POSITIVE else min(numbers)
        positive = next(c for c in item.codes.values() if c is not None and _value(protocol, key, c) == chosen)
        return _taken(protocol, reads, key, positive, method)
    if method is ConsensusMethod.ADJUDICATOR and adjudicator is not None and adjudicator_codes is not None:
        third = adjudicator_codes.get(key)
        if third is not None:
            return _taken(protocol, {**reads, adjudicator: adjudicator_codes}, key, third, method)
    return None


def reconcile(protocol: Protocol, reads: Mapping[str, Codes], policy: ConsensusMethod | str | None = None, *,
              decisions: Mapping[str, str] | None = None, adjudicator: str | None = None,
              adjudicator_codes: Codes | None = None) -> Reconciliation:
    """Reconcile two reads of one exam.

    ``policy`` ``None`` (the default) applies each measure's policy as the protocol
    declares it (:meth:`~myoscore.schemes.Protocol.policy_of`: seed 000 averages muscle
    edema and reviews everything else). A named policy applies to every item whose scale
    can take it; the others go to joint review (:func:`applicable`).

    Concordant items are taken. ``decisions`` (item key → agreed code) are final for their
    items, concordant or not. What no policy and no decision settles is in ``discordant``.
    """
    a, _ = _check_two(reads)
    chosen = None if policy is None else ConsensusMethod(policy)
    if chosen is ConsensusMethod.ADJUDICATOR and (adjudicator is None or adjudicator_codes is None):
        raise MyoscoreError("the adjudicator policy needs a third reader (the adjudicator) and their read")
    if adjudicator is not None and adjudicator in reads:
        raise MyoscoreError(f"the adjudicator {adjudicator} is one of the two readers; name a third reader")

    def method_of(key: str) -> ConsensusMethod:
        return protocol.policy_of(key) if chosen is None else applicable(protocol, key, chosen)

    agreed = {key: check_code(protocol, key, code) for key, code in (decisions or {}).items()}
    concordant, discordant, unscored = compare(protocol, reads)
    decided = [_taken(protocol, reads, key, agreed[key], ConsensusMethod.REVIEW) if key in agreed
               else _taken(protocol, reads, key, reads[a][key], method_of(key)) for key in concordant]
    left: list[Discordance] = []
    for item in discordant:
        if item.item_key in agreed:
            decided.append(_taken(protocol, reads, item.item_key, agreed[item.item_key], ConsensusMethod.REVIEW))
            continue
        value = _decide(protocol, reads, item, method_of(item.item_key), adjudicator, adjudicator_codes)
        if value is None:
            left.append(item)
        else:
            decided.append(value)
    return Reconciliation(chosen, _in_protocol_order(protocol, decided), tuple(left), unscored)


def reconcile_mean(protocol: Protocol, reads: Mapping[str, Codes]) -> Reconciliation:
    """Mean of the two readers on every ordinal item (seed 000), kept fractional; binary and
    nominal items, and a value against not evaluable, are left for review."""
    return reconcile(protocol, reads, ConsensusMethod.MEAN)


def reconcile_review(protocol: Protocol, reads: Mapping[str, Codes],
                     decisions: Mapping[str, str] | None = None) -> Reconciliation:
    """Joint review (seed 004): concordant items are taken; discordant ones need a decision.

    ``decisions`` maps item keys to the code the readers agreed on at review; a decision
    is final for its item (it may also revise a concordant item). Discordant items with no
    decision are returned in ``discordant``.
    """
    return reconcile(protocol, reads, ConsensusMethod.REVIEW, decisions=decisions)


def reconcile_adjudicator(protocol: Protocol, reads: Mapping[str, Codes], adjudicator: str,
                          adjudicator_codes: Codes) -> Reconciliation:
    """A third reader decides the discordant items; concordant items are taken as they are.

    A discordant item the adjudicator did not score stays discordant. The adjudicator's
    codes for concordant items are ignored (they are not asked).
    """
    return reconcile(protocol, reads, ConsensusMethod.ADJUDICATOR, adjudicator=adjudicator,
                     adjudicator_codes=adjudicator_codes)


def _in_protocol_order(protocol: Protocol, values: list[ConsensusValue]) -> tuple[ConsensusValue, ...]:
    order = {key: i for i, key in enumerate(protocol.item_keys)}
    return tuple(sorted(values, key=lambda v: order[v.item_key]))
