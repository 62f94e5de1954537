"""The study's settings as a small box on the set-up page (coordinator; each change audited).

One check box so far: timepoint blinding (:mod:`myoscore.app.study_settings`). The box
runs one ``app`` call per change and passes on the :class:`~myoscore.app.changes.StudyChanges`
it returns, like a page.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QGroupBox, QHBoxLayout, QWidget

from myoscore.app import CoordinatorSession
from myoscore.app.study_settings import TIMEPOINT_BLINDING, set_timepoint_blinding, settings
from myoscore.domain import MyoscoreError

__all__ = ["StudySettingsBox"]


class StudySettingsBox(QGroupBox):
    """Study settings: a check box per setting, stored the moment it is clicked."""

    changed = Signal(object)  # StudyChanges
    said = Signal(str, str)  # message, kind ("info" / "error")

    def __init__(self, coordinator: CoordinatorSession, parent: QWidget | None = None) -> None:
        super().__init__("Study settings", parent)
        self.coordinator = coordinator
        layout = QHBoxLayout(self)
        self.timepoint_check = QCheckBox("Timepoint blinding: readers see each read's code, not the subject "
                                         "and timepoint", self)
        self.timepoint_check.setToolTip("On (the default): a reader's worklist, window and every list show an "
                                        "opaque read code (R-7Q4KZP) instead of “SUBJ-0001 · follow-up”, and new "
                                        "worklists never put two exams of one subject next to each other. "
                                        "You always see everything. Each change is audited.")
        layout.addWidget(self.timepoint_check)
        layout.addStretch(1)
        self.refresh()
        self.timepoint_check.toggled.connect(self._on_timepoint_toggled)

    def refresh(self) -> None:
        value = next(v for v in settings(self.coordinator) if v.setting.name == TIMEPOINT_BLINDING)
        self.timepoint_check.blockSignals(True)
        self.timepoint_check.setChecked(value.on)
        self.timepoint_check.blockSignals(False)

    def _on_timepoint_toggled(self, on: bool) -> None:
        try:
            done = set_timepoint_blinding(self.coordinator, on)
        except MyoscoreError as exc:
            self.said.emit(str(exc), "error")
            self.refresh()
            return
        self.said.emit("Timepoint blinding is on: readers see read codes only." if on else
                       "Timepoint blinding is off: readers see subject codes and timepoint labels.", "info")
        self.changed.emit(done.changes)
