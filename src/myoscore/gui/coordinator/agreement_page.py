"""The agreement dashboard: seed 000's Supplementary Table 1 on screen, a confusion matrix
per row, and a per-unit agreement heatmap.

Everything comes from one call, :func:`myoscore.app.analysis.agreement_report` (two
readers) or :func:`~myoscore.app.analysis.intra_reader_report` (a reader against their
blinded repeat reads); the call reveals the readers' ratings, so it is audited, and the
page makes it when it is first shown, whenever the coordinator chooses another protocol,
reader or kind of report (a table never shows one protocol's numbers under another's
name), and on Refresh. Until the two readers have both submitted a read of one exam the
store refuses, and the page says what is missing.
"""

from __future__ import annotations

from itertools import pairwise

from PySide6.QtCore import QDateTime, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QShowEvent
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QRadioButton,
    QSplitter,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)

from myoscore.app import CoordinatorSession
from myoscore.app.analysis import AgreementReport, AgreementRow, agreement_report, intra_reader_report
from myoscore.app.changes import StudyChanges
from myoscore.app.wording import plural
from myoscore.domain import MyoscoreError, NotFound, Read, ReadStatus
from myoscore.gui.coordinator.widgets import (
    MessageLabel,
    Page,
    cell,
    chosen,
    excluded_exams_check,
    fill_row,
    heading,
    hint,
    interval,
    make_table,
    number,
    set_choices,
)

__all__ = ["INDICATOR_COLUMNS", "AgreementPage", "default_pair", "kappa_colour"]

INDICATOR_COLUMNS = ("Indicator", "Region", "n", "NE", "Unscored", "% agreement", "κ", "κ 95% CI", "Weighted κ",
                     "Weighted κ 95% CI")
STATISTICS = {"κ": "kappa", "weighted κ": "weighted_kappa", "% agreement": "percent_agreement", "AC1": "ac1",
              "α": "alpha"}
#: Background of a cell with fewer compared pairs than the protocol's minimum.
TOO_FEW = "#f0f0f0"
# Landis & Koch's bands, as the legend says; the colour ramp runs through them.
_LEGEND = ("κ: < 0 poor · 0–0.20 slight · 0.21–0.40 fair · 0.41–0.60 moderate · 0.61–0.80 substantial · "
           "0.81–1 almost perfect (Landis & Koch 1977). Grey: undefined (hover for why).")
_RAMP = ((0.0, (244, 109, 67)), (0.5, (254, 224, 139)), (1.0, (102, 189, 99)))


def kappa_colour(value: float | None, *, percent: bool = False) -> str:
    """Background of a heatmap cell: red (≤ 0) through yellow (0.5) to green (1); grey when undefined."""
    if value is None or value != value:
        return "#e0e0e0"
    t = min(max(value / 100 if percent else value, 0.0), 1.0)
    for (t0, c0), (t1, c1) in pairwise(_RAMP):
        if t <= t1:
            f = (t - t0) / (t1 - t0)
            r, g, b = (round(a + (z - a) * f) for a, z in zip(c0, c1, strict=True))
            return f"#{r:02x}{g:02x}{b:02x}"
    return "#66bd63"


def default_pair(reads: list[Read], protocol: str) -> tuple[str, str] | None:
    """The two readers with the most exams both have submitted (first reads) for a protocol."""
    by_reader: dict[str, set[int]] = {}
    for read in reads:
        if read.protocol_name == protocol and read.repeat == 0 and read.status is ReadStatus.SUBMITTED:
            by_reader.setdefault(read.reader_name, set()).add(read.exam_id)
    names = sorted(by_reader)
    best: tuple[int, str, str] | None = None
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            shared = len(by_reader[a] & by_reader[b])
            if best is None or shared > best[0]:
                best = (shared, a, b)
    return None if best is None else (best[1], best[2])


