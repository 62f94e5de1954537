"""Study set-up, part 2: readers, assignment of chosen exams to chosen readers, repeat reads.

Assignment is the :class:`~myoscore.gui.coordinator.assignment_panel.AssignmentPanel`: an
exam checklist with filters, reader check boxes, the study design and its seed, a
confirmation naming the count of reads to be created, and the assignments made, with
undo (:mod:`myoscore.app.assignment`). The seed is drawn here *before* the click and shown
in its field, so the coordinator can write it down or type their own; the store records it
with the assignment, every read and the audit trail, and the result message repeats it.

Repeat reads are :func:`myoscore.app.study.assign_repeats`: a fraction of one reader's
submitted exams, hidden from them until the wash-out has passed, in new random positions.
"""

from __future__ import annotations

from collections import Counter

from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from myoscore.app import CoordinatorSession, study
from myoscore.app.changes import StudyChanges
from myoscore.domain import MyoscoreError, Reader, ReadStatus, Role
from myoscore.gui.coordinator.assignment_panel import AssignmentPanel, new_seed, seed_edit
from myoscore.gui.coordinator.widgets import (
    MessageLabel,
    Page,
    cell,
    chosen,
    fill_row,
    heading,
    hint,
    make_table,
    row_data,
    set_choices,
)

__all__ = ["ReadersPage", "new_seed"]  # new_seed: from the assignment panel


