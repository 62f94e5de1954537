"""Starting the workstation: the QApplication, sign-in, and the window for the role.

``myoscore gui`` and ``myoscore start`` call :func:`run`. A reader gets the reading
workstation (:class:`~myoscore.gui.main_window.MainWindow`); a coordinator gets the
coordinator's desk (:class:`~myoscore.gui.coordinator.CoordinatorWindow`: import,
assignment, progress, agreement, consensus review, export).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence as Seq
from functools import partial
from pathlib import Path
from types import TracebackType

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)

from myoscore import __version__
from myoscore.app import CoordinatorSession, Database, ReaderSession, open_database, sign_in
from myoscore.app.logs import log_file
from myoscore.app.reading_session import sign_in_names
from myoscore.domain import AccessDenied, MyoscoreError
from myoscore.gui.coordinator import CoordinatorWindow
from myoscore.gui.main_window import MainWindow
from myoscore.gui.settings import ViewSettings

__all__ = ["CoordinatorWindow", "SignInDialog", "application", "run"]

log = logging.getLogger(__name__)


def application(argv: Seq[str] | None = None) -> QApplication:
    """The running QApplication, created on first use."""
    app = QApplication.instance()
    if app is None:
        app = QApplication(list(argv) if argv else [sys.argv[0] if sys.argv else "myoscore"])
        app.setApplicationName("myoscore")
        app.setApplicationVersion(__version__)
    assert isinstance(app, QApplication)
    return app


class SignInDialog(QDialog):
    """Pick your name, enter your password. A wrong password keeps the dialog open."""

    def __init__(self, database: Database, reader: str | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.database = database
        self.session: ReaderSession | CoordinatorSession | None = None
        self.setWindowTitle("myoscore — sign in")
        layout = QVBoxLayout(self)
        heading = QLabel(f"<b>myoscore {__version__}</b> — blinded muscle MRI reading", self)
        layout.addWidget(heading)
        form = QFormLayout()
        self.name = QComboBox(self)
        self.name.addItems(sign_in_names(database))
        if reader:
            index = self.name.findText(reader)
            if index >= 0:
                self.name.setCurrentIndex(index)
        self.password = QLineEdit(self)
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        form.addRow("Name", self.name)
        form.addRow("Password", self.password)
        layout.addLayout(form)
        self.error = QLabel(self)
        self.error.setStyleSheet("color: #c62828;")
        self.error.setWordWrap(True)
        layout.addWidget(self.error)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Sign in")
        buttons.accepted.connect(self.try_sign_in)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.password.setFocus()
        if self.name.count() == 0:
            self.error.setText("This database has no users yet: a coordinator adds them with "
                               "`myoscore readers add`.")

    def try_sign_in(self) -> None:
        try:
            self.session = sign_in(self.database, self.name.currentText(), self.password.text())
        except AccessDenied as exc:
            self.error.setText(str(exc))
            self.password.selectAll()
            self.password.setFocus()
            return
        self.accept()


def _report_uncaught_errors() -> None:
    """An exception no handler caught (in a Qt slot, say) is logged with its traceback and
    shown as one sentence with where the log is; the window stays open."""

    def hook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        log.error("uncaught exception", exc_info=(kind, exc, tb))
        QMessageBox.critical(None, "myoscore", f"Something failed unexpectedly; the details are in the log "
                                               f"({log_file()}).")

    sys.excepthook = hook


def window_for(session: ReaderSession | CoordinatorSession, settings: ViewSettings | None = None) -> QMainWindow:
    """The window of a signed-in user's role."""
    if isinstance(session, CoordinatorSession):
        return CoordinatorWindow(session, settings=settings)
    return MainWindow(session, settings)


def _parse(argv: Seq[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="myoscore gui", add_help=False)
    parser.add_argument("--reader", help="preselect this name in the sign-in dialog")
    parser.add_argument("--settings", type=Path, help="viewer settings file (default: per-user config dir)")
    args, _qt_args = parser.parse_known_args(list(argv or [])[1:] if argv else [])
    return args


def run(database: Database | str | os.PathLike[str], argv: Seq[str] | None = None) -> int:
    """Open the workstation on ``database`` and run until its window closes.

    Parameters
    ----------
    database
        An open :class:`~myoscore.app.Database`, or a path / SQLAlchemy URL to open.
    argv
        Program name and arguments: Qt's own (``-platform offscreen``) plus
        ``--reader NAME`` (preselected in the sign-in dialog) and ``--settings FILE``.

    Returns
    -------
    int
        The exit code: 0 after a normal close or a cancelled sign-in.
    """
    args = _parse(argv)
    app = application(argv)
    _report_uncaught_errors()
    try:
        db = database if isinstance(database, Database) else open_database(os.fspath(database))
    except MyoscoreError as exc:
        QMessageBox.critical(None, "myoscore", str(exc))
        return 1
    while True:  # signing out (Ctrl+Q) comes back here, to the sign-in screen
        dialog = SignInDialog(db, args.reader)
        if dialog.exec() != QDialog.DialogCode.Accepted or dialog.session is None:
            return 0
        window = window_for(dialog.session, ViewSettings(args.settings) if args.settings else None)
        signed_out: list[bool] = []
        if isinstance(window, MainWindow):
            window.signed_out.connect(partial(signed_out.append, True))
        window.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        window.show()
        code = int(app.exec())
        if not signed_out:
            return code
