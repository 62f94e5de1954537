"""Debian tools the DICOM tests use, installed by the test set-up when missing (root + apt).

dcmtk (``dsrdump``, ``storescu``) and dicom3tools (``dciodvfy``, the IOD validator) check
myoscore's SRs independently of highdicom; Orthanc is the throwaway DICOM server.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

#: executable -> Debian package that provides it
PACKAGES = {"dsrdump": "dcmtk", "dciodvfy": "dicom3tools", "Orthanc": "orthanc"}
_updated = False


def require(*executables: str) -> dict[str, str]:
    """Paths of the executables, installing their Debian packages first when missing."""
    missing = [e for e in executables if _which(e) is None]
    if missing:
        packages = sorted({PACKAGES[e] for e in missing})
        if os.geteuid() != 0 or shutil.which("apt-get") is None:
            pytest.fail(f"{', '.join(missing)} missing and cannot be installed here: install Debian's "
                        f"{' '.join(packages)}")
        _apt_install(packages)
    found = {e: _which(e) for e in executables}
    absent = [e for e, path in found.items() if path is None]
    if absent:
        pytest.fail(f"{', '.join(absent)} still missing after installing {PACKAGES[absent[0]]}")
    return {e: str(path) for e, path in found.items()}


def _which(name: str) -> str | None:
    return shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin")


def _apt_install(packages: list[str]) -> None:
    global _updated
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    lock = ["-o", "DPkg::Lock::Timeout=600"]
    if not _updated:
        subprocess.run(["apt-get", *lock, "update", "-qq"], check=True, env=env, capture_output=True)
        _updated = True
    # The orthanc package would start a system service; the tests run their own server.
    subprocess.run(["apt-get", *lock, "install", "-y", "-qq", "--no-install-recommends", *packages],
                   check=True, env=env, capture_output=True)
    if "orthanc" in packages and shutil.which("systemctl"):
        subprocess.run(["systemctl", "disable", "--now", "orthanc"], check=False, capture_output=True)
