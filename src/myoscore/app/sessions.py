"""Who is signed in, and the rules of what they may do.

:func:`sign_in` checks a user's password and returns a :class:`ReaderSession` (one
reader, blinded) or a :class:`CoordinatorSession` (the research coordinator, audited).
The sessions hold the study's rules — validation of coordinator input, who may be
assigned what, randomised worklists from a recorded seed, the wash-out of repeat reads,
which codes a scale accepts, that a submitted read is locked — and run each call as one
unit of work on the store's repositories (:mod:`myoscore.store.repository`), which
persist, audit and blind at the query level. The GUI and the CLI hold these objects.
"""

from __future__ import annotations

import logging
import random
import secrets
from collections.abc import Iterable, Mapping
from collections.abc import Sequence as Seq
from contextlib import AbstractContextManager
from datetime import date, timedelta

from myoscore.app.study_settings import timepoint_blinding_on
from myoscore.app.worklist_order import spread_subjects
from myoscore.domain import (
    NOT_EVALUABLE,
    AccessDenied,
    AuditEvent,
    BlindedExam,
    Exam,
    InvalidValue,
    MyoscoreError,
    NotFound,
    Rating,
    Read,
    Reader,
    ReadLocked,
    ReadStatus,
    Role,
    Sequence,
    Series,
    Subject,
)
from myoscore.domain.blinding import ImageSources, timepoint_blinded_exam, timepoint_blinded_read
from myoscore.domain.boundary import checked_arguments
from myoscore.schemes import Protocol
from myoscore.store import Database, ProtocolCache, aware
from myoscore.store.authentication import authenticate, bootstrap_coordinator
from myoscore.store.passwords import check_new_password
from myoscore.store.repository import (
    NewRead,
    ReaderRepository,
    StudyRepository,
    active_user_names,
    reader_unit,
    study_unit,
)

__all__ = ["UNCHANGED", "CoordinatorSession", "ReaderSession", "bootstrap_coordinator", "sign_in", "user_names",
           "worklist_order"]

log = logging.getLogger(__name__)

#: Passed for an exam field that is to stay as it is (``None`` clears a clinical field).
UNCHANGED: object = object()


def user_names(database: Database) -> list[str]:
    """Names of the active users, for a sign-in picker: nothing else about them."""
    return active_user_names(database)


def sign_in(database: Database, name: str, password: str) -> ReaderSession | CoordinatorSession:
    """Check a user's password; readers get a blinded session, coordinators a full one.

    Every attempt is audited (``sign_in`` / ``sign_in_failed`` / ``sign_in_refused``).
    An unknown name costs the same hashing time as a wrong password; after a few
    failures in a row the user waits (exponential back-off); on PostgreSQL the session
    runs as the user's own role (:func:`myoscore.store.authentication.authenticate`).
    """
    try:
        reader, database = authenticate(database, name, password)
    except AccessDenied:
        log.info("sign-in refused for %r", name)
        raise
    log.info("%s signed in as %s", reader.name, reader.role.value)
    if reader.role is Role.COORDINATOR:
        return CoordinatorSession(database, reader.name)
    return ReaderSession(database, reader)


_StudyUnit = AbstractContextManager[StudyRepository]
_ReaderUnit = AbstractContextManager[ReaderRepository]


def _seed_text(seed: int | None) -> str:
    return str(seed if seed is not None else secrets.randbelow(2**31))


def worklist_order(repo: StudyRepository, exam_ids: Seq[int], seed: str, reader_name: str) -> list[int]:
    """The order in which ``reader_name`` gets newly assigned exams: the sorted ids
    shuffled by ``random.Random(f"{seed}:{reader_name}")``, reproducible from the seed
    recorded with each read; under timepoint blinding then spread so that no two exams of
    one subject are adjacent, nor the first next to the reader's last exam
    (:func:`myoscore.app.worklist_order.spread_subjects`, deterministic). Every
    assignment goes through here — ``CoordinatorSession.assign`` and
    :mod:`myoscore.app.assignment` (by selection, any design) — so a rule about the order
    of new reads belongs here, for both."""
    order = sorted(exam_ids)
    random.Random(f"{seed}:{reader_name}").shuffle(order)
    if order and timepoint_blinding_on(repo):
        subject_of = {exam.id: exam.subject_code for exam in repo.exams(order)}
        order = spread_subjects(order, subject_of.__getitem__, _last_subject(repo, reader_name))
    return order


