"""Reader use cases shared by the CLI and the GUI."""

from __future__ import annotations

from dataclasses import dataclass

from myoscore.app.sessions import ReaderSession
from myoscore.domain import Rating, Read


def worklist_rows(session: ReaderSession) -> list[dict[str, object]]:
    """The worklist as the CLI's JSON shows it: under timepoint blinding each read by its
    opaque ``code`` (no subject or exam key at all), else by subject code and exam label."""
    reads = session.worklist()
    blinded = session.timepoint_blinded()
    return [
        {"read": r.id, "position": r.position,
         **({"code": r.code} if blinded else {"subject": r.subject_code, "exam": r.exam_label}),
         "protocol": r.protocol_name, "status": r.status.value, "done": r.done, "total": r.total}
        for r in reads
    ]


def rate(session: ReaderSession, read_id: int, item_key: str, code: str) -> Rating:
    return session.rate(read_id, item_key, code.strip())


@dataclass(frozen=True)
class SubmitOutcome:
    read: Read
    unscored: tuple[str, ...]


def unscored_items(session: ReaderSession, read_id: int) -> tuple[str, ...]:
    rated = session.ratings(read_id)
    return tuple(k for k in session.protocol(read_id).item_keys if k not in rated)


def submit(session: ReaderSession, read_id: int) -> SubmitOutcome:
    """Lock a read. Unscored items are reported, not refused: the caller has warned."""
    missing = unscored_items(session, read_id)
    return SubmitOutcome(session.submit(read_id), missing)
