"""A workstation's bounded cache of series fetched from the study's DICOM server.

Layout: ``<root>/<series UID>/<SOP instance UID>.dcm`` and a ``manifest.json`` per
series (size and SHA-256 of every file, when it was last used). A series is written to a
temporary folder and renamed into place once complete, so a killed fetch never leaves a
half series that looks whole. Opening a cached series checks every file against its
manifest (integrity); a damaged series is dropped and fetched again. When the cache grows
past its size limit the least recently used series go first, never the ones in use.
:func:`fetch_series` fetches from the server when needed and works offline from the cache.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import shutil
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from myoscore.domain import ImagingError
from myoscore.imaging.dicom_server import DicomServer, DicomWebClient, DimseClient, Progress, ServerError

log = logging.getLogger(__name__)

__all__ = ["CacheCorrupt", "FetchResult", "ImageCache", "fetch_series"]

_MANIFEST = "manifest.json"


class CacheCorrupt(ImagingError):
    """A cached series no longer matches its manifest."""


@dataclass(frozen=True)
class FetchResult:
    files: tuple[Path, ...]
    source: str  # "cache" or "server"
    n_bytes: int


class ImageCache:
    def __init__(self, root: Path, limit_bytes: int = 20 * 1024**3) -> None:
        self.root = Path(root)
        self.limit_bytes = int(limit_bytes)
        self.root.mkdir(parents=True, exist_ok=True)

    def _dir(self, series_uid: str) -> Path:
        if not series_uid or "/" in series_uid or series_uid.startswith("."):
            raise ImagingError(f"not a series UID: {series_uid!r}")
        return self.root / series_uid

    def _manifest(self, series_uid: str) -> dict[str, object] | None:
        path = self._dir(series_uid) / _MANIFEST
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def has(self, series_uid: str) -> bool:
        return self._manifest(series_uid) is not None

    def series(self) -> list[str]:
        return sorted(p.name for p in self.root.iterdir() if p.is_dir() and (p / _MANIFEST).is_file())

    def size(self) -> int:
        total = 0
        for uid in self.series():
            manifest = self._manifest(uid) or {}
            total += int(str(manifest.get("bytes", 0)))
        return total

    def files(self, series_uid: str, *, verify: bool = True) -> list[Path]:
        """The cached files of a series, checked against the manifest (sizes and SHA-256)."""
        manifest = self._manifest(series_uid)
        if manifest is None:
            raise ImagingError(f"series {series_uid} is not in the cache at {self.root}")
        folder = self._dir(series_uid)
        entries = manifest.get("files")
        assert isinstance(entries, list)
        paths = []
        for entry in entries:
            path = folder / str(entry["name"])
            try:
                data = path.read_bytes() if verify else b""
            except OSError as exc:
                raise CacheCorrupt(f"cached series {series_uid}: {path.name} is unreadable ({exc})") from exc
            if verify and (len(data) != entry["size"] or hashlib.sha256(data).hexdigest() != entry["sha256"]):
                raise CacheCorrupt(f"cached series {series_uid}: {path.name} does not match its checksum")
            paths.append(path)
        manifest["last_used"] = time.time()
        (folder / _MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
        return paths

    def drop(self, series_uid: str) -> None:
        shutil.rmtree(self._dir(series_uid), ignore_errors=True)

    def put(self, series_uid: str, instances: Iterable[bytes], *, keep: Iterable[str] = ()) -> list[Path]:
        """Store a complete series (the instances as DICOM bytes), then evict down to the limit."""
        import pydicom

        staging = self.root / f".incoming-{series_uid}-{time.monotonic_ns()}"
        staging.mkdir(parents=True)
        entries, total = [], 0
        try:
            for data in instances:
                ds = pydicom.dcmread(io.BytesIO(data), stop_before_pixels=True, specific_tags=["SOPInstanceUID"])
                name = f"{ds.SOPInstanceUID}.dcm"
                (staging / name).write_bytes(data)
                entries.append({"name": name, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()})
                total += len(data)
            if not entries:
                raise ImagingError(f"series {series_uid}: the server sent no instance")
            manifest = {"series_uid": series_uid, "files": entries, "bytes": total, "last_used": time.time()}
            (staging / _MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
            target = self._dir(series_uid)
            if target.exists():
                shutil.rmtree(target)
            staging.rename(target)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        self.evict(keep={series_uid, *keep})
        return [target / str(e["name"]) for e in entries]

    def evict(self, keep: Iterable[str] = ()) -> list[str]:
        """Drop least recently used series until the cache fits its limit; returns their UIDs."""
        protected = set(keep)
        usage = []
        for uid in self.series():
            manifest = self._manifest(uid) or {}
            usage.append((float(str(manifest.get("last_used", 0))), uid, int(str(manifest.get("bytes", 0)))))
        total = sum(size for _, _, size in usage)
        dropped = []
        for _, uid, size in sorted(usage):
            if total <= self.limit_bytes:
                break
            if uid in protected:
                continue
            self.drop(uid)
            total -= size
            dropped.append(uid)
            log.info("image cache: evicted series %s (%d bytes)", uid, size)
        return dropped


def fetch_series(server: DicomServer | None, cache: ImageCache, study_uid: str, series_uid: str, *,
                 progress: Progress | None = None, keep: Iterable[str] = (),
                 retrieve: Callable[[], Iterable[bytes]] | None = None) -> FetchResult:
    """The series' files: from the cache when it holds an intact copy, else from the server
    (DICOMweb when configured, else C-GET). Offline with a cached copy works; offline
    without one is an :class:`ImagingError` that says so."""
    if cache.has(series_uid):
        try:
            files = cache.files(series_uid)
            return FetchResult(tuple(files), "cache", sum(f.stat().st_size for f in files))
        except CacheCorrupt:
            log.exception("image cache: dropping damaged series %s", series_uid)
            cache.drop(series_uid)
    if server is None and retrieve is None:
        raise ImagingError(f"series {series_uid} is not in this workstation's cache and no DICOM server is set")
    try:
        instances = list(retrieve() if retrieve is not None else _retrieve(server, study_uid, series_uid, progress))
    except ServerError as exc:
        raise ImagingError(f"series {series_uid} is not in this workstation's cache and cannot be fetched: "
                           f"{exc}") from exc
    files = cache.put(series_uid, instances, keep=keep)
    return FetchResult(tuple(files), "server", sum(len(i) for i in instances))


def _retrieve(server: DicomServer | None, study_uid: str, series_uid: str,
              progress: Progress | None) -> list[bytes]:
    assert server is not None
    if server.dicomweb_url:
        with DicomWebClient(server) as client:
            return list(client.retrieve_series(study_uid, series_uid, progress))
    received: list[bytes] = []
    DimseClient(server).get(study_uid, series_uid, on_instance=received.append, progress=progress)
    return received
