"""A reader's view of the database: blinded by construction.

Every call is scoped to the signed-in reader's own reads. There is no call that
returns another reader's ratings, a patient's identity, an exam date or a clinical
field; a read id that is not the reader's own is refused with the same message
whether or not it exists, so ids reveal nothing either.
"""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from myoscore.domain import (
    NOT_EVALUABLE,
    AccessDenied,
    BlindedExam,
    InvalidValue,
    NotFound,
    Rating,
    Read,
    Reader,
    ReadLocked,
    ReadStatus,
    Series,
)
from myoscore.schemes import Protocol
from myoscore.store._rows import (
    ProtocolCache,
    audit,
    blinded_exam_of,
    rating_of,
    reads_from,
    reads_query,
    series_of,
)
from myoscore.store.database import Database, aware, utcnow
from myoscore.store.tables import ExamRow, RatingRow, ReadRow, SeriesRow, SubjectRow


class ReaderSession:
    """What one signed-in reader may see and do."""

    def __init__(self, database: Database, reader: Reader) -> None:
        self._db = database
        self._reader = reader
        self._protocols = ProtocolCache()

    @property
    def reader(self) -> Reader:
        return self._reader

    def worklist(self) -> list[Read]:
        """The reader's own reads in their randomised order (hidden ones left out)."""
        with self._db.transaction() as session:
            hidden = self._hidden(session)
            rows = session.execute(
                reads_query().where(ReadRow.reader_id == self._reader.id, ReadRow.id.not_in(hidden))
                .order_by(ReadRow.position)
            ).all()
            return reads_from(session, list(rows), self._protocols)

    def read(self, read_id: int) -> Read:
        with self._db.transaction() as session:
            self._own(session, read_id)
            rows = session.execute(reads_query().where(ReadRow.id == read_id)).all()
            return reads_from(session, list(rows), self._protocols)[0]

    def exam(self, read_id: int) -> BlindedExam:
        with self._db.transaction() as session:
            read = self._own(session, read_id)
            exam = session.get(ExamRow, read.exam_id)
            assert exam is not None  # foreign key
            code = session.execute(select(SubjectRow.code).where(SubjectRow.id == exam.subject_id)).scalar_one()
            return blinded_exam_of(exam, code)

    def series(self, read_id: int) -> list[Series]:
        """The exam's image series, to load and show. Their file paths are for loading
        only: folder names can hold a patient's name, so no window shows them."""
        with self._db.transaction() as session:
            read = self._own(session, read_id)
            rows = session.scalars(select(SeriesRow).where(SeriesRow.exam_id == read.exam_id).order_by(SeriesRow.id))
            return [series_of(row) for row in rows]

    def protocol(self, read_id: int) -> Protocol:
        with self._db.transaction() as session:
            return self._protocols.get(session, self._own(session, read_id).protocol_hash)

    def ratings(self, read_id: int) -> dict[str, Rating]:
        """The reader's own ratings of one of their reads, by item key."""
        with self._db.transaction() as session:
            self._own(session, read_id)
            rows = session.scalars(select(RatingRow).where(RatingRow.read_id == read_id))
            return {row.item_key: rating_of(row) for row in rows}

    def rate(self, read_id: int, item_key: str, code: str) -> Rating:
        """Store one rating durably (committed before this returns) and audit it."""
        with self._db.transaction() as session:
            read = self._writable(session, read_id)
            protocol = self._protocols.get(session, read.protocol_hash)
            try:
                scale = protocol.scale_of(item_key)
            except NotFound as exc:
                raise InvalidValue(f"read {read_id}: {exc}") from None
            if not scale.accepts(code):
                raise InvalidValue(
                    f"{item_key}: {code!r} is not a level of {scale.name} "
                    f"(use {', '.join(scale.codes)} or {NOT_EVALUABLE} for not evaluable)"
                )
            row = session.scalars(
                select(RatingRow).where(RatingRow.read_id == read_id, RatingRow.item_key == item_key)
            ).one_or_none()
            old = row.code if row else None
            now = utcnow()
            if row is None:
                row = RatingRow(read_id=read_id, item_key=item_key, code=code,
                                value=scale.value_of(code), rated_at=now)
                session.add(row)
            else:
                row.code, row.value, row.rated_at = code, scale.value_of(code), now
            if read.status == ReadStatus.ASSIGNED:
                read.status = ReadStatus.IN_PROGRESS
            audit(session, self._reader.name, "rate", f"read {read_id} {item_key}", old, code)
            session.flush()
            return rating_of(row)

    def clear(self, read_id: int, item_key: str) -> None:
        """Remove a rating (the item becomes unscored again), audited."""
        with self._db.transaction() as session:
            self._writable(session, read_id)
            old = session.scalars(
                select(RatingRow.code).where(RatingRow.read_id == read_id, RatingRow.item_key == item_key)
            ).one_or_none()
            if old is None:
                return
            session.execute(
                delete(RatingRow).where(RatingRow.read_id == read_id, RatingRow.item_key == item_key)
            )
            audit(session, self._reader.name, "clear", f"read {read_id} {item_key}", old, None)

    def submit(self, read_id: int) -> Read:
        """Lock the read. Unscored items stay unscored; callers warn before calling."""
        with self._db.transaction() as session:
            read = self._writable(session, read_id)
            read.status = ReadStatus.SUBMITTED
            read.submitted_at = utcnow()
            audit(session, self._reader.name, "submit", f"read {read_id}", ReadStatus.IN_PROGRESS, ReadStatus.SUBMITTED)
        return self.read(read_id)

    def _own(self, session: Session, read_id: int) -> ReadRow:
        read = session.get(ReadRow, read_id)
        if read is None or read.reader_id != self._reader.id or read_id in self._hidden(session, read):
            raise AccessDenied(f"read {read_id} is not in {self._reader.name}'s worklist")
        return read

    def _hidden(self, session: Session, of: ReadRow | None = None) -> set[int]:
        """Own reads the reader may not open now (intra-reader repeats):

        a repeat read whose wash-out period has not passed, and the first read of an
        exam from the moment its repeat is assigned until the repeat is submitted, so
        the reader neither studies the first read during the wash-out nor sees it while
        scoring the repeat.

        ``of`` limits the look to that read's exam and protocol: every rating checks its
        read, and only the reads of one exam decide whether it is hidden.
        """
        now = utcnow()
        query = select(ReadRow.id, ReadRow.exam_id, ReadRow.protocol_hash, ReadRow.repeat, ReadRow.status,
                       ReadRow.available_from).where(ReadRow.reader_id == self._reader.id)
        if of is not None:
            query = query.where(ReadRow.exam_id == of.exam_id, ReadRow.protocol_hash == of.protocol_hash)
        rows = session.execute(query).all()
        hidden = {r.id for r in rows if r.available_from is not None and aware(r.available_from) > now}
        open_repeats = {(r.exam_id, r.protocol_hash) for r in rows
                        if r.repeat > 0 and r.status != ReadStatus.SUBMITTED}
        hidden |= {r.id for r in rows if r.repeat == 0 and (r.exam_id, r.protocol_hash) in open_repeats}
        return hidden

    def _writable(self, session: Session, read_id: int) -> ReadRow:
        read = self._own(session, read_id)
        if read.status == ReadStatus.SUBMITTED:
            raise ReadLocked(f"read {read_id} is submitted and locked; a coordinator can reopen it")
        return read
