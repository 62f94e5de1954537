"""Per-user settings: the last window/level of each reader per sequence kind, and the
export dialog's last folder and formats per study.

Kept in an INI file in the per-user config directory (``platformdirs``), never in the
study database: a display preference is not study data and must not be audited or
shared between readers. Nothing identifying is stored: a study is keyed by a hash of its
database location (a PostgreSQL URL may hold a password; the hash never does).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QSettings

__all__ = ["ViewSettings", "default_settings_path"]


def default_settings_path() -> Path:
    """``$MYOSCORE_CONFIG_DIR/viewer.ini``, else the platform's per-user config dir."""
    override = os.environ.get("MYOSCORE_CONFIG_DIR")
    if override:
        return Path(override) / "viewer.ini"
    from platformdirs import user_config_dir

    return Path(user_config_dir("myoscore", appauthor=False)) / "viewer.ini"


class ViewSettings:
    """Window/level memory, one value per reader and sequence kind."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path) if path is not None else default_settings_path()
        self._settings = QSettings(str(self.path), QSettings.Format.IniFormat)

    @staticmethod
    def _key(reader: str, kind: str) -> str:
        safe = "".join(ch if ch.isalnum() else "_" for ch in reader)
        return f"window_level/{safe}/{kind}"

    def window(self, reader: str, kind: str) -> tuple[float, float] | None:
        """The reader's last (low, high) for a sequence kind, or ``None``."""
        raw = self._settings.value(self._key(reader, kind))
        if raw is None:
            return None
        try:
            values = raw if isinstance(raw, list) else str(raw).split(",")
            low, high = (float(v) for v in values)
        except (TypeError, ValueError):
            return None
        return (low, high) if high > low else None

    def set_window(self, reader: str, kind: str, window: tuple[float, float]) -> None:
        self._settings.setValue(self._key(reader, kind), f"{window[0]:.6g},{window[1]:.6g}")
        self._settings.sync()

    def forget_window(self, reader: str, kind: str) -> None:
        self._settings.remove(self._key(reader, kind))
        self._settings.sync()

    # -- the export dialog, per study -----------------------------------------------------
    @staticmethod
    def _study_key(location: str) -> str:
        return "export/" + hashlib.sha256(location.encode("utf-8")).hexdigest()[:20]

    def export_choices(self, location: str) -> tuple[str | None, list[str] | None]:
        """The last export folder and formats used for the study at ``location`` (``None``
        where nothing was remembered)."""
        key = self._study_key(location)
        folder = self._settings.value(f"{key}/folder")
        formats = self._settings.value(f"{key}/formats")
        if isinstance(formats, str):
            formats = [f for f in formats.split(",") if f]
        return (str(folder) if folder else None,
                [str(f) for f in formats] if isinstance(formats, list) else None)

    def set_export_choices(self, location: str, folder: str, formats: Sequence[str]) -> None:
        key = self._study_key(location)
        self._settings.setValue(f"{key}/folder", folder)
        self._settings.setValue(f"{key}/formats", ",".join(formats))
        self._settings.sync()
