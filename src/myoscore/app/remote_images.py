"""Series from the study's DICOM server, for workstations that do not hold the files.

A series is identified by its DICOM UIDs; where its pixels are is a location: the folder
it was imported from (when this machine has it), or the study's server, fetched into this
workstation's bounded cache (docs/multisite.md). The settings come from the database, the
password from the environment variable they name, the cache folder and size from
``MYOSCORE_IMAGE_CACHE`` / ``MYOSCORE_IMAGE_CACHE_GB`` (default: the user cache folder, 20 GB).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from myoscore.app.label_map_seg import SentExams, exam_segmentations
from myoscore.app.sessions import CoordinatorSession, ReaderSession
from myoscore.domain import AccessDenied, ImageServerSettings, ImagingError, MyoscoreError, Series
from myoscore.imaging.dicom_references import pseudonymised
from myoscore.imaging.dicom_server import DicomServer, DicomWebClient, DimseClient
from myoscore.imaging.image_cache import FetchResult, ImageCache, fetch_series
from myoscore.store.image_servers import image_server, set_image_server

log = logging.getLogger(__name__)

__all__ = ["RemoteImages", "SentExams", "configure_image_server", "default_cache_dir", "remote_images", "send_exams",
           "server_text", "store_files", "study_image_server", "workstation_cache", "workstation_remote_images"]


def default_cache_dir() -> Path:
    from platformdirs import user_cache_dir

    return Path(os.environ.get("MYOSCORE_IMAGE_CACHE") or Path(user_cache_dir("myoscore")) / "images")


def workstation_cache() -> ImageCache:
    try:
        gigabytes = float(os.environ.get("MYOSCORE_IMAGE_CACHE_GB", "20"))
    except ValueError as exc:
        raise MyoscoreError(f"MYOSCORE_IMAGE_CACHE_GB must be a number of gigabytes, not "
                            f"{os.environ['MYOSCORE_IMAGE_CACHE_GB']!r}") from exc
    return ImageCache(default_cache_dir(), int(gigabytes * 1024**3))


def _server(settings: ImageServerSettings, calling_ae: str = "MYOSCORE") -> DicomServer:
    password = os.environ.get(settings.password_env, "") if settings.password_env else ""
    return DicomServer(settings.name, settings.dicomweb_url, settings.host, settings.port, settings.ae_title,
                       calling_ae, settings.username, password)


@dataclass
class RemoteImages:
    """Where a workstation gets series it does not hold: the server, through its cache."""

    server: DicomServer | None
    cache: ImageCache

    def files(self, series: Series, progress: Callable[[int, int], None] | None = None) -> FetchResult:
        """The series' files in the cache (fetched first when missing or damaged)."""
        uid = series.dicom_uid
        if not uid or uid.startswith(("nifti:", "/")):
            raise ImagingError(f"series {series.id} ({series.kind}) has no DICOM UID a server could look up")
        return fetch_series(self.server, self.cache, "", uid, progress=progress)


def remote_images(session: ReaderSession | CoordinatorSession, *, cache: ImageCache | None = None,
                  calling_ae: str = "MYOSCORE") -> RemoteImages | None:
    """The study's server as configured in the database, with this workstation's cache;
    ``None`` when the study has no server (folders only)."""
    if not isinstance(session, ReaderSession | CoordinatorSession):
        raise MyoscoreError("sign in to reach the study's image server")
    settings = image_server(session.database)
    if settings is None:
        return None
    return RemoteImages(_server(settings, calling_ae), cache or workstation_cache())


def study_image_server(coordinator: CoordinatorSession) -> ImageServerSettings | None:
    """The study's image-server settings (no secret in them); ``None``: folders only."""
    if not isinstance(coordinator, CoordinatorSession):
        raise AccessDenied("only the research coordinator sees the study's image-server settings")
    return image_server(coordinator.database)


def server_text(settings: ImageServerSettings) -> str:
    """One line naming the server: ``https://…/dicom-web`` or ``ORTHANC@host:4242``."""
    return settings.dicomweb_url or f"{settings.ae_title}@{settings.host}:{settings.port}"


def configure_image_server(coordinator: CoordinatorSession, settings: ImageServerSettings) -> ImageServerSettings:
    if not (settings.dicomweb_url or (settings.host and settings.port)):
        raise MyoscoreError("an image server needs a DICOMweb URL or a DIMSE host and port")
    if not isinstance(coordinator, CoordinatorSession):
        raise AccessDenied("only the research coordinator sets the study's image server")
    return set_image_server(coordinator.database, coordinator.actor, settings)


def send_exams(coordinator: CoordinatorSession, exam_ids: Sequence[int] | None = None, *,
               progress: Callable[[int, int], None] | None = None) -> SentExams:
    """Send the exams' DICOM series to the study's server, pseudonymised (subject code as
    patient, identifying fields emptied, UIDs kept), and their label maps as DICOM SEG
    drawn on those instances (``app.label_map_seg``); the files on disk are not touched.
    Says how many instances and label maps were sent, and which label maps were not, why."""
    remote = remote_images(coordinator)
    if remote is None or remote.server is None:
        raise MyoscoreError("the study has no image server: set one first (myoscore server set)")
    exams = {e.id: e for e in coordinator.exams()}
    wanted = list(exam_ids) if exam_ids is not None else list(exams)
    jobs: list[tuple[str, str]] = []
    for exam_id in wanted:
        for series in coordinator.series(exam_id):
            if series.files and not series.files[0].lower().endswith((".nii", ".nii.gz")):
                jobs += [(f, exams[exam_id].subject_code) for f in series.files]
    sent = 0
    for start in range(0, len(jobs), 32):
        batch = [pseudonymised(path, code) for path, code in jobs[start:start + 32]]
        _store(remote.server, batch)
        sent += len(batch)
        if progress:
            progress(sent, len(jobs))
    # Label maps after the images, so a label map that cannot be converted stops nothing.
    segmentations: list[bytes] = []
    problems: list[str] = []
    for exam_id in wanted:
        built, notes = exam_segmentations(coordinator.series(exam_id), exams[exam_id].subject_code)
        segmentations += built
        problems += notes
    for start in range(0, len(segmentations), 8):
        _store(remote.server, segmentations[start:start + 8])
    for note in problems:
        log.warning("%s", note)
    log.info("sent %d instances and %d label maps of %d exams to %s", sent, len(segmentations), len(wanted),
             remote.server.describe())
    return SentExams(sent, len(segmentations), tuple(problems))


def store_files(coordinator: CoordinatorSession, paths: Iterable[Path]) -> int:
    """Store files as they are (e.g. exported SRs, already pseudonymous) on the study's server."""
    remote = remote_images(coordinator)
    if remote is None or remote.server is None:
        raise MyoscoreError("the study has no image server: set one first (myoscore server set)")
    data = [Path(p).read_bytes() for p in paths]
    _store(remote.server, data)
    return len(data)


def _store(server: DicomServer, instances: list[bytes]) -> None:
    if server.dicomweb_url:
        with DicomWebClient(server) as client:
            client.store_bytes(instances)
    else:
        DimseClient(server).store_bytes(instances)


def workstation_remote_images(session: ReaderSession | CoordinatorSession) -> RemoteImages | None:
    """:func:`remote_images` for a window: a broken setting is logged and the workstation
    goes on with local folders only (the open exam then says which series is missing)."""
    try:
        return remote_images(session)
    except (MyoscoreError, OSError):
        log.exception("the study's image server could not be set up; using local folders only")
        return None
