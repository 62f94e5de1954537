"""A two-site study through a real DICOM server (Orthanc, started per module) and a real
PostgreSQL: send a study (STOW-RS and C-STORE, pseudonymised), two reader workstations in
separate processes with separate caches fetch it by UID (WADO-RS, C-GET), score and
submit; one works offline from its cache; PACS C-FIND + C-MOVE into a pseudonymised
import; SRs stored on the server and read back."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pydicom
import pytest

from myoscore.app import CoordinatorSession, open_database
from myoscore.app.imports import import_paths
from myoscore.app.schemes import scheme_library
from myoscore.cli.main import main
from myoscore.domain import ReadStatus, Role
from myoscore.export.sr import SrSubject, build_sr, sr_ratings
from myoscore.imaging.dicom_references import pseudonymised
from myoscore.imaging.dicom_server import DicomServer, DicomWebClient, DimseClient
from myoscore.imaging.image_cache import ImageCache, fetch_series
from myoscore.phantom import PhantomInfo, write_phantom
from tests.integration.orthanc_server import PASSWORD, USER, Orthanc, free_port, running_orthanc

WORKER = Path(__file__).with_name("workstation_worker.py")
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def orthanc() -> Iterator[Orthanc]:
    with running_orthanc() as server:
        yield server


@pytest.fixture(scope="module")
def phantom(tmp_path_factory: pytest.TempPathFactory) -> PhantomInfo:
    return write_phantom(tmp_path_factory.mktemp("phantom"), shape=(4, 48, 48), seed=8)


def _web(o: Orthanc) -> DicomServer:
    return DicomServer("study", dicomweb_url=o.dicomweb, username=USER, password=PASSWORD, timeout=20)


def _dimse(o: Orthanc, ae: str = "MYOSCORE") -> DicomServer:
    return DicomServer("study", host="127.0.0.1", port=o.dicom_port, ae_title="ORTHANC", calling_ae=ae, timeout=20)


def _workstation(db_url: str, reader: str, cache: Path, server: DicomServer, *, score: bool) -> dict[str, Any]:
    settings = {k: getattr(server, k) for k in ("name", "dicomweb_url", "host", "port", "ae_title", "calling_ae",
                                                 "username", "password", "timeout")}
    done = subprocess.run([sys.executable, str(WORKER), db_url, reader, f"pass-phrase-{reader}", str(cache),
                           json.dumps(settings), *(["--score"] if score else [])],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    report: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return report


def test_two_workstations_read_an_exam_imported_at_the_first(pg_url: str, orthanc: Orthanc,
                                                           phantom: PhantomInfo, tmp_path: Path) -> None:
    """Site 1 imports and sends; site 2's empty cache fills from the server; both submit on PostgreSQL."""
    db = open_database(pg_url, create=True)
    coordinator = CoordinatorSession(db, "coordinator")
    import_paths(coordinator, [phantom.out_dir / "dicom"])
    nxp2 = scheme_library().protocol("nxp2_lower_limb")
    for name in ("A", "B"):
        coordinator.add_reader(name, Role.READER, f"pass-phrase-{name}")
    coordinator.assign(nxp2, ["A", "B"], seed=3)
    exams = coordinator.exams()
    assert len(exams) == 2
    with DicomWebClient(_web(orthanc)) as web:  # exam 1 by STOW-RS, exam 2 by C-STORE
        for series in coordinator.series(exams[0].id):
            web.store_bytes([pseudonymised(f, exams[0].subject_code) for f in series.files])
        second = [pseudonymised(f, exams[1].subject_code) for s in coordinator.series(exams[1].id) for f in s.files]
        assert DimseClient(_dimse(orthanc)).store_bytes(second) == len(second)
        assert {m.patient_id for m in web.find_studies()} == {exams[0].subject_code}
        assert web.find_studies(PatientID=phantom.identifying["PatientID"]) == []

    site1, site2 = tmp_path / "cache-site1", tmp_path / "cache-site2"
    first = _workstation(pg_url, "A", site1, _web(orthanc), score=False)
    assert {s["source"] for s in first["series"]} == {"server"}
    assert all(s["progress_calls"] > 0 and len(s["shape"]) == 3 for s in first["series"])
    offline = DicomServer("study", dicomweb_url=f"http://127.0.0.1:{free_port()}/dicom-web", timeout=2)
    again = _workstation(pg_url, "A", site1, offline, score=True)  # network down: the cache serves
    assert {s["source"] for s in again["series"]} == {"cache"}
    other = _workstation(pg_url, "B", site2, _dimse(orthanc, "MYOSCORE2"), score=True)  # C-GET, empty cache
    assert {s["source"] for s in other["series"]} == {"server"}
    assert [s["shape"] for s in other["series"]] == [s["shape"] for s in first["series"]] or \
        other["read"] != first["read"]
    for cache in (site1, site2):
        for path in cache.rglob("*.dcm"):
            data = path.read_bytes()
            assert phantom.identifying["PatientID"].encode() not in data
            assert phantom.identifying["PatientName"].encode() not in data
    submitted = [r for r in coordinator.reads() if r.status is ReadStatus.SUBMITTED]
    assert {r.reader_name for r in submitted} == {"A", "B"}
    db.dispose()


