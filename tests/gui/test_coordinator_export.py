"""The export dialog: formats, folder, agreement readers, clinical fields; the files it lists exist."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from PySide6.QtCore import QUrl

from myoscore.app import CoordinatorSession, Database
from myoscore.app.analysis import reconcile_reads
from myoscore.gui.coordinator import ExportDialog
from myoscore.gui.settings import ViewSettings
from tests.gui.gui_helpers import click, click_check, open_desk, paired_codes, submit_both, submit_reads

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
    assert dialog.message.text().startswith(f"Wrote {len(written)} files under {out}.")

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


def test_mid_study_export_names_what_it_left_out_remembers_and_opens_the_folder(
        qtbot, db: Database, study: CoordinatorSession, nxp2, tmp_path: Path) -> None:
    """Half-finished study: B has not submitted the follow-up, so consensus covers the
    baseline only. Figures are ticked by default; the export writes the baseline figures,
    says which exam it left out and which figure it skipped, and why; "Open folder" opens
    the export folder (the URL handed to Qt's desktop services); a new dialog of the same
    study comes back with that folder and those formats, another study with the defaults."""
    baseline, follow_up = (e.id for e in study.exams())
    drawn = {exam: paired_codes(nxp2, exam) for exam in (baseline, follow_up)}
    submit_reads(db, "A", {exam: pair[0] for exam, pair in drawn.items()})
    b = {baseline: drawn[baseline][1]}
    from myoscore.app import ReaderSession, sign_in

    reader = sign_in(db, "B", "pass-phrase-B")
    assert isinstance(reader, ReaderSession)
    exam_of = {read.id: read.exam_id for read in study.reads()}  # the reader's view has no exam ids
    for read in reader.worklist():
        if exam_of[read.id] == baseline:
            for key, code in b[baseline].items():
                reader.rate(read.id, key, code)
            reader.submit(read.id)
    reconcile_reads(study, "nxp2_lower_limb", ["A", "B"], "mean")

    window = open_desk(qtbot, study)
    click(qtbot, window.export_button)
    dialog = window.export_dialog
    assert dialog.format_checks["figures"].isChecked()
    assert dialog.formats() == ["csv", "wide", "xlsx", "figures"]
    assert not dialog.open_button.isEnabled()
    out = tmp_path / "mid-study"
    dialog.choose_path = lambda what: str(out) if what == "folder" else ""
    click(qtbot, dialog.folder_button)
    click_check(qtbot, dialog.format_checks["wide"])
    with qtbot.waitSignal(dialog.export_finished, timeout=120_000) as finished:
        click(qtbot, dialog.export_button)
    written = [Path(p) for p in finished.args[0]]
    names = {p.name for p in written}
    assert "nxp2_lower_limb_heatmap_edema.png" in names
    assert "nxp2_lower_limb_stir_t1_heatmaps_lower.png" not in names
    text = dialog.message.text()
    assert (f"figures from consensus: 1 of 2 exams; left out: exam {follow_up} (SUBJ-01 · follow-up): "
            "no consensus yet (1 of 2 reads submitted)") in text
    assert "skipped nxp2_lower_limb_stir_t1_heatmaps_lower: no subject has its first and a later exam rated " \
           "by consensus" in text
    assert dialog.message.kind == "note"

    opened: list[QUrl] = []

    def open_url(url: QUrl) -> bool:
        opened.append(url)
        return True

    dialog.open_url = open_url
    assert dialog.open_button.isEnabled()
    click(qtbot, dialog.open_button)
    assert [url.toLocalFile() for url in opened] == [str(out.resolve())]
    assert opened[0].scheme() == "file"
    click(qtbot, dialog.close_button)

    again = window.open_export()
    assert again.folder_edit.text() == str(out)
    assert again.formats() == ["csv", "xlsx", "figures"]
    click(qtbot, again.close_button)
    assert ViewSettings().export_choices("another-study.sqlite") == (None, None)
