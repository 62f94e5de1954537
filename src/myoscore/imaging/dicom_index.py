"""Header-only indexing of folders of DICOM (and NIfTI) files into series records.

:func:`index_paths` walks folders recursively (:mod:`~myoscore.imaging.file_walk`),
reads each file's header only (:mod:`~myoscore.imaging.dicom_header`, or
:func:`~myoscore.imaging.nifti.index_nifti`), in worker processes when there are many
files, and turns each series' frames into records
(:mod:`~myoscore.imaging.series_split`). Nothing is copied or modified. A single bad
file never raises: it becomes a :class:`SkippedFile` whose reason says what is wrong,
and the good files beside it are still indexed.

Identifying fields (patient name and ID, birth date, study date) are kept on
:class:`SeriesRecord` only so that the store can pseudonymise them; they are
excluded from ``repr`` and must never reach a reader or a :class:`Volume`.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

from myoscore.imaging.dicom_checks import looks_like_dicom_without_preamble
from myoscore.imaging.dicom_header import Frame, SeriesCache, read_dicom
from myoscore.imaging.file_walk import os_reason, walk
from myoscore.imaging.nifti import index_nifti, looks_like_nifti
from myoscore.imaging.records import (
    IndexResult,
    NativePixels,
    ProgressCallback,
    SeriesRecord,
    SkippedFile,
    SliceRef,
)
from myoscore.imaging.series_split import records_from_series

__all__ = [
    "IndexResult",
    "NativePixels",
    "SeriesRecord",
    "SkippedFile",
    "SliceRef",
    "index_paths",
]

log = logging.getLogger(__name__)

_FileResult = list[Frame] | SeriesRecord | SkippedFile

#: Below this many files (and :data:`PARALLEL_MIN_BYTES`) one process is faster than
#: starting workers (a spawned worker costs ~0.3–1 s of imports).
PARALLEL_MIN_FILES = 3000
#: …unless the files are big (enhanced multi-frame files: their per-frame functional
#: groups cost ~0.5–3 ms a frame to read).
PARALLEL_MIN_BYTES = 2**30
#: Files per task sent to a worker (small enough for smooth progress).
_CHUNK = 64

# One series cache per process (the main one, or a worker's).
_cache: SeriesCache = {}


def read_file(path: Path, cache: SeriesCache | None = None) -> _FileResult:
    """Read one file's header. Never raises for a bad file: returns a SkippedFile."""
    try:
        info = os.stat(path)
        size = info.st_size
        if size == 0:
            return SkippedFile(path, "empty file (0 bytes)")
        with open(path, "rb") as fp:
            head = fp.read(348)
            if looks_like_nifti(path, head):
                return index_nifti(path)
            has_marker = head[128:132] == b"DICM"
            if not has_marker and not looks_like_dicom_without_preamble(head):
                if size < 132:
                    return SkippedFile(path, f"not a DICOM file (only {size} bytes)")
                return SkippedFile(path, "not a DICOM file (no 'DICM' marker at byte 128)")
            fp.seek(0)
            return read_dicom(path, fp, info, has_marker, _cache if cache is None else cache)
    except OSError as exc:
        return SkippedFile(path, os_reason(exc, "file"))
    except Exception as exc:  # one bad file must never stop an import
        log.debug("unreadable header %s", path, exc_info=True)
        return SkippedFile(path, f"unreadable DICOM header: {type(exc).__name__}: {exc}")


def _read_chunk(paths: list[Path]) -> list[_FileResult]:
    """A worker's task: the headers of a few files, in order."""
    return [read_file(path) for path in paths]


def _size(files: list[Path]) -> int:
    total = 0
    for path in files:
        with contextlib.suppress(OSError):  # reported when the file is read
            total += os.stat(path).st_size
    return total


def _default_workers() -> int:
    return max(1, min(2, os.cpu_count() or 1))


def _read_all(files: list[Path], progress: ProgressCallback | None, workers: int | None) -> list[_FileResult]:
    total = len(files)
    n_workers = _default_workers() if workers is None else max(1, workers)
    if n_workers == 1 or (total < PARALLEL_MIN_FILES and (total < 2 * n_workers or _size(files) < PARALLEL_MIN_BYTES)):
        cache: SeriesCache = {}
        results = []
        for done, path in enumerate(files, start=1):
            results.append(read_file(path, cache))
            if progress is not None:
                progress(done, total)
        return results

    return _read_shared(files, progress, n_workers)