def test_offline_without_cache_says_so(orthanc: Orthanc, tmp_path: Path) -> None:
    """A series neither cached nor reachable is a clear error naming the series and the server."""
    offline = DicomServer("study", dicomweb_url=f"http://127.0.0.1:{free_port()}/dicom-web", timeout=2)
    with pytest.raises(Exception, match=r"series 1\.2\.3 is not in this workstation's cache and cannot be fetched"):
        fetch_series(offline, ImageCache(tmp_path), "1.2", "1.2.3")


def test_cache_eviction_and_integrity(orthanc: Orthanc, tmp_path: Path) -> None:
    """Past its limit the cache drops the least recently used series; a damaged file is refetched."""
    own = write_phantom(tmp_path / "phantom", shape=(3, 32, 32), seed=21)
    files = sorted((own.out_dir / "dicom").rglob("*.dcm"))
    with DicomWebClient(_web(orthanc)) as web:
        web.store_bytes([pseudonymised(f, "SUBJ-X") for f in files])
        series_uids = sorted({s for f in files for s in [_series_uid(f)]})
    cache = ImageCache(tmp_path, limit_bytes=1)
    first = fetch_series(_web(orthanc), cache, "", series_uids[0])
    assert first.source == "server"
    if len(series_uids) > 1:
        fetch_series(_web(orthanc), cache, "", series_uids[1])
        assert cache.series() == [series_uids[1]]  # the older one was evicted
    cache.limit_bytes = 10**9
    again = fetch_series(_web(orthanc), cache, "", series_uids[-1])
    again.files[0].write_bytes(b"damaged")
    repaired = fetch_series(_web(orthanc), cache, "", series_uids[-1])
    assert repaired.source == "server"


def _series_uid(path: Path) -> str:
    return str(pydicom.dcmread(path, stop_before_pixels=True).SeriesInstanceUID)


def test_pacs_query_retrieve_into_a_pseudonymised_import(phantom: PhantomInfo, coordinator: CoordinatorSession,
                                                        tmp_path: Path) -> None:
    """C-FIND by PatientID and accession on a PACS, C-MOVE to this workstation, import: pseudonyms only."""
    with running_orthanc() as pacs:
        originals = sorted((phantom.out_dir / "dicom").rglob("*.dcm"))
        assert DimseClient(_dimse(pacs)).store(originals) == len(originals)
        client = DimseClient(_dimse(pacs))
        found = client.find_studies(patient_id=phantom.identifying["PatientID"])
        assert len(found) == 2
        accession = str(pydicom.dcmread(originals[0], stop_before_pixels=True).AccessionNumber)
        assert [m.accession for m in client.find_studies(accession=accession)] == [accession]
        landed = tmp_path / "retrieved"
        landed.mkdir()
        count = [0]

        def _save(data: bytes) -> None:
            count[0] += 1
            (landed / f"{count[0]:05d}.dcm").write_bytes(data)

        for match in found:
            client.move(match.study_uid, destination_ae="MYOSCORE_SCP", listen_port=pacs.scp_port,
                        on_instance=_save)
        assert count[0] == len(originals)
    summary = import_paths(coordinator, [landed])
    assert summary is not None
    exams = coordinator.exams()
    assert len(exams) == 2
    assert all(e.subject_code != phantom.identifying["PatientID"] for e in exams)
    assert {e.study_uid for e in exams} == {m.study_uid for m in found}
    assert len({e.subject_code for e in exams}) == 1  # one patient, one pseudonym


