"""The study's DICOM server settings (no credentials). Who may set them is the app's rule
(``app.remote_images``: the coordinator); every signed-in workstation reads them."""

from __future__ import annotations

from sqlalchemy import select

from myoscore.domain import ImageServerSettings
from myoscore.store._rows import audit
from myoscore.store.database import Database, utcnow
from myoscore.store.tables import ImageServerRow

__all__ = ["image_server", "set_image_server"]


def set_image_server(database: Database, actor: str, settings: ImageServerSettings) -> ImageServerSettings:
    """Create or replace the named server's settings (audited)."""
    with database.transaction() as session:
        row = session.get(ImageServerRow, settings.name)
        old = None if row is None else f"{row.dicomweb_url} {row.host}:{row.port}"
        if row is None:
            row = ImageServerRow(name=settings.name)
            session.add(row)
        row.dicomweb_url, row.host, row.port = settings.dicomweb_url, settings.host, settings.port
        row.ae_title, row.username, row.password_env = settings.ae_title, settings.username, settings.password_env
        row.updated_at = utcnow()
        audit(session, actor, "set_image_server", settings.name, old,
              f"{settings.dicomweb_url} {settings.host}:{settings.port}")
    return settings


def image_server(database: Database, name: str = "study") -> ImageServerSettings | None:
    with database.transaction() as session:
        row = session.execute(select(ImageServerRow).where(ImageServerRow.name == name)).scalar_one_or_none()
        if row is None:
            return None
        return ImageServerSettings(row.name, row.dicomweb_url, row.host, row.port, row.ae_title, row.username,
                                   row.password_env)
