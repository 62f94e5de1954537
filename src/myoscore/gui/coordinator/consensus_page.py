"""Consensus review: the three policies, and joint review of discordant items by keyboard.

* **Joint review** (seed 004: "observers reviewed the muscles together to agree the final
  score"): :func:`~myoscore.app.analysis.reconcile_reads` with the ``review`` policy
  stores the concordant items and returns the discordant ones still to decide (the call
  reveals both reads, audited); the page then steps through them one by one, showing
  both readers' values side by side — on this screen only — with the exam's images at
  that muscle or compartment (the unit outlined on its largest slice, as the reader saw
  it). A digit records the level by position, N not evaluable, each one
  :func:`~myoscore.app.analysis.record_review_decision` (audited old → new). Items already
  decided (by the mean, an adjudicator, an earlier review) are listed with their decision
  and a digit leaves them as they are; ``O`` then a digit overrides one (audited as an
  override). Stale items (decided on ratings changed since) show their old value and are
  decided again.
* **Mean** (seed 000: "The mean score of two observers was assigned"): one call; what the
  mean cannot decide (not evaluable against a value, nominal, unscored) is left for review.
* **Adjudicator**: one call, taking the third reader's submitted read for discordances.

Readers' own ratings are never written.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from html import escape

from PySide6.QtCore import QEvent, QObject, QRunnable, Qt, QThreadPool, Signal
from PySide6.QtGui import QHideEvent, QKeyEvent, QResizeEvent, QShowEvent
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from myoscore.app import CoordinatorSession
from myoscore.app.analysis import ReconcileOutcome, consensus_list, discordant_items, reconcile_reads
from myoscore.app.changes import CONSENSUS, Changes, StudyChanges, refused
from myoscore.app.exam_images import ExamImages, load_exam_images
from myoscore.app.keymap import DEAD_TIME_MS, REVIEW_KEYMAP, Keyboard, help_rows, short_rows
from myoscore.app.level_keys import level_keys
from myoscore.app.logs import log_file
from myoscore.app.review_session import ReviewSession, decision_text
from myoscore.app.schemes import Protocol
from myoscore.app.wording import plural
from myoscore.domain import Consensus, ConsensusMethod, MyoscoreError, Read, Role, Series
from myoscore.gui.coordinator.agreement_page import default_pair
from myoscore.gui.coordinator.widgets import (
    MessageLabel,
    Page,
    cell,
    chosen,
    fill_row,
    heading,
    make_table,
    set_choices,
)
from myoscore.gui.help_overlay import HelpOverlay
from myoscore.gui.main_window import forward_key, key_text
from myoscore.gui.scoring_panel import LevelRow, RefusalLabel, value_text
from myoscore.gui.slice_view import ViewerPanel

__all__ = ["ConsensusPage"]

_POLICIES = (
    "<b>Joint review</b>: concordant items are taken; you step through every discordant item with both "
    "readers' values and the images, and record the value they agree on with one key.<br>"
    "<b>Mean</b>: concordant items are taken; two levels become their mean, kept fractional (2 and 3 → 2.5); "
    "not evaluable against a value, nominal items and unscored ones are left for joint review.<br>"
    "<b>Adjudicator</b>: concordant items are taken; every discordant item takes the third reader's value "
    "from their submitted read of the exam.<br>"
    "A joint-review decision is final: later runs of any policy keep it, unless a reader's read is reopened "
    "and that item changed (it is then <i>stale</i>: listed with its old value, to decide again).<br>"
    "Joint review lists every discordant item: those already decided (by the mean, an adjudicator or an earlier "
    "review) show their decision, and a digit does not change them — <b>O</b> then the digit overrides one "
    "(audited as an override)."
)
_TEXT_INPUTS = (QLineEdit, QAbstractSpinBox)
_DECIDED, _STALE = "#e8f5e9", "#ffe0b2"  # item table: a decision stands; a stale one to decide again
_CACHE = 4  # exams whose images stay loaded

log = logging.getLogger(__name__)


def _method(value: Consensus) -> str:
    return "review" if value.method is ConsensusMethod.REVIEW else value.method.value.replace("_", " ")


class _LoadSignals(QObject):
    finished = Signal(int, object)  # exam id, ExamImages or an error text


class _LoadTask(QRunnable):
    """Loads an exam's series off the GUI thread (no database access here)."""

    def __init__(self, exam_id: int, series: list[Series], signals: _LoadSignals) -> None:
        super().__init__()
        self.exam_id, self.series, self.signals = exam_id, series, signals

    def run(self) -> None:
        try:
            images: object = load_exam_images(self.series)
        except Exception:  # a message on the view, never a dead worker
            log.exception("loading the images of exam %s failed", self.exam_id)
            images = f"The images of this exam could not be loaded; the details are in the log ({log_file()})."
        self.signals.finished.emit(self.exam_id, images)


