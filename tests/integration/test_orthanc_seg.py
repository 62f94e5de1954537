"""Label maps through a real DICOM server (Orthanc) as DICOM Segmentation objects: the
coordinator's ``send_exams`` sends each label map as a SEG drawn on the pseudonymised
instances; a second workstation without the import folder (its own cache) opens the exam
and gets the same label map (voxels, names, units) and overlays, by DICOMweb and C-GET.
The SEG is checked by highdicom's own parser and dicom3tools' ``dciodvfy``."""

from __future__ import annotations

import io
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import highdicom as hd
import httpx
import numpy as np
import pydicom
import pytest

from myoscore.app import CoordinatorSession, ReaderSession, open_database, sign_in
from myoscore.app.exam_images import load_exam_images, load_label_map, parse_label_table
from myoscore.app.imports import import_paths
from myoscore.app.label_map_seg import seg_series_uid
from myoscore.app.remote_images import RemoteImages, configure_image_server, send_exams
from myoscore.app.schemes import scheme_library
from myoscore.domain import ImageServerSettings, Role, Sequence, Series
from myoscore.imaging import Volume, write_nifti
from myoscore.imaging.dicom_server import DicomServer, DicomWebClient
from myoscore.imaging.image_cache import ImageCache
from myoscore.phantom import PhantomInfo, write_phantom
from tests.integration.dicom_tools import require
from tests.integration.orthanc_server import PASSWORD, USER, Orthanc, running_orthanc

pytestmark = pytest.mark.slow
PASSWORD_ENV = "TEST_ORTHANC_SEG_PASSWORD"


@pytest.fixture(scope="module")
def orthanc() -> Iterator[Orthanc]:
    with running_orthanc() as server:
        yield server


def _web(o: Orthanc) -> DicomServer:
    return DicomServer("study", dicomweb_url=o.dicomweb, username=USER, password=PASSWORD, timeout=20)


def _dimse(o: Orthanc) -> DicomServer:
    return DicomServer("study", host="127.0.0.1", port=o.dicom_port, ae_title="ORTHANC", calling_ae="MYOSCORE2",
                       timeout=20)


def _study(tmp_path: Path, orthanc: Orthanc, monkeypatch: pytest.MonkeyPatch, *, seed: int,
           ) -> tuple[CoordinatorSession, PhantomInfo, int]:
    """Site 1: a phantom exam (thigh STIR + T1) imported with its label map, the study's server set."""
    info = write_phantom(tmp_path / "site1", shape=(4, 48, 48), seed=seed, regions=("thigh",),
                         timepoints=("baseline",))
    db = open_database(str(tmp_path / "study.sqlite"), create=True)
    coordinator = CoordinatorSession(db, "coordinator")
    import_paths(coordinator, [info.out_dir / "dicom"])
    exam = coordinator.exams()[0]
    import_paths(coordinator, [info.label_maps["thigh"]], exam_id=exam.id, link_identity=False)
    configure_image_server(coordinator, ImageServerSettings("study", orthanc.dicomweb, username=USER,
                                                            password_env=PASSWORD_ENV))
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    return coordinator, info, exam.id


def _label_series(coordinator: CoordinatorSession, exam_id: int) -> Series:
    return next(s for s in coordinator.series(exam_id) if s.kind is Sequence.LABEL_MAP)


def _seg_bytes(remote: RemoteImages, label_series: Series) -> bytes:
    from myoscore.imaging.image_cache import fetch_series

    (path,) = fetch_series(remote.server, remote.cache, "", seg_series_uid(label_series)).files
    return Path(path).read_bytes()


