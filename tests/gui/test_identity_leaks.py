"""No identifying string reaches a reader, nor any export (issue 11).

Identifying strings are planted in PatientName, PatientID, OtherPatientIDs,
AccessionNumber, InstitutionName, ReferringPhysicianName, StudyID, SeriesDescription, a
private tag, and the folder and file names of a real DICOM study (and, under timepoint blinding, the
subject code and timepoint label the study gives the exam). The study is imported
through the CLI and read by a reader; then every reader-visible output is searched: every
public reader-API call, the loaded images (series, volume metadata, warnings, problems),
the reader's CLI commands, the workstation's window title, widget texts and image titles,
and every export file of the coordinator (CSV, wide, REDCap, XLSX, figures, NIfTI).
"""

from __future__ import annotations

import gzip
import inspect
import zipfile
from pathlib import Path

import pytest

from myoscore.app import CoordinatorSession, ReaderSession, sign_in
from myoscore.app.exam_images import load_exam_images
from myoscore.app.reading_session import ReadingSession
from myoscore.cli.main import main
from myoscore.domain import Role
from myoscore.phantom import PhantomInfo

pytestmark = pytest.mark.gui

PLANTED = {
    "PatientName": "Plantedsurname^Plantedgiven",
    "PatientID": "PIDPLANTED4711",
    "OtherPatientIDs": "OPIDPLANTED0815",
    "AccessionNumber": "ACCPLANTED99",
    "InstitutionName": "Plantedinstitution Hospital",
    "ReferringPhysicianName": "Planteddoctor^Referrer",
    "StudyID": "STUDYPLANTED7",
}
SERIES_WORD = "Seriessurname"
PRIVATE_VALUE = "Privateplanted42"
FOLDER = "Folderpatient_Name"
FILE = "Filepatient_Given"
NEEDLES = ["Plantedsurname", "Plantedgiven", "PIDPLANTED4711", "OPIDPLANTED0815", "ACCPLANTED99",
           "Plantedinstitution", "Planteddoctor", "STUDYPLANTED7", SERIES_WORD, PRIVATE_VALUE, "Folderpatient",
           "Filepatient"]


def _leaks(text: str, extra: tuple[str, ...] = ()) -> list[str]:
    lowered = text.lower()
    return [needle for needle in (*NEEDLES, *extra) if needle.lower() in lowered]


def _plant(phantom: PhantomInfo, out: Path) -> Path:
    """Copy the phantom's baseline DICOM with the planted strings in headers and names."""
    import pydicom

    root = out / FOLDER
    for number, series in enumerate(phantom.series, start=1):
        folder = root / f"{number}_{FOLDER}_series"
        folder.mkdir(parents=True)
        for index, source in enumerate(sorted(series.dicom_dir.glob("*.dcm")), start=1):
            ds = pydicom.dcmread(source)
            for keyword, value in PLANTED.items():
                setattr(ds, keyword, value)
            ds.SeriesDescription = f"{ds.SeriesDescription} {SERIES_WORD}"
            ds.private_block(0x0011, "PLANTED CREATOR", create=True).add_new(0x01, "LO", PRIVATE_VALUE)
            ds.save_as(folder / f"{FILE}_{index:03d}.dcm")
    return root


def _values(obj: object) -> str:
    return repr(obj)


@pytest.fixture
def planted_study(phantom: PhantomInfo, tmp_path: Path, db, db_path: Path, coordinator: CoordinatorSession,
                  cli_coordinator, nxp2, capsys) -> CoordinatorSession:
    root = _plant(phantom, tmp_path / "incoming")
    for name in ("A", "B"):
        coordinator.add_reader(name, Role.READER, f"pass-phrase-{name}")
    assert main(["--db", str(db_path), "import", str(root), "--json"]) == 0
    capsys.readouterr()
    assert {s.kind.value for s in coordinator.series()} >= {"STIR", "T1"}
    assert any(SERIES_WORD in s.description for s in coordinator.series())  # planted indeed
    coordinator.assign(nxp2, ["A", "B"], seed=5)
    return coordinator


