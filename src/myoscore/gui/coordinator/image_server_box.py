"""The study's image server on the set-up page: where a second site's workstations get
the series (docs/multisite.md), and sending the exams there.

**Set…** opens a form for the server (DICOMweb URL, or DIMSE host, port and AE title; a
user name and the *name* of the environment variable that holds the password on each
workstation — a password is never stored); **Send exams…** sends every exam's DICOM
series, pseudonymised, and its label maps as DICOM SEG, on a worker thread behind a
progress dialog, then says what was sent and which label map was not, and why. The same
``app.remote_images`` calls as ``myoscore server set`` / ``server send``.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressDialog,
    QPushButton,
    QSpinBox,
    QWidget,
)

from myoscore.app import CoordinatorSession
from myoscore.app.remote_images import SentExams, configure_image_server, send_exams, server_text, study_image_server
from myoscore.app.wording import plural
from myoscore.domain import ImageServerSettings, MyoscoreError
from myoscore.gui.coordinator.jobs import JobRunner, close_progress_dialog, job_progress_dialog
from myoscore.gui.coordinator.widgets import ask_yes_no

__all__ = ["ImageServerBox", "ImageServerDialog"]

_NONE = "No image server: workstations read the series from the folders they were imported from."


class ImageServerDialog(QDialog):
    """The server's settings; nothing secret is asked for."""

    def __init__(self, current: ImageServerSettings | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("myoscore — the study's image server")
        settings = current or ImageServerSettings()
        form = QFormLayout(self)
        self.dicomweb_edit = QLineEdit(settings.dicomweb_url, self)
        self.dicomweb_edit.setPlaceholderText("https://orthanc.example.org/dicom-web")
        self.host_edit = QLineEdit(settings.host, self)
        self.port_spin = QSpinBox(self)
        self.port_spin.setRange(0, 65535)
        self.port_spin.setValue(settings.port)
        self.ae_edit = QLineEdit(settings.ae_title, self)
        self.user_edit = QLineEdit(settings.username, self)
        self.password_env_edit = QLineEdit(settings.password_env, self)
        form.addRow("DICOMweb URL", self.dicomweb_edit)
        form.addRow("or DIMSE host", self.host_edit)
        form.addRow("port", self.port_spin)
        form.addRow("AE title", self.ae_edit)
        form.addRow("User name", self.user_edit)
        form.addRow("Password from", self.password_env_edit)
        note = QLabel("The password is never stored: each workstation reads it from the environment variable "
                      "named here.", self)
        note.setWordWrap(True)
        note.setStyleSheet("color: #607d8b;")
        form.addRow(note)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel,
                                        self)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        form.addRow(self.buttons)

    def settings(self) -> ImageServerSettings:
        return ImageServerSettings("study", self.dicomweb_edit.text().strip(), self.host_edit.text().strip(),
                                   self.port_spin.value(), self.ae_edit.text().strip() or "ORTHANC",
                                   self.user_edit.text().strip(),
                                   self.password_env_edit.text().strip() or "MYOSCORE_DICOM_PASSWORD")


class ImageServerBox(QGroupBox):
    """The server in one line, Set… and Send exams…."""

    changed = Signal(object)  # StudyChanges
    said = Signal(str, str)  # message, kind
    sent = Signal(object)  # SentExams, or None when sending failed

    def __init__(self, coordinator: CoordinatorSession, parent: QWidget | None = None) -> None:
        super().__init__("Image server", parent)
        self.coordinator = coordinator
        #: Asks a yes/no question; tests replace it. Returns True for yes.
        self.ask: Callable[[str, str], bool] = lambda title, text: ask_yes_no(self, f"myoscore — {title}", text)
        self.dialog: ImageServerDialog | None = None
        self.progress_dialog: QProgressDialog | None = None
        self.jobs = JobRunner(coordinator, self)
        self.jobs.progressed.connect(self._on_progress)
        self.jobs.finished.connect(self._on_sent)
        self.jobs.failed.connect(self._on_failed)
        layout = QHBoxLayout(self)
        self.server_label = QLabel(self)
        self.server_label.setWordWrap(True)
        self.set_button = QPushButton("Set…", self)
        self.send_button = QPushButton("Send exams…", self)
        self.send_button.setToolTip("Send every exam's DICOM series to the server, pseudonymised (the subject "
                                    "code as patient), with its label maps as DICOM SEG; the files here are "
                                    "not changed. Series already there are stored once.")
        layout.addWidget(self.server_label, 1)
        layout.addWidget(self.set_button)
        layout.addWidget(self.send_button)
        self.set_button.clicked.connect(self.open_settings)
        self.send_button.clicked.connect(self.send)
        self.refresh()

    def refresh(self) -> None:
        settings = study_image_server(self.coordinator)
        if settings is None:
            self.server_label.setText(_NONE)
        else:
            user = f", user {settings.username}" if settings.username else ""
            self.server_label.setText(f"Series are shared through <b>{server_text(settings)}</b>{user}; the "
                                      f"password comes from ${settings.password_env} on each workstation.")
        self.send_button.setEnabled(settings is not None)

    # ----------------------------------------------------------------- settings
    def open_settings(self) -> None:
        dialog = ImageServerDialog(study_image_server(self.coordinator), self)
        dialog.accepted.connect(lambda: self.save(dialog.settings()))
        self.dialog = dialog
        dialog.open()

    def save(self, settings: ImageServerSettings) -> None:
        try:
            configure_image_server(self.coordinator, settings)
        except MyoscoreError as exc:
            self.said.emit(f"The image server was not set: {exc}.", "error")
            return
        self.refresh()
        self.said.emit(f"Image server set: {server_text(settings)} (audited).", "info")

    # --------------------------------------------------------------------- send
    def send(self) -> None:
        settings = study_image_server(self.coordinator)
        exams = self.coordinator.exams()
        if settings is None or not exams:
            self.said.emit("There is nothing to send: " + ("set the image server first." if settings is None
                                                           else "the study has no exam yet."), "error")
            return
        if not self.ask("Send exams", f"Send the DICOM series of {plural(len(exams), 'exam')}, pseudonymised, "
                                      f"and their label maps to {server_text(settings)}?"):
            return
        self.progress_dialog = job_progress_dialog(self, "Sending …", "sending to the image server")
        try:
            self.jobs.start(lambda coordinator, progress: send_exams(coordinator, progress=progress))
        except MyoscoreError as exc:
            self._on_failed(str(exc))

    def _on_progress(self, done: int, total: int) -> None:
        if self.progress_dialog is not None:
            self.progress_dialog.setLabelText(f"Sent {done} of {plural(total, 'instance')} …")
            self.progress_dialog.setMaximum(max(total, 1))
            self.progress_dialog.setValue(done)

    def _close_progress(self) -> None:
        dialog, self.progress_dialog = self.progress_dialog, None
        close_progress_dialog(dialog)

    def _on_sent(self, result: SentExams) -> None:
        self._close_progress()
        lines = result.lines()
        self.said.emit(" ".join([lines[0][0].upper() + lines[0][1:] + ".", *lines[1:]]),
                       "error" if result.problems else "info")
        self.sent.emit(result)

    def _on_failed(self, text: str) -> None:
        self._close_progress()
        self.said.emit(f"Sending failed: {text}", "error")
        self.sent.emit(None)
