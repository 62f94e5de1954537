"""From DICOM with known identifying headers to every export format: no identifying byte leaves."""

from __future__ import annotations

import csv
import zipfile
from pathlib import Path

import pytest

from myoscore.app import CoordinatorSession, ReaderSession, sign_in
from myoscore.app.consensus import reconcile_reads
from myoscore.app.imports import import_paths
from myoscore.cli.main import main
from myoscore.domain import NOT_EVALUABLE, ConsensusMethod, Role
from myoscore.phantom import PhantomInfo, write_phantom


@pytest.fixture(scope="module")
def phantom(tmp_path_factory: pytest.TempPathFactory) -> PhantomInfo:
    return write_phantom(tmp_path_factory.mktemp("phantom"), shape=(6, 64, 64), seed=5)


@pytest.fixture
def scored(db, coordinator: CoordinatorSession, nxp2, phantom: PhantomInfo) -> CoordinatorSession:
    """Two readers score both imported exams fully (differently), then the mean policy reconciles."""
    import_paths(coordinator, [phantom.out_dir / "dicom"])
    for name in ("A", "B"):
        coordinator.add_reader(name, Role.READER, f"pass-phrase-{name}")
    coordinator.assign(nxp2, ["A", "B"], seed=4)
    for offset, name in enumerate(("A", "B")):
        reader = sign_in(db, name, f"pass-phrase-{name}")
        assert isinstance(reader, ReaderSession)
        for read in reader.worklist():
            for i, item in enumerate(nxp2.items):
                codes = nxp2.scales[item.scale].codes
                code = NOT_EVALUABLE if i == 7 else codes[(i + offset * (i % 3 == 0)) % len(codes)]
                reader.rate(read.id, item.key, code)
            reader.submit(read.id)
    outcome = reconcile_reads(coordinator, "nxp2_lower_limb", ["A", "B"], ConsensusMethod.MEAN)
    assert outcome is not None
    return coordinator


def _all_bytes(folder: Path) -> list[tuple[Path, bytes]]:
    found = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        data = path.read_bytes()
        found.append((path, data))
        if path.suffix == ".xlsx":
            with zipfile.ZipFile(path) as workbook:
                found += [(path / name, workbook.read(name)) for name in workbook.namelist()]
    return found


def test_every_format_is_pseudonymous(scored, cli_coordinator, db_path: Path, phantom: PhantomInfo,
                                      tmp_path: Path) -> None:
    """Write every format via the CLI and grep every output byte for the phantom's identifying strings."""
    out = tmp_path / "export"
    assert main(["--db", str(db_path), "export", "--format", "all", "--out", str(out), "--readers", "A,B"]) == 0
    files = _all_bytes(out)
    assert {p.suffix for p, _ in files} >= {".csv", ".xlsx", ".png", ".svg", ".pdf"}
    forbidden = [v for v in phantom.identifying.values() if v and len(v) >= 4]
    forbidden += [str(phantom.out_dir), "2024-01-15", "20240115"]  # the folder and a study date
    assert forbidden
    for path, data in files:
        for value in forbidden:
            assert value.encode() not in data, f"{value!r} found in {path}"


def test_exported_values_match_the_database(scored, cli_coordinator, db_path: Path, tmp_path: Path, nxp2) -> None:
    """The tidy CSV holds both readers and the consensus; NE stays NE; the wide CSV has one row per exam × source."""
    out = tmp_path / "tidy.csv"
    assert main(["--db", str(db_path), "export", "--format", "csv", "--out", str(out)]) == 0
    with out.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    sources = {r["source"] for r in rows}
    assert sources == {"reader:A", "reader:B", "consensus"}
    eighth = [r for r in rows if r["item_key"] == nxp2.items[7].key and r["source"] != "consensus"]
    assert eighth
    assert {r["code"] for r in eighth} == {NOT_EVALUABLE}
    wide = tmp_path / "wide.csv"
    assert main(["--db", str(db_path), "export", "--format", "wide", "--out", str(wide)]) == 0
    with wide.open(newline="", encoding="utf-8") as handle:
        wide_rows = list(csv.DictReader(handle))
    assert len(wide_rows) == 2 * 3  # two exams × (A, B, consensus)
    assert "edema_total" in wide_rows[0]


def test_cli_wide_not_evaluable_option(scored, cli_coordinator, db_path: Path, tmp_path: Path, nxp2) -> None:
    """`export --format wide` writes NE for not evaluable by default (never the empty cell of
    an unscored item); `--not-evaluable -9` writes -9 (issue 10: the CLI had no such option)."""
    column = nxp2.items[7].key.replace(".", "_")  # every reader said NE for the eighth item
    cells = {}
    for option in ([], ["--not-evaluable", "-9"]):
        out = tmp_path / ("wide" + "".join(option))
        assert main(["--db", str(db_path), "export", "--format", "wide", "--out", str(out), *option]) == 0
        with (out / "nxp2_lower_limb_wide.csv").open(newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        cells[tuple(option)] = {r[column] for r in rows}
    assert cells[()] == {"NE"}
    assert cells[("--not-evaluable", "-9")] == {"-9"}
