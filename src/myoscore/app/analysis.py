"""Analysis use cases in one place: agreement report, consensus, derived scores.

The use cases live in :mod:`myoscore.app.agreement_report`, :mod:`myoscore.app.consensus`
and :mod:`myoscore.app.derived_scores`; this module gathers them for the CLI and the GUI
and turns their results into plain JSON data (:func:`jsonable`).
"""

from __future__ import annotations

import dataclasses
import enum
import math
from datetime import date, datetime
from typing import Any

from myoscore.app.agreement_report import (
    AgreementReport,
    agreement_report,
    agreement_rows,
    intra_reader_report,
)
from myoscore.app.consensus import (
    DiscordantItem,
    ReconcileOutcome,
    consensus_list,
    discordant_items,
    reconcile_reads,
    record_review_decision,
)
from myoscore.app.consensus_status import (
    ConsensusCounts,
    ConsensusStatus,
    TrackedConsensus,
    decided_consensus,
    stale_consensus,
    tracked_consensus,
)
from myoscore.app.derived_scores import ExamScores, NoConsensus, ScoresReport, derived_scores
from myoscore.domain.agreement import AgreementRow
from myoscore.scores import ProgressionCounts, ScoreResult

__all__ = [
    "AgreementReport",
    "AgreementRow",
    "ConsensusCounts",
    "ConsensusStatus",
    "DiscordantItem",
    "ExamScores",
    "NoConsensus",
    "ReconcileOutcome",
    "ScoreResult",
    "ScoresReport",
    "TrackedConsensus",
    "agreement_report",
    "agreement_rows",
    "consensus_list",
    "decided_consensus",
    "derived_scores",
    "discordant_items",
    "intra_reader_report",
    "jsonable",
    "reconcile_reads",
    "record_review_decision",
    "stale_consensus",
    "tracked_consensus",
]


def jsonable(obj: Any) -> Any:
    """Dataclasses, enums, dates and mappings as JSON-ready data.

    NaN becomes ``None`` (JSON has no NaN); dates become ISO strings; the percentages of
    :class:`~myoscore.scores.ProgressionCounts` (properties) are included.
    """
    if isinstance(obj, enum.Enum):
        return obj.value
    if isinstance(obj, float):
        return None if math.isnan(obj) else obj
    if isinstance(obj, datetime | date):
        return obj.isoformat()
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        data = {f.name: jsonable(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
        if isinstance(obj, ProgressionCounts):
            data["percent_stir_positive_progressed"] = jsonable(obj.percent_stir_positive_progressed)
            data["percent_progressed_not_stir_positive"] = jsonable(obj.percent_progressed_not_stir_positive)
        # Coverage and per-unit percentages are properties: JSON carries them too.
        for name in ("complete", "percent_positive", "mean"):
            prop = getattr(type(obj), name, None)
            if isinstance(prop, property):
                data[name] = jsonable(getattr(obj, name))
        return data
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [jsonable(v) for v in obj]
    return obj
