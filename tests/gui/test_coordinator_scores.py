"""The Scores tab: the numbers of `myoscore scores --json`, each with its coverage beside
it, incomplete exams flagged, the source selectable, stale consensus flagged (issue 10)."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

import myoscore.cli.main as cli_main
from myoscore.app import CoordinatorSession, Database, ReaderSession, sign_in
from myoscore.app.analysis import reconcile_reads
from myoscore.app.demo import DEMO_PASSWORD, load_demo
from myoscore.app.schemes import scheme_library
from myoscore.gui.coordinator.scores_page import score_text
from myoscore.scores import ScoreResult
from tests.gui.gui_helpers import click, click_check, click_tab, open_desk, table_texts

pytestmark = pytest.mark.gui

NXP2, IMNM = "nxp2_lower_limb", "imnm_whole_body"
READERS = ("radiologist", "neurologist")
DISCORDANT_IMNM = "stir.thigh.anterior.rectus_femoris.R"  # a review item: pending after reconcile


def codes_for(protocol, subject: str, label: str, reader: str) -> dict[str, str]:
    """Fixed codes: the readers agree everywhere (the second level of each scale), except
    DEMO-001's follow-up, whose calf both call not evaluable (an incomplete calf and total),
    and one whole-body STIR item on DEMO-002's baseline they disagree on (left for review)."""
    codes = {item.key: protocol.scale_of(item.key).levels[1].code for item in protocol.items}
    if subject == "DEMO-001" and label == "follow-up":
        codes.update({item.key: "NE" for item in protocol.items if ".calf." in item.key or ".leg." in item.key})
    if protocol.name == IMNM and subject == "DEMO-002" and label == "baseline" and reader == READERS[1]:
        codes[DISCORDANT_IMNM] = protocol.scale_of(DISCORDANT_IMNM).levels[0].code
    return codes


@pytest.fixture
def demo_scored(db: Database, coordinator: CoordinatorSession) -> CoordinatorSession:
    """The demo study (no images), both readers' reads of both protocols submitted, consensus
    by each protocol's policy."""
    assert load_demo(coordinator)
    library = scheme_library()
    exams = {exam.id: exam for exam in coordinator.exams()}
    # The demo blinds timepoints: a reader's view has no exam ids, the coordinator's says which is which.
    reads = {read.id: read for read in coordinator.reads()}
    for name in READERS:
        reader = sign_in(db, name, DEMO_PASSWORD)
        assert isinstance(reader, ReaderSession)
        for read in reader.worklist():
            exam = exams[reads[read.id].exam_id]
            protocol = library.protocol(reads[read.id].protocol_name)
            for key, code in codes_for(protocol, exam.subject_code, exam.label, name).items():
                reader.rate(read.id, key, code)
            reader.submit(read.id)
    for protocol_name in (NXP2, IMNM):
        reconcile_reads(coordinator, protocol_name, READERS)
    return coordinator


def choose(qtbot, combo, text: str) -> None:
    """Pick a combo box entry by typing its first letters, as a person does (after the
    keyboard-search interval, so the letters start a new search)."""
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    qtbot.wait(QApplication.keyboardInputInterval() + 50)
    combo.setFocus()
    QTest.keyClicks(combo, text[:3])
    assert combo.currentText() == text


def scores_json(db_path: Path, monkeypatch, capsys, protocol: str, *extra: str) -> dict[str, Any]:
    monkeypatch.setenv("MYOSCORE_USER", "coordinator")
    monkeypatch.setenv("MYOSCORE_PASSWORD", DEMO_PASSWORD)
    capsys.readouterr()
    assert cli_main.main(["--db", str(db_path), "scores", "--protocol", protocol, "--json", *extra]) == 0
    report: dict[str, Any] = json.loads(capsys.readouterr().out)
    return report


def shown(page) -> dict[tuple[str, str, str], tuple[str, ScoreResult]]:
    """(subject, exam, score) → (cell text, the ScoreResult behind it)."""
    table = page.exams_table
    names = [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())]
    found = {}
    for row in range(table.rowCount()):
        texts = table_texts(table, row)
        for column in range(3, table.columnCount()):
            found[(texts[0], texts[1], names[column])] = (texts[column], table.item(row, column).data(256))
    return found


