"""A study's DICOM server (Orthanc, or a hospital PACS): send, find and fetch by UID.

Two ways to talk to it, both standard:

- **DICOMweb** (httpx): STOW-RS to send, QIDO-RS to list, WADO-RS to fetch a series.
  Orthanc serves it with its DICOMweb plugin (Debian: ``orthanc-dicomweb``).
- **DIMSE** (pynetdicom): C-ECHO, C-STORE, C-FIND, C-GET, and C-MOVE to this
  workstation's own Storage SCP (the PACS must know its AE title, host and port).

Credentials come with the :class:`DicomServer` value at run time (from the environment or
a secrets file, see docs/multisite.md); they are never written to the study database.
Every network failure becomes a :class:`ServerError` that names the server and what was
asked, so a caller can fall back to the local cache.
"""

from __future__ import annotations

import io
import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from myoscore.domain import ImagingError

log = logging.getLogger(__name__)

__all__ = ["DicomServer", "DicomWebClient", "DimseClient", "ServerError", "StudyMatch", "split_multipart"]

Progress = Callable[[int, int], None]  # (done, total); total 0 when unknown


class ServerError(ImagingError):
    """The DICOM server could not be reached or refused what was asked."""


@dataclass(frozen=True)
class DicomServer:
    """How to reach one server. ``dicomweb_url`` is the DICOMweb root
    (``http://host:8042/dicom-web``); ``host``/``port``/``ae_title`` its DIMSE side."""

    name: str = "server"
    dicomweb_url: str = ""
    host: str = ""
    port: int = 0
    ae_title: str = "ORTHANC"
    calling_ae: str = "MYOSCORE"
    username: str = ""
    password: str = field(default="", repr=False)
    timeout: float = 30.0

    def describe(self) -> str:
        where = self.dicomweb_url or f"{self.ae_title}@{self.host}:{self.port}"
        return f"DICOM server {self.name} ({where})"


@dataclass(frozen=True)
class StudyMatch:
    """One C-FIND / QIDO-RS answer at study level (identifying fields: coordinator only)."""

    study_uid: str
    patient_id: str
    accession: str
    study_date: str
    description: str
    modalities: str = ""


# ---------------------------------------------------------------- DICOMweb


def split_multipart(body: bytes, content_type: str) -> list[bytes]:
    """The parts of a ``multipart/related`` body (RFC 2046), headers stripped."""
    boundary = ""
    for piece in content_type.split(";"):
        key, _, value = piece.strip().partition("=")
        if key.lower() == "boundary":
            boundary = value.strip('"')
    if not boundary:
        raise ServerError(f"multipart answer without a boundary (Content-Type: {content_type})")
    delimiter = b"--" + boundary.encode()
    parts = []
    for chunk in body.split(delimiter)[1:]:
        if chunk.startswith(b"--"):
            break
        _head, sep, payload = chunk.partition(b"\r\n\r\n")
        if not sep:
            continue
        parts.append(payload[:-2] if payload.endswith(b"\r\n") else payload)
    return parts


