"""The CLI, called as ``main(argv)``: the interface the acceptance checks use."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from myoscore.cli.main import main


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    monkeypatch.setenv("MYOSCORE_DB", str(tmp_path / "cli.sqlite"))
    monkeypatch.setenv("MYOSCORE_USER", "boss")  # coordinator commands sign in as boss
    monkeypatch.setenv("MYOSCORE_PASSWORD", "cli-pass-phrase")
    monkeypatch.setenv("MYOSCORE_NEW_PASSWORD", "cli-pass-phrase")  # `readers add` gives it to new users

    def run(*argv: str) -> tuple[int, str, str]:
        code = main(list(argv))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


@pytest.fixture
def assigned(cli):
    assert cli("init", "--coordinator", "boss")[0] == 0
    for name in ("rad", "neuro"):
        assert cli("readers", "add", name)[0] == 0
    for subject in ("P01", "P02", "P03"):
        assert cli("exams", "add", subject, "--label", "baseline")[0] == 0
    assert cli("assign", "--protocol", "nxp2_lower_limb", "--readers", "rad,neuro", "--seed", "42")[0] == 0
    return cli


def test_schemes_show_json_shape(cli) -> None:
    """`schemes show P --json` prints name, version, hash, scales with levels, items, derived."""
    code, out, _ = cli("schemes", "show", "imnm_whole_body", "--json")
    data = json.loads(out)
    assert code == 0
    assert {"name", "version", "hash", "scales", "items", "derived"} <= set(data)
    assert data["scales"]["stir_binary"]["kind"] == "binary"
    assert {"code", "label", "definition"} <= set(data["scales"]["fischer_0_4"]["levels"][0])
    item = data["items"][0]
    assert {"key", "scale", "sequence", "side"} <= set(item)
    assert len(data["items"]) == (38 + 18) * 2 * 2
    assert {d["name"] for d in data["derived"]} == {"stir_pct_lb", "stir_pct_ub", "t1_lb", "t1_lb_pct"}


def test_schemes_list_and_validate(cli, tmp_path: Path) -> None:
    """`schemes list` names both protocols; `validate` names the file and key of an error."""
    code, out, _ = cli("schemes", "list", "--json")
    assert code == 0
    assert {p["name"] for p in json.loads(out)["protocols"]} == {"nxp2_lower_limb", "imnm_whole_body"}
    bad = tmp_path / "protocols" / "broken.toml"
    bad.parent.mkdir()
    bad.write_text('[protocol]\nname = "x"\nversion = "1"\ntitle = "X"\natlas = "nope"\n', encoding="utf-8")
    code, _, err = cli("schemes", "validate", str(bad))
    assert code == 1
    assert err.count("\n") == 1
    assert str(bad) in err
    assert "protocol.atlas" in err
    assert "unknown atlas 'nope'" in err


def test_worklist_rate_submit_round_trip(assigned) -> None:
    """A reader's worklist JSON, a rating, NE, and a submitted read that refuses edits."""
    code, out, _ = assigned("worklist", "--as", "rad", "--json")
    rows = json.loads(out)
    assert code == 0
    assert len(rows) == 3
    # Timepoint blinding is on by default: each read by its code, no subject or timepoint.
    assert {"read", "code", "status", "done", "total"} <= set(rows[0])
    assert {"subject", "exam"}.isdisjoint(rows[0])
    read = rows[0]["read"]
    assert assigned("rate", str(read), "edema.thigh.anterior.R", "4", "--as", "rad")[0] == 0
    assert assigned("rate", str(read), "edema.thigh.anterior.L", "NE", "--as", "rad")[0] == 0
    rows = json.loads(assigned("worklist", "--as", "rad", "--json")[1])
    assert next(r for r in rows if r["read"] == read)["done"] == 2
    code, out, err = assigned("submit", str(read), "--as", "rad")
    assert code == 0
    assert "48 of 50 items unscored" in err
    code, _, err = assigned("rate", str(read), "edema.thigh.anterior.R", "2", "--as", "rad")
    assert code == 1
    assert "submitted and locked" in err
    assert err.count("\n") == 1


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("rate", "READ", "edema.thigh.anterior.R", "9", "--as", "rad"), "not a level of edema_0_5"),
        (("rate", "READ", "edema.knee.R", "1", "--as", "rad"), "no item 'edema.knee.R'"),
        (("worklist", "--as", "nobody"), "wrong name or password"),
        (("assign", "--protocol", "nope", "--readers", "rad"), "unknown protocol 'nope'"),
        (("readers", "add", "rad"), "already exists"),
        (("schemes", "show", "nothing"), "no protocol, scale or atlas named 'nothing'"),
    ],
)
def test_refused_operations_exit_nonzero_with_one_line(assigned, argv, message: str) -> None:
    """Each refusal exits 1 with a single line on stderr naming the problem."""
    read = json.loads(assigned("worklist", "--as", "rad", "--json")[1])[0]["read"]
    code, _, err = assigned(*[str(read) if a == "READ" else a for a in argv])
    assert code == 1
    assert message in err
    assert err.count("\n") == 1
    assert "Traceback" not in err


def test_reader_cannot_rate_another_readers_read(assigned) -> None:
    """Through the CLI too, another reader's read id is refused."""
    neuro_read = json.loads(assigned("worklist", "--as", "neuro", "--json")[1])[0]["read"]
    code, _, err = assigned("rate", str(neuro_read), "edema.thigh.anterior.R", "1", "--as", "rad")
    assert code == 1
    assert "not in rad's worklist" in err


def test_status_shows_progress_without_values(assigned) -> None:
    """`status --json` counts reads per reader and shows no rating values."""
    read = json.loads(assigned("worklist", "--as", "rad", "--json")[1])[0]["read"]
    assigned("rate", str(read), "fat.calf.lateral.R", "3", "--as", "rad")
    code, out, _ = assigned("status", "--json")
    status = json.loads(out)
    assert code == 0
    assert status["progress"] == {"neuro": {"assigned": 3}, "rad": {"assigned": 2, "in_progress": 1}}
    assert "fat.calf.lateral.R" not in out


def test_start_loads_demo_once(cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """`start` creates the database with the demo study, and does not duplicate it."""
    from myoscore.app.demo import DEMO_PASSWORD

    monkeypatch.setenv("MYOSCORE_USER", "coordinator")
    monkeypatch.setenv("MYOSCORE_PASSWORD", DEMO_PASSWORD)
    code, out, _ = cli("start", "--no-gui")
    assert code == 0
    assert "Loaded the demo study" in out
    code, out, _ = cli("start", "--no-gui")
    assert code == 0
    assert "Loaded the demo study" not in out
    assert "2 subjects, 4 exams" in out  # DEMO-001 thigh-and-calf, DEMO-002 whole body


def test_python_dash_m(tmp_path: Path) -> None:
    """`python -m myoscore` is the same command."""
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "myoscore", "schemes", "list"], capture_output=True, text=True,
                            check=False)
    assert result.returncode == 0
    assert "nxp2_lower_limb" in result.stdout


def test_validate_shipped_folder_and_files(cli) -> None:
    """Validating the shipped folder lists every scheme; a single scale file is recognised as a scale."""
    from myoscore.resources import schemes_dir

    code, out, _ = cli("schemes", "validate", str(schemes_dir()))
    assert code == 0
    assert out.count(": ok") == 6 + 2 + 2
    code, out, _ = cli("schemes", "validate", str(schemes_dir() / "scales" / "mercuri_modified.toml"))
    assert (code, out.strip()) == (0, "scale mercuri_modified: ok, 6 levels")
