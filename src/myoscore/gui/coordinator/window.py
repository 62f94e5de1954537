"""The coordinator's desk: one window, a tab per task, the export dialog.

Each tab is a :class:`~myoscore.gui.coordinator.widgets.Page` holding the coordinator's
session. A page runs one ``app`` call per action and emits ``changed`` with what it
changed; the window passes that to the other pages, which redraw only if they show it.
"""

from __future__ import annotations

from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import QLabel, QMainWindow, QPushButton, QTableWidget, QTabWidget, QWidget

from myoscore.app import CoordinatorSession
from myoscore.app.changes import StudyChanges
from myoscore.gui.coordinator.agreement_page import AgreementPage
from myoscore.gui.coordinator.consensus_page import ConsensusPage
from myoscore.gui.coordinator.export_dialog import ExportDialog
from myoscore.gui.coordinator.progress_page import ProgressPage
from myoscore.gui.coordinator.readers_page import ReadersPage
from myoscore.gui.coordinator.scores_page import ScoresPage
from myoscore.gui.coordinator.setup_page import StudySetupPage
from myoscore.gui.coordinator.widgets import Page
from myoscore.gui.settings import ViewSettings

__all__ = ["CoordinatorWindow"]


class CoordinatorWindow(QMainWindow):
    """Study set-up, progress, agreement, consensus review, scores and export for a coordinator."""

    def __init__(self, coordinator: CoordinatorSession, parent: QWidget | None = None,
                 settings: ViewSettings | None = None) -> None:
        super().__init__(parent)
        self.coordinator = coordinator
        self.settings = settings  # per-user; the export dialog remembers its folder and formats there
        self.setWindowTitle(f"myoscore — {coordinator.actor} — coordinator")
        self.tabs = QTabWidget(self)
        self.tabs.setDocumentMode(True)
        self.setup_page = StudySetupPage(coordinator, self.tabs)
        self.readers_page = ReadersPage(coordinator, self.tabs)
        self.progress_page = ProgressPage(coordinator, self.tabs)
        self.agreement_page = AgreementPage(coordinator, self.tabs)
        self.consensus_page = ConsensusPage(coordinator, self.tabs)
        self.scores_page = ScoresPage(coordinator, self.tabs)
        self.pages: tuple[Page, ...] = (self.setup_page, self.readers_page, self.progress_page,
                                        self.agreement_page, self.consensus_page, self.scores_page)
        for page, title in zip(self.pages, ("Exams && import", "Readers && assignment", "Progress", "Agreement",
                                            "Consensus review", "Scores"), strict=True):
            self.tabs.addTab(page, title)  # "&&" is a literal "&" in a tab title
            page.changed.connect(lambda changes, page=page: self._broadcast(page, changes))
            page.status.connect(lambda text: self.statusBar().showMessage(text, 6000))
        self.export_button = QPushButton("Export…  Ctrl+E", self.tabs)
        self.export_button.setToolTip("CSV, wide CSV, REDCap, XLSX and figures for statistics")
        self.export_button.clicked.connect(self.open_export)
        self.tabs.setCornerWidget(self.export_button)
        self.setCentralWidget(self.tabs)
        export_action = QAction("Export…", self)
        export_action.setShortcut(QKeySequence("Ctrl+E"))
        export_action.triggered.connect(self.open_export)
        refresh_action = QAction("Refresh", self)
        refresh_action.setShortcut(QKeySequence("F5"))
        refresh_action.triggered.connect(self.refresh_current)
        self.addActions([export_action, refresh_action])
        self.export_dialog: ExportDialog | None = None
        # Progress first once the study is under way; set-up first in an empty study.
        if coordinator.reads():
            self.tabs.setCurrentWidget(self.progress_page)
        self.resize(1440, 880)

    # The progress table and summary, by the names the placeholder window had.
    @property
    def table(self) -> QTableWidget:
        return self.progress_page.table

    @property
    def summary(self) -> QLabel:
        return self.progress_page.summary

    def refresh(self) -> None:
        for page in self.pages:
            page.refresh()

    def refresh_current(self) -> None:
        page = self.tabs.currentWidget()
        if page is self.agreement_page:
            self.agreement_page.compute()
        elif isinstance(page, Page):
            page.refresh()

    def _broadcast(self, sender: Page, changes: StudyChanges) -> None:
        for page in self.pages:
            if page is not sender:
                page.on_study_changed(changes)

    def open_export(self) -> ExportDialog:
        """Open the export dialog (window-modal, so the window stays visible behind it)."""
        dialog = ExportDialog(self.coordinator, self, settings=self.settings)
        self.export_dialog = dialog
        dialog.open()
        return dialog

    def closeEvent(self, event: QCloseEvent) -> None:
        self.consensus_page.shutdown()
        for runner in (self.setup_page.jobs, *([self.export_dialog.jobs] if self.export_dialog else [])):
            runner.wait(30_000)
        super().closeEvent(event)