@checked_arguments  # ids and keys typed at the boundary, before any rule
class CoordinatorSession:
    """Study set-up, progress and (audited) access to every reader's ratings.

    Each method is one unit of work: it commits when it returns and changes nothing when
    it raises.
    """

    def __init__(self, database: Database, actor: str) -> None:
        self.database = database
        self.actor = actor
        self._protocols = ProtocolCache()

    def unit(self) -> _StudyUnit:
        """A unit of work on the study's repositories (for the ``app`` use cases)."""
        return study_unit(self.database, self.actor, self._protocols)

    # -- readers -------------------------------------------------------------------
    def add_reader(self, name: str, role: Role, password: str) -> Reader:
        name = name.strip()
        if not name or "," in name:
            raise MyoscoreError(f"invalid reader name {name!r}: it must be non-empty and have no comma")
        check_new_password(name, password)
        with self.unit() as repo:
            return repo.add_reader(name, role, password)

    def set_password(self, name: str, password: str) -> None:
        check_new_password(name, password)
        with self.unit() as repo:
            repo.set_password(name, password)

    def readers(self) -> list[Reader]:
        with self.unit() as repo:
            return repo.readers()

    # -- subjects and exams --------------------------------------------------------
    def add_exam(self, subject_code: str, label: str = "baseline", *, exam_date: date | None = None,
                 months_from_onset: float | None = None, treated: bool | None = None) -> Exam:
        subject_code = subject_code.strip()
        if not subject_code:
            raise MyoscoreError("a subject code is required")
        _check_months(months_from_onset)
        with self.unit() as repo:
            return repo.add_exam(subject_code, label.strip() or "baseline", exam_date=exam_date,
                                 months_from_onset=months_from_onset, treated=treated)

    def update_exam(self, exam_id: int, *, label: str | None = None,
                    months_from_onset: float | object | None = UNCHANGED,
                    treated: bool | object | None = UNCHANGED) -> Exam:
        """Set an exam's timepoint label and clinical fields (audited, old → new).

        A clinical field left :data:`UNCHANGED` stays as it is; ``None`` clears it."""
        fields: dict[str, object] = {}
        if label is not None:
            if not label.strip():
                raise MyoscoreError(f"exam {exam_id}: the timepoint label cannot be empty")
            fields["label"] = label.strip()
        if months_from_onset is not UNCHANGED:
            if months_from_onset is not None and not isinstance(months_from_onset, int | float):
                raise MyoscoreError(f"exam {exam_id}: months from onset must be a number, not {months_from_onset!r}")
            _check_months(months_from_onset)
            fields["months_from_onset"] = None if months_from_onset is None else float(months_from_onset)
        if treated is not UNCHANGED:
            if treated is not None and not isinstance(treated, bool):
                raise MyoscoreError(f"exam {exam_id}: treated is yes, no or unknown, not {treated!r}")
            fields["treated"] = treated
        with self.unit() as repo:
            repo.set_exam_fields(exam_id, fields)
            return repo.exam(exam_id)

    def subjects(self) -> list[Subject]:
        with self.unit() as repo:
            return repo.subjects()

    def exams(self, *, include_excluded: bool = True) -> list[Exam]:
        """Every exam, excluded ones with their reason (``include_excluded=False``: not those)."""
        with self.unit() as repo:
            return repo.exams(include_excluded=include_excluded)

    # -- series and identity -----------------------------------------------------------
    def add_series(self, exam_id: int, series_uid: str, kind: Sequence, *, kind_reason: str = "",
                   description: str = "", path: str = "", files: Seq[str] = (), shape: Seq[int] = (),
                   spacing: Seq[float] = (), issues: Seq[str] = (), part: str = "",
                   z_range: tuple[float, float] | None = None) -> Series | None:
        """Register a series of an exam; ``None`` if its UID is already registered."""
        with self.unit() as repo:
            if repo.series_uid_known(series_uid):
                return None
            return repo.add_series(exam_id, series_uid, kind, kind_reason=kind_reason, description=description,
                                   path=path, files=files, shape=shape, spacing=spacing, issues=issues,
                                   part=part, z_range=z_range)

    def set_series_regions(self, updates: Mapping[int, tuple[Seq[str], tuple[float, float] | None]]) -> None:
        """Store the atlas regions and z-range of series (app.coverage computes them)."""
        with self.unit() as repo:
            for series_id, (regions, z_range) in updates.items():
                repo.set_series_regions(series_id, regions, z_range)

    def series(self, exam_id: int | None = None) -> list[Series]:
        with self.unit() as repo:
            return repo.series(exam_id)

    def reveal_series(self, exam_id: int | None = None) -> list[Series]:
        """:meth:`series`, for showing their SeriesDescription, reasons and issues to the
        coordinator: text that can carry a name, so showing it is audited."""
        with self.unit() as repo:
            found = repo.series(exam_id)
            repo.record("reveal_series_descriptions", f"exam {exam_id}" if exam_id is not None else "all exams",
                        f"{len(found)} series")
            return found

    def set_series_kind(self, series_id: int, kind: Sequence, reason: str = "") -> Series:
        """Override a series' classification, keeping why (audited)."""
        with self.unit() as repo:
            return repo.override_series_kind(series_id, kind,
                                             f"set by {self.actor}" + (f": {reason}" if reason else ""))

    def exam_for_study(self, subject_code: str | None, study_uid: str,
                       exam_date: date | None = None) -> tuple[Exam, bool]:
        """The exam of an imported DICOM study, created on first import. Returns (exam, created).

        Without ``subject_code`` a new exam goes to a new pseudonymous subject (``SUBJ-0007``).
        A new exam is labelled by its order among the subject's exams (``exam 2``); the
        coordinator relabels it (baseline, follow-up).
        """
        with self.unit() as repo:
            found = repo.exam_of_study(study_uid)
            if found is not None:
                return found, False
            code = subject_code or new_subject_code(repo.subject_codes())
            label = f"exam {repo.exam_count(code) + 1}"
            return repo.add_exam(code, label, exam_date=exam_date, study_uid=study_uid), True

    def subject_for_patient(self, patient_id: str, *, link: bool = True) -> str | None:
        """The subject code linked to a hospital PatientID, or ``None``. Coordinator-only."""
        if not link:
            return None
        with self.unit() as repo:
            return repo.patient_subject(patient_id)

    def link_patient(self, subject_code: str, patient_id: str) -> None:
        with self.unit() as repo:
            repo.link_patient(subject_code, patient_id)

    def reveal_patient_ids(self, subject_codes: Iterable[str], purpose: str) -> dict[str, str]:
        """The hospital PatientID of each linked subject, for an identified export
        (audited: one ``reveal_identity`` event per subject, naming the purpose)."""
        codes = sorted(set(subject_codes))
        with self.unit() as repo:
            found = repo.patient_ids(codes)
            for code in sorted(found):
                repo.record("reveal_identity", f"subject {code}", purpose)
            return found

    # -- protocols and assignment -----------------------------------------------------
    def register_protocol(self, protocol: Protocol) -> str:
        """Store the protocol's snapshot (once per hash) and return the hash."""
        with self.unit() as repo:
            repo.register_protocol(protocol)
        return protocol.hash

    def assign(self, protocol: Protocol, reader_names: Seq[str], exam_ids: Seq[int] | None = None,
               seed: int | None = None) -> list[Read]:
        """Assign exams to readers, each reader's order shuffled from a recorded seed.

        Without ``exam_ids``: every exam not yet assigned for this protocol. Positions
        continue after each reader's existing worklist. The shuffle of reader R is
        ``random.Random(f"{seed}:{R}")`` over the sorted exam ids, so the order can be
        reproduced from the seed stored with each read. Under timepoint blinding the
        shuffled order is then spread so that no two exams of one subject are adjacent
        (:func:`myoscore.app.worklist_order.spread_subjects`, deterministic).
        """
        names = [name.strip() for name in reader_names]
        if not names:
            raise MyoscoreError("name at least one reader")
        if len(set(names)) != len(names):
            raise MyoscoreError(f"a reader is named twice: {', '.join(names)}")
        seed_text = _seed_text(seed)
        with self.unit() as repo:
            repo.register_protocol(protocol)
            readers = [repo.reader(name) for name in names]
            for reader in readers:
                if reader.role is Role.COORDINATOR:
                    raise MyoscoreError(f"{reader.name} is a coordinator, not a reader")
            if exam_ids is None:
                taken = repo.assigned_exam_ids(protocol.hash)
                wanted = [exam.id for exam in repo.exams(include_excluded=False) if exam.id not in taken]
            else:
                wanted = list(exam_ids)
                for exam_id in wanted:
                    exam = repo.exam(exam_id)  # NotFound if missing
                    if exam.excluded_at is not None:
                        raise MyoscoreError(f"exam {exam_id} ({exam.subject_code} · {exam.label}) is excluded "
                                            f"({exam.excluded_reason}); include it again before assigning it")
            created: list[int] = []
            for reader in readers:
                order = worklist_order(repo, wanted, seed_text, reader.name)
                start = repo.last_position(reader.id)
                for offset, exam_id in enumerate(order, start=1):
                    if repo.has_read(reader.id, exam_id, protocol.hash):
                        raise MyoscoreError(f"exam {exam_id} is already assigned to {reader.name} "
                                            f"for {protocol.name}")
                    created.append(repo.add_read(NewRead(
                        reader.id, exam_id, protocol.hash, start + offset, seed_text,
                        note=f"{reader.name} exam {exam_id} {protocol.name} seed {seed_text}")))
            log.info("assigned %d reads of %s (seed %s)", len(created), protocol.name, seed_text)
            return repo.reads(ids=created)

    def assign_repeats(self, protocol: Protocol, reader_name: str, fraction: float, washout_days: float,
                       seed: int | None = None) -> list[Read]:
        """Re-assign a fraction of a reader's submitted exams to the same reader.

        The repeats are drawn at random (recorded seed), placed after the reader's current
        worklist in a new random order, and stay hidden until ``washout_days`` after the
        first read was submitted; while a repeat is open the first read is hidden, so the
        reader scores the exam again blind to their first read.
        """
        if not 0 < fraction <= 1:
            raise MyoscoreError(f"the fraction of exams to repeat must be in (0, 1], not {fraction}")
        if washout_days < 0:
            raise MyoscoreError(f"the wash-out period cannot be negative ({washout_days} days)")
        seed_text = _seed_text(seed)
        with self.unit() as repo:
            reader = repo.reader(reader_name)
            firsts = sorted((read for read in repo.reads(reader_names=[reader.name], submitted_only=True,
                                                         first_only=True, protocol_hashes=[protocol.hash],
                                                         include_excluded=False)),
                            key=lambda read: read.exam_id)
            eligible = [read for read in firsts if not repo.has_read(reader.id, read.exam_id, protocol.hash,
                                                                     repeat=None)]
            if not eligible:
                raise NotFound(f"{reader_name} has no submitted read of {protocol.name} that is not repeated yet")
            rng = random.Random(f"{seed_text}:{reader_name}:repeat")
            chosen = rng.sample(eligible, max(1, round(fraction * len(eligible))))
            if timepoint_blinding_on(repo):
                chosen = spread_subjects(chosen, lambda read: read.subject_code, _last_subject(repo, reader.name))
            start = repo.last_position(reader.id)
            created = []
            for offset, first in enumerate(chosen, start=1):
                assert first.submitted_at is not None  # submitted reads have a time
                created.append(repo.add_read(NewRead(
                    reader.id, first.exam_id, protocol.hash, start + offset, seed_text, repeat=1,
                    available_from=aware(first.submitted_at) + timedelta(days=washout_days),
                    note=f"{reader_name} exam {first.exam_id} after {washout_days:g} days, seed {seed_text}")))
            return sorted(repo.reads(ids=created), key=lambda read: read.position)

    # -- progress and reveals -----------------------------------------------------------
    def reads(self, protocol_name: str | None = None, *, include_excluded: bool = False) -> list[Read]:
        """Every read with its progress (counts only: no rating values); the reads of
        excluded exams only with ``include_excluded``."""
        with self.unit() as repo:
            return repo.reads(protocol_name=protocol_name, include_excluded=include_excluded)

    def protocol_of(self, read_id: int) -> Protocol:
        with self.unit() as repo:
            return repo.protocol(repo.read(read_id).protocol_hash)

    def read_ratings(self, read_id: int) -> dict[str, Rating]:
        """One read's ratings. Reveals a reader's values, so it is audited."""
        with self.unit() as repo:
            return repo.reveal_ratings([read_id])[read_id]

    def reopen(self, read_id: int, reason: str = "") -> None:
        """Unlock a submitted read so its reader can change it (ratings kept, audited)."""
        with self.unit() as repo:
            read = repo.read(read_id)
            if read.status is not ReadStatus.SUBMITTED:
                raise MyoscoreError(f"read {read_id} is not submitted (status {read.status})")
            repo.reopen_read(read_id, reason.strip())

    def audit_log(self, limit: int = 100) -> list[AuditEvent]:
        with self.unit() as repo:
            return repo.audit_log(limit)