class DicomWebClient:
    """STOW-RS, QIDO-RS and WADO-RS against one server."""

    def __init__(self, server: DicomServer) -> None:
        import httpx

        if not server.dicomweb_url:
            raise ServerError(f"{server.describe()} has no DICOMweb address")
        self.server = server
        auth = (server.username, server.password) if server.username else None
        self._http = httpx.Client(base_url=server.dicomweb_url.rstrip("/"), auth=auth, timeout=server.timeout)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> DicomWebClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _request(self, method: str, url: str, what: str, **kwargs: Any) -> Any:
        import httpx

        try:
            response = self._http.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            raise ServerError(f"{self.server.describe()}: {what}: {exc.__class__.__name__}: {exc}") from exc
        if response.status_code >= 400:
            raise ServerError(f"{self.server.describe()}: {what}: HTTP {response.status_code} {response.text[:200]}")
        return response

    def store(self, files: Iterable[Path], *, batch: int = 64, progress: Progress | None = None) -> int:
        """Send DICOM files (STOW-RS, ``batch`` instances a request); returns how many were sent."""
        paths = list(files)
        sent = 0
        for start in range(0, len(paths), batch):
            self.store_bytes([p.read_bytes() for p in paths[start:start + batch]])
            sent += len(paths[start:start + batch])
            if progress:
                progress(sent, len(paths))
        return sent

    def store_bytes(self, instances: Sequence[bytes]) -> None:
        boundary = "myoscore-stow-boundary"
        body = io.BytesIO()
        for data in instances:
            body.write(f"--{boundary}\r\nContent-Type: application/dicom\r\n\r\n".encode())
            body.write(data)
            body.write(b"\r\n")
        body.write(f"--{boundary}--\r\n".encode())
        headers = {"Content-Type": f'multipart/related; type="application/dicom"; boundary={boundary}',
                   "Accept": "application/dicom+json"}
        self._request("POST", "/studies", f"STOW-RS of {len(instances)} instances", content=body.getvalue(),
                      headers=headers)

    def series_instances(self, study_uid: str, series_uid: str) -> list[str]:
        """SOP Instance UIDs of a series (QIDO-RS)."""
        response = self._request("GET", f"/studies/{study_uid}/series/{series_uid}/instances",
                                 f"QIDO-RS of series {series_uid}", headers={"Accept": "application/dicom+json"})
        if response.status_code == 204 or not response.content:
            return []
        return [str(item["00080018"]["Value"][0]) for item in response.json()]

    def study_of_series(self, series_uid: str) -> str:
        """The Study Instance UID of a series (QIDO-RS), for a WADO-RS address."""
        response = self._request("GET", "/series", f"QIDO-RS of series {series_uid}",
                                 params={"SeriesInstanceUID": series_uid}, headers={"Accept": "application/dicom+json"})
        found = response.json() if response.content else []
        if not found:
            raise ServerError(f"{self.server.describe()} has no series {series_uid}")
        return str(found[0]["0020000D"]["Value"][0])

    def find_studies(self, **query: str) -> list[StudyMatch]:
        """QIDO-RS study search, e.g. ``find_studies(PatientID="P1")``."""
        params = {**query, "includefield": "00081030,00080061"}
        response = self._request("GET", "/studies", "QIDO-RS study search", params=params,
                                 headers={"Accept": "application/dicom+json"})
        if response.status_code == 204 or not response.content:
            return []
        return [_match_from_json(item) for item in response.json()]

    def retrieve_series(self, study_uid: str, series_uid: str, progress: Progress | None = None) -> Iterator[bytes]:
        """The series' instances as DICOM bytes (WADO-RS, one request for the series)."""
        import httpx

        url = f"/studies/{study_uid or self.study_of_series(series_uid)}/series/{series_uid}"
        headers = {"Accept": 'multipart/related; type="application/dicom"; transfer-syntax=*'}
        total = 0
        try:
            with self._http.stream("GET", url, headers=headers) as response:
                if response.status_code >= 400:
                    raise ServerError(f"{self.server.describe()}: WADO-RS of series {series_uid}: "
                                      f"HTTP {response.status_code}")
                expected = int(response.headers.get("Content-Length") or 0)
                chunks, received = [], 0
                for chunk in response.iter_bytes():
                    chunks.append(chunk)
                    received += len(chunk)
                    if progress:
                        progress(received, expected or total)
                content_type = response.headers.get("Content-Type", "")
        except httpx.HTTPError as exc:
            raise ServerError(f"{self.server.describe()}: WADO-RS of series {series_uid}: {exc}") from exc
        yield from split_multipart(b"".join(chunks), content_type)


def _match_from_json(item: dict[str, Any]) -> StudyMatch:
    def text(tag: str) -> str:
        values = item.get(tag, {}).get("Value", [])
        if not values:
            return ""
        value = values[0]
        return str(value.get("Alphabetic", "")) if isinstance(value, dict) else str(value)

    return StudyMatch(text("0020000D"), text("00100020"), text("00080050"), text("00080020"), text("00081030"),
                      "\\".join(str(v) for v in item.get("00080061", {}).get("Value", [])))


# ---------------------------------------------------------------- DIMSE


