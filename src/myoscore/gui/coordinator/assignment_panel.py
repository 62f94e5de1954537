"""Assignment by selection, on the coordinator's Readers & assignment page.

An exam checklist (filtered by protocol, "not yet assigned" and study group; a click on a
row checks or unchecks it), a check box per reader, the study design (all readers × all
exams, or balanced: anchors read by every reader and k readers per other exam) and the
seed. *Assign…* first asks :func:`myoscore.app.assignment.plan_assignment` what would be
created and shows it for confirmation ("Create 4 reads: 2 exams × 2 readers?"); only a
yes calls :func:`~myoscore.app.assignment.assign_selected` with the same seed. The
history lists the recorded assignments; *Undo* deletes the reads of one while none has a
rating (:func:`~myoscore.app.assignment.undo_assignment`), or shows why not.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QIntValidator
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from myoscore.app import CoordinatorSession
from myoscore.app.assignment import (
    AssignmentPlan,
    ExamChoice,
    assign_selected,
    assignments,
    exam_choices,
    group_labels,
    plan_assignment,
    undo_assignment,
)
from myoscore.app.schemes import scheme_library
from myoscore.app.wording import plural
from myoscore.domain import Assignment, MyoscoreError, Reader, Role
from myoscore.gui.coordinator.widgets import MessageLabel, cell, fill_row, heading, hint, make_table, row_data

__all__ = ["ANY_GROUP", "NO_GROUP", "AssignmentPanel", "new_seed", "seed_edit"]

ANY_GROUP = "Any group"
NO_GROUP = "No group"
EXAM_COLUMNS = ("Exam", "Subject", "Timepoint", "Group", "Read by (this protocol)")
HISTORY_COLUMNS = ("Id", "When", "By", "Protocol", "Design", "Seed", "Readers × exams", "Reads", "State")


def new_seed() -> int:
    """A fresh assignment seed (shown before it is used, recorded when it is)."""
    return secrets.randbelow(2**31)


def seed_edit(parent: QWidget) -> QLineEdit:
    edit = QLineEdit(str(new_seed()), parent)
    edit.setValidator(QIntValidator(0, 2**31 - 1, edit))
    edit.setToolTip("The design and each reader's order are drawn from this number; it is recorded with "
                    "the assignment and every read.")
    return edit


class AssignmentPanel(QWidget):
    """Choose exams and readers, a design and a seed; confirm; see and undo assignments."""

    changed = Signal(object)  # StudyChanges
    status = Signal(str)

    def __init__(self, coordinator: CoordinatorSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.coordinator = coordinator
        self._choices: list[ExamChoice] = []
        self._shown: list[ExamChoice] = []
        self._checked: set[int] = set()
        self._history: list[Assignment] = []
        self.reader_checks: dict[str, QCheckBox] = {}
        #: Asks for confirmation (title, question, details); tests may replace it. True for yes.
        self.ask: Callable[[str, str, str], bool] = self._confirm
        self.confirm_box: QMessageBox | None = None

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(heading("Assignment", self))
        box = QGroupBox("Assign chosen exams to chosen readers", self)
        form = QFormLayout(box)
        self.protocol_combo = QComboBox(box)
        for name, protocol in scheme_library().protocols.items():
            self.protocol_combo.addItem(f"{name} — {protocol.title}", name)
        form.addRow("Protocol", self.protocol_combo)

        filters = QHBoxLayout()
        self.unassigned_check = QCheckBox("Only exams not yet assigned for this protocol", box)
        self.unassigned_check.setChecked(True)
        self.group_combo = QComboBox(box)
        self.group_combo.setToolTip("Study groups from the protocol's group rules (clinical fields of each "
                                    "subject's first exam)")
        filters.addWidget(self.unassigned_check)
        filters.addWidget(self.group_combo)
        filters.addStretch(1)
        form.addRow("Show", filters)

        self.exam_table = make_table(EXAM_COLUMNS, box, stretch=4)
        self.exam_table.setToolTip("Click a row to check or uncheck the exam.")
        self.exam_table.setMinimumHeight(160)
        form.addRow(self.exam_table)
        checks = QHBoxLayout()
        self.check_all_button = QPushButton("Check all shown", box)
        self.uncheck_button = QPushButton("Uncheck all", box)
        self.checked_label = hint("", box)
        checks.addWidget(self.check_all_button)
        checks.addWidget(self.uncheck_button)
        checks.addWidget(self.checked_label, 1)
        form.addRow(checks)

        self.readers_row = QHBoxLayout()
        self.no_readers_label = hint("Add readers first (left).", box)
        self.readers_row.addWidget(self.no_readers_label)
        self.readers_row.addStretch(1)
        form.addRow("Readers", self.readers_row)

        design_row = QHBoxLayout()
        self.design_combo = QComboBox(box)
        self.design_combo.addItem("All: every chosen reader reads every chosen exam", "all")
        self.design_combo.addItem("Balanced: anchors read by all, k readers per other exam", "balanced")
        self.anchor_spin = QSpinBox(box)
        self.anchor_spin.setRange(0, 100_000)
        self.anchor_spin.setPrefix("anchors ")
        self.anchor_spin.setToolTip("Exams every chosen reader reads (agreement is measured on them)")
        self.per_exam_spin = QSpinBox(box)
        self.per_exam_spin.setRange(1, 100)
        self.per_exam_spin.setValue(2)
        self.per_exam_spin.setPrefix("readers per exam ")
        self.per_exam_spin.setToolTip("How many readers read each exam that is not an anchor")
        design_row.addWidget(self.design_combo, 1)
        design_row.addWidget(self.anchor_spin)
        design_row.addWidget(self.per_exam_spin)
        form.addRow("Design", design_row)

        self.seed_edit = seed_edit(box)
        self.seed_button = QPushButton("New seed", box)
        seed_row = QHBoxLayout()
        seed_row.addWidget(self.seed_edit, 1)
        seed_row.addWidget(self.seed_button)
        form.addRow("Seed", seed_row)
        self.assign_button = QPushButton("Assign…", box)
        self.assign_button.setToolTip("Shows how many reads will be created and asks before creating them")
        form.addRow(self.assign_button)
        layout.addWidget(box, 3)

        history = QGroupBox("Assignments made", self)
        history_layout = QVBoxLayout(history)
        self.history_table = make_table(HISTORY_COLUMNS, history, stretch=6)
        self.history_table.setMinimumHeight(110)
        history_layout.addWidget(self.history_table)
        undo_row = QHBoxLayout()
        self.undo_button = QPushButton("Undo selected assignment", history)
        self.undo_button.setToolTip("Deletes its reads (audited) while none of them has a rating")
        self.undo_button.setEnabled(False)
        undo_row.addWidget(self.undo_button)
        undo_row.addStretch(1)
        history_layout.addLayout(undo_row)
        layout.addWidget(history, 1)
        self.message = MessageLabel(self)
        layout.addWidget(self.message)

        self.protocol_combo.currentIndexChanged.connect(lambda _i: self._on_protocol_changed())
        self.unassigned_check.toggled.connect(lambda _on: self._fill_exams())
        self.group_combo.currentIndexChanged.connect(lambda _i: self._fill_exams())
        self.exam_table.cellClicked.connect(self._on_exam_clicked)
        self.check_all_button.clicked.connect(self._on_check_all)
        self.uncheck_button.clicked.connect(self._on_uncheck_all)
        self.design_combo.currentIndexChanged.connect(lambda _i: self._on_design_changed())
        self.seed_button.clicked.connect(lambda: self.seed_edit.setText(str(new_seed())))
        self.assign_button.clicked.connect(self.assign)
        self.history_table.itemSelectionChanged.connect(self._on_history_selected)
        self.undo_button.clicked.connect(self.undo)
        self._on_design_changed()
        self._fill_groups()

    # ------------------------------------------------------------------ state
    def protocol_name(self) -> str:
        return str(self.protocol_combo.currentData())

    def design(self) -> str:
        return str(self.design_combo.currentData())

    def chosen_readers(self) -> list[str]:
        return [name for name, box in self.reader_checks.items() if box.isChecked()]

    def checked_exams(self) -> list[int]:
        return sorted(self._checked)

    def refresh(self, readers: list[Reader] | None = None) -> None:
        """Redraw readers, exams and history from the store."""
        self._fill_readers(self.coordinator.readers() if readers is None else readers)
        self._choices = exam_choices(self.coordinator, self.protocol_name())
        self._fill_exams()
        self._fill_history()

    def _fill_readers(self, readers: list[Reader]) -> None:
        names = [r.name for r in readers if r.role is not Role.COORDINATOR and r.active]
        if names == list(self.reader_checks):
            return
        was = set(self.chosen_readers())
        for box in self.reader_checks.values():
            self.readers_row.removeWidget(box)
            box.deleteLater()
        self.reader_checks = {}
        for index, name in enumerate(names):
            box = QCheckBox(name, self)
            box.setChecked(name in was)
            self.readers_row.insertWidget(index, box)
            self.reader_checks[name] = box
        self.no_readers_label.setVisible(not names)

    def _fill_groups(self) -> None:
        labels = group_labels(self.protocol_name())
        self.group_combo.blockSignals(True)
        self.group_combo.clear()
        self.group_combo.addItem(ANY_GROUP)
        self.group_combo.addItems(list(labels))
        if labels:
            self.group_combo.addItem(NO_GROUP)
        self.group_combo.setEnabled(bool(labels))
        self.group_combo.blockSignals(False)

    def _visible(self, choice: ExamChoice) -> bool:
        if choice.excluded:
            return False
        if self.unassigned_check.isChecked() and choice.assigned:
            return False
        group = self.group_combo.currentText()
        if group == NO_GROUP:
            return choice.group is None
        return group in ("", ANY_GROUP) or choice.group == group

    def _fill_exams(self) -> None:
        self._shown = [c for c in self._choices if self._visible(c)]
        self._checked &= {c.exam_id for c in self._shown}  # what is not shown is not assigned
        table = self.exam_table
        table.setRowCount(len(self._shown))
        for row, choice in enumerate(self._shown):
            first = cell(choice.exam_id, data=choice.exam_id)
            first.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)  # a click on the row toggles
            first.setCheckState(Qt.CheckState.Checked if choice.exam_id in self._checked else Qt.CheckState.Unchecked)
            fill_row(table, row, (first, cell(choice.subject_code), cell(choice.label), cell(choice.group or "—"),
                                  cell(", ".join(choice.readers) or "—")))
        self._count_checked()

    def _count_checked(self) -> None:
        hidden = sum(c.excluded for c in self._choices)
        text = f"{len(self._checked)} of {plural(len(self._shown), 'exam')} shown checked"
        if hidden:
            text += f"; {plural(hidden, 'excluded exam')} not listed"
        self.checked_label.setText(text)

    def _set_checked(self, row: int, on: bool) -> None:
        exam_id = self._shown[row].exam_id
        (self._checked.add if on else self._checked.discard)(exam_id)
        item = self.exam_table.item(row, 0)
        if item is not None:
            item.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)

    # --------------------------------------------------------------- handlers
    def _on_protocol_changed(self) -> None:
        self._fill_groups()
        self._choices = exam_choices(self.coordinator, self.protocol_name())
        self._fill_exams()

    def _on_exam_clicked(self, row: int, _column: int) -> None:
        if 0 <= row < len(self._shown):
            self._set_checked(row, self._shown[row].exam_id not in self._checked)
            self._count_checked()

    def _on_check_all(self) -> None:
        for row in range(len(self._shown)):
            self._set_checked(row, True)
        self._count_checked()

    def _on_uncheck_all(self) -> None:
        for row in range(len(self._shown)):
            self._set_checked(row, False)
        self._count_checked()

    def _on_design_changed(self) -> None:
        balanced = self.design() == "balanced"
        self.anchor_spin.setEnabled(balanced)
        self.per_exam_spin.setEnabled(balanced)

    def _on_history_selected(self) -> None:
        record = self._selected_assignment()
        self.undo_button.setEnabled(record is not None and record.undone_at is None)

    # ---------------------------------------------------------------- assign
    def _arguments(self) -> dict[str, object]:
        balanced = self.design() == "balanced"
        if not self.seed_edit.text():
            self.seed_edit.setText(str(new_seed()))
        return {"design": self.design(), "anchor": self.anchor_spin.value() if balanced else None,
                "per_exam": self.per_exam_spin.value() if balanced else None, "seed": int(self.seed_edit.text())}

    def assign(self) -> None:
        protocol, readers, exams = self.protocol_name(), self.chosen_readers(), self.checked_exams()
        if not exams:
            self.message.show_message("Check at least one exam in the list first.", "error")
            return
        if not readers:
            self.message.show_message("Check at least one reader first.", "error")
            return
        arguments = self._arguments()
        try:
            plan = plan_assignment(self.coordinator, protocol, readers, exams, **arguments)  # type: ignore[arg-type]
        except MyoscoreError as exc:
            self.message.show_message(str(exc), "error")
            return
        if not self.ask("Assign exams", plan.question(), _details(plan)):
            self.message.show_message("Nothing assigned.", "note")
            return
        try:
            done = assign_selected(self.coordinator, protocol, readers, exams, **arguments)  # type: ignore[arg-type]
        except MyoscoreError as exc:
            self.message.show_message(str(exc), "error")
            return
        made = done.value
        self.message.show_message(
            f"Assignment {made.assignment_id}: {made.counts()} of {protocol}, seed {made.seed} (recorded with "
            "the assignment, every read and the audit trail). Undo it below while no read has a rating.", "info")
        self.seed_edit.setText(str(new_seed()))
        self._checked.clear()
        self.status.emit(f"Assignment {made.assignment_id} made with seed {made.seed}.")
        self.changed.emit(done.changes)

    def _confirm(self, title: str, question: str, details: str) -> bool:
        box = QMessageBox(QMessageBox.Icon.Question, title, question,
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, self)
        box.setInformativeText(details)
        box.setDefaultButton(QMessageBox.StandardButton.No)
        self.confirm_box = box
        try:
            return box.exec() == QMessageBox.StandardButton.Yes
        finally:
            self.confirm_box = None
            box.deleteLater()

    # ---------------------------------------------------------------- history
    def _fill_history(self) -> None:
        self._history = assignments(self.coordinator)
        table = self.history_table
        selected = self._selected_assignment()
        table.setRowCount(len(self._history))
        for row, record in enumerate(self._history):
            design = record.design
            if design == "balanced":
                design += f" (anchors {len(record.parameters.get('anchors', []))}, " \
                          f"{record.parameters.get('per_exam')} per exam)"
            state = (f"undone {record.undone_at:%Y-%m-%d %H:%M}" if record.undone_at is not None
                     else (f"{record.started} started" if record.started else "not started"))
            fill_row(table, row, (
                cell(record.id, data=record.id, right=True), cell(f"{record.created_at:%Y-%m-%d %H:%M}"),
                cell(record.created_by), cell(record.protocol), cell(design), cell(record.seed),
                cell(f"{', '.join(record.reader_names)} × {plural(len(record.exam_ids), 'exam')}"),
                cell(record.reads, right=True), cell(state)))
            if selected is not None and record.id == selected.id:
                table.selectRow(row)
        self._on_history_selected()

    def _selected_assignment(self) -> Assignment | None:
        wanted = row_data(self.history_table)
        return next((r for r in self._history if r.id == wanted), None)

    def undo(self) -> None:
        record = self._selected_assignment()
        if record is None:
            self.message.show_message("Select an assignment in the list first.", "error")
            return
        if not self.ask("Undo the assignment", f"Undo assignment {record.id}: delete its "
                        f"{plural(record.reads, 'read')}?",
                        f"{record.protocol}, {', '.join(record.reader_names)} × "
                        f"{plural(len(record.exam_ids), 'exam')}, seed {record.seed}. The deletion is audited."):
            return
        try:
            done = undo_assignment(self.coordinator, record.id)
        except MyoscoreError as exc:
            self.message.show_message(str(exc), "error")
            return
        self.message.show_message(f"Assignment {record.id} undone: {plural(record.reads, 'read')} deleted "
                                  "(audited).", "info")
        self.status.emit(f"Assignment {record.id} undone.")
        self.changed.emit(done.changes)


def _details(plan: AssignmentPlan) -> str:
    loads = ", ".join(f"{name}: {plural(n, 'exam')}" for name, n in plan.loads().items())
    lines = [f"{plan.protocol}, design {plan.design.name}, seed {plan.seed}.", f"Reads per reader — {loads}."]
    if plan.design.name == "balanced":
        lines.append(f"Anchor exams (read by every reader): {', '.join(map(str, plan.design.anchors)) or 'none'}.")
    lines.append("Each reader's new reads join the end of their worklist in an order drawn from the seed.")
    return "\n".join(lines)

