"""Helpers the writers share: where files go, how numbers are written, variable names."""

from __future__ import annotations

import csv
import hashlib
import math
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from myoscore.export.dataset import ExamInfo, ExportDataset


def target_file(path: str | Path, default_name: str) -> Path:
    """``path`` itself when it names a file with ``default_name``'s suffix, else
    ``path / default_name`` (the folder is created)."""
    path = Path(path)
    suffix = Path(default_name).suffix.lower()
    if path.suffix.lower() == suffix:
        path.parent.mkdir(parents=True, exist_ok=True)
        return path
    path.mkdir(parents=True, exist_ok=True)
    return path / default_name


def target_dir(path: str | Path) -> Path:
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    return path


def number_text(value: float | None) -> str:
    """A number as text with a ``.`` decimal point: ``2``, ``2.5``, ``33.333333333333336``;
    ``None`` and NaN as the empty string. Integral values are written without ``.0``."""
    if value is None:
        return ""
    number = float(value)
    if math.isnan(number):
        return ""
    if number.is_integer():
        return str(int(number))
    return repr(number)  # the shortest text that reads back to the same float


def flag_text(flag: bool | None) -> str:
    return "" if flag is None else ("1" if flag else "0")


def cell_number(value: float | None) -> float | int | None:
    """A number for a spreadsheet cell: NaN becomes an empty cell, integral values ints."""
    if value is None:
        return None
    number = float(value)
    if math.isnan(number):
        return None
    return int(number) if number.is_integer() else number


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]]) -> Path:
    """UTF-8 without a byte-order mark, comma-separated, RFC 4180 quoting and line ends."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def exam_columns(dataset: ExportDataset) -> list[str]:
    """The identifying-free columns that say which exam a row belongs to."""
    columns = ["subject"]
    if dataset.groups is not None:
        columns.append("group")
    columns += ["timepoint", "exam_order"]
    if any(exam.months_from_onset is not None for exam in dataset.exams):
        columns.append("months_from_onset")
    if any(exam.treated is not None for exam in dataset.exams):
        columns.append("treated")
    return columns


def exam_cells(dataset: ExportDataset, exam: ExamInfo, columns: Sequence[str]) -> list[object]:
    """The values of :func:`exam_columns` for one exam (numbers kept as numbers)."""
    cells: dict[str, object] = {
        "subject": exam.subject,
        "group": dataset.group_of(exam.subject) or "",
        "timepoint": exam.label,
        "exam_order": exam.order,
        "months_from_onset": cell_number(exam.months_from_onset),
        "treated": None if exam.treated is None else int(exam.treated),
    }
    return [cells[c] for c in columns]


def as_text(cells: Sequence[object]) -> list[str]:
    out = []
    for cell in cells:
        if cell is None:
            out.append("")
        elif isinstance(cell, bool):
            out.append(flag_text(cell))
        elif isinstance(cell, int | float):
            out.append(number_text(cell))
        else:
            out.append(str(cell))
    return out


def short_hash(text: str, length: int = 4) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:length]


# -- variable names ------------------------------------------------------------------------
#: Words SPSS reserves; none may be a variable name.
SPSS_RESERVED = frozenset({"ALL", "AND", "BY", "EQ", "GE", "GT", "LE", "LT", "NE", "NOT", "OR", "TO", "WITH"})
SPSS_MAX = 64


def spss_name(key: str, taken: set[str]) -> str:
    """A legal SPSS variable name for ``key``, unique (ignoring case) among ``taken``.

    Every character other than a letter, digit or underscore becomes ``_``
    (``edema.thigh.anterior.R`` → ``edema_thigh_anterior_R``); a name not starting with a
    letter gets a ``v_`` prefix, a reserved word a ``_v`` suffix; names over 64 characters
    and clashes keep their first characters and end in ``_`` + 4 hex digits of the key's
    SHA-1, so the mapping depends only on the key and the names before it. ``taken``
    (upper-cased names) is updated.
    """
    name = re.sub(r"_+", "_", re.sub(r"[^A-Za-z0-9_]", "_", key)).strip("_") or "v"
    if not name[0].isascii() or not name[0].isalpha():
        name = f"v_{name}"
    if name.upper() in SPSS_RESERVED:
        name = f"{name}_v"
    if len(name) > SPSS_MAX or name.upper() in taken:
        stem = name[: SPSS_MAX - 5].rstrip("_")
        name = f"{stem}_{short_hash(key)}"
        salt = 0
        while name.upper() in taken:  # a hash clash: practically never, but stay unique
            salt += 1
            name = f"{stem}_{short_hash(f'{key}#{salt}')}"
    taken.add(name.upper())
    return name


def spss_names(keys: Iterable[str], taken: Iterable[str] = ()) -> dict[str, str]:
    """:func:`spss_name` for each key in order; ``taken`` are names already in use."""
    used = {t.upper() for t in taken}
    return {key: spss_name(key, used) for key in keys}