class DimseClient:
    """C-ECHO, C-STORE, C-FIND, C-GET and C-MOVE with pynetdicom."""

    def __init__(self, server: DicomServer) -> None:
        if not server.host or not server.port:
            raise ServerError(f"{server.describe()} has no DIMSE host and port")
        self.server = server

    def _associate(self, ae: Any, contexts: Any = None, ext_neg: Any = None) -> Any:
        ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = self.server.timeout
        assoc = ae.associate(self.server.host, self.server.port, ae_title=self.server.ae_title,
                             ext_neg=ext_neg) if contexts is None else ae.associate(
            self.server.host, self.server.port, contexts=contexts, ae_title=self.server.ae_title, ext_neg=ext_neg)
        if not assoc.is_established:
            raise ServerError(f"{self.server.describe()}: association refused or server unreachable")
        return assoc

    def _ae(self) -> Any:
        from pynetdicom import AE

        return AE(ae_title=self.server.calling_ae)

    def echo(self) -> bool:
        from pynetdicom.sop_class import Verification  # type: ignore[attr-defined]

        ae = self._ae()
        ae.add_requested_context(Verification)
        assoc = self._associate(ae)
        try:
            status = assoc.send_c_echo()
            return bool(status and status.Status == 0)
        finally:
            assoc.release()

    def store(self, files: Iterable[Path], progress: Progress | None = None) -> int:
        """Send files with C-STORE (one association); returns how many were accepted."""
        return self.store_bytes([Path(p).read_bytes() for p in files], progress)

    def store_bytes(self, instances: Sequence[bytes], progress: Progress | None = None) -> int:
        """Send DICOM files given as bytes with C-STORE (one association)."""
        import pydicom
        from pynetdicom import StoragePresentationContexts

        paths = list(instances)
        ae = self._ae()
        ae.requested_contexts = StoragePresentationContexts[:127]
        assoc = self._associate(ae)
        accepted = 0
        try:
            for number, path in enumerate(paths, start=1):
                status = assoc.send_c_store(pydicom.dcmread(io.BytesIO(path)))
                if status and status.Status == 0:
                    accepted += 1
                else:
                    log.warning("C-STORE of instance %d: status %s", number, getattr(status, "Status", None))
                if progress:
                    progress(number, len(paths))
        finally:
            assoc.release()
        return accepted

    def find_studies(self, *, patient_id: str = "", accession: str = "", study_date: str = "") -> list[StudyMatch]:
        """C-FIND at study level (Study Root); empty criteria match everything."""
        from pydicom.dataset import Dataset
        from pynetdicom.sop_class import StudyRootQueryRetrieveInformationModelFind  # type: ignore[attr-defined]

        query = Dataset()
        query.QueryRetrieveLevel = "STUDY"
        query.StudyInstanceUID = ""
        query.PatientID = patient_id
        query.AccessionNumber = accession
        query.StudyDate = study_date
        query.StudyDescription = ""
        query.ModalitiesInStudy = ""
        ae = self._ae()
        ae.add_requested_context(StudyRootQueryRetrieveInformationModelFind)
        assoc = self._associate(ae)
        matches = []
        try:
            for status, identifier in assoc.send_c_find(query, StudyRootQueryRetrieveInformationModelFind):
                if status and status.Status in (0xFF00, 0xFF01) and identifier is not None:
                    matches.append(StudyMatch(
                        str(identifier.get("StudyInstanceUID", "")), str(identifier.get("PatientID", "")),
                        str(identifier.get("AccessionNumber", "")), str(identifier.get("StudyDate", "")),
                        str(identifier.get("StudyDescription", "")), str(identifier.get("ModalitiesInStudy", ""))))
                elif status is None or not status:
                    raise ServerError(f"{self.server.describe()}: C-FIND got no answer")
        finally:
            assoc.release()
        return matches

    def get(self, study_uid: str, series_uid: str = "", *, on_instance: Callable[[bytes], None],
            progress: Progress | None = None) -> int:
        """C-GET a study or one series; each instance arrives as DICOM bytes to ``on_instance``;
        ``progress(bytes received, 0)`` after each."""
        from pynetdicom import StoragePresentationContexts, build_role, evt
        from pynetdicom.sop_class import StudyRootQueryRetrieveInformationModelGet  # type: ignore[attr-defined]

        ae = self._ae()
        ae.add_requested_context(StudyRootQueryRetrieveInformationModelGet)
        storage = [str(c.abstract_syntax) for c in StoragePresentationContexts[:120]]
        for uid in storage:
            ae.add_requested_context(uid)
        roles = [build_role(uid, scp_role=True) for uid in storage]
        received, received_bytes = [0], [0]

        def _on_store(event: Any) -> int:
            data = _encoded(event)
            on_instance(data)
            received[0] += 1
            received_bytes[0] += len(data)
            if progress:  # bytes, as WADO-RS reports; C-GET does not say the total size
                progress(received_bytes[0], 0)
            return 0x0000

        assoc = ae.associate(self.server.host, self.server.port, ae_title=self.server.ae_title, ext_neg=roles,
                             evt_handlers=[(evt.EVT_C_STORE, _on_store)])
        if not assoc.is_established:
            raise ServerError(f"{self.server.describe()}: association refused or server unreachable")
        try:
            for status, _identifier in assoc.send_c_get(_retrieve_query(study_uid, series_uid),
                                                        StudyRootQueryRetrieveInformationModelGet):
                if status is None or not status:
                    raise ServerError(f"{self.server.describe()}: C-GET of {series_uid or study_uid} got no answer")
        finally:
            assoc.release()
        return received[0]

    def move(self, study_uid: str, series_uid: str = "", *, destination_ae: str, listen_port: int,
             on_instance: Callable[[bytes], None]) -> int:
        """C-MOVE to this workstation: a Storage SCP listens on ``127.0.0.1:listen_port``
        as ``destination_ae`` (the server must know that AE) while the move runs."""
        from pynetdicom import AE, AllStoragePresentationContexts, evt
        from pynetdicom.sop_class import StudyRootQueryRetrieveInformationModelMove  # type: ignore[attr-defined]

        received = [0]
        lock = threading.Lock()

        def _on_store(event: Any) -> int:
            data = _encoded(event)
            with lock:
                on_instance(data)
                received[0] += 1
            return 0x0000

        scp = AE(ae_title=destination_ae)
        scp.supported_contexts = AllStoragePresentationContexts
        server = scp.start_server(("127.0.0.1", listen_port), block=False,
                                  evt_handlers=[(evt.EVT_C_STORE, _on_store)])
        try:
            ae = self._ae()
            ae.add_requested_context(StudyRootQueryRetrieveInformationModelMove)
            assoc = self._associate(ae)
            try:
                for status, _identifier in assoc.send_c_move(_retrieve_query(study_uid, series_uid), destination_ae,
                                                             StudyRootQueryRetrieveInformationModelMove):
                    if status is None or not status:
                        raise ServerError(f"{self.server.describe()}: C-MOVE of {series_uid or study_uid} "
                                          "got no answer")
                    if status.Status not in (0x0000, 0xFF00):
                        raise ServerError(f"{self.server.describe()}: C-MOVE to {destination_ae} failed "
                                          f"(status 0x{status.Status:04X}); does the server know that AE?")
            finally:
                assoc.release()
        finally:
            if server is not None:
                server.shutdown()
        return received[0]


def _retrieve_query(study_uid: str, series_uid: str) -> Any:
    from pydicom.dataset import Dataset

    query = Dataset()
    query.QueryRetrieveLevel = "SERIES" if series_uid else "STUDY"
    if study_uid:
        query.StudyInstanceUID = study_uid
    if series_uid:
        query.SeriesInstanceUID = series_uid
    return query


def _encoded(event: Any) -> bytes:
    """The received instance as a DICOM file (preamble, meta and data set as sent)."""
    from pydicom.filebase import DicomBytesIO
    from pydicom.filewriter import write_file_meta_info

    buffer = DicomBytesIO()
    buffer.write(b"\x00" * 128 + b"DICM")
    write_file_meta_info(buffer, event.file_meta, enforce_standard=True)
    buffer.write(event.request.DataSet.getvalue())
    return bytes(buffer.getvalue())