def _read_shared(files: list[Path], progress: ProgressCallback | None, n_workers: int) -> list[_FileResult]:
    """Read headers in this process *and* ``n_workers - 1`` spawned workers.

    This process takes chunks from the end of the list while the workers take them from
    the front (one queued chunk per worker); when none are left it reads the chunks the
    workers still hold rather than wait for them. So the ~0.3–1 s a spawned worker needs
    to start is never lost: with no worker started at all this is one process reading.
    """
    import multiprocessing
    from collections import deque
    from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    total = len(files)
    chunk_size = max(1, min(_CHUNK, total // (4 * n_workers)))
    pending = deque(enumerate(files[i : i + chunk_size] for i in range(0, total, chunk_size)))
    by_chunk: list[list[_FileResult] | None] = [None] * len(pending)
    cache: SeriesCache = {}
    done = by_workers = 0

    def finished(index: int, results: list[_FileResult]) -> None:
        nonlocal done
        by_chunk[index] = results
        done += len(results)
        if progress is not None:
            progress(done, total)

    # "spawn": forking a process that runs Qt (the GUI import) or other threads is unsafe.
    # Spawned workers import the main module again, so a script calling index_paths must
    # keep its top level behind ``if __name__ == "__main__":`` (the multiprocessing rule);
    # if the workers fail anyway, this process reads what they did not.
    pool = ProcessPoolExecutor(max_workers=max(1, n_workers - 1), mp_context=multiprocessing.get_context("spawn"))
    in_flight: dict[Future[list[_FileResult]], tuple[int, list[Path]]] = {}
    try:
        while pending or in_flight:
            for future in [f for f in in_flight if f.done()]:
                index, chunk = in_flight.pop(future)
                finished(index, future.result())
                by_workers += len(chunk)
            while pending and len(in_flight) < n_workers:  # one queued per worker, no more
                index, chunk = pending.popleft()
                in_flight[pool.submit(_read_chunk, chunk)] = (index, chunk)
            if pending:
                index, chunk = pending.pop()
                finished(index, [read_file(path, cache) for path in chunk])
            elif in_flight:
                # Nothing left to take: read the oldest chunk a worker holds here too
                # (it may still be starting), keeping whichever result comes first.
                future, (index, chunk) = next(iter(in_flight.items()))
                if not future.done():
                    future.cancel()
                    in_flight.pop(future)
                    finished(index, [read_file(path, cache) for path in chunk])
                else:
                    wait(in_flight, timeout=0, return_when=FIRST_COMPLETED)
    except (BrokenProcessPool, OSError, RuntimeError):
        log.exception("header-reading worker processes failed; reading in this process")
        for future, (index, chunk) in in_flight.items():
            future.cancel()
            pending.append((index, chunk))
        for index, chunk in pending:
            if by_chunk[index] is None:
                finished(index, [read_file(path, cache) for path in chunk])
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    log.debug("headers of %d files: %d by worker processes, %d here", total, by_workers, total - by_workers)
    return [result for chunk_results in by_chunk if chunk_results is not None for result in chunk_results]


def index_paths(
    paths: Iterable[str | os.PathLike[str]] | str | os.PathLike[str],
    progress: ProgressCallback | None = None,
    *,
    workers: int | None = None,
) -> IndexResult:
    """Index files and folders (recursively) into series records, reading headers only.

    Parameters
    ----------
    paths
        Files and/or folders (one path or several).
    progress
        Called as ``progress(done, total)`` as headers are read (after each file, or
        each batch of files when worker processes read them), and once with
        ``(0, total)`` before the first.
    workers
        Processes reading headers; default: both cores (at most 2) when there are at
        least :data:`PARALLEL_MIN_FILES` files or :data:`PARALLEL_MIN_BYTES` of them,
        else this process only.

    Returns
    -------
    IndexResult
        Series records (split where a series mixes orientations, image types, echoes,
        matrix sizes or multi-frame files), sorted by study, series number and
        description; and the files that were skipped, each with a reason.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    files, skipped = walk(paths)
    total = len(files)
    if progress is not None:
        progress(0, total)
    by_series: dict[tuple[str, str], list[Frame]] = defaultdict(list)
    records: list[SeriesRecord] = []
    for result in _read_all(files, progress, workers):
        if isinstance(result, SkippedFile):
            skipped.append(result)
        elif isinstance(result, SeriesRecord):
            records.append(result)
        else:
            for frame in result:
                by_series[(frame.study_uid, frame.series_uid)].append(frame)

    dicom_records: list[SeriesRecord] = []
    for (study_uid, series_uid), frames in by_series.items():
        if not series_uid:
            for frame in frames:
                skipped.append(SkippedFile(frame.path, "DICOM image without SeriesInstanceUID; cannot group it"))
            continue
        try:
            dicom_records.extend(records_from_series(frames))
        except Exception as exc:  # a broken series must not stop the others
            log.exception("series %s of study %s could not be indexed", series_uid, study_uid)
            for path in dict.fromkeys(f.path for f in frames):
                skipped.append(
                    SkippedFile(
                        path,
                        f"series {series_uid} of study {study_uid} could not be indexed: "
                        f"{type(exc).__name__}: {exc}",
                    )
                )
    records = dicom_records + records
    records.sort(key=lambda r: (r.study_uid, r.series_number or 0, r.description, r.key))
    return IndexResult(tuple(records), tuple(skipped), total)
