"""Consensus use cases for the coordinator: reconcile two reads, list what is discordant,
record a joint-review decision, list consensus.

Readers' ratings are never changed: consensus is written to its own table, each value
with its method, who applied it and when, and the codes the readers gave (``sources``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from myoscore.app.changes import CONSENSUS, NO_CHANGE, StudyChanges
from myoscore.app.consensus_status import ConsensusStatus, rating_token, rating_versions, tracked_consensus
from myoscore.app.coordination import (
    codes_of,
    consensus_for,
    protocol_in_use,
    record_decision,
    record_override,
    reveal_ratings,
    save_consensus,
    submitted_reads,
)
from myoscore.app.sessions import CoordinatorSession
from myoscore.domain import Consensus, ConsensusMethod, MyoscoreError, Rating, Read
from myoscore.schemes import Protocol
from myoscore.scores import compare, reconcile

#: The ``policy`` argument that means "each measure's policy, as the protocol declares it".
PROTOCOL_POLICY = "protocol"


@dataclass(frozen=True)
class DiscordantItem:
    """One item of one exam on which the two readers differ.

    ``codes`` maps each reader to their code (``None``: unscored). ``consensus`` is the
    value stored for the item so far (``None``: still to be decided); ``status`` says
    whether it stands: ``undecided`` (no value), ``decided`` (by the mean, an adjudicator
    or an earlier review: the joint review shows it as the current decision) or ``stale``
    (decided on ratings that changed since: to decide again).
    """

    exam_id: int
    subject: str
    exam_label: str
    item_key: str
    title: str
    kind: str
    codes: dict[str, str | None]
    consensus: Consensus | None
    status: str = "undecided"


@dataclass(frozen=True)
class ReconcileOutcome:
    """What one reconciliation run did. ``pending`` lists the discordant items the policy
    could not decide and that have no joint-review decision yet."""

    protocol: str
    policy: ConsensusMethod | None  # None: each measure's policy from the protocol
    readers: tuple[str, str]
    adjudicator: str | None
    n_exams: int
    n_values: int
    pending: tuple[DiscordantItem, ...]

    @property
    def changes(self) -> StudyChanges:
        """Consensus values written (or none), for the screens to redraw."""
        return CONSENSUS if self.n_values else NO_CHANGE


def _two(readers: Sequence[str]) -> tuple[str, str]:
    names = tuple(name.strip() for name in readers)
    if len(names) != 2:
        raise MyoscoreError(f"name exactly two readers (A,B); got {len(names)}: {', '.join(names)}")
    if names[0] == names[1]:
        raise MyoscoreError(f"a reader is named twice: {names[0]}")
    return names[0], names[1]


def _paired(coordinator: CoordinatorSession, protocol_name: str, names: tuple[str, str], purpose: str,
            include_excluded: bool
            ) -> tuple[Protocol, list[tuple[Read, ...]], dict[int, dict[str, str]], dict[int, dict[str, Rating]]]:
    protocol = protocol_in_use(coordinator, protocol_name)
    groups = submitted_reads(coordinator, protocol_name, names, include_excluded=include_excluded)
    ratings = reveal_ratings(coordinator, [read.id for group in groups for read in group], purpose)
    return protocol, groups, {read_id: codes_of(r) for read_id, r in ratings.items()}, ratings


def reconcile_reads(coordinator: CoordinatorSession, protocol_name: str, readers: Sequence[str],
                    policy: ConsensusMethod | str | None = None, adjudicator: str | None = None, *,
                    include_excluded: bool = False) -> ReconcileOutcome:
    """Reconcile two readers' submitted reads of every exam both read, and save consensus.

    ``policy`` ``None`` (or ``"protocol"``) applies each measure's policy as the protocol
    declares it (seed 000: mean for muscle edema, review for the rest). A named policy
    applies to every item whose scale can take it (``mean`` never averages a binary or
    nominal item: those wait for review); ``adjudicator`` decides what the third reader
    scored; ``review`` takes concordant items.
    Items decided at joint review are kept (never overwritten by a later run) as long as
    the readers' codes they were decided on are unchanged; what is still undecided is
    returned in ``pending``. Excluded exams are left out unless ``include_excluded``.
    """
    policy = None if policy in (None, PROTOCOL_POLICY) else ConsensusMethod(policy)
    names = _two(readers)
    if policy is ConsensusMethod.ADJUDICATOR or (adjudicator and policy is None):
        if not adjudicator:
            raise MyoscoreError("the adjudicator policy needs --adjudicator NAME (a third reader)")
        adjudicator = adjudicator.strip()
        if adjudicator in names:
            raise MyoscoreError(f"the adjudicator {adjudicator} is one of the two readers; name a third reader")
    elif adjudicator:
        raise MyoscoreError(f"--adjudicator is only used with the adjudicator policy, not {policy}")
    purpose = f"consensus {protocol_name} {policy.value if policy else PROTOCOL_POLICY}"
    protocol, groups, codes, revealed_pairs = _paired(coordinator, protocol_name, names, purpose, include_excluded)
    third: dict[int, dict[str, str]] = {}
    third_ratings: dict[int, dict[str, Rating]] = {}
    if adjudicator:
        adjudicated = [group[0] for group in submitted_reads(coordinator, protocol_name, [adjudicator],
                                                             include_excluded=include_excluded)]
        wanted = {group[0].exam_id for group in groups}
        adjudicator_reads = [read for read in adjudicated if read.exam_id in wanted]
        revealed = reveal_ratings(coordinator, [read.id for read in adjudicator_reads], purpose)
        third = {read.exam_id: codes_of(revealed[read.id]) for read in adjudicator_reads}
        third_ratings = {read.exam_id: revealed[read.id] for read in adjudicator_reads}
    # What stands: a joint-review decision stands against every later run; under ``review``
    # every decided value stands (mean-decided values are shown as decided, never re-opened).
    reviewed = _reviewed(coordinator, protocol_name, [group[0].exam_id for group in groups],
                         every_method=policy is ConsensusMethod.REVIEW)
    n_values = 0
    pending: list[DiscordantItem] = []
    for read_a, read_b in groups:
        reads = {names[0]: codes[read_a.id], names[1]: codes[read_b.id]}
        result = reconcile(protocol, reads, policy, adjudicator=adjudicator,
                           adjudicator_codes=third.get(read_a.exam_id, {}) if adjudicator else None)
        by_reader = {names[0]: revealed_pairs[read_a.id], names[1]: revealed_pairs[read_b.id]}
        decided_at_review = {key for key, value in reviewed.get(read_a.exam_id, {}).items()
                             if _current(value, by_reader)}
        values = [v for v in result.decided if v.item_key not in decided_at_review]
        if adjudicator:
            by_reader[adjudicator] = third_ratings.get(read_a.exam_id, {})
        versions = {v.item_key: rating_versions(by_reader, v.item_key, v.sources) for v in values}
        n_values += len(save_consensus(coordinator, read_a.exam_id, read_a.protocol_hash, values, versions))
        pending += [_item(protocol, read_a, d.item_key, d.kind, dict(d.codes), None)
                    for d in result.discordant if d.item_key not in decided_at_review]
    return ReconcileOutcome(protocol.name, policy, names, adjudicator, len(groups), n_values, tuple(pending))


def _current(value: Consensus, reads: dict[str, dict[str, Rating]]) -> bool:
    """Whether a consensus value was decided on the readers' present ratings: a decision
    made before a reader's rating was written again (a reopened read re-scored) no longer
    stands. Values stored before rating versions existed compare the codes."""
    if value.rating_versions:
        return all(value.rating_versions.get(reader) == (rating_token(ratings[value.item_key])
                                                         if value.item_key in ratings else None)
                   for reader, ratings in reads.items())
    return all(value.sources.get(reader) == (ratings[value.item_key].code if value.item_key in ratings else None)
               for reader, ratings in reads.items())


def _reviewed(coordinator: CoordinatorSession, protocol_name: str, exam_ids: list[int], *,
              every_method: bool = False) -> dict[int, dict[str, Consensus]]:
    found: dict[int, dict[str, Consensus]] = {}
    for value in consensus_for(coordinator, protocol_name, exam_ids, include_excluded=True):  # exams chosen
        if every_method or value.method is ConsensusMethod.REVIEW:
            found.setdefault(value.exam_id, {})[value.item_key] = value
    return found


def _item(protocol: Protocol, read: Read, key: str, kind: str, codes: dict[str, str | None],
          consensus: Consensus | None) -> DiscordantItem:
    return DiscordantItem(read.exam_id, read.subject_code, read.exam_label, key, protocol.item(key).title, kind,
                          codes, consensus)


def discordant_items(coordinator: CoordinatorSession, protocol_name: str, readers: Sequence[str], *,
                     pending_only: bool = False, include_excluded: bool = False) -> list[DiscordantItem]:
    """The joint-review list: every item on which the two readers' submitted reads differ,
    with both codes and the consensus stored so far.

    ``pending_only`` keeps the items with no consensus, or with one decided on ratings the
    readers have since changed (``status`` ``undecided`` or ``stale``). Excluded exams are
    left out unless ``include_excluded``.
    """
    names = _two(readers)
    protocol, groups, codes, revealed = _paired(coordinator, protocol_name, names, f"discordant {protocol_name}",
                                                include_excluded)
    stored: dict[tuple[int, str], Consensus] = {
        (c.exam_id, c.item_key): c for c in consensus_for(coordinator, protocol_name, [g[0].exam_id for g in groups],
                                                          include_excluded=True)  # the exams are chosen above
    }
    items: list[DiscordantItem] = []
    for read_a, read_b in groups:
        reads = {names[0]: codes[read_a.id], names[1]: codes[read_b.id]}
        _, discordant, _ = compare(protocol, reads)
        for d in discordant:
            current = stored.get((read_a.exam_id, d.item_key))
            standing = current is not None and _current(
                current, {names[0]: revealed[read_a.id], names[1]: revealed[read_b.id]})
            if pending_only and standing:
                continue
            status = "undecided" if current is None else "decided" if standing else "stale"
            items.append(replace(_item(protocol, read_a, d.item_key, d.kind, dict(d.codes), current), status=status))
    return items


def record_review_decision(coordinator: CoordinatorSession, protocol_name: str, exam_id: int, item_key: str,
                           code: str, *, override: bool = False) -> Consensus:
    """Record the code agreed at joint review for one item of one exam (audited old → new).

    A value already decided by another method (the mean, an adjudicator) that still stands
    is not overwritten by an ordinary decision: that needs ``override=True`` (the joint
    review's deliberate override key), and is audited as ``override_consensus`` — as is
    any standing value, an earlier review's included, replaced with ``override=True``. A stale
    value (a contributing rating changed since) may be decided again freely.
    """
    key = item_key.strip()
    current = next((t for t in tracked_consensus(coordinator, protocol_name, [exam_id]) if t.value.item_key == key),
                   None)
    standing = current is not None and current.status is ConsensusStatus.DECIDED
    if standing and current is not None and code.strip() != current.value.code:
        shown = current.value.code if current.value.code is not None else f"{current.value.value:g}"
        if current.value.method is not ConsensusMethod.REVIEW and not override:
            raise MyoscoreError(f"exam {exam_id} {key} is already decided ({shown} by {current.value.method.value}); "
                                "replacing it is a deliberate override, audited as one "
                                "(consensus set --override; in the joint review, O then the level)")
        if override:  # any standing value replaced on purpose, an earlier review's included
            record_override(coordinator, current.value, code.strip())
    return record_decision(coordinator, protocol_name, exam_id, key, code, ConsensusMethod.REVIEW)


def consensus_list(coordinator: CoordinatorSession, protocol_name: str, *,
                   include_excluded: bool = False) -> list[Consensus]:
    """Every consensus value stored for the protocol (decided and stale; see
    :func:`myoscore.app.consensus_status.tracked_consensus` for which is which)."""
    return consensus_for(coordinator, protocol_name, include_excluded=include_excluded)
