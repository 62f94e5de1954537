"""Files myoscore writes hold pseudonymised study data: they are created owner-only.

The database, its WAL/SHM files, exports and logs get mode 0600 and the folders made
for them 0700, whatever the user's umask. :func:`owner_only` is the one switch the
writers use; :func:`readable_by_others` is what the warning on opening a database checks.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

PRIVATE_UMASK = 0o077


@contextmanager
def owner_only() -> Iterator[None]:
    """Create files 0600 and folders 0700 inside the block (the process umask, restored after)."""
    # The umask is the process's; nesting restores each level's own value.
    old = os.umask(PRIVATE_UMASK)
    try:
        yield
    finally:
        os.umask(old)


def make_private(path: Path) -> None:
    """Take group and other permissions off an existing file or folder (best effort on Windows)."""
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        path.chmod(mode & 0o700)


def create_private_file(path: Path) -> None:
    """Create an empty file 0600 (its folder 0700 if it has to be made); keep an existing one."""
    if not path.parent.exists():
        with owner_only():
            path.parent.mkdir(parents=True, exist_ok=True)
    with suppress(FileExistsError):
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))


def readable_by_others(path: Path) -> bool:
    """Whether a user other than the owner can read the file (group or other read bit)."""
    try:
        return bool(stat.S_IMODE(path.stat().st_mode) & (stat.S_IRGRP | stat.S_IROTH))
    except OSError:
        return False
