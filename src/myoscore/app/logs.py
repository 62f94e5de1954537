"""Logging: one rotating log file per user, plus stderr for the command line.

Every module logs to ``logging.getLogger(__name__)`` (so each package has its logger under
``myoscore``). :func:`setup_logging` sends them to ``myoscore.log`` in the per-user log
directory (platformdirs ``user_log_dir``; ``$MYOSCORE_LOG_DIR`` overrides it), created
owner-only (folder 0700, files 0600: a log can name a study's files), rotated at 2 MB with
five old files kept. Caught exceptions are logged with their traceback; the person at the
keyboard gets one sentence and where the log is (:func:`unexpected`).
"""

from __future__ import annotations

import logging
import logging.handlers
import os
from pathlib import Path

__all__ = ["LEVELS", "log_dir", "log_file", "setup_logging", "stop_logging", "unexpected"]

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(threadName)s] %(message)s"
_TAG = "_myoscore_handler"

log = logging.getLogger(__name__)


def log_dir() -> Path:
    override = os.environ.get("MYOSCORE_LOG_DIR")
    if override:
        return Path(override)
    from platformdirs import user_log_path

    return user_log_path("myoscore", appauthor=False)


def log_file() -> Path:
    """Where the log is written (whether or not logging is set up yet)."""
    return log_dir() / "myoscore.log"


class _OwnerOnlyFileHandler(logging.handlers.RotatingFileHandler):
    """A rotating file handler whose files are created readable by their owner only."""

    def _open(self):  # type: ignore[no-untyped-def]  # the stdlib's signature is untyped
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        os.chmod(self.baseFilename, 0o600)
        return open(fd, "a", encoding=self.encoding, errors=self.errors)


class _NoTracebacks(logging.Filter):
    """On stderr a failure is one sentence; its traceback goes to the file only."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.exc_info is None


def setup_logging(level: str = "INFO", *, stderr: bool = False) -> Path | None:
    """Log ``myoscore.*`` at ``level`` and above to the per-user file (and to stderr when
    asked: the CLI). Idempotent: calling it again replaces the handlers it added. Returns
    the log file, or ``None`` when it cannot be written (logging then goes to stderr only)."""
    stop_logging()
    root = logging.getLogger("myoscore")
    root.setLevel(level.upper())
    path: Path | None = log_file()
    assert path is not None
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(path.parent, 0o700)
        file_handler: logging.Handler = _OwnerOnlyFileHandler(path, maxBytes=2_000_000, backupCount=5,
                                                              encoding="utf-8")
    except OSError:
        path, file_handler = None, logging.NullHandler()
    file_handler.setFormatter(logging.Formatter(_FORMAT))
    handlers = [file_handler]
    if stderr:
        console = logging.StreamHandler()
        console.setFormatter(logging.Formatter("myoscore: %(levelname)s %(name)s: %(message)s"))
        console.addFilter(_NoTracebacks())
        console.setLevel(max(logging.WARNING, logging.getLevelName(level.upper())))
        handlers.append(console)
    for handler in handlers:
        setattr(handler, _TAG, True)
        root.addHandler(handler)
    root.propagate = False
    return path


def stop_logging() -> None:
    """Remove (and close) the handlers :func:`setup_logging` added."""
    root = logging.getLogger("myoscore")
    for handler in [h for h in root.handlers if getattr(h, _TAG, False)]:
        root.removeHandler(handler)
        handler.close()


def unexpected(what: str, logger: logging.Logger | None = None) -> str:
    """Log the exception being handled (with its traceback) and return the one sentence to
    show: what failed, and where the details are. Call it inside ``except``."""
    (logger or log).exception(what)
    return f"{what[:1].upper()}{what[1:]} failed unexpectedly; the details are in the log ({log_file()})."
