"""Import from a hospital PACS: find studies (C-FIND) and retrieve them (C-GET, or C-MOVE
to this workstation) into a folder, then the ordinary folder import — the same
pseudonymisation and the same ``app.pacs`` calls as ``myoscore pacs find`` / ``retrieve``.

The answers of a PACS identify patients (PatientID, accession number, study date): this
dialog is the coordinator's only, never stored, and gone when closed; what reaches the
study is the import's pseudonymous subject code (and the PatientID → subject link, as for
a folder import).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from myoscore.app import CoordinatorSession
from myoscore.app.imports import ImportSummary
from myoscore.app.pacs import StudyMatch, find_studies, retrieve_studies
from myoscore.app.wording import plural
from myoscore.domain import ImageServerSettings, MyoscoreError
from myoscore.gui.coordinator.jobs import JobRunner
from myoscore.gui.coordinator.widgets import MessageLabel, cell, fill_row, make_table

__all__ = ["PacsDialog"]

COLUMNS = ("Patient ID", "Accession", "Study date", "Modalities", "Description", "Study UID")


class PacsDialog(QDialog):
    """Find, choose, retrieve and import; ``imported`` carries the ImportSummary."""

    imported = Signal(object)  # ImportSummary, or None when retrieval failed

    def __init__(self, coordinator: CoordinatorSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.coordinator = coordinator
        self.setWindowTitle("myoscore — import from a PACS")
        self.resize(980, 560)
        #: Asks for the folder the retrieved files go to; tests replace it. "" cancels.
        self.choose_folder: Callable[[], str] = self._choose_folder_dialog
        self.matches: list[StudyMatch] = []
        self.jobs = JobRunner(coordinator, self)
        self.jobs.finished.connect(self._on_retrieved)
        self.jobs.failed.connect(self._on_failed)

        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.host_edit = QLineEdit(self)
        self.host_edit.setPlaceholderText("pacs.hospital.org")
        self.port_spin = QSpinBox(self)
        self.port_spin.setRange(1, 65535)
        self.port_spin.setValue(104)
        self.ae_edit = QLineEdit("PACS", self)
        self.calling_edit = QLineEdit("MYOSCORE", self)
        self.calling_edit.setToolTip("This workstation's AE title, as the PACS knows it")
        form.addRow("PACS host", self.host_edit)
        form.addRow("port", self.port_spin)
        form.addRow("its AE title", self.ae_edit)
        form.addRow("this workstation's AE title", self.calling_edit)
        self.patient_edit = QLineEdit(self)
        self.accession_edit = QLineEdit(self)
        self.date_edit = QLineEdit(self)
        self.date_edit.setPlaceholderText("YYYYMMDD or YYYYMMDD-YYYYMMDD")
        form.addRow("Patient ID", self.patient_edit)
        form.addRow("Accession number", self.accession_edit)
        form.addRow("Study date", self.date_edit)
        layout.addLayout(form)
        self.find_button = QPushButton("Find", self)
        self.find_button.setDefault(True)
        layout.addWidget(self.find_button, 0, Qt.AlignmentFlag.AlignLeft)
        self.table = make_table(COLUMNS, self, stretch=4)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        layout.addWidget(self.table, 1)
        self.message = MessageLabel(self)
        layout.addWidget(self.message)
        buttons = QHBoxLayout()
        self.retrieve_button = QPushButton("Retrieve and import…", self)
        self.retrieve_button.setToolTip("C-GET the selected studies into a folder you choose, then import that "
                                        "folder (pseudonymised, as any folder import)")
        self.retrieve_button.setEnabled(False)
        self.close_button = QPushButton("Close", self)
        buttons.addStretch(1)
        buttons.addWidget(self.retrieve_button)
        buttons.addWidget(self.close_button)
        layout.addLayout(buttons)
        self.find_button.clicked.connect(self.query)
        self.retrieve_button.clicked.connect(self.retrieve)
        self.close_button.clicked.connect(self.reject)
        self.table.itemSelectionChanged.connect(
            lambda: self.retrieve_button.setEnabled(bool(self.selected()) and not self.jobs.running))

    def pacs(self) -> ImageServerSettings:
        return ImageServerSettings("pacs", "", self.host_edit.text().strip(), self.port_spin.value(),
                                   self.ae_edit.text().strip() or "PACS")

    def query(self) -> None:
        patient, accession = self.patient_edit.text().strip(), self.accession_edit.text().strip()
        study_date = self.date_edit.text().strip()
        if not self.host_edit.text().strip():
            self.message.show_message("Give the PACS's host name first.", "error")
            return
        if not (patient or accession or study_date):
            self.message.show_message("Name what to find: a patient ID, an accession number or a study date.",
                                      "error")
            return
        try:
            self.matches = find_studies(self.coordinator, self.pacs(), patient_id=patient, accession=accession,
                                        study_date=study_date, calling_ae=self.calling_edit.text().strip())
        except MyoscoreError as exc:
            self.matches = []
            self.message.show_message(f"The PACS query failed: {exc}", "error")
        else:
            self.message.show_message(f"{plural(len(self.matches), 'study', 'studies')} found.", "info")
        self.table.setRowCount(len(self.matches))
        for row, match in enumerate(self.matches):
            fill_row(self.table, row, (cell(match.patient_id), cell(match.accession), cell(match.study_date),
                                       cell(match.modalities), cell(match.description), cell(match.study_uid)))
        if self.matches:
            self.table.selectAll()

    def selected(self) -> list[StudyMatch]:
        rows = sorted({index.row() for index in self.table.selectionModel().selectedRows()})
        return [self.matches[row] for row in rows if row < len(self.matches)]

    def retrieve(self) -> None:
        chosen = self.selected()
        if not chosen:
            return
        folder = self.choose_folder()
        if not folder:
            return
        pacs, calling = self.pacs(), self.calling_edit.text().strip()
        uids = [m.study_uid for m in chosen]
        self.retrieve_button.setEnabled(False)
        self.find_button.setEnabled(False)
        self.message.show_message(f"Retrieving {plural(len(uids), 'study', 'studies')} into {folder} …", "note")
        try:
            self.jobs.start(lambda coordinator, _progress: retrieve_studies(
                coordinator, pacs, uids, Path(folder), calling_ae=calling))
        except MyoscoreError as exc:
            self._on_failed(str(exc))

    def _on_retrieved(self, summary: ImportSummary) -> None:
        self.find_button.setEnabled(True)
        self.retrieve_button.setEnabled(bool(self.selected()))
        self.message.show_message("Retrieved and imported: " + summary.lines()[0], "info")
        self.imported.emit(summary)

    def _on_failed(self, text: str) -> None:
        self.find_button.setEnabled(True)
        self.retrieve_button.setEnabled(bool(self.selected()))
        self.message.show_message(f"Retrieval failed: {text}", "error")
        self.imported.emit(None)

    def _choose_folder_dialog(self) -> str:
        return QFileDialog.getExistingDirectory(self, "Folder for the retrieved files (then imported)")
