"""The coordinator's study set-up: import with progress, exams, classification override."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QProgressDialog, QPushButton

from myoscore.app import CoordinatorSession, Database, sign_in
from myoscore.domain import Role, Sequence
from myoscore.gui.app import CoordinatorWindow, window_for
from myoscore.phantom import write_phantom
from tests.gui.gui_helpers import click, click_cell, click_tab, open_desk, table_texts

pytestmark = pytest.mark.gui


@pytest.fixture
def dicom_folder(tmp_path: Path) -> Path:
    """The phantom's DICOM folder (two exams, STIR + T1 of thigh and calf) with two files to skip."""
    info = write_phantom(tmp_path / "phantom", shape=(6, 64, 64))
    folder = info.out_dir / "dicom"
    (folder / "notes.txt").write_text("scanner notes", encoding="utf-8")
    (folder / "baseline" / "truncated.dcm").write_bytes(b"DICM" * 8)
    return folder


def test_a_coordinator_signs_in_to_the_desk(qtbot, db: Database, coordinator: CoordinatorSession) -> None:
    """sign-in → window_for routes a coordinator to the coordinator's window, with every screen."""
    coordinator.add_reader("coord", Role.COORDINATOR, "pass-phrase-c")
    window = window_for(sign_in(db, "coord", "pass-phrase-c"))
    qtbot.addWidget(window)
    assert isinstance(window, CoordinatorWindow)
    assert window.windowTitle() == "myoscore — coord — coordinator"
    titles = [window.tabs.tabText(i).replace("&&", "&") for i in range(window.tabs.count())]
    assert titles == ["Exams & import", "Readers & assignment", "Progress", "Agreement", "Consensus review",
                      "Scores"]


def _wait_for_preview(qtbot, page):
    qtbot.waitUntil(lambda: page.preview_dialog is not None and page.preview_dialog.isVisible(), timeout=30_000)
    return page.preview_dialog


def test_import_runs_with_progress_and_ends_with_the_summary(qtbot, monkeypatch, coordinator: CoordinatorSession,
                                                            dicom_folder: Path) -> None:
    """Import button → progress dialog counting headers (worker thread) → preview of the
    plan → Import → summary with the series count, what became of each folder, and every
    skipped file with why; exams and series appear in the tables."""
    from myoscore.gui.coordinator import jobs

    labels: list[str] = []

    class RecordingProgressDialog(QProgressDialog):
        def setLabelText(self, text: str) -> None:  # noqa: N802 - overrides Qt's method
            labels.append(text)
            super().setLabelText(text)

    monkeypatch.setattr(jobs, "QProgressDialog", RecordingProgressDialog)  # job_progress_dialog makes it
    window = open_desk(qtbot, coordinator)
    page = window.setup_page
    page.choose_paths = lambda what: [str(dicom_folder)] if what == "folder" else []
    seen: list[tuple[int, int]] = []
    page.jobs.progressed.connect(lambda done, total: seen.append((done, total)))
    click(qtbot, page.import_folder_button)
    assert page.progress_dialog is not None
    assert page.progress_dialog.isVisible()
    preview = _wait_for_preview(qtbot, page)
    assert page.progress_dialog is None  # closed
    total = seen[0][1]
    assert seen[0][0] == 0
    assert max(done for done, _ in seen) == total
    assert any(text.startswith("Reading headers:") for text in labels)
    assert labels[-1] == f"{total} files read. Comparing with the study's series …"
    assert coordinator.exams() == []  # the preview wrote nothing
    with qtbot.waitSignal(page.import_finished, timeout=30_000) as finished:
        click(qtbot, preview.import_button)
    summary = finished.args[0]
    assert summary is not None
    assert summary.series_added == 8
    assert summary.exams_added == 2
    assert max(done for done, _ in seen) >= summary.n_files - 1
    assert page.progress_dialog is None  # closed

    dialog = page.summary_dialog
    assert dialog is not None
    assert dialog.isVisible()
    assert "8 series added" in dialog.headline.text()
    assert "2 files skipped" in dialog.headline.text()
    rows = [table_texts(dialog.series, r) for r in range(dialog.series.rowCount())]
    assert len(rows) == 8
    assert all(" in new exam " in becomes for _, _, becomes in rows)
    skipped = {Path(table_texts(dialog.skipped, r)[0]).name: table_texts(dialog.skipped, r)[1]
               for r in range(dialog.skipped.rowCount())}
    assert set(skipped) == {"notes.txt", "truncated.dcm"}
    assert all("not a DICOM file" in reason for reason in skipped.values())
    dialog.close()

    assert page.exams_table.rowCount() == 2
    assert "2 exams of 1 subject, 8 series" in page.exams_label.text()
    assert page.series_table.rowCount() == 4
    kinds = {table_texts(page.series_table, r)[1] for r in range(4)}
    assert kinds == {"STIR", "T1"}
    # Why, as the classifier said: hidden where it quotes the SeriesDescription, until revealed (audited).
    assert all("→" in table_texts(page.series_table, r)[2] or "hidden" in table_texts(page.series_table, r)[2]
               for r in range(4))
    click(qtbot, page.reveal_button)
    assert all("→" in table_texts(page.series_table, r)[2] for r in range(4))


