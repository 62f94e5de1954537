"""PACS query/retrieve for the coordinator: C-FIND studies, C-MOVE (or C-GET) them into a
folder, then the ordinary folder import, so the pseudonymisation is exactly the same."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from myoscore.app.imports import ImportSummary, import_paths
from myoscore.app.sessions import CoordinatorSession
from myoscore.domain import AccessDenied, ImageServerSettings
from myoscore.imaging.dicom_server import DicomServer, DimseClient, StudyMatch

log = logging.getLogger(__name__)

__all__ = ["StudyMatch", "find_studies", "retrieve_studies"]


def _client(pacs: ImageServerSettings, calling_ae: str) -> DimseClient:
    return DimseClient(DicomServer(pacs.name, "", pacs.host, pacs.port, pacs.ae_title, calling_ae))


def find_studies(coordinator: CoordinatorSession, pacs: ImageServerSettings, *, patient_id: str = "",
                 accession: str = "", study_date: str = "", calling_ae: str = "MYOSCORE") -> list[StudyMatch]:
    """C-FIND at study level (identifying answers: coordinator only)."""
    if not isinstance(coordinator, CoordinatorSession):
        raise AccessDenied("PACS queries are for the research coordinator only")
    return _client(pacs, calling_ae).find_studies(patient_id=patient_id, accession=accession, study_date=study_date)


def retrieve_studies(coordinator: CoordinatorSession, pacs: ImageServerSettings, study_uids: Sequence[str],
                     folder: Path, *, calling_ae: str = "MYOSCORE", move_ae: str = "", listen_port: int = 0,
                     ) -> ImportSummary:
    """Retrieve studies into ``folder`` (C-MOVE to ``move_ae`` listening on ``listen_port``
    when given, else C-GET) and import them as any folder is imported."""
    if not isinstance(coordinator, CoordinatorSession):
        raise AccessDenied("PACS retrieval is for the research coordinator only")
    folder.mkdir(parents=True, exist_ok=True)
    count = [len(list(folder.glob("*.dcm")))]

    def _save(data: bytes) -> None:
        count[0] += 1
        (folder / f"retrieved_{count[0]:06d}.dcm").write_bytes(data)

    client = _client(pacs, calling_ae)
    for uid in study_uids:
        if move_ae and listen_port:
            client.move(uid, destination_ae=move_ae, listen_port=listen_port, on_instance=_save)
        else:
            client.get(uid, on_instance=_save)
    log.info("retrieved %d instances of %d studies into %s", count[0], len(study_uids), folder)
    return import_paths(coordinator, [folder])
