"""Slow coordinator work (import, export) off the GUI thread, on its own database connection.

SQLite connections belong to the thread that opened them, so a job does not borrow the
window's session: it opens its **own** :class:`~myoscore.app.Database` from the same
URL and a :class:`~myoscore.app.CoordinatorSession` under the same actor (the audit
trail names the same coordinator), runs one ``app`` use case with it, and disposes of it.
SQLite in WAL mode lets the window keep reading meanwhile, and writers queue on the
busy timeout (``BEGIN IMMEDIATE``), so nothing is locked out. The window's controls are
behind a window-modal progress dialog while a job runs.

Why not index on a worker and register on the GUI thread: registration *is* the use
case (subject codes, identity links, exams per study, duplicates, label maps), and doing
it on the GUI thread would copy those rules into the GUI. The import is two app calls, each
a job: ``plan_import`` (writes nothing; the preview shows its plan) and ``apply_import``.
An in-memory SQLite database cannot be opened twice, so there the
job runs on the GUI thread instead (tests and throw-away studies only).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Signal
from PySide6.QtWidgets import QProgressDialog, QWidget

from myoscore.app import CoordinatorSession, Database
from myoscore.app.logs import unexpected
from myoscore.domain import MyoscoreError

#: ``work(coordinator, progress)``: the use case; ``progress(done, total)`` may be called.
Work = Callable[[CoordinatorSession, Callable[[int, int], None]], Any]

log = logging.getLogger(__name__)


class Cancelled(Exception):
    """Raised inside a job's progress callback when the user cancelled it."""


class _JobSignals(QObject):
    progressed = Signal(int, int)
    finished = Signal(object)
    failed = Signal(str)
    cancelled = Signal()


class _Job(QRunnable):
    def __init__(self, url: str, actor: str, work: Work, signals: _JobSignals, cancel: threading.Event) -> None:
        super().__init__()
        self.url, self.actor, self.work, self.signals, self.cancel = url, actor, work, signals, cancel

    def run(self) -> None:
        database: Database | None = None
        try:
            database = Database(self.url)  # already open and at the current schema: no migration here
            result = self.work(CoordinatorSession(database, self.actor), self._progress)
        except Cancelled:
            self.signals.cancelled.emit()
        except MyoscoreError as exc:
            self.signals.failed.emit(str(exc))
        except Exception:  # anything else still ends the job with a message, never a hang
            self.signals.failed.emit(unexpected("the job", log))
        else:
            self.signals.finished.emit(result)
        finally:
            if database is not None:
                database.dispose()

    def _progress(self, done: int, total: int) -> None:
        if self.cancel.is_set():
            raise Cancelled
        self.signals.progressed.emit(done, total)


def _in_memory(url: str) -> bool:
    return url.startswith("sqlite") and (":memory:" in url or url.rstrip("/") in ("sqlite:", "sqlite:/"))


class JobRunner(QObject):
    """Runs one job at a time; emits ``progressed``, then ``finished``/``failed``/``cancelled``."""

    progressed = Signal(int, int)
    finished = Signal(object)
    failed = Signal(str)
    cancelled = Signal()

    def __init__(self, coordinator: CoordinatorSession, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.coordinator = coordinator
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self.cancel_requested = threading.Event()
        self._signals = _JobSignals(self)
        self._signals.progressed.connect(self.progressed)
        self._signals.finished.connect(self._on_finished)
        self._signals.failed.connect(self._on_failed)
        self._signals.cancelled.connect(self._on_cancelled)
        self.running = False

    def start(self, work: Work) -> None:
        if self.running:
            raise MyoscoreError("another import or export is still running")
        self.running = True
        self.cancel_requested.clear()
        url = self.coordinator.database.url
        job = _Job(url, self.coordinator.actor, work, self._signals, self.cancel_requested)
        if _in_memory(url):
            self._run_here(work, job)
        else:
            self._pool.start(job)

    def _run_here(self, work: Work, job: _Job) -> None:
        try:
            result = work(self.coordinator, job._progress)
        except Cancelled:
            self._signals.cancelled.emit()
        except MyoscoreError as exc:
            self._signals.failed.emit(str(exc))
        except Exception:  # as on the worker: a message, never a half-open progress dialog
            self._signals.failed.emit(unexpected("the job", log))
        else:
            self._signals.finished.emit(result)

    def cancel(self) -> None:
        """Ask the running job to stop at its next progress step."""
        self.cancel_requested.set()

    def wait(self, timeout_ms: int = 60_000) -> bool:
        return self._pool.waitForDone(timeout_ms)

    def _on_finished(self, result: object) -> None:
        self.running = False
        self.finished.emit(result)

    def _on_failed(self, text: str) -> None:
        self.running = False
        self.failed.emit(text)

    def _on_cancelled(self) -> None:
        self.running = False
        self.cancelled.emit()


def job_progress_dialog(parent: QWidget, text: str, title: str,
                        cancel: Callable[[], None] | None = None) -> QProgressDialog:
    """The window-modal progress dialog a job runs behind, shown at once; a Cancel button
    only with ``cancel`` (called when pressed). It stays until the caller closes it."""
    dialog = QProgressDialog(text, "Cancel" if cancel else "", 0, 0, parent)
    if cancel is None:
        dialog.setCancelButton(None)
    else:
        dialog.canceled.connect(cancel)
    dialog.setWindowTitle(f"myoscore — {title}")
    dialog.setWindowModality(Qt.WindowModality.WindowModal)
    dialog.setMinimumDuration(0)
    dialog.setAutoClose(False)
    dialog.setAutoReset(False)
    dialog.show()
    return dialog


def close_progress_dialog(dialog: QProgressDialog | None) -> None:
    """Close a job's progress dialog without it emitting ``canceled`` (closing one does)."""
    if dialog is not None:
        dialog.blockSignals(True)
        dialog.hide()
        dialog.deleteLater()