class ReadersPage(Page):
    """Readers and roles; assignment for a protocol; repeat reads for intra-reader agreement."""

    shows = StudyChanges(readers=True, reads=True, exams=True)

    def __init__(self, coordinator: CoordinatorSession, parent: QWidget | None = None) -> None:
        super().__init__(coordinator, parent)
        self._readers: list[Reader] = []
        layout = QHBoxLayout(self)

        # -- readers --------------------------------------------------------------
        left = QVBoxLayout()
        left.addWidget(heading("Readers", self))
        self.readers_table = make_table(("Name", "Role", "Reads", "Submitted"), self, stretch=0)
        left.addWidget(self.readers_table, 1)
        add_box = QGroupBox("Add a reader", self)
        form = QFormLayout(add_box)
        self.name_edit = QLineEdit(add_box)
        self.role_combo = QComboBox(add_box)
        self.role_combo.addItems([Role.READER.value, Role.ADJUDICATOR.value, Role.COORDINATOR.value])
        self.password_edit = QLineEdit(add_box)
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.repeat_edit = QLineEdit(add_box)
        self.repeat_edit.setEchoMode(QLineEdit.EchoMode.Password)
        form.addRow("Name", self.name_edit)
        form.addRow("Role", self.role_combo)
        form.addRow("Password", self.password_edit)
        form.addRow("Repeat password", self.repeat_edit)
        buttons = QHBoxLayout()
        self.add_button = QPushButton("Add reader", add_box)
        self.password_button = QPushButton("Set password of selected", add_box)
        self.password_button.setToolTip("Give the reader selected above the password typed here (audited).")
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.password_button)
        form.addRow(buttons)
        left.addWidget(add_box)
        self.readers_message = MessageLabel(self)
        left.addWidget(self.readers_message)

        # -- assignment -----------------------------------------------------------
        right = QVBoxLayout()
        self.assignment = AssignmentPanel(coordinator, self)
        self.protocol_combo = self.assignment.protocol_combo  # repeat reads use the same protocol
        # The protocol the study already uses most, if any.
        used = Counter(read.protocol_name for read in coordinator.reads())
        if used:
            index = self.protocol_combo.findData(used.most_common(1)[0][0])
            self.protocol_combo.setCurrentIndex(max(index, 0))
        right.addWidget(self.assignment, 1)

        repeat_box = QGroupBox("Repeat reads (intra-reader agreement)", self)
        repeat_form = QFormLayout(repeat_box)
        self.repeat_reader_combo = QComboBox(repeat_box)
        self.fraction_spin = QSpinBox(repeat_box)
        self.fraction_spin.setRange(1, 100)
        self.fraction_spin.setValue(20)
        self.fraction_spin.setSuffix(" % of the submitted exams")
        self.washout_spin = QDoubleSpinBox(repeat_box)
        self.washout_spin.setRange(0, 3650)
        self.washout_spin.setDecimals(0)
        self.washout_spin.setValue(28)
        self.washout_spin.setSuffix(" days after the first read")
        self.repeat_seed_edit = seed_edit(repeat_box)
        self.repeat_button = QPushButton("Assign repeat reads", repeat_box)
        repeat_form.addRow("Reader", self.repeat_reader_combo)
        repeat_form.addRow("Fraction", self.fraction_spin)
        repeat_form.addRow("Wash-out", self.washout_spin)
        repeat_form.addRow("Seed", self.repeat_seed_edit)
        repeat_form.addRow(hint("Of the protocol chosen under Assignment. The repeats join the end of the "
                                "reader's worklist in a new random order, "
                                "hidden until the wash-out has passed; the first read is hidden while a "
                                "repeat is open.", repeat_box))
        repeat_form.addRow(self.repeat_button)
        left.addWidget(repeat_box)
        self.assign_message = MessageLabel(self)
        left.addWidget(self.assign_message)
        layout.addLayout(left, 2)
        layout.addLayout(right, 3)

        self.add_button.clicked.connect(self.add_reader)
        self.password_button.clicked.connect(self.set_password)
        self.repeat_button.clicked.connect(self.assign_repeats)
        self.assignment.changed.connect(self._on_assignment_changed)
        self.assignment.status.connect(self.status.emit)
        self.refresh()

    # ----------------------------------------------------------------- readers
    def refresh(self) -> None:
        self._readers = self.coordinator.readers()
        reads = self.coordinator.reads()
        table = self.readers_table
        table.setRowCount(len(self._readers))
        for row, reader in enumerate(self._readers):
            own = [r for r in reads if r.reader_name == reader.name]
            submitted = sum(r.status is ReadStatus.SUBMITTED for r in own)
            fill_row(table, row, (cell(reader.name, data=reader.name), cell(reader.role.value),
                                  cell(len(own), right=True), cell(submitted, right=True)))
        scoring = [r.name for r in self._readers if r.role is not Role.COORDINATOR]
        set_choices(self.repeat_reader_combo, scoring)
        self.assignment.refresh(self._readers)

    def protocol_name(self) -> str:
        return str(self.protocol_combo.currentData())

    def _on_assignment_changed(self, changes: StudyChanges) -> None:
        self.changed.emit(changes)
        self.refresh()

    def add_reader(self) -> None:
        name = self.name_edit.text().strip()
        if self.password_edit.text() != self.repeat_edit.text():
            self.readers_message.show_message("The two passwords differ.", "error")
            return
        try:
            done = study.add_reader(self.coordinator, name, Role(self.role_combo.currentText()),
                                    self.password_edit.text())
        except MyoscoreError as exc:
            self.readers_message.show_message(str(exc), "error")
            return
        for edit in (self.name_edit, self.password_edit, self.repeat_edit):
            edit.clear()
        reader = done.value
        self.readers_message.show_message(f"Added {reader.name} ({reader.role.value}).", "info")
        self.changed.emit(done.changes)
        self.refresh()

    def set_password(self) -> None:
        name = row_data(self.readers_table)
        if not isinstance(name, str):
            self.readers_message.show_message("Select a reader in the table first.", "error")
            return
        if not self.password_edit.text():
            self.readers_message.show_message("Type the new password (twice) first.", "error")
            return
        if self.password_edit.text() != self.repeat_edit.text():
            self.readers_message.show_message("The two passwords differ.", "error")
            return
        try:
            done = study.set_password(self.coordinator, name, self.password_edit.text())
        except MyoscoreError as exc:
            self.readers_message.show_message(str(exc), "error")
            return
        self.password_edit.clear()
        self.repeat_edit.clear()
        self.readers_message.show_message(f"New password set for {name}.", "info")
        self.changed.emit(done.changes)

    # ------------------------------------------------------------ repeat reads
    def assign_repeats(self) -> None:
        reader = chosen(self.repeat_reader_combo)
        if not reader:
            self.assign_message.show_message("Choose the reader whose reads are repeated.", "error")
            return
        if not self.repeat_seed_edit.text():
            self.repeat_seed_edit.setText(str(new_seed()))
        seed = int(self.repeat_seed_edit.text())
        protocol = self.protocol_name()
        days = self.washout_spin.value()
        try:
            assigned = study.assign_repeat_reads(self.coordinator, protocol, reader,
                                                 self.fraction_spin.value() / 100, days, seed=seed)
        except MyoscoreError as exc:
            self.assign_message.show_message(str(exc), "error")
            return
        reads = assigned.value
        self.assign_message.show_message(
            f"{len(reads)} repeat reads of {protocol} assigned to {reader}, each available {days:g} days after "
            f"the first read was submitted; seed {seed}.", "info")
        self.repeat_seed_edit.setText(str(new_seed()))
        self.changed.emit(assigned.changes)
        self.refresh()
