"""Reconciliation of two readers' reads of one exam into consensus values (pure).

Input is each reader's level codes by item key (``"NE"`` for not evaluable; an absent key
is an item the reader left unscored). Output is what consensus should hold, and what is
still discordant. Nothing here changes a reader's rating: the store keeps consensus in
its own table.

Three policies (:class:`myoscore.domain.ConsensusMethod`):

``mean`` (seed 000: "The mean score of two observers was assigned")
    Equal codes are taken; different numbers on an ordinal or binary scale become their
    mean, kept fractional (2 and 3 give 2.5, code ``None``). Nominal items cannot be
    averaged, and a value against *not evaluable* has no mean: both stay discordant.
``review`` (seed 004: "observers reviewed the muscles together to agree the final score")
    Equal codes are taken; every other item is listed with both codes until the
    coordinator records the agreed code (``decisions``).
``adjudicator``
    Equal codes are taken; a third reader's code decides each discordant item.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from myoscore.domain import NOT_EVALUABLE, ConsensusMethod, InvalidValue, MyoscoreError
from myoscore.schemes import Protocol, ScaleKind

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
    policy: ConsensusMethod
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


def reconcile_mean(protocol: Protocol, reads: Mapping[str, Codes]) -> Reconciliation:
    """Mean of the two readers (seed 000), kept fractional; see the module docstring."""
    a, b = _check_two(reads)
    concordant, discordant, unscored = compare(protocol, reads)
    method = ConsensusMethod.MEAN
    decided = [_taken(protocol, reads, key, reads[a][key], method) for key in concordant]
    left: list[Discordance] = []
    for item in discordant:
        value_a, value_b = item.values[a], item.values[b]
        if item.kind == DiscordanceKind.VALUES and value_a is not None and value_b is not None:
            decided.append(ConsensusValue(item.item_key, None, (value_a + value_b) / 2.0, method,
                                          _sources(reads, item.item_key)))
        else:
            left.append(item)
    return Reconciliation(method, _in_protocol_order(protocol, decided), tuple(left), unscored)


def reconcile_review(protocol: Protocol, reads: Mapping[str, Codes],
                     decisions: Mapping[str, str] | None = None) -> Reconciliation:
    """Joint review (seed 004): concordant items are taken; discordant ones need a decision.

    ``decisions`` maps item keys to the code the readers agreed on at review; a decision
    is final for its item (it may also revise a concordant item). Discordant items with no
    decision are returned in ``discordant``.
    """
    a, _ = _check_two(reads)
    decisions = {key: check_code(protocol, key, code) for key, code in (decisions or {}).items()}
    concordant, discordant, unscored = compare(protocol, reads)
    method = ConsensusMethod.REVIEW
    decided = [_taken(protocol, reads, key, decisions.get(key, reads[a][key]), method) for key in concordant]
    decided += [_taken(protocol, reads, d.item_key, decisions[d.item_key], method)
                for d in discordant if d.item_key in decisions]
    left = tuple(d for d in discordant if d.item_key not in decisions)
    return Reconciliation(method, _in_protocol_order(protocol, decided), left, unscored)


def reconcile_adjudicator(protocol: Protocol, reads: Mapping[str, Codes], adjudicator: str,
                          adjudicator_codes: Codes) -> Reconciliation:
    """A third reader decides the discordant items; concordant items are taken as they are.

    A discordant item the adjudicator did not score stays discordant. The adjudicator's
    codes for concordant items are ignored (they are not asked).
    """
    a, _ = _check_two(reads)
    if adjudicator in reads:
        raise MyoscoreError(f"the adjudicator {adjudicator} is one of the two readers; name a third reader")
    concordant, discordant, unscored = compare(protocol, reads)
    method = ConsensusMethod.ADJUDICATOR
    decided = [_taken(protocol, reads, key, reads[a][key], method) for key in concordant]
    left: list[Discordance] = []
    with_adjudicator = {**reads, adjudicator: adjudicator_codes}
    for item in discordant:
        code = adjudicator_codes.get(item.item_key)
        if code is None:
            left.append(item)
        else:
            decided.append(_taken(protocol, with_adjudicator, item.item_key, code, method))
    return Reconciliation(method, _in_protocol_order(protocol, decided), tuple(left), unscored)


def reconcile(protocol: Protocol, reads: Mapping[str, Codes], policy: ConsensusMethod | str, *,
              decisions: Mapping[str, str] | None = None, adjudicator: str | None = None,
              adjudicator_codes: Codes | None = None) -> Reconciliation:
    """Apply one policy; see :func:`reconcile_mean`, :func:`reconcile_review` and
    :func:`reconcile_adjudicator`."""
    policy = ConsensusMethod(policy)
    if policy is ConsensusMethod.MEAN:
        return reconcile_mean(protocol, reads)
    if policy is ConsensusMethod.REVIEW:
        return reconcile_review(protocol, reads, decisions)
    if adjudicator is None or adjudicator_codes is None:
        raise MyoscoreError("the adjudicator policy needs a third reader (the adjudicator) and their read")
    return reconcile_adjudicator(protocol, reads, adjudicator, adjudicator_codes)


def _in_protocol_order(protocol: Protocol, values: list[ConsensusValue]) -> tuple[ConsensusValue, ...]:
    order = {key: i for i, key in enumerate(protocol.item_keys)}
    return tuple(sorted(values, key=lambda v: order[v.item_key]))
