"""Derived scores and reconciliation: pure functions over a protocol and item values.

``derived``
    The papers' numbers from one read or from consensus: sums per region and side,
    STIR% (positive / evaluated × 100), T1-LB and T1-LB %, counts; frequencies of findings
    across subjects, pattern counts, Δ scores between first and last exam, and STIR-positive
    at baseline → T1 progression (seed 004, Fig. 4).
``reconcile``
    Two reads of one exam into consensus values: ``mean`` (seed 000), joint ``review``
    (seed 004) or a third reader as ``adjudicator``. Readers' ratings are never changed.

Imports only :mod:`myoscore.schemes` and :mod:`myoscore.domain`. See ``docs/scores.md``.
"""

from myoscore.scores.derived import (
    POOLED,
    ExamValues,
    Frequency,
    PatternCount,
    Progression,
    ProgressionCounts,
    ScoreChange,
    ScoreResult,
    UnitSummary,
    compute_score,
    compute_scores,
    exams_in_order,
    frequencies,
    longitudinal,
    pattern_counts,
    progression,
    progression_measures,
    protocol_progression,
    unit_summaries,
)
from myoscore.scores.reconcile import (
    ConsensusValue,
    Discordance,
    DiscordanceKind,
    Reconciliation,
    applicable,
    check_code,
    compare,
    reconcile,
    reconcile_adjudicator,
    reconcile_mean,
    reconcile_review,
)

__all__ = [
    "POOLED",
    "ConsensusValue",
    "Discordance",
    "DiscordanceKind",
    "ExamValues",
    "Frequency",
    "PatternCount",
    "Progression",
    "ProgressionCounts",
    "Reconciliation",
    "ScoreChange",
    "ScoreResult",
    "UnitSummary",
    "applicable",
    "check_code",
    "compare",
    "compute_score",
    "compute_scores",
    "exams_in_order",
    "frequencies",
    "longitudinal",
    "pattern_counts",
    "progression",
    "progression_measures",
    "protocol_progression",
    "reconcile",
    "reconcile_adjudicator",
    "reconcile_mean",
    "reconcile_review",
    "unit_summaries",
]
