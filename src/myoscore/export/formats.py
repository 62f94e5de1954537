"""Format names, as ``myoscore export --format NAME`` uses them, and one entry point."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from myoscore.domain.files import make_private, owner_only
from myoscore.export.dataset import ExportDataset
from myoscore.export.figures import write_figures
from myoscore.export.redcap import write_redcap
from myoscore.export.tidy import write_tidy_csv
from myoscore.export.wide import write_wide_csv
from myoscore.export.xlsx import write_xlsx

#: Format name → writer; each takes the dataset and a path and returns the files written.
WRITERS: dict[str, Callable[[ExportDataset, Path], list[Path]]] = {
    "csv": write_tidy_csv,
    "wide": write_wide_csv,
    "redcap": write_redcap,
    "xlsx": write_xlsx,
    "figures": write_figures,
}


def write(dataset: ExportDataset, fmt: str, path: str | Path) -> list[Path]:
    """Write ``dataset`` in format ``fmt`` (a key of :data:`WRITERS`) to ``path``; return the files.

    ``path`` is a folder (created if needed); ``csv``, ``wide`` and ``xlsx`` also accept a
    file name with their suffix.
    """
    writer = WRITERS.get(fmt)
    if writer is None:
        raise ValueError(f"unknown export format {fmt!r} (formats: {', '.join(WRITERS)})")
    with owner_only():  # exports hold study data: files 0600, folders 0700
        written = writer(dataset, Path(path))
    for file in written:
        make_private(file)
    return written