def test_sr_stored_on_the_server_reads_back_the_same(orthanc: Orthanc) -> None:
    """An SR sent by STOW-RS is found (QIDO-RS, modality SR), fetched (WADO-RS) and decodes to the same values."""
    nxp2 = scheme_library().protocol("nxp2_lower_limb")
    values = {item.key: ("1", 1.0) if nxp2.scales[item.scale].accepts("1") else ("none", None) for item in nxp2.items}
    sr = build_sr(nxp2, values, kind="read", observer="A", subject=SrSubject("SUBJ-SR", "1.2.826.0.1.99.1"),
                  library=scheme_library().scales)
    buffer = io.BytesIO()
    sr.save_as(buffer, enforce_file_format=True)
    with DicomWebClient(_web(orthanc)) as web:
        web.store_bytes([buffer.getvalue()])
        (back,) = list(web.retrieve_series("1.2.826.0.1.99.1", sr.SeriesInstanceUID))
    response = httpx.get(f"{orthanc.dicomweb}/studies/1.2.826.0.1.99.1/series", auth=(USER, PASSWORD))
    assert [s["00080060"]["Value"][0] for s in response.json()] == ["SR"]
    decoded = sr_ratings(pydicom.dcmread(io.BytesIO(back)), nxp2, scheme_library().scales)
    assert decoded.values == values
    assert decoded.patient_id == "SUBJ-SR"


def test_the_workstation_path_through_the_cli_and_app(orthanc: Orthanc, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """``server set`` / ``server send`` at site 1; the import folder then disappears; a second
    workstation opens the exam through app.exam_images with the server taken from the
    database (password from the environment); SRs go back with ``server store``."""
    own = write_phantom(tmp_path / "site1", shape=(3, 32, 32), seed=31, regions=("thigh",))
    db_path = tmp_path / "study.sqlite"
    db = ["--db", str(db_path)]
    monkeypatch.setenv("MYOSCORE_USER", "boss")
    monkeypatch.setenv("MYOSCORE_PASSWORD", "cli-pass-phrase")
    assert main([*db, "init", "--coordinator", "boss"]) == 0
    db_open = open_database(str(db_path))
    coordinator = CoordinatorSession(db_open, "coordinator")
    import_paths(coordinator, [own.out_dir / "dicom"])
    coordinator.add_reader("C", Role.READER, "pass-phrase-C")
    coordinator.assign(scheme_library().protocol("nxp2_lower_limb"), ["C"], seed=1)
    assert main([*db, "server", "set", "--dicomweb", orthanc.dicomweb, "--user", USER,
                 "--password-env", "TEST_ORTHANC_PASSWORD"]) == 0
    os.environ["TEST_ORTHANC_PASSWORD"] = PASSWORD
    try:
        assert main([*db, "server", "send"]) == 0
        assert PASSWORD not in capsys.readouterr().out
        (own.out_dir / "dicom").rename(tmp_path / "moved-away")  # site 2 has no such folder
        done = subprocess.run([sys.executable, str(WORKER), str(db_path), "C", "pass-phrase-C",
                               str(tmp_path / "cache"), "-", "--app", "--score"],
                              capture_output=True, text=True, timeout=120, check=False,
                              env={**os.environ, "TEST_ORTHANC_PASSWORD": PASSWORD})
        assert done.returncode == 0, done.stderr[-3000:]
        report = json.loads(done.stdout.strip().splitlines()[-1])
        assert report["problems"] == []
        assert report["loaded"] == report["cached_series"] >= 2
        # What the reading window shows while the series come: bytes received from the server.
        fetching = [m for m in report["messages"] if m.startswith("fetching ")]
        assert fetching, report["messages"]
        assert re.fullmatch(r"fetching \w+ \(\d of \d\) from the study's image server: [\d.]+( of [\d.]+)? MB",
                            fetching[-1])
        assert report["submitted"]
        assert main([*db, "export", "--format", "sr", "--out", str(tmp_path / "sr")]) == 0
        assert main([*db, "server", "store", *map(str, (tmp_path / "sr").glob("*.dcm"))]) == 0
    finally:
        del os.environ["TEST_ORTHANC_PASSWORD"]
    with open(db_path, "rb") as handle:
        assert PASSWORD.encode() not in handle.read()  # credentials never in the database
    db_open.dispose()
