"""Derived scores with their coverage: the coordinator's *Scores* tab.

One call, :func:`myoscore.app.analysis.derived_scores` — the same that ``myoscore scores
--json`` prints — gives every exam's derived scores (sums, STIR%, T1 sums, per region and
side, as the protocol declares them), the subjects' first → last exam changes and the
STIR → T1 progression, from consensus or from one reader's submitted reads. Nothing is
computed here: the page lays the report out.

Each number carries its coverage beside it: items evaluated / items of the score. A score
with an item not evaluated (not evaluable, unscored, or consensus that is stale or still
pending) is **incomplete**, drawn amber with ⚠ and never comparable with a complete one;
the tooltip counts not evaluable and unscored items and gives the score's range. From
consensus, each exam says how many of its items are decided, stale (a contributing rating
changed since: not used) and pending.

Revealing ratings is audited by the store, so the report is computed when the tab is
shown, when the protocol or source is chosen, and on Refresh — not on every change
elsewhere while the tab is hidden.
"""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from myoscore.app import CoordinatorSession
from myoscore.app.analysis import ExamScores, NoConsensus, ScoreResult, ScoresReport, derived_scores
from myoscore.app.changes import StudyChanges
from myoscore.app.wording import plural
from myoscore.domain import MyoscoreError, Read, ReadStatus
from myoscore.gui.coordinator.widgets import (
    HINT_STYLE,
    MessageLabel,
    Page,
    cell,
    excluded_exams_check,
    fill_row,
    heading,
    hint,
    make_table,
    set_choices,
)

__all__ = ["CONSENSUS_SOURCE", "ScoresPage", "score_text"]

#: The source choice that means consensus (the others are reader names).
CONSENSUS_SOURCE = "consensus"
_INCOMPLETE = "#ffe0b2"  # amber: not every item of the score was evaluated
_STALE = "#ffcc80"
_COMPLETE = "#e8f5e9"
_FIXED = 3  # subject, exam, consensus columns before the scores


def number_text(value: float | None) -> str:
    """A score as shown: up to two decimals, no trailing zeros (``11.5``, ``33.33``); ``—``
    when there is none."""
    if value is None or value != value:
        return "—"
    return f"{round(value, 2):g}" if abs(value) < 1e6 else f"{value:.0f}"


def score_text(value: float | None, n_evaluated: int, n_items: int, n_not_evaluable: int = 0) -> str:
    """A score with its coverage beside it: ``"11.5  (10/12)"``, ``"⚠ 6  (6/12 · 6 NE)"``:
    ⚠ first when incomplete, the not evaluable items counted when there are any."""
    flag = "" if n_evaluated == n_items else "⚠ "
    ne = f" · {n_not_evaluable} NE" if n_not_evaluable else ""
    return f"{flag}{number_text(value)}  ({n_evaluated}/{n_items}{ne})"


