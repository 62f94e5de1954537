"""Imaging benchmarks (DESIGN.md budgets), measured on the synthetic phantom.

(a) Loading a 512 × 512 × 60 series: ``load_series`` against SimpleITK's
    ``ImageSeriesReader`` on the same files, in one run, as a ratio (budget ≤ 1).
    Two pairs are timed: from an indexed record vs. the reader given sorted file
    names (what the workstation does after import), and from the bare folder
    (index + load) vs. ``GetGDCMSeriesFileNames`` + read.
(b) Indexing a folder of 3 000 DICOM files: files per second.
(c) Peak memory while loading (tracemalloc) against the raw voxel bytes.
(d) Header-only indexing against dcm2niix *converting* the same folders, in one run:
    ≥ 7 000 classic single-frame files of 8 series mixed in one directory, and a folder
    of Enhanced MR files (60 frames each), with scanner-sized headers (a 6 KB private
    blob like Siemens' CSA header). Both read from a warm page cache; ratio =
    dcm2niix seconds / our seconds (≥ 1: we index at least as many files per second as
    dcm2niix converts).

Run ``python benchmarks/bench_imaging.py`` (add ``--json`` for machine-readable
output, ``--quick`` for a small smoke run).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from myoscore.domain import Sequence as Kind
from myoscore.imaging import index_paths, load_series
from myoscore.phantom import write_phantom


def _timed(function: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def bench_loading(workdir: Path, size: int, slices: int, repeats: int) -> dict[str, Any]:
    """(a) and (c): one STIR series of ``slices`` × ``size`` × ``size``."""
    import SimpleITK

    info = write_phantom(
        workdir / "load", shape=(slices, size, size), timepoints=("baseline",),
        regions=("thigh",), sequences=(Kind.STIR,), nifti=False,
    )
    folder = info.series[0].dicom_dir
    record = index_paths(folder).series[0]
    names = [str(p) for p in record.paths]

    def sitk_from_names() -> Any:
        reader = SimpleITK.ImageSeriesReader()
        reader.SetFileNames(names)
        return reader.Execute()

    def sitk_from_folder() -> Any:
        reader = SimpleITK.ImageSeriesReader()
        reader.SetFileNames(SimpleITK.ImageSeriesReader.GetGDCMSeriesFileNames(str(folder)))
        return reader.Execute()

    candidates: dict[str, Callable[[], Any]] = {
        "ours_record": lambda: load_series(record),
        "sitk_names": sitk_from_names,
        "ours_folder": lambda: load_series(folder),
        "sitk_folder": sitk_from_folder,
    }
    # Warm the page cache and both libraries, then interleave the repeats so that
    # neither side profits from running second.
    for function in candidates.values():
        function()
    times: dict[str, list[float]] = {name: [] for name in candidates}
    for _ in range(repeats):
        for name, function in candidates.items():
            elapsed, _ = _timed(function)
            times[name].append(elapsed)

    ours = load_series(record)
    theirs = SimpleITK.GetArrayFromImage(sitk_from_names())
    identical = bool(np.array_equal(ours.voxels, theirs))

    tracemalloc.start()
    volume = load_series(record)
    _, peak_record = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    tracemalloc.start()
    load_series(folder)
    _, peak_folder = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    median = {name: statistics.median(values) * 1000 for name, values in times.items()}
    return {
        "series": f"{slices}x{size}x{size} {volume.voxels.dtype}",
        "files": len(names),
        "repeats": repeats,
        "median_ms": {name: round(value, 1) for name, value in median.items()},
        "min_ms": {name: round(min(values) * 1000, 1) for name, values in times.items()},
        "ratio_record_vs_sitk": round(median["ours_record"] / median["sitk_names"], 3),
        "ratio_folder_vs_sitk": round(median["ours_folder"] / median["sitk_folder"], 3),
        "identical_to_sitk": identical,
        "voxel_bytes": int(volume.voxels.nbytes),
        "peak_bytes_record": int(peak_record),
        "peak_bytes_folder": int(peak_folder),
        "memory_ratio_record": round(peak_record / volume.voxels.nbytes, 3),
        "memory_ratio_folder": round(peak_folder / volume.voxels.nbytes, 3),
    }


def _make_folder(root: Path, n_files: int, size: int) -> int:
    """Write phantoms (different seeds) until ``n_files`` DICOM files exist; trim extras.

    Only DICOM goes under ``root``: each phantom's JSON files are written beside it.
    """
    seed = 0
    written: list[Path] = []
    while len(written) < n_files:
        info = write_phantom(root.parent / "index-phantoms" / f"subject{seed:02d}",
                             shape=(60, size, size), seed=seed, nifti=False)
        target = root / f"subject{seed:02d}"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(info.out_dir / "dicom", target)
        for series in info.series:
            written.extend(sorted((target / series.dicom_dir.relative_to(
                info.out_dir / "dicom")).glob("*.dcm")))
        seed += 1
    # Drop the surplus from the end of the list: whole series of the last subject and
    # the highest-numbered (distal) files of one more, so every series stays contiguous.
    for path in sorted(written[n_files:], reverse=True):
        path.unlink()
    return n_files


def bench_indexing(workdir: Path, n_files: int, size: int, repeats: int) -> dict[str, Any]:
    """(b): header-only indexing of a folder of ``n_files`` DICOM files."""
    folder = workdir / "index"
    count = _make_folder(folder, n_files, size)
    runs = []
    result = None
    for _ in range(repeats):
        elapsed, result = _timed(lambda: index_paths(folder))
        runs.append(elapsed)
    if result is None or result.n_files != count or result.skipped:
        raise RuntimeError(f"indexing benchmark folder is not clean: {result}")
    best = min(runs)
    return {
        "files": count,
        "series": len(result.series),
        "seconds": [round(r, 3) for r in runs],
        "files_per_second_best": round(count / best),
        "files_per_second_median": round(count / statistics.median(runs)),
    }


# --------------------------------------------------------------- indexing vs dcm2niix
def _scanner_dataset(size: int, n_frames: int = 1) -> Any:
    """A header shaped like a scanner's: ~60 public elements and a 6 KB private blob
    (Siemens' CSA headers are 5–12 KB), so header parsing costs what it does on real files."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import EnhancedMRImageStorage, ExplicitVRLittleEndian, MRImageStorage

    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = MRImageStorage if n_frames == 1 else EnhancedMRImageStorage
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.ImageType = ["ORIGINAL", "PRIMARY", "M", "NORM", "DIS2D"]
    for keyword, value in {
        "StudyDate": "20240101", "SeriesDate": "20240101", "AcquisitionDate": "20240101", "ContentDate": "20240101",
        "StudyTime": "101010", "SeriesTime": "101112", "AcquisitionTime": "101113.5", "ContentTime": "101114",
        "AccessionNumber": "ACC0001", "Modality": "MR", "Manufacturer": "SIEMENS", "InstitutionName": "Hospital",
        "ReferringPhysicianName": "DOCTOR^A", "StationName": "MRC12345", "StudyDescription": "MSK^Thigh",
        "ManufacturerModelName": "Skyra", "PatientName": "BENCH^SUBJECT", "PatientID": "BENCH-0001",
        "PatientBirthDate": "19700101", "PatientSex": "F", "PatientAge": "054Y", "PatientWeight": 70,
        "BodyPartExamined": "THIGH", "ScanningSequence": "SE\\IR", "SequenceVariant": "SK\\SP\\MP",
        "ScanOptions": "IR", "MRAcquisitionType": "2D", "SequenceName": "*tir2d1_13", "SliceThickness": 5,
        "RepetitionTime": 6770, "EchoTime": 70, "InversionTime": 230, "NumberOfAverages": 1,
        "ImagingFrequency": 123.2, "ImagedNucleus": "1H", "EchoNumbers": 1, "MagneticFieldStrength": 3,
        "SpacingBetweenSlices": 6, "EchoTrainLength": 13, "PercentSampling": 100,
        "PercentPhaseFieldOfView": 100, "PixelBandwidth": 250, "DeviceSerialNumber": "12345",
        "SoftwareVersions": "syngo MR E11", "ProtocolName": "tirm_tra", "TransmitCoilName": "Body",
        "AcquisitionMatrix": [0, size, size, 0], "InPlanePhaseEncodingDirection": "ROW", "FlipAngle": 150,
        "SAR": 0.5, "dBdt": 0, "PatientPosition": "FFS", "StudyID": "1", "AcquisitionNumber": 1,
        "FrameOfReferenceUID": "1.2.3.4", "PositionReferenceIndicator": "", "SamplesPerPixel": 1,
        "PhotometricInterpretation": "MONOCHROME2", "Rows": size, "Columns": size, "PixelSpacing": [1.0, 1.0],
        "BitsAllocated": 16, "BitsStored": 12, "HighBit": 11, "PixelRepresentation": 0,
        "WindowCenter": 600, "WindowWidth": 1200, "ImageOrientationPatient": [1, 0, 0, 0, 1, 0],
    }.items():
        setattr(ds, keyword, value)
    block = ds.private_block(0x0029, "SIEMENS CSA HEADER", create=True)
    block.add_new(0x10, "OB", bytes(range(256)) * 24)
    return ds


def make_classic_folder(folder: Path, n_files: int, size: int, n_series: int = 8) -> int:
    """``n_files`` single-frame files of ``n_series`` series, mixed in one directory."""
    from pydicom.uid import generate_uid

    folder.mkdir(parents=True, exist_ok=True)
    ds = _scanner_dataset(size)
    study = generate_uid(entropy_srcs=["bench-study"])
    ds.StudyInstanceUID = study
    series = [generate_uid(entropy_srcs=["bench-series", str(i)]) for i in range(n_series)]
    per_series = -(-n_files // n_series)
    pixels = np.random.default_rng(0).integers(0, 4000, (size, size), dtype=np.uint16).tobytes()
    ds.PixelData = pixels
    for index in range(n_files):
        s, k = index % n_series, index // n_series
        ds.SeriesInstanceUID = series[s]
        ds.SeriesNumber = s + 1
        ds.SeriesDescription = f"tirm_tra_{s + 1}"
        ds.InstanceNumber = k + 1
        # A stack per series, each at its own table position.
        ds.ImagePositionPatient = [-128.0, -128.0, 1000.0 * s + 6.0 * k]
        ds.SliceLocation = 6.0 * k
        sop = generate_uid(entropy_srcs=["bench", str(index)])
        ds.SOPInstanceUID = sop
        ds.file_meta.MediaStorageSOPInstanceUID = sop
        ds.save_as(folder / f"{sop[-20:]}.dcm", enforce_file_format=True)
    assert per_series >= 1
    return n_files


def make_enhanced_folder(folder: Path, n_files: int, frames: int, size: int) -> int:
    """``n_files`` Enhanced MR files (one series each) of ``frames`` frames."""
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence as DicomSequence
    from pydicom.uid import generate_uid

    folder.mkdir(parents=True, exist_ok=True)
    pixels = np.random.default_rng(1).integers(0, 4000, (frames, size, size), dtype=np.uint16).tobytes()
    for index in range(n_files):
        ds = _scanner_dataset(size, frames)
        ds.StudyInstanceUID = generate_uid(entropy_srcs=["bench-enhanced-study"])
        ds.SeriesInstanceUID = generate_uid(entropy_srcs=["bench-enhanced", str(index)])
        ds.SeriesNumber = index + 1
        ds.SeriesDescription = f"enhanced_{index + 1}"
        ds.InstanceNumber = 1
        ds.NumberOfFrames = frames
        shared = Dataset()
        measures = Dataset()
        measures.PixelSpacing = [1.0, 1.0]
        measures.SliceThickness = 5
        shared.PixelMeasuresSequence = DicomSequence([measures])
        orientation = Dataset()
        orientation.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        shared.PlaneOrientationSequence = DicomSequence([orientation])
        ds.SharedFunctionalGroupsSequence = DicomSequence([shared])
        items = []
        for k in range(frames):
            item = Dataset()
            content = Dataset()
            content.InStackPositionNumber = k + 1
            content.StackID = "1"
            content.DimensionIndexValues = [1, k + 1]
            item.FrameContentSequence = DicomSequence([content])
            position = Dataset()
            position.ImagePositionPatient = [-128.0, -128.0, 6.0 * k]
            item.PlanePositionSequence = DicomSequence([position])
            transform = Dataset()
            transform.RescaleSlope, transform.RescaleIntercept, transform.RescaleType = 1, 0, "US"
            item.PixelValueTransformationSequence = DicomSequence([transform])
            items.append(item)
        ds.PerFrameFunctionalGroupsSequence = DicomSequence(items)
        ds.PixelData = pixels
        sop = generate_uid(entropy_srcs=["bench-enhanced-sop", str(index)])
        ds.SOPInstanceUID = sop
        ds.file_meta.MediaStorageSOPInstanceUID = sop
        ds.save_as(folder / f"{sop[-20:]}.dcm", enforce_file_format=True)
    return n_files


def _cpu_seconds() -> float:
    """User + system CPU time of this process and its reaped children."""
    import resource

    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _dcm2niix_seconds(folder: Path, out: Path) -> float:
    """Wall time of dcm2niix converting ``folder`` (uncompressed NIfTI, no BIDS sidecar)."""
    import subprocess

    import dcm2niix

    binary = shutil.which("dcm2niix") or dcm2niix.bin
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    start = time.perf_counter()
    subprocess.run([binary, "-z", "n", "-b", "n", "-o", str(out), str(folder)], check=True,
                   capture_output=True, timeout=1800)
    return time.perf_counter() - start


def bench_vs_dcm2niix(workdir: Path, n_classic: int, n_enhanced: int, frames: int, size: int,
                      repeats: int) -> dict[str, Any]:
    """Header-only indexing against dcm2niix converting the same folders, interleaved in one run."""
    folders = {
        "classic": (workdir / "classic", lambda f: make_classic_folder(f, n_classic, size)),
        "enhanced": (workdir / "enhanced", lambda f: make_enhanced_folder(f, n_enhanced, frames, size)),
    }
    results: dict[str, Any] = {}
    for name, (folder, make) in folders.items():
        n_files = make(folder)
        # Warm the page cache (both sides then read from memory), then interleave.
        index_paths(folder)
        ours: dict[str, list[float]] = {"workers": [], "one_process": []}
        theirs: list[float] = []
        cpu: dict[str, list[float]] = {"workers": [], "one_process": [], "dcm2niix": []}
        result = None
        for _ in range(repeats):
            before = _cpu_seconds()
            elapsed, result = _timed(lambda: index_paths(folder))  # noqa: B023 - called at once
            ours["workers"].append(elapsed)
            time.sleep(1.0)  # let the finished worker process be reaped, so its CPU time counts
            middle = _cpu_seconds()
            elapsed, _ = _timed(lambda: index_paths(folder, workers=1))  # noqa: B023
            ours["one_process"].append(elapsed)
            after = _cpu_seconds()
            theirs.append(_dcm2niix_seconds(folder, workdir / f"dcm2niix-{name}"))
            cpu["workers"].append(middle - before)
            cpu["one_process"].append(after - middle)
            cpu["dcm2niix"].append(_cpu_seconds() - after)
        if result is None:
            raise ValueError("repeats must be at least 1")
        if result.skipped or result.n_files != n_files:
            raise RuntimeError(f"benchmark folder {folder} is not clean: {result.summary()}")
        best = {key: min(values) for key, values in ours.items()}
        results[name] = {
            "files": n_files,
            "series": len(result.series),
            "frames_per_file": 1 if name == "classic" else frames,
            "matrix": f"{size}x{size}",
            "files_per_second": {key: round(n_files / value) for key, value in best.items()},
            "dcm2niix_files_per_second": round(n_files / min(theirs)),
            "ratio_vs_dcm2niix": round(min(theirs) / best["workers"], 2),
            "ratio_one_process_vs_dcm2niix": round(min(theirs) / best["one_process"], 2),
            "seconds": {key: [round(v, 2) for v in values] for key, values in ours.items()}
            | {"dcm2niix": [round(v, 2) for v in theirs]},
            # CPU seconds (this process + worker processes, or dcm2niix's): what a shared,
            # busy machine does not change as much as it changes wall time.
            "cpu_seconds": {key: [round(v, 2) for v in values] for key, values in cpu.items()},
            "ratio_cpu_one_process_vs_dcm2niix": round(min(cpu["dcm2niix"]) / min(cpu["one_process"]), 2),
        }
    return results


def run(
    size: int = 512, slices: int = 60, n_files: int = 3000, repeats: int = 5,
    workdir: Path | None = None, classic_files: int = 7000, enhanced_files: int = 40, frames: int = 60,
    matrix: int = 256,
) -> dict[str, Any]:
    """Run the benchmarks and return their figures."""
    temporary = workdir is None
    root = Path(tempfile.mkdtemp(prefix="myoscore-bench-")) if workdir is None else workdir
    try:
        loading = bench_loading(root, size, slices, repeats)
        indexing = bench_indexing(root, n_files, 64, max(2, repeats // 2))
        versus = bench_vs_dcm2niix(root, classic_files, enhanced_files, frames, matrix, max(1, repeats // 2))
    finally:
        if temporary:
            shutil.rmtree(root, ignore_errors=True)
    return {"loading": loading, "indexing": indexing, "vs_dcm2niix": versus}


def _report(results: dict[str, Any]) -> str:
    load = results["loading"]
    index = results["indexing"]
    ms = load["median_ms"]
    return "\n".join(
        [
            f"(a) load {load['series']} ({load['files']} files), median of {load['repeats']}:",
            f"    from index record  {ms['ours_record']:8.1f} ms   SimpleITK (sorted names) "
            f"{ms['sitk_names']:8.1f} ms   ratio {load['ratio_record_vs_sitk']:.2f}",
            f"    from folder        {ms['ours_folder']:8.1f} ms   SimpleITK (GDCM sort)    "
            f"{ms['sitk_folder']:8.1f} ms   ratio {load['ratio_folder_vs_sitk']:.2f}",
            f"    voxels identical to SimpleITK: {load['identical_to_sitk']}",
            f"(b) index {index['files']} files ({index['series']} series): "
            f"{index['files_per_second_best']} files/s best, "
            f"{index['files_per_second_median']} files/s median",
            f"(c) peak memory while loading: {load['peak_bytes_record'] / 2**20:.1f} MiB for "
            f"{load['voxel_bytes'] / 2**20:.1f} MiB of voxels = "
            f"{load['memory_ratio_record']:.2f}× (from folder {load['memory_ratio_folder']:.2f}×)",
            *(
                f"(d) index {name} folder ({v['files']} files × {v['frames_per_file']} frame(s), {v['matrix']}, "
                f"{v['series']} series): {v['files_per_second']['workers']} files/s with workers, "
                f"{v['files_per_second']['one_process']} in one process; dcm2niix converts "
                f"{v['dcm2niix_files_per_second']} files/s; ratio {v['ratio_vs_dcm2niix']:.2f} "
                f"(one process {v['ratio_one_process_vs_dcm2niix']:.2f}; in CPU seconds "
                f"{v['ratio_cpu_one_process_vs_dcm2niix']:.2f})"
                for name, v in results["vs_dcm2niix"].items()
            ),
        ]
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--quick", action="store_true",
                        help="small sizes (128×128×20, 300 files): a smoke test, not the budget")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--classic-files", type=int, default=7000,
                        help="single-frame files in the one-directory folder for (d) (default 7000)")
    parser.add_argument("--workdir", type=Path, default=None,
                        help="keep the generated files here (default: a temporary folder)")
    args = parser.parse_args(argv)
    if args.quick:
        results = run(size=128, slices=20, n_files=300, repeats=2, workdir=args.workdir,
                      classic_files=700, enhanced_files=4, frames=20, matrix=64)
    else:
        results = run(repeats=args.repeats, workdir=args.workdir, classic_files=args.classic_files)
    # One line of JSON: benchmarks/run_all.py reads each output line as a document.
    print(json.dumps(results) if args.json else _report(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