def assert_same_as_cli(page, report: dict[str, Any]) -> None:
    cells = shown(page)
    expected = {(e["exam"]["subject_code"], e["exam"]["label"], s["name"]): s
                for e in report["exams"] for s in e["scores"]}
    assert set(cells) == set(expected)
    for key, score in expected.items():
        text, result = cells[key]
        assert (result.value, result.n_evaluated, result.n_items, result.complete) == (
            score["value"], score["n_evaluated"], score["n_items"], score["complete"]), key
        assert score["n_not_evaluable"] == result.n_not_evaluable
        assert text == score_text(score["value"], score["n_evaluated"], score["n_items"], score["n_not_evaluable"])


def test_scores_tab_shows_the_cli_numbers_with_coverage(qtbot, db: Database, db_path: Path, demo_scored,
                                                        monkeypatch, capsys) -> None:
    """Per exam, each score and (evaluated/items) equal `scores --json` for both demo
    protocols; DEMO-001's follow-up (calf not evaluable) is flagged incomplete (⚠, amber,
    tooltip counts the NE items) and its Δ too; choosing a reader shows `--reader`'s numbers."""
    study = demo_scored
    window = open_desk(qtbot, study)
    click_tab(qtbot, window.tabs, "Scores")
    page = window.scores_page
    assert page.report is not None  # computed when the tab is shown
    for protocol in (NXP2, IMNM):
        if page.protocol_combo.currentText() != protocol:
            choose(qtbot, page.protocol_combo, protocol)
        assert page.report.protocol == protocol
        assert_same_as_cli(page, scores_json(db_path, monkeypatch, capsys, protocol))

    choose(qtbot, page.protocol_combo, NXP2)
    assert page.report.protocol == NXP2
    cells = shown(page)
    total_text, total = cells[("DEMO-001", "follow-up", "edema_total")]
    assert not total.complete
    assert total_text.startswith("⚠ ")
    assert f"({total.n_evaluated}/{total.n_items} · {total.n_not_evaluable} NE)" in total_text
    assert total.n_not_evaluable == total.n_items - total.n_evaluated > 0
    row = next(r for r in range(page.exams_table.rowCount())
               if table_texts(page.exams_table, r)[:2] == ["DEMO-001", "follow-up"])
    column = [page.exams_table.horizontalHeaderItem(c).text()
              for c in range(page.exams_table.columnCount())].index("edema_total")
    item = page.exams_table.item(row, column)
    assert item.background().color().name() == "#ffe0b2"
    assert f"{total.n_not_evaluable} not evaluable" in item.toolTip()
    assert "Incomplete" in item.toolTip()
    baseline_text, baseline = cells[("DEMO-001", "baseline", "edema_total")]
    assert baseline.complete
    assert not baseline_text.startswith("⚠")
    from PySide6.QtCore import Qt

    assert page.exams_table.item(0, column).background().style() == Qt.BrushStyle.NoBrush  # complete: plain
    delta = next(r for r in range(page.changes_table.rowCount())
                 if table_texts(page.changes_table, r)[1] == "edema_total")
    assert "incomplete" in table_texts(page.changes_table, delta)[6]
    assert table_texts(page.changes_table, delta)[4].startswith("⚠ ")

    choose(qtbot, page.source_combo, "radiologist")
    assert page.report.source == "reader radiologist"
    assert_same_as_cli(page, scores_json(db_path, monkeypatch, capsys, NXP2, "--reader", "radiologist"))
    assert table_texts(page.exams_table, 0)[2] == "—"  # no consensus counts for a reader's scores


