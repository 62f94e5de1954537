"""The coordinator's readers, assignment (with its recorded seed), repeat reads and progress table."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QMessageBox

from myoscore.app import CoordinatorSession, Database, ReaderSession, sign_in
from myoscore.domain import ReadStatus, Role
from myoscore.gui.coordinator.progress_page import COLUMNS
from tests.gui.gui_helpers import click, click_cell, click_check, click_tab, open_desk, submit_reads, table_texts

pytestmark = pytest.mark.gui


def test_add_readers_then_assign_with_a_recorded_seed(qtbot, db: Database, coordinator: CoordinatorSession) -> None:
    """Add two readers and an adjudicator by typing; assigning every exam to the three of them
    shuffles each order from the seed shown, which the store records with every read."""
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

    # Assign every exam to the three of them, confirmed in the real dialog.
    panel = page.assignment
    page.protocol_combo.setCurrentIndex(page.protocol_combo.findData("nxp2_lower_limb"))
    assert "0 of 3 exams shown checked" in panel.checked_label.text()
    click(qtbot, panel.check_all_button)
    for name in ("radiologist", "neurologist", "senior"):
        click_check(qtbot, panel.reader_checks[name])
    panel.seed_edit.clear()
    qtbot.keyClicks(panel.seed_edit, "2026")
    asked = answer_dialog(qtbot, panel, QMessageBox.StandardButton.Yes)
    click(qtbot, panel.assign_button)
    assert asked == ["Create 9 reads: 3 exams × 3 readers?"]

    reads = coordinator.reads("nxp2_lower_limb")
    assert len(reads) == 9
    for name in ("radiologist", "neurologist", "senior"):
        own = [r for r in reads if r.reader_name == name]
        assert sorted(r.exam_id for r in own) == sorted(e.id for e in coordinator.exams())
        assert sorted(r.position for r in own) == [1, 2, 3]
    seeds = {e.target: e.new for e in coordinator.audit_log(50) if e.action == "assign"}
    assert len(seeds) == 9
    assert all(text is not None and "seed 2026 assignment 1" in text for text in seeds.values())
    assert "9 reads: 3 exams × 3 readers of nxp2_lower_limb, seed 2026" in panel.message.text()
    assert panel.seed_edit.text() != "2026"  # a fresh seed for the next assignment
    assert panel.exam_table.rowCount() == 0  # only exams not yet assigned are shown
    # The progress tab heard about it.
    assert window.progress_page.table.rowCount() == 9


def answer_dialog(qtbot, panel, button) -> list[str]:
    """Click ``button`` of the panel's confirmation dialog as soon as it shows; returns the
    questions it asked."""
    from PySide6.QtCore import QTimer

    asked: list[str] = []

    def answer() -> None:
        box = panel.confirm_box
        if box is None or not box.isVisible():
            QTimer.singleShot(20, answer)
            return
        asked.append(box.text())
        click(qtbot, box.button(button))

    QTimer.singleShot(0, answer)
    return asked


def test_assign_two_of_five_exams_by_selection_confirm_and_undo(qtbot, db: Database,
                                                               coordinator: CoordinatorSession) -> None:
    """Check two of five exams and two of three readers by clicking, confirm "Create 4 reads:
    2 exams × 2 readers?", see the assignment in the history, and undo it."""
    exams = [coordinator.add_exam(f"SUBJ-0{i}", "baseline").id for i in range(1, 6)]
    for name in ("A", "B", "C"):
        coordinator.add_reader(name, Role.READER, f"pass-phrase-{name}")
    window = open_desk(qtbot, coordinator)
    click_tab(qtbot, window.tabs, "Readers")
    panel = window.readers_page.assignment
    panel.protocol_combo.setCurrentIndex(panel.protocol_combo.findData("nxp2_lower_limb"))
    assert panel.exam_table.rowCount() == 5
    click_cell(qtbot, panel.exam_table, 1)
    click_cell(qtbot, panel.exam_table, 3, 2)  # anywhere on the row
    click_cell(qtbot, panel.exam_table, 4)
    click_cell(qtbot, panel.exam_table, 4)  # and unchecked again
    assert panel.checked_exams() == [exams[1], exams[3]]
    assert panel.checked_label.text() == "2 of 5 exams shown checked"
    click_check(qtbot, panel.reader_checks["A"])
    click_check(qtbot, panel.reader_checks["B"])
    assert panel.chosen_readers() == ["A", "B"]

    # "No" creates nothing.
    asked = answer_dialog(qtbot, panel, QMessageBox.StandardButton.No)
    click(qtbot, panel.assign_button)
    assert asked == ["Create 4 reads: 2 exams × 2 readers?"]
    assert coordinator.reads() == []
    assert panel.message.text() == "Nothing assigned."

    asked = answer_dialog(qtbot, panel, QMessageBox.StandardButton.Yes)
    click(qtbot, panel.assign_button)
    assert asked == ["Create 4 reads: 2 exams × 2 readers?"]
    reads = coordinator.reads()
    assert sorted((r.reader_name, r.exam_id) for r in reads) == [
        ("A", exams[1]), ("A", exams[3]), ("B", exams[1]), ("B", exams[3])]
    assert panel.exam_table.rowCount() == 3  # the two assigned exams left the "not yet assigned" list
    assert window.progress_page.table.rowCount() == 4
    assert panel.history_table.rowCount() == 1
    row = table_texts(panel.history_table, 0)
    assert row[0] == "1"
    assert row[3:] == ["nxp2_lower_limb", "all", reads[0].seed, "A, B × 2 exams", "4", "not started"]

    assert not panel.undo_button.isEnabled()
    click_cell(qtbot, panel.history_table, 0)
    assert panel.undo_button.isEnabled()
    asked = answer_dialog(qtbot, panel, QMessageBox.StandardButton.Yes)
    click(qtbot, panel.undo_button)
    assert asked == ["Undo assignment 1: delete its 4 reads?"]
    assert coordinator.reads() == []
    assert panel.message.text() == "Assignment 1 undone: 4 reads deleted (audited)."
    assert table_texts(panel.history_table, 0)[-1].startswith("undone ")
    assert not panel.undo_button.isEnabled()
    assert panel.exam_table.rowCount() == 5
    assert window.progress_page.table.rowCount() == 0
    assert sum(e.action == "unassign" for e in coordinator.audit_log(40)) == 4