class ConsensusPage(Page):
    """Policies in one action each; joint review of discordant items by keyboard."""

    shows = StudyChanges(reads=True, readers=True, consensus=True)
    decision_recorded = Signal(object)  # Changes
    images_shown = Signal()

    def __init__(self, coordinator: CoordinatorSession, parent: QWidget | None = None, *,
                 dead_time_ms: float = DEAD_TIME_MS) -> None:
        super().__init__(coordinator, parent)
        self.review: ReviewSession | None = None
        #: Key presses and releases → review keymap rows; one decision per physical press.
        self.keyboard = Keyboard(REVIEW_KEYMAP, dead_time_ms=dead_time_ms)
        self.images: dict[int, ExamImages | str] = {}
        self._loading: int | None = None
        self._station: tuple[int, int] | None = None
        self._filtering = False
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._signals = _LoadSignals(self)
        self._signals.finished.connect(self._on_images_loaded)

        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        top.addWidget(heading("Consensus", self))
        top.addSpacing(16)
        self.protocol_combo = QComboBox(self)
        self.first_combo = QComboBox(self)
        self.second_combo = QComboBox(self)
        self.review_button = QPushButton("Start joint review", self)
        self.mean_button = QPushButton("Apply mean policy", self)
        self.adjudicator_combo = QComboBox(self)
        self.adjudicator_button = QPushButton("Apply adjudicator policy", self)
        top.addWidget(QLabel("Protocol", self))
        top.addWidget(self.protocol_combo)
        top.addWidget(QLabel("Readers", self))
        top.addWidget(self.first_combo)
        top.addWidget(self.second_combo)
        top.addSpacing(8)
        top.addWidget(self.review_button)
        top.addWidget(self.mean_button)
        top.addSpacing(8)
        top.addWidget(QLabel("Adjudicator", self))
        top.addWidget(self.adjudicator_combo)
        top.addWidget(self.adjudicator_button)
        top.addStretch(1)
        layout.addLayout(top)
        self.message = MessageLabel(self)
        layout.addWidget(self.message)

        self.stack = QStackedWidget(self)
        layout.addWidget(self.stack, 1)

        # -- overview -------------------------------------------------------------
        self.overview = QWidget(self.stack)
        overview_layout = QVBoxLayout(self.overview)
        policies = QLabel(_POLICIES, self.overview)
        policies.setWordWrap(True)
        policies.setTextFormat(Qt.TextFormat.RichText)
        policies.setStyleSheet("background: #fafafa; border: 1px solid #cfd8dc; padding: 8px;")
        overview_layout.addWidget(policies)
        self.summary_label = QLabel(self.overview)
        self.summary_label.setWordWrap(True)
        self.summary_label.setTextFormat(Qt.TextFormat.RichText)
        self.summary_label.setStyleSheet("font-size: 14px; padding: 6px;")
        overview_layout.addWidget(self.summary_label)
        self.consensus_table = make_table(("Method", "Values", "Exams", "Decided by"), self.overview)
        self.consensus_table.setMaximumHeight(160)
        overview_layout.addWidget(self.consensus_table)
        overview_layout.addStretch(1)
        self.stack.addWidget(self.overview)

        # -- joint review -----------------------------------------------------------
        self.review_page = QWidget(self.stack)
        review_layout = QHBoxLayout(self.review_page)
        review_layout.setContentsMargins(0, 0, 0, 0)
        splitter = QSplitter(Qt.Orientation.Horizontal, self.review_page)
        self.items_table = make_table(("Exam · item", "A", "B", "Decision"), splitter, stretch=0)
        self.items_table.verticalHeader().setVisible(True)  # the item's number in the review
        self.items_table.verticalHeader().setDefaultSectionSize(40)  # two lines: exam, then item
        self.items_table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.items_table.setMinimumWidth(300)
        viewer_box = QWidget(splitter)
        viewer_layout = QVBoxLayout(viewer_box)
        viewer_layout.setContentsMargins(0, 0, 0, 0)
        self.station_label = QLabel(viewer_box)
        self.station_label.setStyleSheet("color: #37474f;")
        self.viewer = ViewerPanel(viewer_box)
        viewer_layout.addWidget(self.station_label)
        viewer_layout.addWidget(self.viewer, 1)
        card = QWidget(splitter)
        card.setMinimumWidth(330)
        card_layout = QVBoxLayout(card)
        card_layout.setContentsMargins(6, 0, 0, 0)
        self.progress_label = QLabel(card)
        self.progress_label.setStyleSheet("font-weight: bold;")
        self.progress_bar = QProgressBar(card)
        self.progress_bar.setTextVisible(False)
        self.progress_bar.setMaximumHeight(8)
        self.item_title = QLabel(card)
        self.item_title.setWordWrap(True)
        self.item_title.setStyleSheet("font-size: 15px; font-weight: bold;")
        self.item_info = QLabel(card)
        self.item_info.setWordWrap(True)
        self.item_info.setStyleSheet("color: #37474f;")
        values = QHBoxLayout()
        self.value_boxes = (QLabel(card), QLabel(card))
        for box in self.value_boxes:
            box.setWordWrap(True)
            box.setTextFormat(Qt.TextFormat.RichText)
            box.setAlignment(Qt.AlignmentFlag.AlignCenter)
            box.setMinimumHeight(70)
            values.addWidget(box, 1)
        self.agreed_label = QLabel(card)
        self.agreed_label.setWordWrap(True)
        self.agreed_label.setTextFormat(Qt.TextFormat.RichText)
        scroll = QScrollArea(card)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.levels_scroll = scroll
        self.levels_box = QWidget(scroll)
        self.levels_layout = QVBoxLayout(self.levels_box)
        self.levels_layout.setContentsMargins(0, 0, 0, 0)
        self.levels_layout.setSpacing(3)
        scroll.setWidget(self.levels_box)
        self.level_rows: dict[str, LevelRow] = {}
        keys = QLabel(" · ".join(f"<b>{escape(k)}</b> {escape(t)}" for k, t in short_rows(REVIEW_KEYMAP)), card)
        keys.setToolTip("\n".join(f"{k}: {t}" for _g, k, t in help_rows(REVIEW_KEYMAP)))
        keys.setStyleSheet("color: #546e7a;")
        keys.setWordWrap(True)
        self.finish_button = QPushButton("Finish review", card)
        self.finish_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        card_layout.addWidget(self.progress_label)
        card_layout.addWidget(self.progress_bar)
        card_layout.addWidget(self.item_title)
        card_layout.addWidget(self.item_info)
        card_layout.addLayout(values)
        card_layout.addWidget(self.agreed_label)
        self.refusal = RefusalLabel(card)
        card_layout.addWidget(self.refusal)
        card_layout.addWidget(scroll, 1)
        card_layout.addWidget(keys)
        card_layout.addWidget(self.finish_button)
        splitter.addWidget(self.items_table)
        splitter.addWidget(viewer_box)
        splitter.addWidget(card)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 4)
        splitter.setStretchFactor(2, 2)
        splitter.setSizes([580, 500, 360])
        review_layout.addWidget(splitter)
        self.stack.addWidget(self.review_page)
        #: The review keys, generated from REVIEW_KEYMAP (F1 or H).
        self.help_overlay = HelpOverlay(self.review_page, REVIEW_KEYMAP, "F1 or H")

        self.protocol_combo.currentIndexChanged.connect(lambda _i: self._fill_readers())
        self.review_button.clicked.connect(self.start_review)
        self.mean_button.clicked.connect(self.apply_mean)
        self.adjudicator_button.clicked.connect(self.apply_adjudicator)
        self.finish_button.clicked.connect(self.finish_review)
        self.items_table.cellClicked.connect(lambda row, _c: self.run_review(lambda r: r.go_to(row)))
        self.refresh()

    # ---------------------------------------------------------------- choices
    def refresh(self) -> None:
        reads = self.coordinator.reads()
        set_choices(self.protocol_combo, list(dict.fromkeys(r.protocol_name for r in reads)))
        self._fill_readers(reads)
        if self.review is None:
            self.show_summary()

    def _fill_readers(self, reads: list[Read] | None = None) -> None:
        reads = self.coordinator.reads() if reads is None else reads
        protocol = self.protocol_combo.currentText()
        names = sorted({r.reader_name for r in reads if r.protocol_name == protocol})
        pair = default_pair(reads, protocol)
        set_choices(self.first_combo, names, default=pair[0] if pair else None)
        set_choices(self.second_combo, names, default=pair[1] if pair else (names[1] if len(names) > 1 else None))
        roles = {reader.name: reader.role for reader in self.coordinator.readers()}
        adjudicators = sorted(names, key=lambda n: roles.get(n) is not Role.ADJUDICATOR)
        set_choices(self.adjudicator_combo, adjudicators, none=True,
                    default=next((n for n in adjudicators if roles.get(n) is Role.ADJUDICATOR), None))

    def _pair(self) -> tuple[str, str, str] | None:
        protocol = self.protocol_combo.currentText()
        first, second = chosen(self.first_combo), chosen(self.second_combo)
        if not protocol or first is None or second is None:
            self.message.show_message("Assign exams to two readers first; consensus needs their submitted reads.",
                                      "error")
            return None
        return protocol, first, second

    # --------------------------------------------------------------- policies
    def apply_mean(self) -> None:
        """The mean policy over every exam both readers submitted: one call."""
        self._apply(ConsensusMethod.MEAN)

    def apply_adjudicator(self) -> None:
        self._apply(ConsensusMethod.ADJUDICATOR, chosen(self.adjudicator_combo))

    def _apply(self, policy: ConsensusMethod, adjudicator: str | None = None) -> ReconcileOutcome | None:
        chosen_pair = self._pair()
        if chosen_pair is None:
            return None
        protocol, first, second = chosen_pair
        if policy is ConsensusMethod.ADJUDICATOR and adjudicator is None:
            self.message.show_message("Choose the adjudicator (a third reader who read the exams).", "error")
            return None
        self.end_review()
        try:
            outcome = reconcile_reads(self.coordinator, protocol, [first, second], policy, adjudicator)
        except MyoscoreError as exc:
            self.message.show_message(str(exc), "error")
            return None
        what = {ConsensusMethod.MEAN: "Mean of the two readers",
                ConsensusMethod.ADJUDICATOR: f"Adjudicator {adjudicator}"}[policy]
        pending = len(outcome.pending)
        rest = (f" {plural(pending, 'discordant item')} could not be decided this way and wait for joint review "
                f"({self._kinds(outcome)})." if pending else " Nothing is left for joint review.")
        self.message.show_message(f"{what}: consensus stored for {plural(outcome.n_values, 'item')} of "
                                  f"{plural(outcome.n_exams, 'exam')}.{rest}", "info")
        self.changed.emit(CONSENSUS)
        self.show_summary()
        return outcome

    @staticmethod
    def _kinds(outcome: ReconcileOutcome) -> str:
        names = {"not_evaluable": "not evaluable against a value", "nominal": "nominal", "unscored": "unscored",
                 "values": "two levels"}
        counts = Counter(item.kind for item in outcome.pending)
        return ", ".join(f"{names.get(kind, kind)}: {n}" for kind, n in counts.items())

    def show_summary(self, lead: str = "") -> None:
        """Consensus stored for the protocol so far, by method (an app call, no reveal)."""
        self.stack.setCurrentWidget(self.overview)
        protocol = self.protocol_combo.currentText()
        values = []
        if protocol:
            try:
                values = consensus_list(self.coordinator, protocol)
            except MyoscoreError:
                values = []
        by_method: dict[str, list[Consensus]] = {}
        for value in values:
            by_method.setdefault(value.method.value, []).append(value)
        exams = len({v.exam_id for v in values})
        text = f"{lead}<br>" if lead else ""
        text += (f"Consensus of <b>{escape(protocol)}</b>: {plural(len(values), 'value')} for {plural(exams, 'exam')}."
                 if protocol else "No read has been assigned yet.")
        self.summary_label.setText(text)
        table = self.consensus_table
        table.setRowCount(len(by_method))
        for row, (method, group) in enumerate(sorted(by_method.items())):
            deciders = ", ".join(sorted({v.decided_by for v in group}))
            fill_row(table, row, (cell(method), cell(len(group), right=True),
                                  cell(len({v.exam_id for v in group}), right=True), cell(deciders)))

    # ------------------------------------------------------------ joint review
    def start_review(self) -> None:
        """Store the concordant items and step through the discordant ones still to decide."""
        chosen_pair = self._pair()
        if chosen_pair is None:
            return
        protocol_name, first, second = chosen_pair
        try:
            outcome = reconcile_reads(self.coordinator, protocol_name, [first, second], ConsensusMethod.REVIEW)
            items = discordant_items(self.coordinator, protocol_name, [first, second])
            protocol = self._protocol(protocol_name)
        except MyoscoreError as exc:
            self.message.show_message(str(exc), "error")
            return
        self.changed.emit(CONSENSUS)
        if not items:
            self.end_review()
            self.message.show_message(f"No discordant item: {first} and {second} agree on every item of "
                                      f"{plural(outcome.n_exams, 'exam')}.", "info")
            self.show_summary()
            return
        review = ReviewSession(self.coordinator, protocol, (first, second), items)
        decided, stale = review.n_decided, review.n_stale
        if review.n_to_decide:
            lead = (f"{plural(review.n_to_decide, 'item')} to decide ({self._kinds(outcome)}"
                    + (f"; {stale} of them stale, decided on ratings changed since" if stale else "") + ")")
        else:
            lead = "nothing to decide"
        self.message.show_message(
            f"Joint review of {protocol_name}: {plural(review.total, 'discordant item')} over "
            f"{plural(outcome.n_exams, 'exam')}, {lead}; {decided} already decided (shown with their decision; "
            "O then a digit overrides one). Both readers' values are shown on this screen only; the reveal is "
            "audited.", "note")
        self.review = review
        self.keyboard.reset()
        self._fill_items()
        self.stack.setCurrentWidget(self.review_page)
        self._set_filter(True)
        self._show_current()

    def _protocol(self, protocol_name: str) -> Protocol:
        """The snapshot the reads used (every read records it)."""
        read = next(r for r in self.coordinator.reads(protocol_name) if r.repeat == 0)
        return self.coordinator.protocol_of(read.id)

    def _record_clicked(self, code: str) -> None:
        self.run_review(lambda review: review.record(code, override=review.override_armed))

    def run_review(self, action: Callable[[ReviewSession], Changes]) -> Changes:
        """Run one review action and redraw what it changed (a rule's no → a refusal shown on the card)."""
        if self.review is None:
            return Changes()
        previous = self.review.index
        try:
            changes = action(self.review)
        except MyoscoreError as exc:
            changes = refused(str(exc))
        return self.show_changes(changes, previous)

    def show_changes(self, changes: Changes, previous: int | None = None) -> Changes:
        """Redraw what ``changes`` names; a refusal is highlighted on the card and in the message line."""
        if self.review is None:
            return changes
        previous = self.review.index if previous is None else previous
        if changes.refused:
            self.refusal.show_refusal(changes.refused)
            self.message.show_message(changes.refused, "error")
        elif changes.value or changes.item:
            # The next accepted key ends the refusal: on the card and in the message line.
            self.refusal.clear_refusal()
            if self.message.kind == "error":
                self.message.clear_message()
        if changes.value:
            self._show_row(previous)
            self.changed.emit(CONSENSUS)
        if changes:
            self._show_current()
        if changes.status and self.review.finished:
            self._on_finished()
        self.decision_recorded.emit(changes)
        return changes

    def finish_review(self) -> None:
        review = self.review
        self.end_review()
        if review is not None:
            left = review.n_to_decide
            lead = (f"Joint review: {review.n_decided} of {plural(review.total, 'discordant item')} decided "
                    f"({len(review.decisions)} in this review)."
                    + (f" {left} are still to decide; Start joint review brings them back." if left else ""))
            self.show_summary(lead)

    def _on_finished(self) -> None:
        review = self.review
        assert review is not None
        changed = sum(1 for d in review.decisions.values()
                      if d.code is not None and d.code not in d.sources.values())
        self.message.show_message(
            f"All {plural(review.total, 'discordant item')} are decided ({changed} with a value neither reader gave). "
            "To change one, step back with Up and press O, then its key; or press Finish review.", "info")

    def end_review(self) -> None:
        self._set_filter(False)
        self.help_overlay.setVisible(False)
        self.review = None
        self.viewer.show_message("")
        self._station = None

    def _fill_items(self) -> None:
        review = self.review
        assert review is not None
        first, second = review.readers
        self.items_table.setHorizontalHeaderLabels(["Exam · item", first, second, "Decision"])
        self.items_table.setRowCount(review.total)
        for row in range(review.total):
            self._show_row(row)

    def _show_row(self, row: int) -> None:
        review = self.review
        assert review is not None
        item = review.items[row]
        first, second = (item.codes.get(name) for name in review.readers)
        decision, stale = review.decision(row), review.stale_value(row)
        scale = review.protocol.scale_of(item.item_key)
        if decision is not None:
            shown = decision.code or f"{decision.value:g}"
            how = "" if row in review.decisions else f" · {_method(decision)}"
            agreed = cell(shown + how, bold=True, background=_DECIDED, tooltip=decision_text(scale, decision))
        elif stale is not None:
            agreed = cell(f"stale (was {stale.code or f'{stale.value:g}'})", background=_STALE,
                          tooltip=f"Decided {decision_text(scale, stale)} on ratings that changed since: "
                                  "decide again")
        else:
            agreed = cell("")
        fill_row(self.items_table, row, (
            cell(f"{item.subject} · {item.exam_label}\n{item.title}", data=row, tooltip=item.item_key),
            cell(first or "—"), cell(second or "—"), agreed))

    def _show_current(self) -> None:
        review = self.review
        if review is None:
            return
        item, protocol_item, scale = review.item, review.protocol_item, review.scale
        self.items_table.selectRow(review.index)
        stale_note = f" ({review.n_stale} stale)" if review.n_stale else ""
        self.progress_label.setText(f"Item {review.index + 1} of {review.total} · {review.n_decided} decided · "
                                    f"{review.n_to_decide} to decide{stale_note}")
        self.progress_bar.setMaximum(review.total)
        self.progress_bar.setValue(review.n_decided)
        self.item_title.setText(item.title)
        self.item_info.setText(f"{item.subject} · {item.exam_label} · scored on {protocol_item.sequence} · "
                               f"{scale.title}")
        for box, name, code in zip(self.value_boxes, review.readers, review.codes(), strict=True):
            shown = value_text(scale, code) if code is not None else "— · unscored"
            big, _, label = shown.partition(" · ")
            box.setText(f"<span style='color:#546e7a'>{escape(name)}</span><br>"
                        f"<span style='font-size:22px; font-weight:bold'>{escape(big)}</span><br>{escape(label)}")
            box.setStyleSheet("background: #eceff1; border: 1px solid #b0bec5; border-radius: 4px; padding: 4px;")
        self._show_decision(review)
        self._show_levels(review)
        self._show_images()

    def _show_decision(self, review: ReviewSession) -> None:
        """The item's decision, or its stale value, or the armed override — above the levels."""
        scale, decision, stale = review.scale, review.decision(), review.stale_value()
        if review.override_armed and decision is not None:
            text = (f"<b>Override armed</b>: the next digit (or N) replaces {escape(decision_text(scale, decision))}; "
                    "audited as an override. O again cancels.")
            style = "color: #bf360c; background: #fff3e0; border: 2px solid #ff6d00;"
        elif decision is not None:
            made = review.index in review.decisions
            text = (f"<b>{'Agreed' if made else 'Decided'}</b>: {escape(decision_text(scale, decision))}<br>"
                    "<span style='color:#546e7a'>A digit does not change it: O, then the digit, overrides "
                    "(audited).</span>")
            style = "color: #1b5e20; background: #e8f5e9; border: 1px solid #a5d6a7;"
        elif stale is not None:
            was = ", ".join(f"{name} {stale.sources.get(name, '—')}" for name in review.readers)
            text = (f"<b>Stale</b>: was {escape(decision_text(scale, stale))}, decided when {escape(was)}; a "
                    "reader's rating changed since. Decide again with a digit.")
            style = "color: #e65100; background: #fff8e1; border: 1px solid #ffcc80;"
        else:
            text, style = "<b>To decide</b>: press the digit of the level the readers agree on.", "color: #37474f;"
        self.agreed_label.setText(text)
        self.agreed_label.setStyleSheet(style + " padding: 4px; border-radius: 3px;")

    def _show_levels(self, review: ReviewSession) -> None:
        while self.levels_layout.count():
            child = self.levels_layout.takeAt(0)
            widget = child.widget() if child is not None else None
            if widget is not None:
                widget.hide()  # gone at once, not when the event loop gets to deleting it
                widget.deleteLater()
        self.level_rows = {}
        scale = review.scale
        codes = review.codes()
        decision = review.decision()
        for entry in level_keys(scale):
            code = entry.code
            row = LevelRow(entry.key, code, entry.label, entry.definition, self.levels_box)
            tags = [name for name, given in zip(review.readers, codes, strict=True) if given == code]
            if tags:  # in the row's one label, so its height follows the wrapped text
                row.text_label.setText(row.text_label.text() + "<br><span style='color:#0d47a1; font-weight:bold'>"
                                       f"◀ {escape(' & '.join(tags))}</span>")
            row.set_selected(decision is not None and decision.code == code)
            row.clicked.connect(self._record_clicked)
            self.levels_layout.addWidget(row)
            self.level_rows[code] = row
        self.levels_layout.addStretch(1)
        self._fit_levels()

    def _fit_levels(self) -> None:
        """Give the levels the height their wrapped text needs at this width, so the scroll
        area scrolls instead of squeezing them (it sizes its widget by the plain size hint)."""
        height = self.levels_layout.heightForWidth(self.levels_scroll.viewport().width())
        if height > 0:
            self.levels_box.setMinimumHeight(height)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self.level_rows:
            self._fit_levels()

    # ------------------------------------------------------------------ images
    def _show_images(self) -> None:
        review = self.review
        if review is None:
            return
        exam_id = review.item.exam_id
        images = self.images.get(exam_id)
        if images is None:
            self.viewer.show_message("Loading images …")
            self._station = None
            self.station_label.setText("")
            if self._loading is None:
                self._load(exam_id)
            return
        if isinstance(images, str):
            self.viewer.show_message(images)
            self._station = None
            self.images_shown.emit()
            return
        if not images.stations:
            self.viewer.show_message("No image series are registered for this exam." if not images.problems
                                     else "\n".join(images.problems))
            self._station = None
            self.images_shown.emit()
            return
        item = review.protocol_item
        found = images.locate(item.unit.key, item.side)
        index = found[0] if found is not None else 0
        station = images.stations[index]
        if self._station != (exam_id, index):
            self.viewer.set_station(station, [s.window for s in station.series])
            self._station = (exam_id, index)
        if found is not None:
            self.viewer.go_to(found[1])
        values = station.label_map.values_for(item.unit.key, item.side) if station.label_map is not None else ()
        self.viewer.set_outline(values)  # the sequence scored is named in the card, not on the narrow views
        where = "largest slice of the unit, outlined" if found is not None else "no label map: first slice"
        self.station_label.setText(f"{review.item.subject} · {review.item.exam_label} · {station.name} · {where}")
        self.images_shown.emit()

    def _load(self, exam_id: int) -> None:
        self._loading = exam_id
        self._pool.start(_LoadTask(exam_id, self.coordinator.series(exam_id), self._signals))

    def _on_images_loaded(self, exam_id: int, images: object) -> None:
        self._loading = None
        self.images[exam_id] = images  # type: ignore[assignment]
        while len(self.images) > _CACHE:
            self.images.pop(next(iter(self.images)))
        if self.review is None:
            return
        if self.review.item.exam_id == exam_id:
            self._show_images()
        elif self.review.item.exam_id not in self.images:
            self._load(self.review.item.exam_id)

    def wait_for_images(self, timeout_ms: int = 30_000) -> bool:
        """Block until the loader is idle (tests and screenshots)."""
        done = self._pool.waitForDone(timeout_ms)
        QApplication.processEvents()
        return done

    def step_slice(self, delta: int) -> None:
        self.viewer.step(delta)

    def toggle_help(self) -> None:
        self.help_overlay.toggle()

    # ---------------------------------------------------------------- keyboard
    def _set_filter(self, on: bool) -> None:
        app = QApplication.instance()
        if app is None or on == self._filtering:
            return
        if on:
            app.installEventFilter(self)
        else:
            app.removeEventFilter(self)
        self._filtering = on

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind == QEvent.Type.WindowDeactivate and watched is self.window():
            self.keyboard.reset()  # releases now go to another window
        if (kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease) and self.review is not None
                and isinstance(watched, QWidget) and watched.window() is self.window() and self.isVisible()
                and self.stack.currentWidget() is self.review_page
                and not isinstance(QApplication.focusWidget(), _TEXT_INPUTS)):
            assert isinstance(event, QKeyEvent)
            text = key_text(event)
            if self.keyboard.binding_for(text) is None:
                return False  # not a review key: the rest of the desk may use it
            # Presses and releases go to the app's Keyboard: one decision per physical press.
            outcome = forward_key(self.keyboard, event)
            if isinstance(outcome, Changes):
                self.show_changes(outcome)
            elif outcome is not None:
                if outcome.target == "window":
                    outcome.run_on_window(self)
                else:
                    self.run_review(outcome.run_on_session)
            return True
        return super().eventFilter(watched, event)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self.review is not None:
            self._set_filter(True)

    def hideEvent(self, event: QHideEvent) -> None:
        self._set_filter(False)
        super().hideEvent(event)

    def shutdown(self) -> None:
        """Stop listening to keys and wait for a running image load (window closing)."""
        self._set_filter(False)
        self._pool.clear()
        self._pool.waitForDone(10_000)
