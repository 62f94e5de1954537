"""Timepoint blinding (issue 14): with the study setting on (the default), nothing a
reader's session returns names a subject or a timepoint, or links two reads of one
subject; with it off, readers see subject codes and labels as before. The coordinator
sees everything either way."""

from __future__ import annotations

import inspect
import logging

import pytest

from myoscore.app import CoordinatorSession, ReaderSession, sign_in
from myoscore.app.reading import worklist_rows
from myoscore.app.reading_session import ReadingSession
from myoscore.app.study_settings import set_setting, set_timepoint_blinding, settings
from myoscore.app.worklist_order import adjacent_pairs, spread_subjects
from myoscore.domain import AccessDenied, MyoscoreError, Role
from myoscore.domain.blinding import read_title

SUBJECTS = ("SUBJ-0101", "SUBJ-0102", "SUBJ-0103")
LABELS = ("baseline", "follow-up", "month-12")
NEEDLES = (*SUBJECTS, "SUBJ-", *LABELS)
ITEM = "edema.thigh.anterior.R"


@pytest.fixture
def longitudinal(coordinator: CoordinatorSession, nxp2) -> CoordinatorSession:
    """Three subjects × three timepoints, assigned to readers A and B."""
    coordinator.add_reader("A", Role.READER, "pass-phrase-A")
    coordinator.add_reader("B", Role.READER, "pass-phrase-B")
    for subject in SUBJECTS:
        for label in LABELS:
            coordinator.add_exam(subject, label, months_from_onset=1.0)
    coordinator.assign(nxp2, ["A", "B"], seed=3)
    return coordinator


def _reader(db, name: str = "A") -> ReaderSession:
    session = sign_in(db, name, f"pass-phrase-{name}")
    assert isinstance(session, ReaderSession)
    return session


def _leaks(text: str) -> list[str]:
    return [needle for needle in NEEDLES if needle.lower() in text.lower()]


def _everything_a_reader_gets(reader: ReaderSession) -> dict[str, str]:
    """Every public ReaderSession member called on every read, every ReadingSession
    property and no-argument method, the CLI's worklist rows: their reprs."""
    outputs: dict[str, str] = {"worklist": repr(reader.worklist()), "rows": repr(worklist_rows(reader))}
    writes = {"rate": (ITEM, "2"), "clear": (ITEM,), "submit": ()}
    for read in reader.worklist():
        for name, member in inspect.getmembers(ReaderSession):
            if name.startswith("_") or name in writes:
                continue
            if isinstance(member, property):
                outputs[name] = repr(getattr(reader, name))
                continue
            parameters = list(inspect.signature(member).parameters)[1:]
            outputs[f"{name} {read.id}"] = repr(getattr(reader, name)(*([read.id] if parameters else [])))
        reading = ReadingSession(reader, read.id)
        for name, member in inspect.getmembers(ReadingSession):
            if name.startswith("_"):
                continue
            if isinstance(member, property):
                outputs[f"reading.{name} {read.id}"] = repr(getattr(reading, name))
        outputs[f"reading.title {read.id}"] = read_title(reading.read)
        for name, extra in writes.items():
            outputs[f"{name} {read.id}"] = repr(getattr(reader, name)(read.id, *extra))
        try:  # a locked read's refusal names the read too
            reading.set_value("1")
        except MyoscoreError as exc:
            outputs[f"refusal {read.id}"] = str(exc)
    return outputs


def test_timepoint_blinding_is_on_by_default(longitudinal, db) -> None:
    """A new study has it on; the coordinator's settings say so, marked as the default."""
    (value,) = settings(longitudinal)
    assert (value.setting.name, value.on, value.stored) == ("timepoint_blinding", True, False)
    assert _reader(db).timepoint_blinded()


def test_nothing_a_reader_gets_names_a_subject_or_timepoint(longitudinal, db, caplog) -> None:
    """With blinding on: every reader call (reads, exams, series, ratings, the reading
    session, the worklist rows, refusals, log lines) holds no subject code or label."""
    caplog.set_level(logging.DEBUG, logger="myoscore")
    reader = _reader(db)
    outputs = _everything_a_reader_gets(reader)
    outputs["log"] = caplog.text
    assert {where: found for where, text in outputs.items() if (found := _leaks(text))} == {}
    reads = reader.worklist()
    assert len(reads) == 9
    codes = [read.code for read in reads]
    assert len(set(codes)) == 9
    assert all(code.startswith("R-") for code in codes)
    assert all((r.subject_code, r.exam_label, r.exam_id, r.seed, r.repeat) == (r.code, "", 0, "", 0) for r in reads)
    assert all(read_title(r) == r.code for r in reads)
    assert {(reader.exam(r.id).id, reader.exam(r.id).label) for r in reads} == {(0, "")}
    series_ids = {(s.exam_id, s.uid) for r in reads for s in reader.series(r.id)}
    assert series_ids <= {(0, "")}
    rows = worklist_rows(reader)
    assert {"subject", "exam"}.isdisjoint(rows[0])
    assert rows[0]["code"] == reads[0].code


def test_the_coordinator_still_sees_everything(longitudinal, db) -> None:
    """Blinding is the readers': the coordinator's reads carry subject, label, exam and seed."""
    reads = [r for r in longitudinal.reads() if r.reader_name == "A"]
    assert {r.subject_code for r in reads} == set(SUBJECTS)
    assert {r.exam_label for r in reads} == set(LABELS)
    assert all(r.exam_id > 0 and r.seed == "3" and r.code.startswith("R-") for r in reads)


