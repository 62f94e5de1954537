"""The Exams page: exclude an exam with a reason, include it again, delete one (or be told why not)."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QMessageBox

from myoscore.app import CoordinatorSession, Database, ReaderSession, sign_in
from myoscore.gui.coordinator.setup_page import ExclusionDialog
from myoscore.gui.coordinator.widgets import row_data
from tests.gui.gui_helpers import click, click_cell, click_tab, open_desk, table_texts

pytestmark = pytest.mark.gui


def _row_of(page, exam_id: int) -> int:
    return next(r for r in range(page.exams_table.rowCount()) if row_data(page.exams_table, r) == exam_id)


def test_exclude_with_a_reason_greys_the_exam_and_include_brings_it_back(
        qtbot, db: Database, study: CoordinatorSession) -> None:
    """Select the follow-up, click Exclude…, type the reason, click Exclude: stored and audited,
    shown greyed with its reason, gone from reader B's worklist; Include brings it back."""
    follow_up = next(e for e in study.exams() if e.label == "follow-up")
    window = open_desk(qtbot, study)
    click_tab(qtbot, window.tabs, "Exams")
    page = window.setup_page
    click_cell(qtbot, page.exams_table, _row_of(page, follow_up.id))
    assert page.current_exam_id() == follow_up.id
    assert not page.include_button.isEnabled()

    click(qtbot, page.exclude_button)
    dialog = page.exclusion_dialog
    assert isinstance(dialog, ExclusionDialog)
    qtbot.waitExposed(dialog)
    assert not dialog.ok_button.isEnabled()  # no reason yet
    qtbot.keyClicks(dialog.reason_edit, "motion artefacts, unreadable")
    assert dialog.ok_button.isEnabled()
    click(qtbot, dialog.ok_button)

    stored = next(e for e in study.exams() if e.id == follow_up.id)
    assert stored.excluded_reason == "motion artefacts, unreadable"
    row = _row_of(page, follow_up.id)
    assert table_texts(page.exams_table, row)[-1] == "motion artefacts, unreadable"
    assert page.exams_table.item(row, 1).foreground().color().name() == "#9e9e9e"
    assert "Excluded" in page.exams_table.item(row, 0).toolTip()
    assert page.current_exam_id() == follow_up.id
    assert page.include_button.isEnabled()
    assert not page.exclude_button.isEnabled()
    assert "1 excluded" in page.exams_label.text()
    reader = sign_in(db, "B", "pass-phrase-B")
    assert isinstance(reader, ReaderSession)
    hidden = next(r.id for r in study.reads(include_excluded=True)
                  if r.reader_name == "B" and r.exam_id == follow_up.id)
    assert hidden not in {r.id for r in reader.worklist()}
    event = next(e for e in study.audit_log(20) if e.action == "exclude_exam")
    assert (event.target, event.new) == (f"exam {follow_up.id}", "motion artefacts, unreadable")

    click(qtbot, page.include_button)
    assert next(e for e in study.exams() if e.id == follow_up.id).excluded_at is None
    assert table_texts(page.exams_table, _row_of(page, follow_up.id))[-1] == ""
    assert hidden in {r.id for r in reader.worklist()}


def test_delete_is_refused_in_a_message_box_for_a_submitted_exam_and_done_after_confirmation(
        qtbot, db: Database, study: CoordinatorSession, nxp2) -> None:
    """An exam with a submitted read: Delete… shows the refusal in a message box and keeps it.
    The other exam (reads only assigned): Delete…, confirm, and it is gone with its reads."""
    baseline, follow_up = sorted(study.exams(), key=lambda e: e.id)
    reader = sign_in(db, "A", "pass-phrase-A")
    assert isinstance(reader, ReaderSession)
    read = next(r for r in study.reads() if r.reader_name == "A" and r.exam_id == baseline.id)
    for item in nxp2.items:
        reader.rate(read.id, item.key, nxp2.scales[item.scale].codes[0])
    reader.submit(read.id)

    window = open_desk(qtbot, study)
    click_tab(qtbot, window.tabs, "Exams")
    page = window.setup_page
    questions: list[str] = []

    def ask(title: str, text: str) -> bool:
        questions.append(text)
        return True

    page.ask = ask

    click_cell(qtbot, page.exams_table, _row_of(page, baseline.id))
    click(qtbot, page.delete_button)
    box = page.refusal_box
    assert isinstance(box, QMessageBox)
    qtbot.waitExposed(box)
    assert box.text() == (f"The exam cannot be deleted: exam {baseline.id} (SUBJ-01 · baseline) has 1 submitted "
                          "read; exclude it instead.")
    click(qtbot, box.button(QMessageBox.StandardButton.Ok))
    assert questions == []
    assert baseline.id in {e.id for e in study.exams()}

    click_cell(qtbot, page.exams_table, _row_of(page, follow_up.id))
    click(qtbot, page.delete_button)
    assert questions == [f"Delete exam {follow_up.id} (SUBJ-01 · follow-up): 2 reads with 0 ratings and 0 series?"
                         "\n\nThis cannot be undone (the audit trail keeps what was deleted; the image files are "
                         "not touched)."]
    assert [e.id for e in study.exams()] == [baseline.id]
    assert page.exams_table.rowCount() == 1
    assert page.message.kind == "info"
    assert follow_up.id not in {r.exam_id for r in study.reads(include_excluded=True)}
