"""The agreement dashboard: a clear message before, the report's numbers after two readers submit."""

from __future__ import annotations

import pytest

from myoscore.app import CoordinatorSession, Database
from myoscore.app.analysis import agreement_report, intra_reader_report
from myoscore.app.study import assign_repeats
from myoscore.gui.coordinator.agreement_page import INDICATOR_COLUMNS, TOO_FEW, kappa_colour
from myoscore.gui.coordinator.widgets import interval, number
from tests.gui.gui_helpers import (
    click,
    click_cell,
    click_check,
    click_tab,
    open_desk,
    paired_codes,
    submit_both,
    submit_reads,
    table_texts,
)

pytestmark = pytest.mark.gui


def expected_cells(row) -> list[str]:
    return [str(row.n_compared), str(row.n_not_evaluable), str(row.n_unscored), number(row.percent_agreement, 1),
            number(row.kappa), interval(row.kappa_ci_low, row.kappa_ci_high), number(row.weighted_kappa),
            interval(row.weighted_ci_low, row.weighted_ci_high)]


def test_dashboard_says_why_before_both_readers_submitted(qtbot, db: Database, study: CoordinatorSession,
                                                          nxp2) -> None:
    """Only A has submitted: a clear message, no table; once B submits, Refresh shows the report."""
    window = open_desk(qtbot, study)
    page = window.agreement_page
    drawn = {e.id: paired_codes(nxp2, e.id) for e in study.exams()}
    submit_reads(db, "A", {exam: pair[0] for exam, pair in drawn.items()})
    click_tab(qtbot, window.tabs, "Agreement")
    click(qtbot, page.refresh_button)
    assert page.report is None
    assert not page.body.isVisible()
    assert page.message.isVisible()
    assert "Not available yet" in page.message.text()
    assert "both readers have submitted a read of the same exam" in page.message.text()

    submit_reads(db, "B", {exam: pair[1] for exam, pair in drawn.items()})
    with qtbot.waitSignal(page.report_shown):
        click(qtbot, page.refresh_button)
    assert page.report is not None
    assert page.report.n_exams == 2
    assert page.body.isVisible()
    assert not page.message.isVisible()


def test_table_confusion_and_heatmap_show_the_report(qtbot, db: Database, study: CoordinatorSession, nxp2) -> None:
    """Every row's n, NE, unscored, % agreement, κ, CI, weighted κ and CI equal agreement_report's;
    the confusion matrix of a clicked row sums to its n compared; the heatmap has a cell per
    unit and indicator, coloured by κ."""
    submit_both(db, study, nxp2)
    window = open_desk(qtbot, study)
    page = window.agreement_page
    with qtbot.waitSignal(page.report_shown):
        click_tab(qtbot, window.tabs, "Agreement")  # computed when first shown
    assert (page.first_combo.currentText(), page.second_combo.currentText()) == ("A", "B")
    report = agreement_report(study, "nxp2_lower_limb", ["A", "B"])
    shown = [row for row in report.rows if row.kind != "unit"]
    table = page.table
    assert [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())] == list(INDICATOR_COLUMNS)
    assert table.rowCount() == len(shown)
    for line, row in enumerate(shown):
        cells = table_texts(table, line)
        label = row.label if row.kind == "overall" else row.label.rsplit(", ", 1)[0]
        assert cells[0] == label
        assert cells[2:] == expected_cells(row), row.label
    thigh = next(i for i, row in enumerate(shown) if row.label == "Muscle edema, thigh")
    assert table_texts(table, thigh)[:2] == ["Muscle edema", "thigh"]
    assert shown[thigh].n_not_evaluable >= 2  # NE against 1 on both exams

    click_cell(qtbot, table, thigh, 6)
    row = shown[thigh]
    k = len(row.categories)
    matrix = [[int(page.confusion.item(i, j).text()) for j in range(k)] for i in range(k)]
    assert sum(map(sum, matrix)) == row.n_compared
    assert [page.confusion.horizontalHeaderItem(j).text() for j in range(k)] == list(row.categories)
    assert matrix == [list(r) for r in row.confusion]
    assert matrix[2][3] >= 2  # A said 2 where B said 3 (anterior R) on both exams
    assert "Muscle edema, thigh" in page.confusion_title.text()
    assert f"n = {row.n_compared}" in \
        page.confusion_title.text()

    units = [row for row in report.rows if row.kind == "unit"]
    heat = page.heatmap
    assert heat.rowCount() * heat.columnCount() >= len(units)
    assert sum(heat.item(r, c) is not None for r in range(heat.rowCount()) for c in range(heat.columnCount())) \
        == len(units)
    first = units[0]
    cell = heat.item(0, 0)
    # Every cell says its n; below the protocol's minimum of pairs (10) it is greyed and
    # its tooltip says so (issue 10), otherwise it is coloured by the statistic.
    assert cell.text() == f"{number(first.kappa, 2)}  n={first.n_compared}"
    if first.n_compared < report.min_pairs:
        assert cell.background().color().name() == TOO_FEW
        assert "fewer than 10 pairs" in cell.toolTip()
    else:
        assert cell.background().color().name() == kappa_colour(first.kappa)
    heat.setCurrentCell(0, 0)
    assert first.label in page.confusion_title.text()