def test_stale_consensus_is_flagged_on_the_scores_tab(qtbot, db: Database, demo_scored) -> None:
    """A reopened, re-scored read makes its consensus stale: the exam's consensus column says
    so (amber), the summary counts it, and the score it was in turns incomplete."""
    study = demo_scored
    window = open_desk(qtbot, study)
    click_tab(qtbot, window.tabs, "Scores")
    page = window.scores_page
    if page.protocol_combo.currentText() != NXP2:
        choose(qtbot, page.protocol_combo, NXP2)
    before = shown(page)[("DEMO-001", "baseline", "edema_thigh_R")][1]
    assert before.complete
    neurologist = sign_in(db, "neurologist", DEMO_PASSWORD)
    assert isinstance(neurologist, ReaderSession)
    exam = next(e for e in study.exams() if (e.subject_code, e.label) == ("DEMO-001", "baseline"))
    read = next(r for r in study.reads(NXP2) if (r.exam_id, r.reader_name, r.repeat) == (exam.id, "neurologist", 0))
    study.reopen(read.id, "second look")
    neurologist.rate(read.id, "edema.thigh.anterior.R", "4")
    neurologist.submit(read.id)
    click(qtbot, page.compute_button)
    assert "1 stale" in page.summary_label.text()
    row = next(r for r in range(page.exams_table.rowCount())
               if table_texts(page.exams_table, r)[:2] == ["DEMO-001", "baseline"])
    consensus = page.exams_table.item(row, 2)
    assert "⚠ 1 stale" in consensus.text()
    assert consensus.background().color().name() == "#ffcc80"
    after = shown(page)[("DEMO-001", "baseline", "edema_thigh_R")][1]
    assert (after.complete, after.n_evaluated) == (False, before.n_evaluated - 1)


def test_scores_tab_without_consensus_points_to_the_consensus_tab(qtbot, coordinator: CoordinatorSession) -> None:
    """Before anything is reconciled the tab says, in the window's own words, where consensus
    is made and how to see one reader's scores instead — not a CLI command."""
    assert load_demo(coordinator)
    window = open_desk(qtbot, coordinator)
    click_tab(qtbot, window.tabs, "Scores")
    page = window.scores_page
    assert page.report is None
    text = page.message.text()
    assert "Consensus tab" in text
    assert "From" in text
    assert "myoscore" not in text
    assert "--reader" not in text
    assert page.exams_table.rowCount() == 0


def test_include_excluded_exams_switch_on_scores_agreement_and_export(qtbot, demo_scored, tmp_path: Path) -> None:
    """An excluded exam is left out of the Scores and Agreement tabs and the export until
    "Include excluded exams" is ticked there (the CLI's --include-excluded)."""
    from myoscore.app.exam_lifecycle import exclude_exam

    study = demo_scored
    exams = study.exams()
    exclude_exam(study, exams[0].id, "motion artefact")
    window = open_desk(qtbot, study)
    click_tab(qtbot, window.tabs, "Scores")
    scores = window.scores_page
    assert scores.report is not None
    shown_without = scores.exams_table.rowCount()
    click_check(qtbot, scores.excluded_check)
    assert scores.report is not None
    assert scores.exams_table.rowCount() == shown_without + 1

    click_tab(qtbot, window.tabs, "Agreement")
    agreement = window.agreement_page
    assert agreement.report is not None
    without = agreement.report.n_exams
    click_check(qtbot, agreement.excluded_check)
    assert agreement.report is not None
    assert agreement.report.n_exams == without + 1

    dialog = window.open_export()
    qtbot.waitExposed(dialog)
    assert not dialog.excluded_check.isChecked()
    counts = []
    for run in ("without", "with"):
        if run == "with":
            click_check(qtbot, dialog.excluded_check)
            assert dialog.excluded_check.isChecked()
        dialog.folder_edit.setText(str(tmp_path / run))
        for name, check in dialog.format_checks.items():
            check.setChecked(name == "csv")
        with qtbot.waitSignal(dialog.export_finished, timeout=60_000):
            click(qtbot, dialog.export_button)
        assert dialog.export_result is not None
        (tidy,) = [p for p in dialog.export_result.written if p.name.endswith("_ratings_tidy.csv")]
        with tidy.open(newline="", encoding="utf-8") as handle:
            counts.append(len({(row["subject"], row["timepoint"]) for row in csv.DictReader(handle)}))
    assert counts[1] == counts[0] + 1
