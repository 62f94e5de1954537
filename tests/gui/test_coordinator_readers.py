"""The coordinator's readers, assignment (with its recorded seed), repeat reads and progress table."""

from __future__ import annotations

import pytest
from gui_helpers import click, click_cell, click_tab, open_desk, submit_reads, table_texts

from myoscore.app import CoordinatorSession, Database, ReaderSession, sign_in
from myoscore.domain import ReadStatus, Role
from myoscore.gui.coordinator.progress_page import COLUMNS

pytestmark = pytest.mark.gui


def test_add_readers_then_assign_with_a_recorded_seed(qtbot, db: Database, coordinator: CoordinatorSession) -> None:
    """Add two readers and an adjudicator by typing; Assign gives every exam to each of them,
    each order shuffled from the seed shown, which the store records with every read."""
    coordinator.add_exam("SUBJ-01", "baseline")
    coordinator.add_exam("SUBJ-02", "baseline")
    coordinator.add_exam("SUBJ-03", "baseline")
    window = open_desk(qtbot, coordinator)
    click_tab(qtbot, window.tabs, "Readers")
    page = window.readers_page
    for name, role in (("radiologist", "reader"), ("neurologist", "reader"), ("senior", "adjudicator")):
        qtbot.keyClicks(page.name_edit, name)
        page.role_combo.setCurrentText(role)
        qtbot.keyClicks(page.password_edit, f"pass-phrase-{name}")
        qtbot.keyClicks(page.repeat_edit, f"pass-phrase-{name}")
        click(qtbot, page.add_button)
        assert page.readers_message.text() == f"Added {name} ({role})."
    assert {r.name: r.role for r in coordinator.readers()} == {
        "neurologist": Role.READER, "radiologist": Role.READER, "senior": Role.ADJUDICATOR}
    assert isinstance(sign_in(db, "radiologist", "pass-phrase-radiologist"), ReaderSession)
    assert page.readers_table.rowCount() == 3

    # A mistyped repeat is refused before anything is stored.
    qtbot.keyClicks(page.name_edit, "typo")
    qtbot.keyClicks(page.password_edit, "one")
    qtbot.keyClicks(page.repeat_edit, "two")
    click(qtbot, page.add_button)
    assert page.readers_message.kind == "error"
    assert len(coordinator.readers()) == 3

    page.protocol_combo.setCurrentIndex(page.protocol_combo.findData("nxp2_lower_limb"))
    page.first_combo.setCurrentText("radiologist")
    page.second_combo.setCurrentText("neurologist")
    page.adjudicator_combo.setCurrentText("senior")
    assert "3 of 3 exams have no read of nxp2_lower_limb" in page.unassigned_label.text()
    page.seed_edit.clear()
    qtbot.keyClicks(page.seed_edit, "2026")
    click(qtbot, page.assign_button)

    reads = coordinator.reads("nxp2_lower_limb")
    assert len(reads) == 9
    for name in ("radiologist", "neurologist", "senior"):
        own = [r for r in reads if r.reader_name == name]
        assert sorted(r.exam_id for r in own) == sorted(e.id for e in coordinator.exams())
        assert sorted(r.position for r in own) == [1, 2, 3]
    seeds = {e.target: e.new for e in coordinator.audit_log(50) if e.action == "assign"}
    assert len(seeds) == 9
    assert all(text.endswith("seed 2026") for text in seeds.values())
    assert "9 reads, seed 2026" in page.assign_message.text()
    assert page.seed_edit.text() != "2026"  # a fresh seed for the next assignment
    assert "0 of 3 exams" in page.unassigned_label.text()
    # The progress tab heard about it.
    assert window.progress_page.table.rowCount() == 9


def test_repeat_reads_for_intra_reader_agreement(qtbot, db: Database, study: CoordinatorSession, nxp2) -> None:
    """Fraction and wash-out are passed on; the repeats are the reader's and hidden until then."""
    submit_reads(db, "A", {e.id: {"edema.thigh.anterior.R": "1"} for e in study.exams()})
    window = open_desk(qtbot, study)
    click_tab(qtbot, window.tabs, "Readers")
    page = window.readers_page
    page.protocol_combo.setCurrentIndex(page.protocol_combo.findData("nxp2_lower_limb"))
    page.repeat_reader_combo.setCurrentText("A")
    page.fraction_spin.setValue(100)
    page.washout_spin.setValue(14)
    page.repeat_seed_edit.clear()
    qtbot.keyClicks(page.repeat_seed_edit, "7")
    click(qtbot, page.repeat_button)
    repeats = [r for r in study.reads() if r.repeat]
    assert len(repeats) == 2
    assert {r.reader_name for r in repeats} == {"A"}
    assert "2 repeat reads of nxp2_lower_limb assigned to A" in page.assign_message.text()
    assert "14 days" in page.assign_message.text()
    assert "seed 7" in page.assign_message.text()
    event = next(e for e in study.audit_log(10) if e.action == "assign_repeat")
    assert "after 14 days, seed 7" in (event.new or "")
    reader = sign_in(db, "A", "pass-phrase-A")
    assert all(r.repeat == 0 for r in reader.worklist())  # hidden during the wash-out


def test_progress_table_lists_every_read_and_reopens_a_submitted_one(qtbot, db: Database,
                                                                      study: CoordinatorSession) -> None:
    """Reader, position, subject, exam, protocol, status, done/total, first/repeat, seed; reopen is
    asked, audited with the reason, and shown."""
    submit_reads(db, "A", {e.id: {"edema.thigh.anterior.R": "2", "fat.calf.lateral.R": "NE"}
                           for e in study.exams()})
    window = open_desk(qtbot, study)
    assert window.tabs.currentWidget() is window.progress_page  # a study under way opens on progress
    page = window.progress_page
    assert [page.table.horizontalHeaderItem(c).text() for c in range(page.table.columnCount())] == list(COLUMNS)
    reads = study.reads()
    assert page.table.rowCount() == len(reads) == 4
    for row, read in enumerate(reads):
        status = "submitted" if read.status is ReadStatus.SUBMITTED else "to do"
        assert table_texts(page.table, row) == [
            read.reader_name, str(read.position), read.subject_code, read.exam_label, "nxp2_lower_limb", status,
            f"{read.done} / 50", "first", read.seed, ""]
        assert read.seed == "11"  # the study fixture assigns with seed 11
    assert page.summary.text() == "1 subject, 2 exams, 4 reads, 2 submitted"
    assert "A: 2/2 submitted" in page.by_reader.text()
    assert "B: 0/2 submitted" in page.by_reader.text()
    assert {table_texts(page.table, r)[6] for r in range(2)} == {"2 / 50"}

    click_cell(qtbot, page.table, 2)  # one of B's: not submitted, cannot be reopened
    assert not page.reopen_button.isEnabled()
    click_cell(qtbot, page.table, 0)
    assert page.reopen_button.isEnabled()
    asked: list[str] = []
    page.ask = lambda title, _text: asked.append(title) or True
    qtbot.keyClicks(page.reason_edit, "typo in calf")
    click(qtbot, page.reopen_button)
    assert asked == ["Reopen the read"]
    reopened = study.reads()[0]
    assert reopened.status is ReadStatus.IN_PROGRESS
    assert table_texts(page.table, 0)[5] == "in progress"
    event = next(e for e in study.audit_log(5) if e.action == "reopen")
    assert event.target == f"read {reopened.id}"
    assert "typo in calf" in (event.new or "")
    assert not page.reopen_button.isEnabled()
