"""One reader workstation as its own process: sign in to the study database, fetch the
first worklist exam's series by UID from the DICOM server into this workstation's cache,
load them, score every item and submit; print what happened as JSON.

``python workstation_worker.py DB_URL READER PASSWORD CACHE_DIR SERVER_JSON [--score]``
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from myoscore.app import ReaderSession, open_database, sign_in
from myoscore.imaging.dicom_server import DicomServer
from myoscore.imaging.dicom_volume import load_series
from myoscore.imaging.image_cache import ImageCache, fetch_series


def main(argv: list[str]) -> int:
    db_url, reader_name, password, cache_dir, server_json = argv[:5]
    score = "--score" in argv
    server = DicomServer(**json.loads(server_json)) if server_json != "-" else None
    db = open_database(db_url)
    reader = sign_in(db, reader_name, password)
    assert isinstance(reader, ReaderSession)
    read = reader.worklist()[0]
    cache = ImageCache(Path(cache_dir), limit_bytes=512 * 1024**2)
    report: dict[str, Any] = {"read": read.id, "series": []}
    started = time.perf_counter()
    if "--app" in argv:  # the workstation's own path: settings from the database, app.exam_images
        from myoscore.app.exam_images import load_exam_images
        from myoscore.app.remote_images import remote_images

        remote = remote_images(reader, cache=cache)
        messages: list[str] = []
        images = load_exam_images(reader.image_sources(read.id), messages.append, remote=remote)
        report["messages"] = messages
        report["stations"] = len(images.stations)
        report["problems"] = list(images.problems)
        report["loaded"] = sum(len(st.series) for st in images.stations)
        report["cached_series"] = len(cache.series())
    # The loader's side of the reader's series (UIDs included): what a reader's own views
    # do not carry under timepoint blinding (a UID can encode the acquisition time).
    records = [record for record, _view in reader.image_sources(read.id).for_loading()]
    for series in records if "--app" not in argv else ():
        progress: list[tuple[int, int]] = []

        def _progress(done: int, total: int, calls: list[tuple[int, int]] = progress) -> None:
            calls.append((done, total))

        assert server is not None
        result = fetch_series(server, cache, "", series.dicom_uid, progress=_progress)
        volume = load_series([str(f) for f in result.files])
        report["series"].append({"uid": series.dicom_uid, "source": result.source, "files": len(result.files),
                                 "shape": list(volume.voxels.shape), "progress_calls": len(progress)})
    report["open_seconds"] = time.perf_counter() - started
    if score:
        protocol = reader.protocol(read.id)
        for item in protocol.items:
            reader.rate(read.id, item.key, protocol.scales[item.scale].codes[0])
        reader.submit(read.id)
        report["submitted"] = True
    db.dispose()
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