class ScoresPage(Page):
    """Per exam: every derived score with n evaluated / n items; Δ first → last per subject."""

    shows = StudyChanges(reads=True, consensus=True)

    def __init__(self, coordinator: CoordinatorSession, parent: QWidget | None = None) -> None:
        super().__init__(coordinator, parent)
        self.report: ScoresReport | None = None
        self._dirty = True

        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        top.addWidget(heading("Derived scores", self))
        top.addSpacing(16)
        self.protocol_combo = QComboBox(self)
        self.source_combo = QComboBox(self)
        self.source_combo.setToolTip("Consensus (decided values only: stale and pending items count as not "
                                     "evaluated), or one reader's submitted reads")
        self.compute_button = QPushButton("Compute", self)
        top.addWidget(QLabel("Protocol", self))
        top.addWidget(self.protocol_combo)
        top.addWidget(QLabel("From", self))
        top.addWidget(self.source_combo)
        top.addWidget(self.compute_button)
        top.addStretch(1)
        self.excluded_check = excluded_exams_check(self)
        top.addWidget(self.excluded_check)
        layout.addLayout(top)
        self.message = MessageLabel(self)
        layout.addWidget(self.message)
        self.summary_label = QLabel(self)
        self.summary_label.setWordWrap(True)
        self.summary_label.setTextFormat(Qt.TextFormat.RichText)
        self.summary_label.setStyleSheet("font-size: 13px; padding: 4px;")
        layout.addWidget(self.summary_label)
        layout.addWidget(hint("Each cell: the score, then (items evaluated / items of the score · not evaluable "
                              "items, NE). ⚠ amber: "
                              "incomplete — an item was not evaluable, unscored, or its consensus stale or "
                              "pending; the sum or percentage covers fewer items and is not comparable with a "
                              "complete one. Hover a cell for not evaluable and unscored counts and the range.",
                              self))

        splitter = QSplitter(Qt.Orientation.Vertical, self)
        exams_box = QWidget(splitter)
        exams_layout = QVBoxLayout(exams_box)
        exams_layout.setContentsMargins(0, 0, 0, 0)
        self.exams_table: QTableWidget = make_table(("Subject", "Exam", "Consensus"), exams_box)
        exams_layout.addWidget(self.exams_table)
        changes_box = QWidget(splitter)
        changes_layout = QVBoxLayout(changes_box)
        changes_layout.setContentsMargins(0, 0, 0, 0)
        title = QLabel("First → last exam of each subject", changes_box)
        title.setStyleSheet("font-weight: bold;")
        changes_layout.addWidget(title)
        self.changes_table: QTableWidget = make_table(
            ("Subject", "Score", "First", "Last", "Δ", "Δ %", "Coverage (first · last)"), changes_box, stretch=6)
        changes_layout.addWidget(self.changes_table)
        self.progression_label = QLabel(changes_box)
        self.progression_label.setWordWrap(True)
        self.progression_label.setStyleSheet(HINT_STYLE)
        changes_layout.addWidget(self.progression_label)
        splitter.addWidget(exams_box)
        splitter.addWidget(changes_box)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        layout.addWidget(splitter, 1)

        self.protocol_combo.currentIndexChanged.connect(lambda _i: self._on_protocol_chosen())
        self.source_combo.currentIndexChanged.connect(lambda _i: self.compute())
        self.compute_button.clicked.connect(self.compute)
        self.excluded_check.toggled.connect(lambda _on: self.compute())
        self._fill_choices()

    # ---------------------------------------------------------------- choices
    def _fill_choices(self) -> None:
        reads = self.coordinator.reads()
        set_choices(self.protocol_combo, list(dict.fromkeys(r.protocol_name for r in reads)))
        self._fill_sources(reads)

    def _fill_sources(self, reads: list[Read] | None = None) -> None:
        reads = self.coordinator.reads() if reads is None else reads
        protocol = self.protocol_combo.currentText()
        readers = sorted({r.reader_name for r in reads if r.protocol_name == protocol and r.repeat == 0
                          and r.status is ReadStatus.SUBMITTED})
        set_choices(self.source_combo, [CONSENSUS_SOURCE, *readers], default=CONSENSUS_SOURCE)

    def _on_protocol_chosen(self) -> None:
        self._fill_sources()
        self.compute()

    def refresh(self) -> None:
        """New choices; the report again if the tab is shown (else when it is next shown)."""
        self._fill_choices()
        self._dirty = True
        if self.isVisible():
            self.compute()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._dirty:
            self.compute()

    # ----------------------------------------------------------------- report
    def compute(self) -> ScoresReport | None:
        """``derived_scores`` for the chosen protocol and source (an audited reveal), shown."""
        self._dirty = False
        protocol = self.protocol_combo.currentText()
        if not protocol:
            self._show_unavailable("No read has been assigned yet: scores need submitted reads.")
            return None
        source = self.source_combo.currentText() or CONSENSUS_SOURCE
        reader = None if source == CONSENSUS_SOURCE else source
        try:
            report = derived_scores(self.coordinator, protocol, reader=reader,
                                    include_excluded=self.excluded_check.isChecked())
        except NoConsensus:
            self._show_unavailable(f"No consensus is decided for {protocol} yet: reconcile the readers on the "
                                   "Consensus tab first, or choose one reader under From.")
            return None
        except MyoscoreError as exc:
            self._show_unavailable(str(exc))
            return None
        self.report = report
        self.message.clear_message()
        self._show_summary(report)
        self._show_exams(report)
        self._show_changes(report)
        return report

    def _show_unavailable(self, text: str) -> None:
        self.report = None
        self.message.show_message(text, "note")
        self.summary_label.setText("")
        for table in (self.exams_table, self.changes_table):
            table.setRowCount(0)
        self.progression_label.setText("")

    def _show_summary(self, report: ScoresReport) -> None:
        incomplete = sum(1 for e in report.exams if any(not s.complete for s in e.scores))
        text = (f"<b>{escape(report.protocol)}</b> from <b>{escape(report.source)}</b>: "
                f"{plural(len(report.exams), 'exam')}, {incomplete} with an incomplete score.")
        counts = report.consensus
        if counts is not None:
            stale = (f"<span style='background:{_STALE}; font-weight:bold'>&nbsp;{counts.stale} stale&nbsp;</span>"
                     if counts.stale else "0 stale")
            text += (f" Consensus items: {counts.decided} decided · {stale} (not used) · {counts.pending} pending "
                     "— stale and pending items count as not evaluated.")
        self.summary_label.setText(text)

    def _show_exams(self, report: ScoresReport) -> None:
        table = self.exams_table
        names = list(dict.fromkeys(s.name for e in report.exams for s in e.scores))
        labels = {s.name: s for e in report.exams for s in e.scores}
        table.setColumnCount(_FIXED + len(names))
        table.setHorizontalHeaderLabels(["Subject", "Exam", "Consensus", *names])
        for column, name in enumerate(names, start=_FIXED):
            header = table.horizontalHeaderItem(column)
            assert header is not None  # set by setHorizontalHeaderLabels above
            score = labels[name]
            regions = f"; regions: {', '.join(score.regions)}" if score.regions else ""
            header.setToolTip(f"{score.label} (range {score.minimum:g}–{score.maximum:g}{regions})")
        table.setRowCount(len(report.exams))
        for row, entry in enumerate(report.exams):
            by_name = {s.name: s for s in entry.scores}
            fill_row(table, row, (cell(entry.exam.subject_code, data=entry.exam.id),
                                  cell(entry.exam.label), self._consensus_cell(entry),
                                  *(self._score_cell(by_name.get(name)) for name in names)))

    @staticmethod
    def _consensus_cell(entry: ExamScores) -> QTableWidgetItem:
        counts = entry.consensus
        if counts is None:
            return cell("—", tooltip="Scores from one reader's submitted read")
        text = f"{counts.decided} decided"
        if counts.stale:
            text += f" · ⚠ {counts.stale} stale"
        if counts.pending:
            text += f" · {counts.pending} pending"
        return cell(text, background=_STALE if counts.stale else None, bold=bool(counts.stale),
                    tooltip=(f"{counts.stale} consensus value(s) of this exam were decided on ratings that changed "
                             "since: not used (counted as not evaluated) until decided again at joint review. "
                             if counts.stale else "")
                    + f"{counts.pending} item(s) have no consensus yet.")

    @staticmethod
    def _score_cell(score: ScoreResult | None) -> QTableWidgetItem:
        if score is None:
            return cell("")
        not_evaluable = score.n_not_evaluable
        unscored = score.n_missing - not_evaluable
        tip = (f"{score.label}\n{number_text(score.value)} on {score.minimum:g}–{score.maximum:g}; "
               f"{score.n_evaluated} of {score.n_items} items evaluated, {not_evaluable} not evaluable, "
               f"{unscored} unscored or without consensus")
        if score.reason:
            tip += f"\n{score.reason}"
        if not score.complete:
            tip += "\nIncomplete: not comparable with complete scores"
        return cell(score_text(score.value, score.n_evaluated, score.n_items, not_evaluable), right=True, data=score,
                    tooltip=tip, background=_INCOMPLETE if not score.complete else None, bold=not score.complete)

    def _show_changes(self, report: ScoresReport) -> None:
        results = {(e.exam.id, s.name): s for e in report.exams for s in e.scores}
        table = self.changes_table
        table.setRowCount(len(report.changes))
        for row, change in enumerate(report.changes):
            ends = [results.get((change.first_exam, change.score)), results.get((change.last_exam, change.score))]
            coverage = " · ".join(f"{s.n_evaluated}/{s.n_items}" if s is not None else "—" for s in ends)
            complete = all(s is not None and s.complete for s in ends)
            flag = "" if complete else "⚠ "
            fill_row(table, row, (
                cell(change.subject, data=change), cell(change.score),
                cell(number_text(change.first), right=True), cell(number_text(change.last), right=True),
                cell(flag + number_text(change.delta), right=True, bold=True,
                     background=None if complete else _INCOMPLETE),
                cell(number_text(change.relative), right=True),
                cell(coverage + ("" if complete else "  incomplete: Δ compares different items"),
                     background=None if complete else _INCOMPLETE)))
        progression = report.progression
        if progression is None:
            self.progression_label.setText("No subject has a follow-up exam: no Δ or progression yet."
                                           if not report.changes else "")
            return
        total = progression.total
        self.progression_label.setText(
            f"{progression.stir_measure}-positive at the first exam with {progression.t1_measure} progression "
            f"(≥ 1 grade): {total.stir_positive_progressed}/{total.stir_positive}; progressed without being "
            f"{progression.stir_measure}-positive: {total.progressed_not_stir_positive}/{total.progressed} "
            f"(regions: {', '.join(progression.regions)}).")