def test_a_second_site_gets_the_same_label_map_and_overlays(orthanc: Orthanc, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Sent as SEG; with the import folder gone, a reader's workstation (own cache) gets the
    label map voxel for voxel, with the same names and units, and every series its overlay."""
    coordinator, info, exam_id = _study(tmp_path, orthanc, monkeypatch, seed=41)
    label_series = _label_series(coordinator, exam_id)
    local = load_label_map(label_series)
    local_images = load_exam_images(coordinator.series(exam_id))
    local_labels = {s.series.id: s.labels for st in local_images.stations for s in st.series}
    assert all(labels is not None and labels.any() for labels in local_labels.values())

    sent = send_exams(coordinator)
    assert sent.segmentations == 1
    assert sent.problems == ()
    assert sent.instances == sum(len(s.files) for s in coordinator.series(exam_id) if s.kind is not Sequence.LABEL_MAP)
    study_uid = str(pydicom.dcmread(next((info.out_dir / "dicom").rglob("*.dcm")), stop_before_pixels=True)
                    .StudyInstanceUID)
    listed = httpx.get(f"{orthanc.dicomweb}/studies/{study_uid}/series", auth=(USER, PASSWORD)).json()
    assert sorted(s["00080060"]["Value"][0] for s in listed) == ["MR", "MR", "SEG"]

    (info.out_dir).rename(tmp_path / "moved-away")  # site 2 has no import folder, no label table
    remote = RemoteImages(_web(orthanc), ImageCache(tmp_path / "cache-site2"))
    fetched = load_label_map(label_series, remote=remote)
    assert np.array_equal(fetched.volume.voxels, local.volume.voxels)
    assert np.allclose(fetched.volume.affine, local.volume.affine, atol=1e-6)
    assert dict(fetched.names) == dict(local.names)
    assert dict(fetched.units) == dict(local.units)

    # A reader at site 2: the blinded path of the reading window.
    coordinator.add_reader("B", Role.READER, "pass-phrase-B")
    coordinator.assign(scheme_library().protocol("nxp2_lower_limb"), ["B"], seed=1)
    reader = sign_in(coordinator.database, "B", "pass-phrase-B")
    assert isinstance(reader, ReaderSession)
    read_id = reader.worklist()[0].id
    images = load_exam_images(reader.image_sources(read_id), remote=RemoteImages(_web(orthanc),
                                                                                 ImageCache(tmp_path / "cache-b")))
    assert images.problems == ()
    (station,) = images.stations
    assert station.label_map is not None
    assert dict(station.label_map.units) == dict(local.units)
    assert station.name == "Thigh"
    shown = {s.series.kind: s for s in station.series}
    assert set(shown) == {Sequence.STIR, Sequence.T1}
    for (_, loaded), (site1_id, site1_labels) in zip(sorted(shown.items()), sorted(local_labels.items()),
                                                     strict=True):
        assert loaded.series.id == site1_id
        assert loaded.labels is not None
        assert site1_labels is not None
        assert np.array_equal(loaded.labels, site1_labels)  # the same outlines on every series
    # Blinding: the reader's label volume carries only allow-listed metadata, no description.
    assert "series_description" not in station.label_map.volume.metadata
    assert set(station.label_map.volume.metadata) <= {"modality", "sequence"}
    coordinator.database.dispose()


def test_the_seg_is_valid_pseudonymous_and_says_its_table(orthanc: Orthanc, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """highdicom parses the SEG back (BINARY, one segment per label, SNOMED CT codes where the
    SR has them, laterality coded); dciodvfy finds no error; the patient is the pseudonym and
    no identifying value, series description or file name is anywhere in its bytes; C-GET
    fetches it too; sending twice stores the same instance."""
    coordinator, info, exam_id = _study(tmp_path, orthanc, monkeypatch, seed=42)
    first = send_exams(coordinator)
    assert send_exams(coordinator) == first  # sent again: the same SEG instance (derived UIDs), no error
    exam = coordinator.exams()[0]
    label_series = _label_series(coordinator, exam_id)
    stir = next(s for s in coordinator.series(exam_id) if s.kind is Sequence.STIR)
    data = _seg_bytes(RemoteImages(_dimse(orthanc), ImageCache(tmp_path / "cache-cget")), label_series)
    with DicomWebClient(_web(orthanc)) as web:
        assert exam.study_uid is not None
        assert len(web.series_instances(exam.study_uid, seg_series_uid(label_series))) == 1

    seg = hd.seg.segread(io.BytesIO(data))
    assert seg.SegmentationType == "BINARY"
    table = json.loads(info.label_table_path.read_text(encoding="utf-8"))
    assert len(seg.SegmentSequence) == len([v for v in table.values() if v > 0])
    by_label = {str(item.SegmentLabel): item for item in seg.SegmentSequence}
    assert set(by_label) == {name for name, value in table.items() if value > 0}
    vastus = by_label["R:thigh.anterior.vastus_lateralis"]
    kind = vastus.SegmentedPropertyTypeCodeSequence[0]
    assert (kind.CodingSchemeDesignator, kind.CodeValue) == ("SCT", "1403006")  # the SR's finding-site code
    assert kind.SegmentedPropertyTypeModifierCodeSequence[0].CodeValue == "24028007"  # Right
    assert str(vastus.SegmentDescription) == f"myoscore label {table['R:thigh.anterior.vastus_lateralis']}"
    sartorius = by_label["L:thigh.anterior.sartorius"].SegmentedPropertyTypeCodeSequence[0]
    assert sartorius.CodingSchemeDesignator == "99MYOSCORE"
    assert sartorius.SegmentedPropertyTypeModifierCodeSequence[0].CodeValue == "7771000"  # Left
    skin = by_label["skin"]
    assert skin.SegmentedPropertyCategoryCodeSequence[0].CodeValue == "85756007"  # Tissue
    assert skin.SegmentedPropertyTypeCodeSequence[0].CodeValue == "39937001"  # Skin
    # Drawn on the STIR's instances as they were sent (pseudonymised), patient = pseudonym.
    assert seg.ReferencedSeriesSequence[0].SeriesInstanceUID == stir.dicom_uid
    referenced = {str(i.ReferencedSOPInstanceUID) for i in seg.ReferencedSeriesSequence[0].ReferencedInstanceSequence}
    assert referenced == {str(pydicom.dcmread(f, stop_before_pixels=True).SOPInstanceUID) for f in stir.files}
    assert (seg.PatientID, str(seg.PatientName)) == (exam.subject_code, f"{exam.subject_code}^")
    assert seg.PatientBirthDate == ""
    assert seg.SeriesDescription == "Muscle label map"
    for value in (*info.identifying.values(), "STIR_tra_thigh", "thigh_labels", str(tmp_path)):
        assert str(value).encode() not in data, value

    path = tmp_path / "seg.dcm"
    path.write_bytes(data)
    check = subprocess.run([require("dciodvfy")["dciodvfy"], str(path)], capture_output=True, text=True, check=False)
    lines = (check.stdout + check.stderr).splitlines()
    assert "Segmentation" in lines
    assert not [line for line in lines if line.startswith("Error")], lines
    coordinator.database.dispose()


def test_a_label_map_that_cannot_be_converted_is_named_and_the_images_go(orthanc: Orthanc, tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """A label map two metres away from every series of its exam: send_exams says which
    series and why, in a sentence, and sends the images anyway."""
    coordinator, info, exam_id = _study(tmp_path, orthanc, monkeypatch, seed=43)
    good = _label_series(coordinator, exam_id)
    moved = load_label_map(good).volume
    affine = moved.affine.copy()
    affine[2, 3] += 2000.0
    far = write_nifti(Volume(moved.voxels, affine, {"format": "nifti"}), tmp_path / "elsewhere" / "far_labels.nii.gz")
    import_paths(coordinator, [far], exam_id=exam_id, link_identity=False)
    far_series = next(s for s in coordinator.series(exam_id) if s.kind is Sequence.LABEL_MAP and s.id != good.id)

    sent = send_exams(coordinator)
    assert sent.segmentations == 1  # the good one
    assert sent.instances > 0
    assert sent.problems == (
        f"label map series {far_series.id} of exam {exam_id} (far_labels.nii.gz) was not sent as a DICOM SEG: "
        "it overlaps none of its exam's DICOM series; the exam's images were sent without it",)
    # At a site without the file, that label map is a problem of the exam, named, not a traceback.
    (info.out_dir).rename(tmp_path / "moved-away")
    (tmp_path / "elsewhere").rename(tmp_path / "gone")
    images = load_exam_images(coordinator.series(exam_id),
                              remote=RemoteImages(_web(orthanc), ImageCache(tmp_path / "cache-2")))
    assert images.problems == (f"label map series {far_series.id} could not be read",)
    assert images.stations[0].label_map is not None
    names, _units = parse_label_table(json.loads((tmp_path / "moved-away" / "labels.json").read_text()))
    assert dict(images.stations[0].label_map.names) == names
    coordinator.database.dispose()


def test_a_label_map_on_its_own_grid_is_drawn_on_its_stations_stir(coordinator: CoordinatorSession,
                                                                    tmp_path: Path) -> None:
    """A label map on a coarser grid than any series: drawn on the STIR of the station it
    overlaps, resampled (nearest) onto it; reading gives that resampled map (no server needed)."""
    from myoscore.app.label_map_seg import exam_segmentations
    from myoscore.imaging import load_series, resample_like
    from myoscore.imaging.segmentation import read_segmentation

    info = write_phantom(tmp_path / "site1", shape=(4, 48, 48), seed=44, regions=("thigh",),
                         timepoints=("baseline",), nifti=False)
    import_paths(coordinator, [info.out_dir / "dicom"])
    exam = coordinator.exams()[0]
    stir = next(s for s in coordinator.series(exam.id) if s.kind is Sequence.STIR)
    stir_volume = load_series(list(stir.files))
    affine = stir_volume.affine.copy()
    affine[:3, :2] *= 2.0  # 24 × 24 pixels of twice the size: the same field of view
    voxels = np.zeros((4, 24, 24), dtype=np.int16)
    voxels[:, 6:12, 6:12] = 101
    coarse = Volume(voxels, affine, {"format": "nifti"})
    labels = write_nifti(coarse, tmp_path / "own" / "coarse_labels.nii.gz")
    (tmp_path / "own" / "labels.json").write_text(json.dumps({"R:thigh.anterior.rectus_femoris": 101}))
    import_paths(coordinator, [labels], exam_id=exam.id, link_identity=False)

    built, problems = exam_segmentations(coordinator.series(exam.id), exam.subject_code)
    assert problems == []
    (data,) = built
    assert pydicom.dcmread(io.BytesIO(data)).ReferencedSeriesSequence[0].SeriesInstanceUID == stir.dicom_uid
    back, entries = read_segmentation(data, stir_volume, "label map")
    imported = load_label_map(_label_series(coordinator, exam.id)).volume  # as read back from the NIfTI
    expected = resample_like(imported, stir_volume, "nearest").voxels
    assert expected.any()
    assert np.array_equal(back.voxels, expected)
    assert [(e.value, e.key, e.side) for e in entries] == [(101, "thigh.anterior.rectus_femoris", "R")]
