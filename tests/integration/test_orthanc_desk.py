"""The coordinator's desk and the study's image server (a real Orthanc): set the server in
its form, send the exams from the Exams tab, and the series and label map are there."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from myoscore.app import CoordinatorSession, open_database
from myoscore.app.imports import import_paths
from myoscore.app.label_map_seg import seg_series_uid
from myoscore.app.remote_images import study_image_server
from myoscore.domain import Sequence
from myoscore.imaging.dicom_server import DicomServer, DicomWebClient, DimseClient
from myoscore.phantom import write_phantom
from tests.gui.gui_helpers import click, click_tab, open_desk
from tests.integration.orthanc_server import PASSWORD, USER, Orthanc, running_orthanc

pytestmark = [pytest.mark.slow, pytest.mark.gui]
PASSWORD_ENV = "TEST_ORTHANC_DESK_PASSWORD"


@pytest.fixture(scope="module")
def orthanc() -> Iterator[Orthanc]:
    with running_orthanc() as server:
        yield server


def test_set_the_server_and_send_the_exams_from_the_desk(qtbot, tmp_path: Path, orthanc: Orthanc,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    info = write_phantom(tmp_path / "site1", shape=(4, 48, 48), seed=21, regions=("thigh",),
                         timepoints=("baseline",))
    db = open_database(str(tmp_path / "study.sqlite"), create=True)
    coordinator = CoordinatorSession(db, "coordinator")
    import_paths(coordinator, [info.out_dir / "dicom"])
    exam = coordinator.exams()[0]
    import_paths(coordinator, [info.label_maps["thigh"]], exam_id=exam.id, link_identity=False)
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)

    window = open_desk(qtbot, coordinator)
    click_tab(qtbot, window.tabs, "Exams")
    box = window.setup_page.server_box
    assert "No image server" in box.server_label.text()
    assert not box.send_button.isEnabled()

    click(qtbot, box.set_button)
    dialog = box.dialog
    assert dialog is not None
    for edit, text in ((dialog.dicomweb_edit, orthanc.dicomweb), (dialog.user_edit, USER),
                       (dialog.password_env_edit, PASSWORD_ENV)):
        edit.clear()
        QTest.keyClicks(edit, text)
    QTest.keyClick(dialog.dicomweb_edit, Qt.Key.Key_Return)  # Save is the default button
    settings = study_image_server(coordinator)
    assert settings is not None
    assert (settings.dicomweb_url, settings.username, settings.password_env) == (orthanc.dicomweb, USER,
                                                                                 PASSWORD_ENV)
    assert orthanc.dicomweb in box.server_label.text()
    assert PASSWORD not in box.server_label.text()
    assert any(e.action == "set_image_server" and orthanc.dicomweb in (e.new or "") for e in coordinator.audit_log(20))

    questions: list[str] = []

    def yes(_title: str, text: str) -> bool:
        questions.append(text)
        return True

    box.ask = yes
    with qtbot.waitSignal(box.sent, timeout=120_000) as sent:
        click(qtbot, box.send_button)
    result = sent.args[0]
    assert result is not None
    assert "1 exam" in questions[0]
    n_instances = sum(len(s.files) for s in coordinator.series(exam.id) if s.kind is not Sequence.LABEL_MAP)
    assert (result.instances, result.segmentations, result.problems) == (n_instances, 1, ())
    assert window.setup_page.message.kind == "info"
    assert f"Sent {n_instances} instances" in window.setup_page.message.text()

    label_map = next(s for s in coordinator.series(exam.id) if s.kind is Sequence.LABEL_MAP)
    server = DicomServer("study", dicomweb_url=orthanc.dicomweb, username=USER, password=PASSWORD, timeout=20)
    with DicomWebClient(server) as client:
        study = client.study_of_series(seg_series_uid(label_map))
        assert len(client.series_instances(study, seg_series_uid(label_map))) == 1  # the label map, as one SEG
    db.dispose()


def test_find_and_retrieve_from_a_pacs_on_the_desk(qtbot, tmp_path: Path, orthanc: Orthanc) -> None:
    """Orthanc as the hospital PACS: the coordinator types the PACS and a PatientID, Find
    lists the patient's two studies (C-FIND), Retrieve and import C-GETs them into the
    chosen folder and imports it: two exams of one pseudonymous subject, no PatientID."""
    info = write_phantom(tmp_path / "hospital", shape=(3, 32, 32), seed=22, regions=("thigh",))
    originals = sorted((info.out_dir / "dicom").rglob("*.dcm"))
    pacs = DicomServer("pacs", host="127.0.0.1", port=orthanc.dicom_port, ae_title="ORTHANC", timeout=20)
    assert DimseClient(pacs).store(originals) == len(originals)
    db = open_database(str(tmp_path / "study.sqlite"), create=True)
    coordinator = CoordinatorSession(db, "coordinator")

    window = open_desk(qtbot, coordinator)
    click_tab(qtbot, window.tabs, "Exams")
    page = window.setup_page
    click(qtbot, page.pacs_button)
    dialog = page.pacs_dialog
    assert dialog is not None
    click(qtbot, dialog.find_button)  # nothing typed yet: told what is missing, nothing asked
    assert "host" in dialog.message.text()
    QTest.keyClicks(dialog.host_edit, "127.0.0.1")
    dialog.port_spin.selectAll()
    QTest.keyClicks(dialog.port_spin, str(orthanc.dicom_port))
    dialog.ae_edit.clear()
    QTest.keyClicks(dialog.ae_edit, "ORTHANC")
    QTest.keyClicks(dialog.patient_edit, info.identifying["PatientID"])
    click(qtbot, dialog.find_button)
    assert dialog.message.text() == "2 studies found."
    assert dialog.table.rowCount() == 2
    assert {dialog.table.item(r, 0).text() for r in range(2)} == {info.identifying["PatientID"]}
    assert len(dialog.selected()) == 2  # all chosen after a find

    landed = tmp_path / "retrieved"
    dialog.choose_folder = lambda: str(landed)
    with qtbot.waitSignal(dialog.imported, timeout=120_000) as done:
        click(qtbot, dialog.retrieve_button)
    summary = done.args[0]
    assert summary is not None
    assert len(list(landed.glob("*.dcm"))) == len(originals)
    exams = coordinator.exams()
    assert len(exams) == 2
    assert len({e.subject_code for e in exams}) == 1
    assert all(info.identifying["PatientID"] not in e.subject_code for e in exams)
    assert page.exams_table.rowCount() == 2  # the page refreshed
    assert "Import from the PACS finished" in page.message.text()
    db.dispose()
