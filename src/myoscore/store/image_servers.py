"""The study's DICOM server settings: set by the coordinator (audited), read by everyone
signed in, since every workstation fetches its series from there. No credentials."""

from __future__ import annotations

from sqlalchemy import select

from myoscore.domain import AccessDenied, ImageServerSettings
from myoscore.store._rows import audit
from myoscore.store.coordinator_session import CoordinatorSession
from myoscore.store.database import Database, utcnow
from myoscore.store.reader_session import ReaderSession
from myoscore.store.tables import ImageServerRow

__all__ = ["image_server", "set_image_server"]


def _database(session: ReaderSession | CoordinatorSession) -> Database:
    if isinstance(session, CoordinatorSession):
        return session.database
    if isinstance(session, ReaderSession):
        return session._db
    raise AccessDenied("sign in to see the study's image server")


def set_image_server(coordinator: CoordinatorSession, settings: ImageServerSettings) -> ImageServerSettings:
    """Create or replace the named server's settings."""
    if not isinstance(coordinator, CoordinatorSession):
        raise AccessDenied("only the research coordinator sets the study's image server")
    with coordinator.database.transaction() as session:
        row = session.get(ImageServerRow, settings.name)
        old = None if row is None else f"{row.dicomweb_url} {row.host}:{row.port}"
        if row is None:
            row = ImageServerRow(name=settings.name)
            session.add(row)
        row.dicomweb_url, row.host, row.port = settings.dicomweb_url, settings.host, settings.port
        row.ae_title, row.username, row.password_env = settings.ae_title, settings.username, settings.password_env
        row.updated_at = utcnow()
        audit(session, coordinator.actor, "set_image_server", settings.name, old,
              f"{settings.dicomweb_url} {settings.host}:{settings.port}")
    return settings


def image_server(session: ReaderSession | CoordinatorSession, name: str = "study") -> ImageServerSettings | None:
    with _database(session).transaction() as db:
        row = db.execute(select(ImageServerRow).where(ImageServerRow.name == name)).scalar_one_or_none()
        if row is None:
            return None
        return ImageServerSettings(row.name, row.dicomweb_url, row.host, row.port, row.ae_title, row.username,
                                   row.password_env)