def test_intra_reader_agreement(qtbot, db: Database, study: CoordinatorSession, nxp2) -> None:
    """A's first reads against A's blinded repeats, once the wash-out is over."""
    drawn = submit_both(db, study, nxp2)
    assign_repeats(study, "nxp2_lower_limb", "A", 1.0, 0, seed=3)
    submit_reads(db, "A", {exam: pair[0] for exam, pair in drawn.items()})  # the repeats, identical
    window = open_desk(qtbot, study)
    page = window.agreement_page
    click_tab(qtbot, window.tabs, "Agreement")
    page.refresh()
    assert page.intra_radio.isEnabled()
    click_check(qtbot, page.intra_radio)
    page.intra_combo.setCurrentText("A")
    with qtbot.waitSignal(page.report_shown):
        click(qtbot, page.refresh_button)
    report = intra_reader_report(study, "nxp2_lower_limb", "A")
    overall = page.table.rowCount() - 1
    assert table_texts(page.table, overall)[2:] == expected_cells(report.rows[-1])
    assert table_texts(page.table, overall)[5] == "100.0"
    assert "A vs A (repeat)" in page.info.text()


def test_choosing_another_protocol_or_reader_recomputes_the_table(qtbot, db: Database, study: CoordinatorSession,
                                                                  nxp2, imnm) -> None:
    """Both readers submitted both protocols. Choosing the other protocol with the keyboard
    shows that protocol's report at once (it kept the previous protocol's table until
    Refresh); choosing the same reader twice replaces the table with the reason."""
    import random

    from PySide6.QtCore import Qt

    from myoscore.app import ReaderSession, sign_in

    study.assign(imnm, ["A", "B"], seed=12)
    drawn = {e.id: paired_codes(nxp2, e.id) for e in study.exams()}
    coordinator_view = {read.id: read for read in study.reads()}  # a blinded reader sees no exam ids
    for index, name in enumerate(("A", "B")):
        reader = sign_in(db, name, f"pass-phrase-{name}")
        assert isinstance(reader, ReaderSession)
        for read in reader.worklist():
            known = coordinator_view[read.id]
            if known.protocol_name == "nxp2_lower_limb":
                codes = drawn[known.exam_id][index]
            else:
                rng = random.Random(known.exam_id)
                codes = {item.key: rng.choice(imnm.scales[item.scale].codes) for item in imnm.items[:40]}
                if name == "B":
                    codes = {key: (code if i % 3 else imnm.scales[imnm.items[i].scale].codes[0])
                             for i, (key, code) in enumerate(codes.items())}
            for key, code in codes.items():
                reader.rate(read.id, key, code)
            reader.submit(read.id)
    window = open_desk(qtbot, study)
    page = window.agreement_page
    with qtbot.waitSignal(page.report_shown):
        click_tab(qtbot, window.tabs, "Agreement")
    first = page.protocol_combo.currentText()
    other = next(page.protocol_combo.itemText(i) for i in range(page.protocol_combo.count())
                 if page.protocol_combo.itemText(i) != first)
    assert page.report.protocol == first
    before = [table_texts(page.table, r)[0] for r in range(page.table.rowCount())]

    arrow = Qt.Key.Key_Down if page.protocol_combo.currentIndex() == 0 else Qt.Key.Key_Up
    with qtbot.waitSignal(page.report_shown):
        qtbot.keyClick(page.protocol_combo, arrow)
    assert page.protocol_combo.currentText() == other
    assert page.report.protocol == other
    assert f"· {other} ·" in page.info.text()
    after = [table_texts(page.table, r)[0] for r in range(page.table.rowCount())]
    assert after != before
    expected = agreement_report(study, other, ["A", "B"])
    assert page.table.rowCount() == len([row for row in expected.rows if row.kind != "unit"])

    qtbot.keyClick(page.first_combo, Qt.Key.Key_Down)  # A → B: B vs B
    assert page.first_combo.currentText() == "B"
    assert page.report is None
    assert not page.body.isVisible()
    assert "choose two different readers" in page.message.text()