class AgreementPage(Page):
    """Per-indicator table, confusion matrix of the selected row, per-unit heatmap."""

    shows = StudyChanges(reads=True, readers=True)
    report_shown = Signal()

    def __init__(self, coordinator: CoordinatorSession, parent: QWidget | None = None) -> None:
        super().__init__(coordinator, parent)
        self.report: AgreementReport | None = None
        self._shown_once = False
        self._filling = False
        self._heat_rows: list[list[int | None]] = []
        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        top.addWidget(heading("Agreement", self))
        top.addSpacing(16)
        self.protocol_combo = QComboBox(self)
        self.pair_radio = QRadioButton("Between readers", self)
        self.intra_radio = QRadioButton("Intra-reader (repeat reads)", self)
        self.pair_radio.setChecked(True)
        group = QButtonGroup(self)
        group.addButton(self.pair_radio)
        group.addButton(self.intra_radio)
        self.first_combo = QComboBox(self)
        self.second_combo = QComboBox(self)
        self.intra_combo = QComboBox(self)
        self.refresh_button = QPushButton("Refresh", self)
        self.refresh_button.setToolTip("Compute the report again over every exam submitted so far (audited).")
        top.addWidget(QLabel("Protocol", self))
        top.addWidget(self.protocol_combo)
        top.addSpacing(8)
        top.addWidget(self.pair_radio)
        top.addWidget(self.first_combo)
        top.addWidget(QLabel("vs", self))
        top.addWidget(self.second_combo)
        top.addSpacing(8)
        top.addWidget(self.intra_radio)
        top.addWidget(self.intra_combo)
        top.addStretch(1)
        self.excluded_check = excluded_exams_check(self)
        top.addWidget(self.excluded_check)
        top.addWidget(self.refresh_button)
        layout.addLayout(top)
        self.info = QLabel(self)
        self.info.setStyleSheet("color: #37474f;")
        layout.addWidget(self.info)
        self.message = MessageLabel(self)
        layout.addWidget(self.message)

        self.body = QSplitter(Qt.Orientation.Horizontal, self)
        left = QWidget(self.body)
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(QLabel("<b>Per indicator</b> (as Supplementary Table 1 of seed 000): NE and unscored "
                                     "pairs are excluded; select a row for its confusion matrix", left))
        self.table = make_table(INDICATOR_COLUMNS, left)
        self.table.verticalHeader().setDefaultSectionSize(23)
        left_layout.addWidget(self.table, 1)
        self.confusion_title = QLabel(left)
        self.confusion_title.setWordWrap(True)
        left_layout.addWidget(self.confusion_title)
        self.confusion = QTableWidget(0, 0, left)
        self.confusion.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.confusion.horizontalHeader().setDefaultSectionSize(56)
        self.confusion.verticalHeader().setDefaultSectionSize(23)
        left_layout.addWidget(self.confusion)

        right = QWidget(self.body)
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        heat_top = QHBoxLayout()
        heat_top.addWidget(QLabel("<b>Per muscle / compartment</b> (both sides pooled)", right))
        heat_top.addStretch(1)
        heat_top.addWidget(QLabel("Colour by", right))
        self.statistic_combo = QComboBox(right)
        self.statistic_combo.addItems(list(STATISTICS))
        heat_top.addWidget(self.statistic_combo)
        right_layout.addLayout(heat_top)
        self.heatmap = QTableWidget(0, 0, right)
        self.heatmap.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.heatmap.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        self.heatmap.verticalHeader().setDefaultSectionSize(22)
        right_layout.addWidget(self.heatmap, 1)
        right_layout.addWidget(hint(_LEGEND, right))
        self.body.addWidget(left)
        self.body.addWidget(right)
        self.body.setSizes([770, 670])
        layout.addWidget(self.body, 1)

        self.refresh_button.clicked.connect(self.compute)
        self.protocol_combo.currentIndexChanged.connect(lambda _i: self._on_protocol_chosen())
        for combo in (self.first_combo, self.second_combo, self.intra_combo):
            combo.currentIndexChanged.connect(lambda _i: self._on_choice_changed())
        self.pair_radio.toggled.connect(lambda _checked: self._on_choice_changed())
        self.excluded_check.toggled.connect(lambda _on: self._on_choice_changed())
        self.table.currentCellChanged.connect(lambda row, *_: self._on_row_selected(row))
        self.heatmap.currentCellChanged.connect(lambda row, column, *_: self._on_heat_selected(row, column))
        self.statistic_combo.currentIndexChanged.connect(lambda _i: self._fill_heatmap())
        self.refresh()

    # ---------------------------------------------------------------- choices
    def refresh(self) -> None:
        """Update the choices (protocols, readers); the report itself is computed on Refresh."""
        reads = self.coordinator.reads()
        protocols = list(dict.fromkeys(read.protocol_name for read in reads))
        set_choices(self.protocol_combo, protocols)
        self._fill_readers(reads)
        if self.report is None:
            self._show_unavailable("Agreement is computed over submitted reads. Choose the readers and press "
                                   "Refresh." if protocols else "No read has been assigned yet.")

    def _fill_readers(self, reads: list[Read] | None = None) -> None:
        self._filling = True  # choices set here are not the coordinator's: no report for each
        try:
            self._fill_reader_choices(reads)
        finally:
            self._filling = False

    def _fill_reader_choices(self, reads: list[Read] | None) -> None:
        reads = self.coordinator.reads() if reads is None else reads
        protocol = self.protocol_combo.currentText()
        names = sorted({r.reader_name for r in reads if r.protocol_name == protocol})
        pair = default_pair(reads, protocol)
        set_choices(self.first_combo, names, default=pair[0] if pair else (names[0] if names else None))
        set_choices(self.second_combo, names, default=pair[1] if pair else (names[1] if len(names) > 1 else None))
        repeaters = sorted({r.reader_name for r in reads if r.protocol_name == protocol and r.repeat})
        set_choices(self.intra_combo, repeaters)
        self.intra_radio.setEnabled(bool(repeaters))
        if not repeaters:
            self.pair_radio.setChecked(True)

    def _on_protocol_chosen(self) -> None:
        self._fill_readers()
        self._on_choice_changed()

    def _on_choice_changed(self) -> None:
        """Another protocol, reader or report kind: compute for it at once (once the page
        has been shown), so the table always matches the choices above it."""
        if self._shown_once and not self._filling:
            self.compute()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._shown_once:
            self._shown_once = True
            if self.protocol_combo.count() and self.first_combo.count() > 1:
                self.compute()

    # ----------------------------------------------------------------- report
    def compute(self) -> None:
        """Run the agreement report for the chosen readers (audited) and show it."""
        protocol = self.protocol_combo.currentText()
        if not protocol:
            self._show_unavailable("No read has been assigned yet.")
            return
        excluded = self.excluded_check.isChecked()
        try:
            if self.intra_radio.isChecked():
                reader = chosen(self.intra_combo)
                if reader is None:
                    raise NotFound("no reader has repeat reads of this protocol yet")
                report = intra_reader_report(self.coordinator, protocol, reader, include_excluded=excluded)
            else:
                first, second = chosen(self.first_combo), chosen(self.second_combo)
                if first is None or second is None or first == second:
                    raise MyoscoreError("choose two different readers")
                report = agreement_report(self.coordinator, protocol, [first, second], include_excluded=excluded)
        except NotFound as exc:
            self._show_unavailable(f"Not available yet: {exc}. The dashboard fills in as soon as both readers "
                                   "have submitted a read of the same exam; press Refresh then.")
            return
        except MyoscoreError as exc:
            self._show_unavailable(str(exc), "error")
            return
        self.show_report(report)

    def _show_unavailable(self, text: str, kind: str = "note") -> None:
        self.report = None
        self.message.show_message(text, kind)
        self.info.setText("")
        self.body.setVisible(False)

    def show_report(self, report: AgreementReport) -> None:
        self.report = report
        self.message.clear_message()
        self.body.setVisible(True)
        now = QDateTime.currentDateTime().toString("HH:mm:ss")
        self.info.setText(f"{report.readers[0]} vs {report.readers[1]} · {report.protocol} · "
                          f"{plural(report.n_exams, 'exam')} both submitted · computed {now}")
        rows = [(i, row) for i, row in enumerate(report.rows) if row.kind != "unit"]
        table = self.table
        table.blockSignals(True)
        table.setRowCount(len(rows))
        for line, (index, row) in enumerate(rows):
            overall = row.kind == "overall" or row.region is None
            region = row.region or ("all" if row.kind == "indicator" else "")
            indicator = row.label if row.kind == "overall" else row.label.rsplit(", ", 1)[0]
            why = row.reason or ""
            fill_row(table, line, (
                cell(indicator, data=index, bold=overall), cell(region, bold=overall),
                cell(row.n_compared, right=True), cell(row.n_not_evaluable, right=True),
                cell(row.n_unscored, right=True), cell(number(row.percent_agreement, 1), right=True),
                cell(number(row.kappa), right=True, tooltip=why),
                cell(interval(row.kappa_ci_low, row.kappa_ci_high), right=True),
                cell(number(row.weighted_kappa), right=True,
                     tooltip="linear weights" if row.weighted_kappa is not None else "not an ordinal scale"),
                cell(interval(row.weighted_ci_low, row.weighted_ci_high), right=True)))
        table.blockSignals(False)
        table.resizeColumnsToContents()
        self._fill_heatmap()
        if rows:
            table.selectRow(0)
            self._on_row_selected(0)
        self.status.emit(f"Agreement over {plural(report.n_exams, 'exam')}.")
        self.report_shown.emit()

    def _on_row_selected(self, line: int) -> None:
        item = self.table.item(line, 0) if line >= 0 else None
        if item is None or self.report is None:
            return
        self.show_confusion(self.report.rows[int(item.data(Qt.ItemDataRole.UserRole))])

    def show_confusion(self, row: AgreementRow) -> None:
        """The count matrix of one row: the first reader's codes down, the second's across."""
        assert self.report is not None
        first, second = self.report.readers
        k = len(row.categories)
        excluded = row.n_not_evaluable + row.n_unscored
        self.confusion_title.setText(
            f"<b>{row.label}</b>: {first} down, {second} across · n = {row.n_compared} compared"
            + (f" ({excluded} excluded: NE or unscored)" if excluded else ""))
        matrix = row.confusion
        table = self.confusion
        table.clear()
        table.setRowCount(k + 1)
        table.setColumnCount(k + 1)
        table.setHorizontalHeaderLabels([f"{c}" for c in row.categories] + ["total"])
        table.setVerticalHeaderLabels([f"{c}" for c in row.categories] + ["total"])
        peak = max((max(r) for r in matrix), default=0) or 1
        for i in range(k):
            for j in range(k):
                count = matrix[i][j] if matrix else 0
                shade = 255 - round(120 * count / peak)
                colour = f"#{shade - 40:02x}{255:02x}{shade - 40:02x}" if i == j else f"#{shade:02x}{shade:02x}ff"
                table.setItem(i, j, cell(count, right=True, background=colour if count else None, bold=i == j))
            table.setItem(i, k, cell(sum(matrix[i]) if matrix else 0, right=True))
        for j in range(k):
            table.setItem(k, j, cell(sum(r[j] for r in matrix) if matrix else 0, right=True))
        table.setItem(k, k, cell(row.n_compared, right=True, bold=True))
        # As tall as its rows (the indicator table above takes the rest).
        table.setFixedHeight(table.horizontalHeader().height() + (k + 1) * table.verticalHeader().defaultSectionSize()
                             + 2 * table.frameWidth() + 2)

    # ---------------------------------------------------------------- heatmap
    def _fill_heatmap(self) -> None:
        table = self.heatmap
        table.clear()
        if self.report is None:
            table.setRowCount(0)
            table.setColumnCount(0)
            return
        units: dict[str, str] = {}
        indicators: list[str] = []
        at: dict[tuple[str, str], int] = {}
        for index, row in enumerate(self.report.rows):
            if row.kind != "unit" or row.unit is None or row.indicator is None:
                continue
            units.setdefault(row.unit, row.label.rsplit(": ", 1)[0])
            if row.indicator not in indicators:
                indicators.append(row.indicator)
            at[(row.unit, row.indicator)] = index
        statistic = STATISTICS[self.statistic_combo.currentText()]
        table.setRowCount(len(units))
        table.setColumnCount(len(indicators))
        # Long indicator names on two lines keep the columns narrow.
        table.setHorizontalHeaderLabels([name.replace(" ", "\n", 1) if len(name) > 10 else name
                                         for name in indicators])
        table.setVerticalHeaderLabels(list(units.values()))
        self._heat_rows = []
        for r, unit in enumerate(units):
            line: list[int | None] = []
            for c, indicator in enumerate(indicators):
                found = at.get((unit, indicator))
                line.append(found)
                if found is None:
                    continue
                row = self.report.rows[found]
                value = getattr(row, statistic)
                percent = statistic == "percent_agreement"
                few = row.n_compared < self.report.min_pairs
                tip = f"{row.label}: n = {row.n_compared}, % agreement {number(row.percent_agreement, 1)}, " \
                      f"κ {number(row.kappa)}, AC1 {number(row.ac1)}, α {number(row.alpha)}" + \
                      (f" ({row.reason})" if row.reason else "") + \
                      (f"; fewer than {self.report.min_pairs} pairs (the protocol's minimum): not to be read"
                       if few else "")
                item = cell(f"{number(value, 1 if percent else 2)}  n={row.n_compared}", right=True, data=found,
                            tooltip=tip, background=TOO_FEW if few else kappa_colour(value, percent=percent))
                if few:
                    item.setForeground(QBrush(QColor("#9e9e9e")))
                table.setItem(r, c, item)
            self._heat_rows.append(line)
        for column in range(table.columnCount()):
            table.setColumnWidth(column, 96)

    def _on_heat_selected(self, row: int, column: int) -> None:
        if self.report is None or not 0 <= row < len(self._heat_rows):
            return
        line = self._heat_rows[row]
        found = line[column] if 0 <= column < len(line) else None
        if found is not None:
            self.show_confusion(self.report.rows[found])
