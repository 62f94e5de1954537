"""The progress screen a coordinator can act on: filters by reader and status, consensus to
decide again, excluded exams; counts with the right plural."""

from __future__ import annotations

import pytest

from myoscore.app import CoordinatorSession, Database, ReaderSession, sign_in
from myoscore.app.analysis import reconcile_reads
from myoscore.app.study import reopen
from myoscore.gui.coordinator.progress_page import STALE_COLUMNS
from tests.gui.gui_helpers import click, click_tab, open_desk, submit_both, table_texts

pytestmark = pytest.mark.gui


def exclude_directly(db_path, exam_id: int, reason: str) -> None:
    """Mark an exam excluded in the database (the exclude use case is another screen's; this
    page only shows what is stored)."""
    import sqlite3

    with sqlite3.connect(db_path) as connection:
        connection.execute("UPDATE exams SET excluded_at = '2026-12-01 10:00:00.000000', excluded_reason = ? "
                           "WHERE id = ?", (reason, exam_id))


def test_filters_stale_consensus_and_excluded_exams(qtbot, db: Database, db_path, study: CoordinatorSession,
                                                    nxp2) -> None:
    """Both readers submit both exams and consensus is reconciled; B's read of the baseline
    is reopened and re-scored. Choosing B and then "in progress" with the keyboard leaves
    only that read; the stale list names the baseline's values and why; an excluded exam
    is listed with its reason after Refresh; the summary says "1 subject"."""
    from PySide6.QtCore import Qt

    submit_both(db, study, nxp2)
    reconcile_reads(study, "nxp2_lower_limb", ["A", "B"], "mean")
    baseline, follow_up = (e.id for e in study.exams())
    b_read = next(r for r in study.reads() if r.reader_name == "B" and r.exam_id == baseline)
    reopen(study, b_read.id, "second look")
    reader = sign_in(db, "B", "pass-phrase-B")
    assert isinstance(reader, ReaderSession)
    reader.rate(b_read.id, "edema.thigh.anterior.R", "5")

    window = open_desk(qtbot, study)
    click_tab(qtbot, window.tabs, "Progress")
    page = window.progress_page
    assert page.summary.text().startswith("1 subject, 2 exams, 4 reads, 3 submitted")
    assert page.table.rowCount() == 4
    assert page.shown_label.text() == ""

    page.reader_combo.setFocus()
    while page.reader_combo.currentText() != "B":
        qtbot.keyClick(page.reader_combo, Qt.Key.Key_Down)
    assert {table_texts(page.table, r)[0] for r in range(page.table.rowCount())} == {"B"}
    assert page.table.rowCount() == 2
    assert page.shown_label.text() == "2 of 4 reads shown"
    while page.status_combo.currentText() != "in progress":
        qtbot.keyClick(page.status_combo, Qt.Key.Key_Down)
    assert page.table.rowCount() == 1
    assert page.current_read() is None or page.current_read().id == b_read.id
    assert page.table.item(0, 0).data(Qt.ItemDataRole.UserRole) == b_read.id
    assert page.shown_label.text() == "1 of 4 reads shown"

    stale = page.stale_table
    assert stale.isVisible()
    assert [stale.horizontalHeaderItem(c).text() for c in range(stale.columnCount())] == list(STALE_COLUMNS)
    assert stale.rowCount() >= 1
    rows = [table_texts(stale, r) for r in range(stale.rowCount())]
    assert all(row[:3] == ["nxp2_lower_limb", "SUBJ-01", "baseline"] for row in rows)
    assert any(row[3] == "edema.thigh.anterior.R" for row in rows)
    assert all(f"B's read {b_read.id} was reopened" in row[4] for row in rows)
    assert "Consensus to decide again" in page.stale_label.text()

    assert not page.excluded_table.isVisible()
    assert page.excluded_label.text() == "No exam is excluded."
    exclude_directly(db_path, follow_up, "duplicate of the baseline images")
    click(qtbot, page.refresh_button)
    assert page.table.rowCount() == 1  # the filters stay: B's reopened baseline read
    excluded = page.excluded_table
    assert excluded.isVisible()
    assert excluded.rowCount() == 1
    assert table_texts(excluded, 0) == ["SUBJ-01", "follow-up", "2026-12-01 10:00", "duplicate of the baseline images"]
    assert "1 exam (" in page.excluded_label.text()
