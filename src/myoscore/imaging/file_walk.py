"""Walking the folders given to an import: every regular file once, every problem named.

Symbolic links are followed, but not their loops; a folder or file reached twice (two
overlapping inputs, or a link to a folder already visited) is read once.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterable
from pathlib import Path

from myoscore.imaging.records import SkippedFile

__all__ = ["os_reason", "walk"]


def walk(paths: Iterable[str | os.PathLike[str]]) -> tuple[list[Path], list[SkippedFile]]:
    """Files under ``paths`` (recursively, following symlinks but not their loops)."""
    files: list[Path] = []
    skipped: list[SkippedFile] = []
    seen_files: set[tuple[int, int]] = set()
    visited: dict[tuple[int, int], Path] = {}

    def visit_dir(folder: Path) -> None:
        try:
            info = os.stat(folder)
        except OSError as exc:
            skipped.append(SkippedFile(folder, os_reason(exc, "folder")))
            return
        identity = (info.st_dev, info.st_ino)
        if identity in visited:
            first = visited[identity]
            if _is_inside(folder, first):
                reason = f"symbolic link loop: leads back to {first}; not followed"
            else:
                reason = f"same folder as {first}, already indexed; not followed"
            skipped.append(SkippedFile(folder, reason))
            return
        visited[identity] = folder
        try:
            # os.scandir is looked up at call time (tests simulate unreadable folders).
            with os.scandir(folder) as iterator:
                entries = sorted(iterator, key=lambda e: e.name)
        except OSError as exc:
            skipped.append(SkippedFile(folder, os_reason(exc, "folder")))
            return
        for entry in entries:
            visit(Path(entry.path))

    def visit(path: Path) -> None:
        try:
            info = os.stat(path)
        except OSError as exc:
            if os.path.islink(path):
                if exc.errno == errno.ELOOP:
                    reason = "symbolic link loop (the link points to itself); not followed"
                else:
                    reason = f"broken symbolic link (target {os.readlink(path)} does not exist)"
            else:
                reason = os_reason(exc, "file")
            skipped.append(SkippedFile(path, reason))
            return
        if stat.S_ISDIR(info.st_mode):
            visit_dir(path)
        elif stat.S_ISREG(info.st_mode):
            identity = (info.st_dev, info.st_ino)
            if identity in seen_files:
                return  # the same file reached twice (overlapping inputs or links)
            seen_files.add(identity)
            files.append(path)
        else:
            skipped.append(SkippedFile(path, "not a regular file (device, socket or pipe)"))

    for raw in paths:
        visit(Path(raw))
    return files, skipped


def _is_inside(path: Path, folder: Path) -> bool:
    try:
        path.relative_to(folder)
    except ValueError:
        return False
    return True


def os_reason(exc: OSError, what: str) -> str:
    if isinstance(exc, PermissionError):
        if what == "folder":
            return "folder cannot be read (permission denied); its files were not indexed"
        return "file cannot be read (permission denied)"
    if isinstance(exc, FileNotFoundError):
        return f"{what} does not exist"
    return f"{what} cannot be read: {exc.strerror or exc}"
