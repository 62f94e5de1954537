"""Study set-up, part 2: readers, assignment of exams to readers, intra-reader repeat reads.

Assignment is :func:`myoscore.app.study.assign`: every exam not yet assigned for the
protocol goes to both readers (and the adjudicator, if one is named), each reader's
order shuffled from a seed. The seed is drawn here *before* the click and shown in its
field, so the coordinator can write it down or type their own; the store records it with
every read and in the audit trail, and the result message repeats it.

Repeat reads are :func:`myoscore.app.study.assign_repeats`: a fraction of one reader's
submitted exams, hidden from them until the wash-out has passed, in new random positions.
"""

from __future__ import annotations

import secrets
from collections import Counter

from PySide6.QtGui import QIntValidator
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
from myoscore.app.schemes import scheme_library
from myoscore.domain import MyoscoreError, Reader, ReadStatus, Role
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

__all__ = ["ReadersPage", "new_seed"]


def new_seed() -> int:
    """A fresh assignment seed (shown before it is used, recorded when it is)."""
    return secrets.randbelow(2**31)


def _seed_edit(parent: QWidget) -> QLineEdit:
    edit = QLineEdit(str(new_seed()), parent)
    edit.setValidator(QIntValidator(0, 2**31 - 1, edit))
    edit.setToolTip("Each reader's order is shuffled from this number; it is recorded with every read.")
    return edit


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
        layout.addLayout(left, 2)

        # -- assignment -----------------------------------------------------------
        right = QVBoxLayout()
        right.addWidget(heading("Assignment", self))
        assign_box = QGroupBox("Assign exams to two readers", self)
        assign_form = QFormLayout(assign_box)
        self.protocol_combo = QComboBox(assign_box)
        library = scheme_library()
        for name, protocol in library.protocols.items():
            self.protocol_combo.addItem(f"{name} — {protocol.title}", name)
        # The protocol the study already uses most, if any.
        used = Counter(read.protocol_name for read in coordinator.reads())
        if used:
            index = self.protocol_combo.findData(used.most_common(1)[0][0])
            self.protocol_combo.setCurrentIndex(max(index, 0))
        self.first_combo = QComboBox(assign_box)
        self.second_combo = QComboBox(assign_box)
        self.adjudicator_combo = QComboBox(assign_box)
        self.seed_edit = _seed_edit(assign_box)
        self.seed_button = QPushButton("New seed", assign_box)
        seed_row = QHBoxLayout()
        seed_row.addWidget(self.seed_edit, 1)
        seed_row.addWidget(self.seed_button)
        self.unassigned_label = hint("", assign_box)
        self.assign_button = QPushButton("Assign", assign_box)
        assign_form.addRow("Protocol", self.protocol_combo)
        assign_form.addRow("First reader", self.first_combo)
        assign_form.addRow("Second reader", self.second_combo)
        assign_form.addRow("Adjudicator (optional)", self.adjudicator_combo)
        assign_form.addRow("Seed", seed_row)
        assign_form.addRow(self.unassigned_label)
        assign_form.addRow(self.assign_button)
        right.addWidget(assign_box)

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
        self.repeat_seed_edit = _seed_edit(repeat_box)
        self.repeat_button = QPushButton("Assign repeat reads", repeat_box)
        repeat_form.addRow("Reader", self.repeat_reader_combo)
        repeat_form.addRow("Fraction", self.fraction_spin)
        repeat_form.addRow("Wash-out", self.washout_spin)
        repeat_form.addRow("Seed", self.repeat_seed_edit)
        repeat_form.addRow(hint("The repeats join the end of the reader's worklist in a new random order, "
                                "hidden until the wash-out has passed; the first read is hidden while a "
                                "repeat is open.", repeat_box))
        repeat_form.addRow(self.repeat_button)
        right.addWidget(repeat_box)
        self.assign_message = MessageLabel(self)
        right.addWidget(self.assign_message)
        right.addStretch(1)
        layout.addLayout(right, 3)

        self.add_button.clicked.connect(self.add_reader)
        self.password_button.clicked.connect(self.set_password)
        self.seed_button.clicked.connect(lambda: self.seed_edit.setText(str(new_seed())))
        self.assign_button.clicked.connect(self.assign)
        self.repeat_button.clicked.connect(self.assign_repeats)
        self.protocol_combo.currentIndexChanged.connect(lambda _i: self._count_unassigned())
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
        plain = [r.name for r in self._readers if r.role is Role.READER]
        set_choices(self.first_combo, scoring, default=plain[0] if plain else None)
        set_choices(self.second_combo, scoring, default=plain[1] if len(plain) > 1 else None)
        # No adjudicator unless chosen: it is a deliberate choice.
        set_choices(self.adjudicator_combo, scoring, none=True)
        set_choices(self.repeat_reader_combo, scoring)
        self._count_unassigned()

    def protocol_name(self) -> str:
        return str(self.protocol_combo.currentData())

    def _count_unassigned(self) -> None:
        name = self.protocol_name()
        assigned = {r.exam_id for r in self.coordinator.reads(name)}
        exams = self.coordinator.exams()
        todo = sum(exam.id not in assigned for exam in exams)
        self.unassigned_label.setText(f"{todo} of {len(exams)} exams have no read of {name} yet; "
                                      "Assign gives each of them to the readers above.")

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

    # -------------------------------------------------------------- assignment
    def assign(self) -> None:
        first, second = chosen(self.first_combo), chosen(self.second_combo)
        adjudicator = chosen(self.adjudicator_combo)
        if not first or not second:
            self.assign_message.show_message("Add two readers first.", "error")
            return
        if not self.seed_edit.text():
            self.seed_edit.setText(str(new_seed()))
        seed = int(self.seed_edit.text())
        names = [first, second] + ([adjudicator] if adjudicator else [])
        protocol = self.protocol_name()
        try:
            assigned = study.assign_reads(self.coordinator, protocol, names, seed=seed)
        except MyoscoreError as exc:
            self.assign_message.show_message(str(exc), "error")
            return
        reads = assigned.value
        if not reads:
            self.assign_message.show_message(f"Every exam already has reads of {protocol}: nothing to assign.",
                                             "note")
            return
        exams = len({read.exam_id for read in reads})
        self.assign_message.show_message(
            f"Assigned {exams} exams of {protocol} to {', '.join(names)}: {len(reads)} reads, seed {seed} "
            "(recorded with every read and in the audit trail).", "info")
        self.seed_edit.setText(str(new_seed()))
        self.status.emit(f"Assigned with seed {seed}.")
        self.changed.emit(assigned.changes)
        self.refresh()

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
