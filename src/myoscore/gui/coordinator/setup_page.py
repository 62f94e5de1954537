"""Study set-up, part 1: import image folders, review exams and the classification of series.

Import runs in two jobs on a worker thread with its own database connection (see
:mod:`myoscore.gui.coordinator.jobs`). First :func:`myoscore.app.imports.plan_import`,
behind a progress dialog that counts the headers read and can cancel while they are read;
it writes nothing. Its plan is shown in the import preview (every series found and what
becomes of it: new exam, added to exam N, duplicate of series M, label map attached to
exam N, skipped and why) with **Import** and **Cancel**. Import runs
:func:`myoscore.app.imports.apply_import` on that plan and ends with the import summary.

The coordinator sees everything here, but text that can carry a patient's name —
SeriesDescription, a classification reason quoting it, import issues and folders naming
files — is hidden until "Reveal descriptions", which is audited
(:meth:`~myoscore.app.CoordinatorSession.reveal_series`, as ``series list --reveal``).
Readers never see it. The study settings box (timepoint blinding) sits above the import.

The selected exam can be excluded with a reason (:func:`myoscore.app.exam_lifecycle.exclude_exam`:
kept, shown greyed with its reason, left out of worklists and analysis), included again,
or deleted while no read of it is submitted; a refusal is shown in a message box.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressDialog,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from myoscore.app import CoordinatorSession, exam_lifecycle, study
from myoscore.app.changes import StudyChanges
from myoscore.app.imports import ImportPlan, ImportSummary, apply_import, plan_import, preview
from myoscore.app.progress import ProgressText
from myoscore.app.wording import plural
from myoscore.domain import Exam, MyoscoreError, Sequence, Series
from myoscore.gui.coordinator.image_server_box import ImageServerBox
from myoscore.gui.coordinator.import_dialogs import ImportPreviewDialog, ImportSummaryDialog
from myoscore.gui.coordinator.jobs import JobRunner, close_progress_dialog, job_progress_dialog
from myoscore.gui.coordinator.pacs_dialog import PacsDialog
from myoscore.gui.coordinator.study_settings_box import StudySettingsBox
from myoscore.gui.coordinator.widgets import (
    MessageLabel,
    Page,
    cell,
    fill_row,
    heading,
    hint,
    make_table,
    row_data,
)

__all__ = ["ExclusionDialog", "ImportPreviewDialog", "ImportSummaryDialog", "StudySetupPage"]

_TREATED = {"": None, "yes": True, "no": False}
HIDDEN = "(hidden: Reveal descriptions, audited)"
_EXCLUDED_TEXT = "#9e9e9e"  # excluded exams are shown greyed


def _treated_text(value: bool | None) -> str:
    return "" if value is None else ("yes" if value else "no")


class ExclusionDialog(QDialog):
    """Asks why an exam is excluded; OK stays disabled until a reason is typed."""

    def __init__(self, exam: Exam, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.exam = exam
        self.setWindowTitle("myoscore — exclude an exam")
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"Exclude {exam_lifecycle.exam_name(exam)} from the study?", self))
        layout.addWidget(hint("Its reads, ratings and consensus are kept; it leaves the readers' worklists, "
                              "agreement, consensus, scores, progress counts and exports until it is included "
                              "again. Both are kept in the audit trail.", self))
        self.reason_edit = QLineEdit(exam.excluded_reason or "", self)
        self.reason_edit.setPlaceholderText("reason (e.g. duplicate of exam 2, labels only, withdrawn consent)")
        layout.addWidget(self.reason_edit)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel,
                                        self)
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText("Exclude")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.reason_edit.textChanged.connect(self._on_reason_changed)
        self._on_reason_changed()
        self.resize(560, 160)

    def reason(self) -> str:
        return self.reason_edit.text().strip()

    def _on_reason_changed(self) -> None:
        self.ok_button.setEnabled(bool(self.reason()))


class StudySetupPage(Page):
    """Import folders; exams with their clinical fields; series and their classification."""

    shows = StudyChanges(exams=True, series=True, reads=True)
    import_finished = Signal(object)  # ImportSummary, or None when it failed or was cancelled

    def __init__(self, coordinator: CoordinatorSession, parent: QWidget | None = None) -> None:
        super().__init__(coordinator, parent)
        #: Asks for what to import ("folder" or "files"); tests replace it. Returns paths.
        self.choose_paths: Callable[[str], list[str]] = self._choose_paths_dialog
        self.jobs = JobRunner(coordinator, self)
        self.jobs.progressed.connect(self._on_import_progress)
        self.jobs.finished.connect(self._on_import_finished)
        self.jobs.failed.connect(self._on_import_failed)
        self.jobs.cancelled.connect(self._on_import_cancelled)
        self.progress_dialog: QProgressDialog | None = None
        self._progress_done = -1
        self._progress_text = ProgressText("Reading headers")
        self.summary_dialog: ImportSummaryDialog | None = None
        self.exclusion_dialog: ExclusionDialog | None = None
        self.refusal_box: QMessageBox | None = None
        self.preview_dialog: ImportPreviewDialog | None = None
        self.pacs_dialog: PacsDialog | None = None
        self._exams: list[Exam] = []
        self._series: list[Series] = []
        self._revealed_exam: int | None = None  # the exam whose descriptions were revealed (audited)

        layout = QVBoxLayout(self)
        layout.addWidget(heading("Exams and image series", self))
        self.settings_box = StudySettingsBox(coordinator, self)
        layout.addWidget(self.settings_box)
        self.server_box = ImageServerBox(coordinator, self)
        layout.addWidget(self.server_box)

        importing = QGroupBox("Import", self)
        import_layout = QHBoxLayout(importing)
        self.import_folder_button = QPushButton("Import folder…", importing)
        self.import_files_button = QPushButton("Import NIfTI files…", importing)
        self.pacs_button = QPushButton("From PACS…", importing)
        self.pacs_button.setToolTip("Find studies on a hospital PACS (C-FIND) and retrieve them (C-GET) into a "
                                    "folder, then import it as any folder, pseudonymised")
        self.subject_edit = QLineEdit(importing)
        self.subject_edit.setMinimumWidth(260)
        self.subject_edit.setPlaceholderText("new pseudonym, or PatientID link")
        self.subject_edit.setToolTip("Put every study found under this subject code. Empty: the subject its "
                                     "PatientID is linked to, or a new pseudonymous code (SUBJ-0007).")
        self.link_check = QCheckBox("Keep the PatientID → subject link", importing)
        self.link_check.setChecked(True)
        self.link_check.setToolTip("Coordinator-only; off: nothing identifying is stored at all.")
        self.attach_check = QCheckBox("Attach to the selected exam", importing)
        self.attach_check.setToolTip("Add every series found to the exam selected below (a label map from a "
                                     "segmentation tool, NIfTI files converted elsewhere).")
        import_layout.addWidget(self.import_folder_button)
        import_layout.addWidget(self.import_files_button)
        import_layout.addWidget(self.pacs_button)
        import_layout.addSpacing(12)
        import_layout.addWidget(QLabel("Subject code:", importing))
        import_layout.addWidget(self.subject_edit)
        import_layout.addWidget(self.link_check)
        import_layout.addWidget(self.attach_check)
        import_layout.addStretch(1)
        layout.addWidget(importing)
        self.message = MessageLabel(self)
        layout.addWidget(self.message)

        splitter = QSplitter(Qt.Orientation.Vertical, self)
        exams_box = QWidget(splitter)
        exams_layout = QVBoxLayout(exams_box)
        exams_layout.setContentsMargins(0, 0, 0, 0)
        self.exams_label = QLabel(exams_box)
        self.exams_label.setStyleSheet("font-weight: bold;")
        exams_layout.addWidget(self.exams_label)
        self.exams_table = make_table(("Subject", "Exam", "Date", "Months from onset", "Treated", "Series",
                                       "Reads", "Excluded"), exams_box, stretch=7)
        exams_layout.addWidget(self.exams_table, 1)
        edit = QHBoxLayout()
        self.label_edit = QLineEdit(exams_box)
        self.label_edit.setPlaceholderText("timepoint label")
        self.months_spin = QDoubleSpinBox(exams_box)
        self.months_spin.setRange(-1, 1200)
        self.months_spin.setDecimals(1)
        self.months_spin.setSpecialValueText("unknown")
        self.months_spin.setValue(-1)
        self.treated_combo = QComboBox(exams_box)
        self.treated_combo.addItems(list(_TREATED))
        self.save_exam_button = QPushButton("Save exam", exams_box)
        edit.addWidget(QLabel("Label:", exams_box))
        edit.addWidget(self.label_edit)
        edit.addWidget(QLabel("Months from onset:", exams_box))
        edit.addWidget(self.months_spin)
        edit.addWidget(QLabel("Treated:", exams_box))
        edit.addWidget(self.treated_combo)
        edit.addWidget(self.save_exam_button)
        edit.addStretch(1)
        self.exclude_button = QPushButton("Exclude…", exams_box)
        self.exclude_button.setToolTip("Leave the selected exam out of worklists, agreement, scores and exports, "
                                       "with a reason; its reads and ratings are kept")
        self.include_button = QPushButton("Include", exams_box)
        self.include_button.setToolTip("Bring the selected excluded exam back, with its reads and ratings")
        self.delete_button = QPushButton("Delete…", exams_box)
        self.delete_button.setToolTip("Delete the selected exam, if no read of it is submitted (its series rows "
                                      "and unsubmitted reads go too; image files stay)")
        edit.addWidget(self.exclude_button)
        edit.addWidget(self.include_button)
        edit.addWidget(self.delete_button)
        exams_layout.addLayout(edit)

        series_box = QWidget(splitter)
        series_layout = QVBoxLayout(series_box)
        series_layout.setContentsMargins(0, 0, 0, 0)
        self.series_label = QLabel(series_box)
        self.series_label.setStyleSheet("font-weight: bold;")
        self.reveal_button = QPushButton("Reveal descriptions", series_box)
        self.reveal_button.setToolTip("Show the selected exam's SeriesDescriptions, classification reasons, import "
                                      "issues and folders: text that can carry a patient's name (audited)")
        series_title = QHBoxLayout()
        series_title.addWidget(self.series_label)
        series_title.addStretch(1)
        series_title.addWidget(self.reveal_button)
        series_layout.addLayout(series_title)
        series_layout.addWidget(hint("The sequence kind decides where a series is shown to readers (STIR and T1 "
                                     "side by side; label maps as overlays). Check the reason given and "
                                     "override a wrong classification (audited).", series_box))
        self.series_table = make_table(("Series", "Kind", "Why", "Description", "Regions", "Matrix",
                                        "Spacing (mm)", "Files", "Issues"), series_box, stretch=8)
        series_layout.addWidget(self.series_table, 1)
        override = QHBoxLayout()
        self.kind_combo = QComboBox(series_box)
        self.kind_combo.addItems([kind.value for kind in Sequence])
        self.reason_edit = QLineEdit(series_box)
        self.reason_edit.setPlaceholderText("why (kept with the series and in the audit trail)")
        self.set_kind_button = QPushButton("Set kind", series_box)
        override.addWidget(QLabel("Override the selected series' kind:", series_box))
        override.addWidget(self.kind_combo)
        override.addWidget(self.reason_edit, 1)
        override.addWidget(self.set_kind_button)
        series_layout.addLayout(override)
        splitter.addWidget(exams_box)
        splitter.addWidget(series_box)
        splitter.setSizes([300, 420])
        layout.addWidget(splitter, 1)

        self.import_folder_button.clicked.connect(lambda: self.start_import(self.choose_paths("folder")))
        self.import_files_button.clicked.connect(lambda: self.start_import(self.choose_paths("files")))
        self.exams_table.currentCellChanged.connect(lambda *_: self._on_exam_selected())
        self.series_table.currentCellChanged.connect(lambda *_: self._on_series_selected())
        self.pacs_button.clicked.connect(self.open_pacs)
        self.save_exam_button.clicked.connect(self.save_exam)
        self.exclude_button.clicked.connect(self.ask_exclude)
        self.include_button.clicked.connect(self.include_exam)
        self.delete_button.clicked.connect(self.delete_exam)
        self.set_kind_button.clicked.connect(self.set_kind)
        self.reveal_button.clicked.connect(self.reveal_descriptions)
        self.settings_box.changed.connect(self.changed.emit)
        self.settings_box.said.connect(self.message.show_message)
        self.server_box.said.connect(self.message.show_message)
        self.refresh()

    # ------------------------------------------------------------------ import
    def _choose_paths_dialog(self, what: str) -> list[str]:
        if what == "folder":
            folder = QFileDialog.getExistingDirectory(self, "Import a folder of DICOM or NIfTI files")
            return [folder] if folder else []
        files, _ = QFileDialog.getOpenFileNames(self, "Import NIfTI files", "", "NIfTI (*.nii *.nii.gz);;All files (*)")
        return list(files)

    def start_import(self, paths: list[str]) -> None:
        """Import ``paths`` on a worker thread behind a progress dialog."""
        if not paths:
            return
        exam_id = self.current_exam_id() if self.attach_check.isChecked() else None
        if self.attach_check.isChecked() and exam_id is None:
            self.message.show_message("Select the exam to attach the series to, or untick "
                                      "“Attach to the selected exam”.", "error")
            return
        subject = self.subject_edit.text().strip() or None
        link = self.link_check.isChecked()
        folders = [Path(p) for p in paths]
        self.message.clear_message()
        self._show_progress("Finding files …", cancel=True)

        def work(coordinator: CoordinatorSession, progress: Callable[[int, int], None]) -> ImportPlan:
            # Decides everything, writes nothing: the preview shows it before Import.
            return plan_import(coordinator, folders, subject_code=subject, exam_id=exam_id, link_identity=link,
                               progress=progress)

        self._start_job(work)

    def _show_progress(self, text: str, *, cancel: bool) -> None:
        self.progress_dialog = job_progress_dialog(self, text, "import", self.jobs.cancel if cancel else None)
        self._progress_done = -1
        self._progress_text = ProgressText("Reading headers")

    def _start_job(self, work: Callable[[CoordinatorSession, Callable[[int, int], None]], object]) -> None:
        try:
            self.jobs.start(work)
        except MyoscoreError as exc:
            self._close_progress()
            self.message.show_message(str(exc), "error")

    def _on_plan_ready(self, plan: ImportPlan) -> None:
        """Show what the import will do; Import writes the plan, Cancel leaves the study as it was."""
        self._close_progress()
        dialog = ImportPreviewDialog(preview(plan), self)
        dialog.accepted.connect(lambda: self._apply(plan))
        dialog.rejected.connect(self._on_preview_cancelled)
        self.preview_dialog = dialog
        dialog.open()

    def _on_preview_cancelled(self) -> None:
        self.preview_dialog = None
        self.message.show_message("Import cancelled after the preview: nothing was added.", "note")
        self.import_finished.emit(None)

    def _apply(self, plan: ImportPlan) -> None:
        self.preview_dialog = None
        self._show_progress("Registering series …", cancel=False)

        def work(coordinator: CoordinatorSession, _progress: Callable[[int, int], None]) -> ImportSummary:
            return apply_import(coordinator, plan)

        self._start_job(work)

    def open_pacs(self) -> None:
        """The PACS dialog (find, retrieve, import); the study refreshes after each import."""
        dialog = PacsDialog(self.coordinator, self)
        dialog.imported.connect(self._on_pacs_import)
        self.pacs_dialog = dialog
        dialog.open()

    def _on_pacs_import(self, summary: ImportSummary | None) -> None:
        if summary is None:
            return
        self.message.show_message("Import from the PACS finished: " + summary.lines()[0], "info")
        self.changed.emit(summary.changes)
        self.refresh()

    def _on_import_progress(self, done: int, total: int) -> None:
        dialog = self.progress_dialog
        if dialog is None or done < self._progress_done:
            return
        self._progress_done = done
        self._progress_text.update(done, total)
        if done >= total:
            # Every header is read; what is left (comparing series) is not cancelled half-way.
            dialog.setLabelText(f"{total} files read. Comparing with the study's series …")
            dialog.setCancelButton(None)
        else:
            # "Reading headers: 300 / 7000 files (4 %), 500 files/s, about 13 s left"
            dialog.setLabelText(self._progress_text.text())
        dialog.setMaximum(max(total, 1))
        # Last: a modal progress dialog's setValue processes events, so the next step may
        # be handled inside this call (and a late, smaller one is ignored above).
        dialog.setValue(done)

    def _close_progress(self) -> None:
        dialog, self.progress_dialog = self.progress_dialog, None
        close_progress_dialog(dialog)

    def _on_import_finished(self, result: ImportPlan | ImportSummary) -> None:
        if isinstance(result, ImportPlan):
            self._on_plan_ready(result)
            return
        summary = result
        self._close_progress()
        self.message.show_message("Import finished: " + summary.lines()[0], "info")
        self.status.emit("Import finished.")
        self.changed.emit(summary.changes)
        self.refresh()
        self.summary_dialog = ImportSummaryDialog(summary, self)
        self.summary_dialog.show()
        self.import_finished.emit(summary)

    def _on_import_failed(self, text: str) -> None:
        self._close_progress()
        self.message.show_message(f"Import failed: {text}", "error")
        self.import_finished.emit(None)

    def _on_import_cancelled(self) -> None:
        self._close_progress()
        self.message.show_message("Import cancelled while reading headers: nothing was added.", "note")
        self.import_finished.emit(None)

    # ------------------------------------------------------------------- exams
    def refresh(self) -> None:
        current = self.current_exam_id()
        # By subject, then by date where known (the store lists exams as they were entered).
        self._exams = sorted(self.coordinator.exams(), key=lambda e: (
            e.subject_code, e.exam_date is None, e.exam_date.toordinal() if e.exam_date else 0, e.id))
        series = self.coordinator.series()
        reads = self.coordinator.reads(include_excluded=True)
        n_series = {exam.id: 0 for exam in self._exams}
        for record in series:
            n_series[record.exam_id] = n_series.get(record.exam_id, 0) + 1
        n_reads = {exam.id: 0 for exam in self._exams}
        for read in reads:
            n_reads[read.exam_id] = n_reads.get(read.exam_id, 0) + 1
        subjects = len({exam.subject_code for exam in self._exams})
        excluded = sum(exam.excluded_at is not None for exam in self._exams)
        self.exams_label.setText(f"{plural(len(self._exams), 'exam')} of {plural(subjects, 'subject')}, "
                                 f"{plural(len(series), 'series')}" + (f"; {excluded} excluded" if excluded else ""))
        table = self.exams_table
        table.blockSignals(True)
        table.setRowCount(len(self._exams))
        for row, exam in enumerate(self._exams):
            months = "" if exam.months_from_onset is None else f"{exam.months_from_onset:g}"
            fill_row(table, row, (
                cell(exam.subject_code, data=exam.id), cell(exam.label),
                cell(exam.exam_date.isoformat() if exam.exam_date else ""), cell(months, right=True),
                cell(_treated_text(exam.treated)), cell(n_series[exam.id], right=True),
                cell(n_reads[exam.id], right=True), cell(exam.excluded_reason or "")))
            if exam.excluded_at is not None:
                why = f"Excluded {exam.excluded_at:%Y-%m-%d %H:%M} UTC: {exam.excluded_reason}"
                for column in range(table.columnCount()):
                    item = table.item(row, column)
                    assert item is not None  # fill_row set every column
                    item.setForeground(QBrush(QColor(_EXCLUDED_TEXT)))
                    item.setToolTip(why)
        ids = [exam.id for exam in self._exams]
        table.blockSignals(False)
        if ids:
            table.selectRow(ids.index(current) if current in ids else 0)
        self._on_exam_selected()

    def current_exam_id(self) -> int | None:
        data = row_data(self.exams_table)
        return int(data) if isinstance(data, int) else None

    def select_exam(self, exam_id: int) -> None:
        for row in range(self.exams_table.rowCount()):
            if row_data(self.exams_table, row) == exam_id:
                self.exams_table.selectRow(row)
                return

    def _on_exam_selected(self) -> None:
        exam = self.current_exam()
        self.save_exam_button.setEnabled(exam is not None)
        self.exclude_button.setEnabled(exam is not None and exam.excluded_at is None)
        self.include_button.setEnabled(exam is not None and exam.excluded_at is not None)
        self.delete_button.setEnabled(exam is not None)
        if exam is None:
            self.series_label.setText("Series: no exam selected")
            self._series = []
            self.series_table.setRowCount(0)
            self._on_series_selected()
            return
        self.label_edit.setText(exam.label)
        self.months_spin.setValue(exam.months_from_onset if exam.months_from_onset is not None else -1)
        self.treated_combo.setCurrentText(_treated_text(exam.treated))
        self._show_series(exam)

    def current_exam(self) -> Exam | None:
        return next((e for e in self._exams if e.id == self.current_exam_id()), None)

    def ask_exclude(self) -> None:
        """Ask for the reason (a window-modal dialog); OK excludes the exam."""
        exam = self.current_exam()
        if exam is None:
            return
        dialog = ExclusionDialog(exam, self)
        dialog.accepted.connect(lambda: self.exclude_exam(exam.id, dialog.reason()))
        self.exclusion_dialog = dialog
        dialog.open()

    def exclude_exam(self, exam_id: int, reason: str) -> None:
        """Exclude an exam with ``reason`` (audited); shown greyed with its reason."""
        try:
            done = exam_lifecycle.exclude_exam(self.coordinator, exam_id, reason)
        except MyoscoreError as exc:
            self._refused("The exam was not excluded", str(exc))
            return
        self.message.show_message(f"Excluded {exam_lifecycle.exam_name(done.value)}: {done.value.excluded_reason}. "
                                  "Its reads and ratings are kept; Include brings it back.", "info")
        self._after(done.changes)

    def include_exam(self) -> None:
        """Include the selected excluded exam again (audited)."""
        exam = self.current_exam()
        if exam is None:
            return
        try:
            done = exam_lifecycle.include_exam(self.coordinator, exam.id)
        except MyoscoreError as exc:
            self._refused("The exam was not included", str(exc))
            return
        self.message.show_message(f"Included {exam_lifecycle.exam_name(done.value)} again.", "info")
        self._after(done.changes)

    def delete_exam(self) -> None:
        """Delete the selected exam after saying what goes with it; a refusal (a submitted
        read) is shown in a message box."""
        exam = self.current_exam()
        if exam is None:
            return
        try:
            plan = exam_lifecycle.deletion_plan(self.coordinator, exam.id)
            if not self.ask("Delete the exam", f"Delete {plan.sentence()}?\n\nThis cannot be undone (the audit "
                            "trail keeps what was deleted; the image files are not touched)."):
                return
            done = exam_lifecycle.delete_exam(self.coordinator, exam.id)
        except MyoscoreError as exc:
            self._refused("The exam cannot be deleted", str(exc))
            return
        self.message.show_message(f"Deleted {done.value.sentence()}.", "info")
        self._after(done.changes)

    def _refused(self, title: str, text: str) -> None:
        box = QMessageBox(QMessageBox.Icon.Warning, f"myoscore — {title.lower()}", f"{title}: {text}.",
                          QMessageBox.StandardButton.Ok, self)
        self.refusal_box = box
        box.open()

    def _after(self, changes: StudyChanges) -> None:
        self.status.emit(self.message.text())
        self.changed.emit(changes)
        self.refresh()

    def save_exam(self) -> None:
        """Store the selected exam's label and clinical fields (audited, old → new)."""
        exam_id = self.current_exam_id()
        if exam_id is None:
            return
        months = self.months_spin.value()
        try:
            done = study.update_exam(self.coordinator, exam_id, label=self.label_edit.text().strip() or None,
                                     months_from_onset=None if months < 0 else months,
                                     treated=_TREATED[self.treated_combo.currentText()])
        except MyoscoreError as exc:
            self.message.show_message(str(exc), "error")
            return
        self.status.emit("Exam saved." if done.changes else "Nothing to save: the exam is unchanged.")
        self.changed.emit(done.changes)
        self.refresh()

    # ------------------------------------------------------------------ series
    def reveal_descriptions(self) -> None:
        """Show the selected exam's identifying series text; audited (``reveal_series_descriptions``)."""
        exam = next((e for e in self._exams if e.id == self.current_exam_id()), None)
        if exam is None:
            return
        self._series = self.coordinator.reveal_series(exam.id)
        self._revealed_exam = exam.id
        self._show_series(exam, fetched=True)
        self.status.emit(f"Series descriptions of {exam.subject_code} · {exam.label} shown (audited).")

    def _show_series(self, exam: Exam, *, fetched: bool = False) -> None:
        current = row_data(self.series_table)
        if self._revealed_exam != exam.id:
            self._revealed_exam = None  # another exam: hidden again until revealed (and audited)
        if not fetched:
            self._series = self.coordinator.series(exam.id)
        revealed = self._revealed_exam == exam.id
        self.reveal_button.setEnabled(not revealed and bool(self._series))
        self.series_label.setText(f"Series of {exam.subject_code} · {exam.label}: {len(self._series)}"
                                  + (" (descriptions revealed)" if revealed else ""))
        table = self.series_table
        table.blockSignals(True)
        table.setRowCount(len(self._series))
        for row, record in enumerate(self._series):
            overridden = record.overridden
            # A reason quoting the description, issues (they name files) and the folder are
            # as identifying as the description itself.
            reason = record.kind_reason if revealed or "'" not in record.kind_reason else HIDDEN
            issues = "; ".join(record.issues) if revealed else (
                f"{plural(len(record.issues), 'issue')} {HIDDEN}" if record.issues else "")
            fill_row(table, row, (
                cell(record.id, right=True, data=record.id),
                cell(record.kind.value, bold=overridden, background="#fff8e1" if overridden else None),
                cell(reason, tooltip=reason),
                cell(record.description if revealed else HIDDEN),
                cell(", ".join(record.regions) or "unknown",
                     tooltip="Atlas regions this series covers (its station): from a label map in its z-range, "
                             "else from its description"),
                cell(" × ".join(str(n) for n in record.shape)),
                cell(" × ".join(f"{s:g}" for s in record.spacing)),
                cell(record.n_files, right=True, tooltip=record.path if revealed else ""),
                cell(issues, tooltip="\n".join(record.issues) if revealed else "",
                     background="#fff3e0" if record.issues else None)))
        table.blockSignals(False)
        ids = [record.id for record in self._series]
        if ids:
            table.selectRow(ids.index(current) if current in ids else 0)
        self._on_series_selected()

    def _on_series_selected(self) -> None:
        record = self.current_series()
        self.set_kind_button.setEnabled(record is not None)
        if record is not None:
            self.kind_combo.setCurrentText(record.kind.value)

    def current_series(self) -> Series | None:
        series_id = row_data(self.series_table)
        return next((s for s in self._series if s.id == series_id), None)

    def set_kind(self) -> None:
        """Override the selected series' classification (audited)."""
        record = self.current_series()
        if record is None:
            return
        kind = Sequence(self.kind_combo.currentText())
        try:
            done = study.set_series_kind(self.coordinator, record.id, kind, self.reason_edit.text().strip())
        except MyoscoreError as exc:
            self.message.show_message(str(exc), "error")
            return
        updated = done.value
        self.reason_edit.clear()
        self.message.show_message(f"Series {updated.id} is now {updated.kind.value} ({updated.kind_reason}).", "info")
        self.changed.emit(done.changes)
        exam = next((e for e in self._exams if e.id == updated.exam_id), None)
        if exam is not None:
            self._show_series(exam)