def test_no_planted_string_in_any_reader_output_or_export(planted_study, db, db_path: Path, tmp_path: Path,
                                                         open_window, qtbot, monkeypatch, capsys) -> None:
    """API, loaded images, CLI, GUI and every export: none holds a planted string."""
    from myoscore.gui.slice_view import SliceView
    from tests.gui.gui_helpers import all_texts, open_first_read

    reader = sign_in(db, "A", "pass-phrase-A")
    assert isinstance(reader, ReaderSession)
    outputs: dict[str, str] = {}
    (read,) = reader.worklist()
    outputs["worklist"] = _values(reader.worklist())
    for name, member in inspect.getmembers(ReaderSession):
        if name.startswith("_") or name in ("rate", "clear", "submit"):
            continue
        if isinstance(member, property):
            outputs[name] = _values(getattr(reader, name))
        elif len(inspect.signature(member).parameters) == 2:  # self, read_id
            outputs[name] = _values(getattr(reader, name)(read.id))
    outputs["rate"] = _values(reader.rate(read.id, "edema.thigh.anterior.R", "2"))
    images = load_exam_images(reader.image_sources(read.id))
    assert images.stations, images.problems
    for station in images.stations:
        outputs[f"station {station.name}"] = station.name
        for loaded in station.series:
            outputs[f"series {loaded.series.id}"] = _values(loaded.series) + _values(dict(loaded.volume.metadata))
            outputs[f"warnings {loaded.series.id}"] = _values(loaded.volume.warnings)
        if station.label_map is not None:
            outputs[f"labels {station.name}"] = _values(dict(station.label_map.volume.metadata))
    outputs["problems"] = _values(images.problems)
    reading = ReadingSession(reader, read.id)
    outputs["reading session"] = _values(reading.read) + _values(reading.items[:3])

    monkeypatch.setenv("MYOSCORE_PASSWORD", "pass-phrase-A")
    for argv in (("worklist", "--json"), ("worklist",), ("rate", str(read.id), "fat.thigh.anterior.R", "1", "--json"),
                 ("rate", str(read.id), "nothing", "1"), ("submit", str(read.id))):
        main(["--db", str(db_path), *argv, "--as", "A"])
        captured = capsys.readouterr()
        outputs[f"cli {' '.join(argv)}"] = captured.out + captured.err

    window = open_window("B")
    open_first_read(qtbot, window)
    outputs["window"] = "\n".join([window.windowTitle(), *all_texts(window)])
    outputs["image titles"] = "\n".join(view._title for view in window.findChildren(SliceView))
    assert outputs["image titles"].strip()

    # Timepoint blinding is on (the default): the subject code and timepoint label are
    # identifying too, in every reader output.
    linking = tuple(text for exam in planted_study.exams() for text in (exam.subject_code, exam.label))
    leaks = {where: found for where, text in outputs.items() if (found := _leaks(text, linking))}
    assert leaks == {}

    # Exports (coordinator outputs, pseudonymous by construction): every byte searched.
    monkeypatch.setenv("MYOSCORE_PASSWORD", "cli-pass-phrase")
    out = tmp_path / "export"
    assert main(["--db", str(db_path), "export", "--format", "all", "--out", str(out)]) == 0
    for series in planted_study.series():
        target = out / "nifti" / f"series-{series.id}.nii.gz"
        assert main(["--db", str(db_path), "series", "export-nifti", str(series.id), str(target)]) == 0
    assert main(["--db", str(db_path), "series", "list", "--json"]) == 0
    listing = capsys.readouterr().out
    assert _leaks(listing) == []
    files = [p for p in out.rglob("*") if p.is_file()]
    assert any(p.name.endswith(".nii.gz") for p in files)
    assert any(p.suffix == ".xlsx" for p in files)
    export_leaks = {}
    for path in files:
        data = path.read_bytes()
        if path.name.endswith(".gz"):
            data = gzip.decompress(data)
        texts = [data.decode("latin-1")]
        if path.suffix == ".xlsx":
            with zipfile.ZipFile(path) as book:
                texts += [book.read(name).decode("utf-8", "replace") for name in book.namelist()]
        if found := _leaks("\n".join(texts) + str(path.relative_to(out))):
            export_leaks[str(path.relative_to(out))] = found
    assert export_leaks == {}

