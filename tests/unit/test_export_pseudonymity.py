"""Every format is pseudonymous, the package keeps to its layer, and its API is explicit."""

from __future__ import annotations

import json
import subprocess
import sys
import types
import zipfile
from pathlib import Path

import pytest

import myoscore.export
from myoscore.app.schemes import protocol
from myoscore.export import (
    CONSENSUS,
    WRITERS,
    ExamInfo,
    ExportDataset,
    RatingRow,
    derived_for,
    rating_rows,
    write,
)
from tests.unit.export_data import READER_A, READER_B, agreement, mean_consensus, random_codes, second_reader

#: What the DICOM headers and the hospital's systems know and an export must never show:
#: patient name (as DICOM writes it and as people do), PatientID, birth date, exam date,
#: accession number, institution, and the folder the files were imported from.
IDENTIFYING = ["Doe^Jane", "Jane Doe", "DOE JANE", "PAT-0042317", "19610412", "1961-04-12", "12.04.1961",
               "20230314", "2023-03-14", "ACC-88231", "St. Elsewhere", "/mnt/pacs/import"]
#: Database ids are in the dataset (to join rows) but are never written.
EXAM_IDS = (731905, 731906, 731907)
SUBJECTS = ("PSN-7QX", "PSN-K2M")


def pseudonymous_dataset() -> ExportDataset:
    proto = protocol("nxp2_lower_limb")
    exams = (ExamInfo(EXAM_IDS[0], SUBJECTS[0], "baseline", 1, months_from_onset=4.0, treated=False),
             ExamInfo(EXAM_IDS[1], SUBJECTS[0], "follow-up", 2, months_from_onset=16.0, treated=True),
             ExamInfo(EXAM_IDS[2], SUBJECTS[1], "baseline", 1, months_from_onset=30.0, treated=True))
    ratings: list[RatingRow] = []
    pairs = []
    for exam in exams:
        a = random_codes(proto, exam.exam_id)
        b = second_reader(proto, a, exam.exam_id + 1)
        pairs.append((a, b))
        ratings += rating_rows(proto, exam.exam_id, READER_A, a)
        ratings += rating_rows(proto, exam.exam_id, READER_B, b)
        ratings += rating_rows(proto, exam.exam_id, CONSENSUS, mean_consensus(proto, a, b))
    return ExportDataset(proto, exams, tuple(ratings), derived_for(proto, ratings), agreement(proto, pairs),
                         groups={SUBJECTS[0]: "EARLY", SUBJECTS[1]: "LATE"})


def contents(path: Path) -> list[tuple[str, bytes]]:
    """A file's bytes; for the zipped XLSX, each member's uncompressed bytes."""
    if path.suffix == ".xlsx":
        with zipfile.ZipFile(path) as archive:
            return [(f"{path.name}:{name}", archive.read(name)) for name in archive.namelist()]
    return [(path.name, path.read_bytes())]


def test_no_export_contains_identifying_strings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every format, written from pseudonyms into a folder named after the patient, with the
    environment set to the patient's name: none of the identifying strings appears, and the
    pseudonyms do (so the search reads the real content)."""
    for variable in ("USER", "LOGNAME", "USERNAME"):
        monkeypatch.setenv(variable, "Doe^Jane")
    data = pseudonymous_dataset()
    blob = repr(data).lower()
    assert not any(text.lower() in blob for text in IDENTIFYING), "the strings must not be in the dataset itself"
    out = tmp_path / "Doe^Jane_19610412"
    files = [path for fmt in WRITERS for path in write(data, fmt, out)]
    assert {p.suffix for p in files} == {".csv", ".xlsx", ".png", ".svg", ".pdf"}
    seen_pseudonym = set()
    for path in files:
        for name, raw in contents(path):
            lowered = raw.lower()
            for text in IDENTIFYING:
                assert text.lower().encode() not in lowered, f"{text!r} in {name}"
            if path.suffix in {".csv", ".svg"} or name.endswith(".xml"):
                for exam_id in EXAM_IDS:
                    assert str(exam_id).encode() not in raw, f"exam id {exam_id} in {name}"
                if SUBJECTS[1].encode() in raw:
                    seen_pseudonym.add(path.suffix)
    assert seen_pseudonym == {".csv", ".xlsx", ".svg"}


def test_export_imports_no_database_imaging_qt_or_heavy_writer() -> None:
    """``import myoscore.export`` loads neither SQLAlchemy, DICOM/NIfTI, Qt, the app layers,
    nor openpyxl/matplotlib (imported inside the functions that write)."""
    probe = ("import json, sys, myoscore.export\n"
             "print(json.dumps(sorted({'.'.join(m.split('.')[:2]) if m.startswith('myoscore.') else m.split('.')[0]"
             " for m in sys.modules})))")
    loaded = set(json.loads(subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                                           check=True).stdout))
    forbidden = {"sqlalchemy", "alembic", "pydicom", "nibabel", "SimpleITK", "PySide6", "pyqtgraph", "openpyxl",
                 "matplotlib", "myoscore.store", "myoscore.app", "myoscore.cli", "myoscore.gui", "myoscore.imaging"}
    assert not loaded & forbidden


def test_public_api_is_explicit() -> None:
    """Every name in ``__all__`` exists, and nothing public is left out of it."""
    module = myoscore.export
    exported = set(module.__all__)
    assert all(hasattr(module, name) for name in exported)
    public = {name for name, value in vars(module).items()
              if not name.startswith("_") and not isinstance(value, types.ModuleType)}
    assert public <= exported | {"annotations"}
