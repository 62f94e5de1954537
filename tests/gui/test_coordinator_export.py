"""The export dialog: formats, folder, agreement readers, clinical fields; the files it lists exist."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from gui_helpers import click, click_check, open_desk, submit_both

from myoscore.app import CoordinatorSession, Database
from myoscore.app.analysis import reconcile_reads
from myoscore.gui.coordinator import ExportDialog

pytestmark = pytest.mark.gui


def test_export_dialog_writes_and_lists_the_files(qtbot, db: Database, study: CoordinatorSession, nxp2,
                                                  tmp_path: Path) -> None:
    """Ctrl+E-button → dialog; tick csv, wide, redcap and xlsx, clinical off, readers A and B; Export
    writes a folder per format on a worker thread and lists every file, which exists."""
    submit_both(db, study, nxp2)
    reconcile_reads(study, "nxp2_lower_limb", ["A", "B"], "mean")
    window = open_desk(qtbot, study)
    click(qtbot, window.export_button)
    dialog = window.export_dialog
    assert isinstance(dialog, ExportDialog)
    assert dialog.isVisible()
    assert dialog.protocol_combo.currentText() == "nxp2_lower_limb"
    assert (dialog.first_combo.currentText(), dialog.second_combo.currentText()) == ("A", "B")
    out = tmp_path / "out"
    dialog.choose_path = lambda what: str(out) if what == "folder" else ""
    click(qtbot, dialog.folder_button)
    assert dialog.folder_edit.text() == str(out)
    for name, check in dialog.format_checks.items():
        if check.isChecked() != (name in ("csv", "wide", "redcap", "xlsx")):
            click_check(qtbot, check)
    click_check(qtbot, dialog.clinical_check)
    assert dialog.formats() == ["csv", "wide", "redcap", "xlsx"]
    assert not dialog.clinical_check.isChecked()
    with qtbot.waitSignal(dialog.export_finished, timeout=60_000) as finished:
        click(qtbot, dialog.export_button)
    written = finished.args[0]
    assert written
    assert all(Path(p).is_file() for p in written)
    names = {Path(p).name for p in written}
    assert {"nxp2_lower_limb_ratings_tidy.csv", "nxp2_lower_limb_wide.csv", "nxp2_lower_limb_scores.xlsx",
            "nxp2_lower_limb_redcap_import.csv", "nxp2_lower_limb_redcap_dictionary.csv"} <= names
    assert dialog.files.count() == len(written)
    assert dialog.files.item(0).text() == str(Path(written[0]).relative_to(out))
    assert f"{len(written)} files written" in dialog.message.text()

    with (out / "wide" / "nxp2_lower_limb_wide.csv").open(newline="", encoding="utf-8") as handle:
        header = next(csv.reader(handle))
    assert "months_from_onset" not in header  # clinical fields were left out
    from openpyxl import load_workbook

    workbook = load_workbook(out / "xlsx" / "nxp2_lower_limb_scores.xlsx", read_only=True)
    assert workbook["agreement"].max_row > 1  # the agreement sheet of A and B
    workbook.close()
    click(qtbot, dialog.close_button)
    assert not dialog.isVisible()


def test_export_refuses_without_a_format(qtbot, db: Database, study: CoordinatorSession, nxp2) -> None:
    submit_both(db, study, nxp2)
    window = open_desk(qtbot, study)
    dialog = window.open_export()
    for check in dialog.format_checks.values():
        check.setChecked(False)
    click(qtbot, dialog.export_button)
    assert dialog.message.kind == "error"
    assert "at least one format" in dialog.message.text()
