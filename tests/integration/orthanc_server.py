"""A throwaway Orthanc for the tests: Debian's ``orthanc`` (+ DICOMweb plugin) run directly
with its own config file, storage in a temp folder, HTTP for localhost only, DICOM peers
restricted to this workstation's registered AE titles on 127.0.0.1."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.integration.dicom_tools import require

PLUGIN = Path("/usr/share/orthanc/plugins/libOrthancDicomWeb.so")
USER, PASSWORD = "myoscore", "test-only-secret"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class Orthanc:
    http_port: int
    dicom_port: int
    scp_port: int  # where C-MOVE sends to (the coordinator's Storage SCP, AE MYOSCORE_SCP)
    folder: Path

    @property
    def rest(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def dicomweb(self) -> str:
        return f"{self.rest}/dicom-web"


@contextmanager
def running_orthanc() -> Iterator[Orthanc]:
    binary = require("Orthanc")["Orthanc"]
    if not PLUGIN.exists():
        from tests.integration.dicom_tools import _apt_install

        _apt_install(["orthanc-dicomweb"])
    folder = Path(tempfile.mkdtemp(prefix="myoscore-orthanc-"))
    server = Orthanc(free_port(), free_port(), free_port(), folder)
    config = {
        "Name": "myoscore-test",
        "StorageDirectory": str(folder / "storage"),
        "IndexDirectory": str(folder / "storage"),
        "HttpPort": server.http_port,
        "DicomPort": server.dicom_port,
        "DicomAet": "ORTHANC",
        "RemoteAccessAllowed": False,  # HTTP from localhost only
        "AuthenticationEnabled": True,
        "RegisteredUsers": {USER: PASSWORD},
        "DicomCheckModalityHost": True,
        "DicomAlwaysAllowEcho": False,
        "DicomAlwaysAllowStore": False,
        "DicomModalities": {
            "myoscore": ["MYOSCORE", "127.0.0.1", server.scp_port],
            "myoscore2": ["MYOSCORE2", "127.0.0.1", server.scp_port],
            "myoscore-scp": ["MYOSCORE_SCP", "127.0.0.1", server.scp_port],
        },
        "Plugins": [str(PLUGIN)],
        "DicomWeb": {"Enable": True, "Root": "/dicom-web/"},
        "StableAge": 1,
        "HttpTimeout": 30,
    }
    (folder / "orthanc.json").write_text(json.dumps(config), encoding="utf-8")
    log = (folder / "orthanc.log").open("wb")
    process = subprocess.Popen([binary, str(folder / "orthanc.json")], stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{server.rest}/system", auth=(USER, PASSWORD), timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"Orthanc did not start: {(folder / 'orthanc.log').read_text()[-2000:]}")
            time.sleep(0.1)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=3)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        log.close()
        shutil.rmtree(folder, ignore_errors=True)