def test_with_blinding_off_readers_see_subject_and_label(longitudinal, db) -> None:
    """Off: today's behaviour — subject code and timepoint label, the exam, the seed."""
    done = set_timepoint_blinding(longitudinal, False)
    assert done.changes.reads
    assert not done.value.on
    reader = _reader(db)
    assert not reader.timepoint_blinded()
    reads = reader.worklist()
    assert {r.subject_code for r in reads} == set(SUBJECTS)
    assert {r.exam_label for r in reads} == set(LABELS)
    assert read_title(reads[0]) == f"{reads[0].subject_code} · {reads[0].exam_label}"
    assert reader.exam(reads[0].id).subject_code in SUBJECTS
    rows = worklist_rows(reader)
    assert set(rows[0]) == {"read", "position", "subject", "exam", "protocol", "status", "done", "total"}
    # The probe of the blinded test finds them here, in most of what it looks at.
    found = {where for where, text in _everything_a_reader_gets(reader).items() if _leaks(text)}
    assert {"worklist", "rows", f"exam {reads[0].id}", f"reading.read {reads[0].id}"} <= found
    # … and on again: blinded again, for reads assigned before the change too.
    set_timepoint_blinding(longitudinal, True)
    assert _leaks(repr(reader.worklist())) == []


def test_setting_is_audited_and_coordinator_only(longitudinal, db) -> None:
    """Each change is audited old → new; the same value again changes nothing; bad
    names and values are refused with a sentence; a reader cannot change it."""
    set_setting(longitudinal, "timepoint-blinding", "off")
    event = longitudinal.audit_log(1)[0]
    assert (event.action, event.target, event.old, event.new) == ("set_setting", "setting timepoint_blinding",
                                                                   "on", "off")
    again = set_setting(longitudinal, "timepoint_blinding", "OFF")
    assert not again.changes
    assert longitudinal.audit_log(1)[0].id == event.id
    with pytest.raises(MyoscoreError, match="timepoint-blinding is on or off, not 'maybe'"):
        set_setting(longitudinal, "timepoint-blinding", "maybe")
    with pytest.raises(MyoscoreError, match="no study setting 'colour'"):
        set_setting(longitudinal, "colour", "on")
    with pytest.raises(AccessDenied, match="coordinator"):
        set_setting(_reader(db), "timepoint-blinding", "on")  # type: ignore[arg-type]
    with pytest.raises(AccessDenied, match="coordinator"):
        settings(_reader(db))  # type: ignore[arg-type]


def test_worklists_keep_a_subjects_exams_apart(longitudinal) -> None:
    """Under blinding no reader's worklist has two exams of one subject next to each
    other, and the readers' orders differ (each its own shuffle of the recorded seed)."""
    orders = {}
    for name in ("A", "B"):
        reads = sorted((r for r in longitudinal.reads() if r.reader_name == name), key=lambda r: r.position)
        assert adjacent_pairs(reads, lambda r: r.subject_code) == 0
        orders[name] = [r.exam_id for r in reads]
    assert orders["A"] != orders["B"]


def test_spread_order_is_reproducible_and_minimal() -> None:
    """The spread is deterministic; an order with no neighbours of one subject is kept; the
    previous worklist's last subject counts; when it cannot be done, few pairs remain."""
    subject = {1: "a", 2: "a", 3: "b", 4: "b", 5: "c", 6: "c"}.__getitem__
    assert spread_subjects([1, 3, 2, 5, 4, 6], subject) == [1, 3, 2, 5, 4, 6]
    spread = spread_subjects([1, 2, 3, 4, 5, 6], subject)
    assert spread == spread_subjects([1, 2, 3, 4, 5, 6], subject)
    assert sorted(spread) == [1, 2, 3, 4, 5, 6]
    assert adjacent_pairs(spread, subject) == 0
    after_a = spread_subjects([1, 3, 2, 5, 4, 6], subject, previous="a")
    assert subject(after_a[0]) != "a"
    assert adjacent_pairs(after_a, subject, previous="a") == 0
    # a a a b: one pair cannot be avoided (a b a a → 1), never two or three
    lopsided = {1: "a", 2: "a", 3: "a", 4: "b"}.__getitem__
    assert adjacent_pairs(spread_subjects([1, 2, 3, 4], lopsided), lopsided) == 1


def test_spread_keeps_large_worklists_apart() -> None:
    """Random orders of 300 subjects × 1–4 exams: never a pair of one subject adjacent."""
    import random

    rng = random.Random(7)
    exams = [(s, t) for s in range(300) for t in range(rng.randint(1, 4))]
    for _ in range(5):
        rng.shuffle(exams)
        assert adjacent_pairs(spread_subjects(exams, lambda e: e[0]), lambda e: e[0]) == 0


def test_spread_leaves_no_more_pairs_than_the_best_order() -> None:
    """Against brute force over every permutation of small worklists (with and without a
    previous subject): the spread order has the fewest adjacent pairs possible."""
    import itertools
    import random

    rng = random.Random(11)
    for _ in range(150):
        n = rng.randint(1, 7)
        exams = [(rng.choice("abcd"), i) for i in range(n)]
        previous = rng.choice([None, "a", "b"])

        def subject(e: tuple[str, int]) -> str:
            return e[0]

        best = min(adjacent_pairs(p, subject, previous) for p in itertools.permutations(exams))
        spread = spread_subjects(exams, subject, previous)
        assert sorted(spread) == sorted(exams)
        assert adjacent_pairs(spread, subject, previous) == best, (exams, previous, spread)