def test_import_preview_lists_the_plan_and_cancel_writes_nothing(qtbot, coordinator: CoordinatorSession,
                                                                tmp_path: Path, db_path: Path) -> None:
    """A whole phantom folder (DICOM, its NIfTI conversions, label maps) on a study that holds
    its baseline: the preview names each folder's fate — duplicates of stored series, new
    exam, label maps attached — and Cancel leaves the database byte for byte as it was."""
    from myoscore.app.imports import import_paths

    info = write_phantom(tmp_path / "phantom", shape=(6, 64, 64))
    import_paths(coordinator, [info.out_dir / "dicom" / "baseline"])
    stored = {s.path: s for s in coordinator.series()}
    before = db_path.read_bytes()
    window = open_desk(qtbot, coordinator)
    page = window.setup_page
    page.choose_paths = lambda _what: [str(info.out_dir)]
    click(qtbot, page.import_folder_button)
    preview = _wait_for_preview(qtbot, page)
    assert preview.windowTitle() == "myoscore — import preview"
    assert "nothing written yet" in preview.headline.text()
    rows = {tuple(table_texts(preview.series, r)) for r in range(preview.series.rowCount())}
    by_name: dict[str, list[str]] = {}
    for name, _holds, becomes in rows:
        by_name.setdefault(name.split("/", 1)[1], []).append(becomes)
    stir = stored[str(info.out_dir / "dicom" / "baseline" / "thigh_stir")]
    assert by_name["nifti/baseline/thigh_stir.nii.gz"] == [
        f"duplicate of series {stir.id} of exam {stir.exam_id} ({stir.path}): same grid and voxels, not added"]
    assert by_name["dicom/baseline/thigh_stir"] == [f"already imported as series {stir.id} of exam {stir.exam_id}"]
    assert by_name["dicom/followup/thigh_stir"] == ["to new exam #1 (subject " + stir_subject(coordinator) + ")"]
    assert sorted(by_name["labels/thigh_labels.nii.gz"]) == [
        f"label map to be attached to exam {stir.exam_id} (on the grid of its image series)",
        f"label map to be attached to new exam #1 (subject {stir_subject(coordinator)}) (on the grid of its "
        "image series)",
    ]
    with qtbot.waitSignal(page.import_finished, timeout=10_000) as finished:
        click(qtbot, preview.cancel_button)
    assert finished.args[0] is None
    assert "nothing was added" in page.message.text()
    assert db_path.read_bytes() == before
    assert len(coordinator.exams()) == 1


def stir_subject(coordinator: CoordinatorSession) -> str:
    (subject,) = coordinator.subjects()
    return subject.code


def test_a_cancelled_import_adds_nothing(qtbot, monkeypatch, coordinator: CoordinatorSession,
                                         dicom_folder: Path) -> None:
    """Cancel in the progress dialog while headers are read: the worker stops before anything
    is registered. (The worker waits at its third header until the click has been made, so the
    small phantom cannot finish first.)"""
    from myoscore.app.imports import plan_import
    from myoscore.gui.coordinator import setup_page

    window = open_desk(qtbot, coordinator)
    page = window.setup_page
    page.choose_paths = lambda _what: [str(dicom_folder)]
    real_plan = plan_import  # what setup_page calls, until replaced below

    def slow_plan(coordinator, paths, *, progress, **options):
        def step(done: int, total: int) -> None:
            progress(done, total)
            if done == 3:
                assert page.jobs.cancel_requested.wait(10)

        return real_plan(coordinator, paths, progress=step, **options)

    def click_cancel(done: int, _total: int) -> None:
        if done == 3:
            click(qtbot, page.progress_dialog.findChild(QPushButton))

    monkeypatch.setattr(setup_page, "plan_import", slow_plan)
    page.jobs.progressed.connect(click_cancel)
    with qtbot.waitSignal(page.import_finished, timeout=30_000) as finished:
        click(qtbot, page.import_folder_button)
    assert finished.args[0] is None
    assert "nothing was added" in page.message.text()
    assert page.preview_dialog is None
    assert coordinator.series() == []
    assert coordinator.exams() == []