def test_undo_refused_once_a_read_has_ratings_and_filters_by_group(qtbot, db: Database,
                                                                   coordinator: CoordinatorSession) -> None:
    """A started assignment is not undone (the sentence says which read); the group filter
    lists the subjects of one study group (seed 004's groups)."""
    early = coordinator.add_exam("SUBJ-01", "baseline", months_from_onset=2.0, treated=False).id
    late = coordinator.add_exam("SUBJ-02", "baseline", months_from_onset=20.0, treated=True).id
    unknown = coordinator.add_exam("SUBJ-03", "baseline").id
    coordinator.add_reader("A", Role.READER, "pass-phrase-A")
    window = open_desk(qtbot, coordinator)
    click_tab(qtbot, window.tabs, "Readers")
    panel = window.readers_page.assignment
    panel.protocol_combo.setCurrentIndex(panel.protocol_combo.findData("imnm_whole_body"))
    assert [panel.group_combo.itemText(i) for i in range(panel.group_combo.count())] == [
        "Any group", "EARLY-BT", "EARLY-UT", "LATE", "No group"]
    panel.group_combo.setCurrentText("LATE")
    assert [table_texts(panel.exam_table, r)[:4] for r in range(panel.exam_table.rowCount())] == [
        [str(late), "SUBJ-02", "baseline", "LATE"]]
    panel.group_combo.setCurrentText("No group")
    assert [table_texts(panel.exam_table, r)[0] for r in range(panel.exam_table.rowCount())] == [str(unknown)]
    panel.group_combo.setCurrentText("Any group")
    click(qtbot, panel.check_all_button)
    click_check(qtbot, panel.reader_checks["A"])
    panel.ask = lambda _title, question, _details: question == "Create 3 reads: 3 exams × 1 reader?"
    click(qtbot, panel.assign_button)
    assert len(coordinator.reads()) == 3

    reader = sign_in(db, "A", "pass-phrase-A")
    assert isinstance(reader, ReaderSession)
    wanted = next(r.id for r in coordinator.reads() if r.exam_id == early)  # readers see no exam ids
    first = next(r for r in reader.worklist() if r.id == wanted)
    reader.rate(first.id, "stir.pelvis.iliopsoas.psoas.R", "1")
    window.readers_page.refresh()
    click_cell(qtbot, panel.history_table, 0)
    panel.ask = lambda *_args: True
    click(qtbot, panel.undo_button)
    assert panel.message.kind == "error"
    assert panel.message.text() == (f"assignment 1: 1 of its 3 reads has ratings (reader A exam {early}); "
                                    "nothing was undone")
    assert len(coordinator.reads()) == 3


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
    assert isinstance(reader, ReaderSession)
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

    def ask(title: str, _text: str) -> bool:
        asked.append(title)
        return True

    page.ask = ask
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