def _last_subject(repo: StudyRepository, reader_name: str) -> str | None:
    """The subject of the last exam in a reader's worklist (what a new read must not follow)."""
    reads = repo.reads(reader_names=[reader_name])
    return max(reads, key=lambda read: read.position).subject_code if reads else None


def new_subject_code(taken: set[str]) -> str:
    """The next free pseudonymous subject code (``SUBJ-0007``)."""
    n = len(taken) + 1
    while f"SUBJ-{n:04d}" in taken:
        n += 1
    return f"SUBJ-{n:04d}"


def _check_months(months: object) -> None:
    if isinstance(months, int | float) and not months >= 0:
        raise MyoscoreError(f"months from onset cannot be negative or missing as a number ({months})")


@checked_arguments  # ids and keys typed at the boundary, before any rule
class ReaderSession:
    """What one signed-in reader may see and do: their own reads only (blinded by the
    store's :class:`~myoscore.store.repository.ReaderRepository`).

    Under timepoint blinding (the study setting, on by default) every read and exam this
    session returns names the read by its opaque code only: no subject code, timepoint
    label, exam id or seed (:func:`myoscore.domain.blinding.timepoint_blinded_read`)."""

    def __init__(self, database: Database, reader: Reader) -> None:
        self.database = database
        self._reader = reader
        self._protocols = ProtocolCache()

    @property
    def reader(self) -> Reader:
        return self._reader

    def _unit(self) -> _ReaderUnit:
        return reader_unit(self.database, self._reader, self._protocols)

    def timepoint_blinded(self) -> bool:
        """Whether the study blinds readers to subjects and timepoints (each read shows its code)."""
        with self._unit() as repo:
            return timepoint_blinding_on(repo)

    def worklist(self) -> list[Read]:
        """The reader's own reads in their randomised order (hidden ones left out)."""
        with self._unit() as repo:
            return _as_shown(repo, repo.worklist())

    def read(self, read_id: int) -> Read:
        with self._unit() as repo:
            return _as_shown(repo, [repo.read(read_id)])[0]

    def exam(self, read_id: int) -> BlindedExam:
        with self._unit() as repo:
            if timepoint_blinding_on(repo):
                return timepoint_blinded_exam(repo.read(read_id))
            return repo.exam(read_id)

    def series(self, read_id: int) -> list[Series]:
        """The exam's image series as a reader may see them: kind, an opaque index
        (``series 2``) and the grid; never the SeriesDescription, folder or file names
        (:func:`myoscore.domain.blinding.reader_series`)."""
        return list(self.image_sources(read_id))

    def image_sources(self, read_id: int) -> ImageSources:
        """The exam's series for the image loader: shows the reader's view only; where
        the files are stays inside (:class:`~myoscore.domain.blinding.ImageSources`)."""
        with self._unit() as repo:
            return ImageSources(repo.series(read_id), linked=not timepoint_blinding_on(repo))

    def protocol(self, read_id: int) -> Protocol:
        with self._unit() as repo:
            return repo.protocol(read_id)

    def ratings(self, read_id: int) -> dict[str, Rating]:
        """The reader's own ratings of one of their reads, by item key."""
        with self._unit() as repo:
            return repo.ratings(read_id)

    def rate(self, read_id: int, item_key: str, code: str, *, action: str = "rate") -> Rating:
        """Store one rating durably (committed before this returns) and audit it (``action``:
        ``rate``, or ``prefill_ne`` when a protocol pre-fills a region no series covers).

        The code must be a level of the item's scale in the read's *stored* protocol, or
        ``NE``; a submitted read is locked."""
        with self._unit() as repo:
            protocol = self._writable(repo, read_id)
            try:
                scale = protocol.scale_of(item_key)
            except NotFound as exc:
                raise InvalidValue(f"read {read_id}: {exc}") from None
            if not scale.accepts(code):
                raise InvalidValue(
                    f"{item_key}: {code!r} is not a level of {scale.name} "
                    f"(use {', '.join(scale.codes)} or {NOT_EVALUABLE} for not evaluable)"
                )
            return repo.put_rating(read_id, item_key, code, scale.value_of(code), action=action)

    def clear(self, read_id: int, item_key: str) -> None:
        """Remove a rating (the item becomes unscored again), audited."""
        with self._unit() as repo:
            self._writable(repo, read_id)
            repo.delete_rating(read_id, item_key)

    def submit(self, read_id: int) -> Read:
        """Lock the read. Unscored items stay unscored; callers warn before calling."""
        with self._unit() as repo:
            self._writable(repo, read_id)
            repo.mark_submitted(read_id)
            return _as_shown(repo, [repo.read(read_id)])[0]

    @staticmethod
    def _writable(repo: ReaderRepository, read_id: int) -> Protocol:
        status, protocol = repo.status(read_id)
        if status is ReadStatus.SUBMITTED:
            raise ReadLocked(f"read {read_id} is submitted and locked; a coordinator can reopen it")
        return protocol



def _as_shown(repo: ReaderRepository, reads: list[Read]) -> list[Read]:
    """Reads as the reader may see them: under timepoint blinding, by their codes only."""
    return [timepoint_blinded_read(read) for read in reads] if timepoint_blinding_on(repo) else reads