def test_classification_override_is_stored_and_audited(qtbot, imaged_study: CoordinatorSession) -> None:
    """Select a series, pick another kind, give a reason, click Set kind: stored, shown, audited."""
    window = open_desk(qtbot, imaged_study)
    click_tab(qtbot, window.tabs, "Exams")
    page = window.setup_page
    click_cell(qtbot, page.exams_table, 1)
    exam = imaged_study.exams()[1]
    assert page.current_exam_id() == exam.id
    t1_row = next(r for r in range(page.series_table.rowCount()) if table_texts(page.series_table, r)[1] == "T1")
    click_cell(qtbot, page.series_table, t1_row, 3)
    series_id = int(table_texts(page.series_table, t1_row)[0])
    page.kind_combo.setCurrentText("T2")
    qtbot.keyClicks(page.reason_edit, "fat-suppressed T2 by protocol sheet")
    click(qtbot, page.set_kind_button)

    stored = next(s for s in imaged_study.series(exam.id) if s.id == series_id)
    assert stored.kind is Sequence.T2
    assert stored.kind_reason == "set by test-coordinator: fat-suppressed T2 by protocol sheet"
    row = next(r for r in range(page.series_table.rowCount()) if table_texts(page.series_table, r)[0] == str(series_id))
    assert table_texts(page.series_table, row)[1:3] == ["T2", stored.kind_reason]
    event = next(e for e in imaged_study.audit_log(20) if e.action == "set_series_kind")
    assert (event.actor, event.target, event.old, event.new) == ("test-coordinator", f"series {series_id}", "T1", "T2")


def test_exam_clinical_fields_are_saved(qtbot, study: CoordinatorSession) -> None:
    """The selected exam's label, months from onset and treatment are stored (audited)."""
    window = open_desk(qtbot, study)
    click_tab(qtbot, window.tabs, "Exams")
    page = window.setup_page
    click_cell(qtbot, page.exams_table, 0)
    page.label_edit.clear()
    qtbot.keyClicks(page.label_edit, "screening")
    page.months_spin.setValue(7.5)
    page.treated_combo.setCurrentText("yes")
    click(qtbot, page.save_exam_button)
    exam = study.exams()[0]
    assert (exam.label, exam.months_from_onset, exam.treated) == ("screening", 7.5, True)
    assert table_texts(page.exams_table, 0)[1:5] == ["screening", "", "7.5", "yes"]


def test_clearing_a_clinical_field_clears_it(qtbot, study: CoordinatorSession) -> None:
    """Regression: setting months from onset back to "unknown" and treated to blank stored
    nothing (the old values stayed) while the page said "Exam saved"."""
    window = open_desk(qtbot, study)
    click_tab(qtbot, window.tabs, "Exams")
    page = window.setup_page
    click_cell(qtbot, page.exams_table, 0)
    before = study.exams()[0]
    assert (before.months_from_onset, before.treated) == (2.0, False)
    page.months_spin.setFocus()
    qtbot.keyClick(page.months_spin, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(page.months_spin, "-1")
    qtbot.keyClick(page.months_spin, Qt.Key.Key_Return)
    assert page.months_spin.text() == "unknown"
    page.treated_combo.setFocus()
    qtbot.keyClick(page.treated_combo, Qt.Key.Key_Home)
    assert page.treated_combo.currentText() == ""
    click(qtbot, page.save_exam_button)
    exam = study.exams()[0]
    assert (exam.months_from_onset, exam.treated) == (None, None)
    assert table_texts(page.exams_table, 0)[3:5] == ["", ""]
    cleared = [e for e in study.audit_log(10) if e.action in {"set_exam_months_from_onset", "set_exam_treated"}]
    assert {(e.action, e.old, e.new) for e in cleared} == {("set_exam_months_from_onset", "2.0", None),
                                                           ("set_exam_treated", "False", None)}
