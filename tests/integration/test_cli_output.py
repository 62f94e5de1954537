"""The CLI's own output: help text and a reader that closes the pipe early (issue 10)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from myoscore.cli.main import build_parser, main


def _subcommand_parsers() -> list[tuple[str, object]]:
    import argparse

    found: list[tuple[str, object]] = []

    def walk(prefix: str, parser: argparse.ArgumentParser) -> None:
        found.append((prefix, parser))
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    walk(f"{prefix} {name}".strip(), sub)

    walk("", build_parser())
    return found


def test_help_prints_the_agreement_line_not_a_raw_dict(capsys: pytest.CaptureFixture[str]) -> None:
    """`myoscore --help` shows "% agreement" (it printed argparse's dict through an unescaped %)."""
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    out = capsys.readouterr().out
    assert exit_info.value.code == 0
    assert "% agreement per" in " ".join(out.split())
    assert "'prog'" not in out
    assert "{'" not in out


def test_every_subcommand_help_formats() -> None:
    """Every command's --help formats without a stray % conversion."""
    for name, parser in _subcommand_parsers():
        text = parser.format_help()  # type: ignore[attr-defined]
        assert "'prog'" not in text, name


def _closed_pipe(*argv: str, tmp_path: Path) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "MYOSCORE_DB": str(tmp_path / "pipe.sqlite"), "MYOSCORE_USER": "boss",
           "MYOSCORE_PASSWORD": "cli-pass-phrase", "MYOSCORE_NEW_PASSWORD": "cli-pass-phrase"}
    process = subprocess.Popen([sys.executable, "-m", "myoscore", *argv], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, env=env)
    assert process.stdout is not None
    assert process.stderr is not None
    process.stdout.close()  # the reader went away before the first line, like `| head -0`
    with process.stderr:
        err = process.stderr.read()
    process.wait(timeout=120)
    return subprocess.CompletedProcess(process.args, process.returncode, b"", err)


@pytest.mark.parametrize("argv", [("--help",), ("schemes", "show", "imnm_whole_body"),
                                  ("schemes", "show", "imnm_whole_body", "--json")])
def test_closed_pipe_ends_quietly(argv: tuple[str, ...], tmp_path: Path) -> None:
    """Output into a closed pipe ends without a BrokenPipe traceback."""
    result = _closed_pipe(*argv, tmp_path=tmp_path)
    assert b"Traceback" not in result.stderr, result.stderr.decode()
    assert b"BrokenPipe" not in result.stderr
    assert result.returncode in (0, 141)


def test_every_command_survives_a_closed_pipe(tmp_path: Path) -> None:
    """A study's analysis commands, output closed: no traceback from any of them."""
    env = {**os.environ, "MYOSCORE_DB": str(tmp_path / "pipe.sqlite"), "MYOSCORE_USER": "boss",
           "MYOSCORE_PASSWORD": "cli-pass-phrase", "MYOSCORE_NEW_PASSWORD": "cli-pass-phrase"}
    setup = [("init", "--coordinator", "boss"), ("readers", "add", "rad"), ("readers", "add", "neuro"),
             ("exams", "add", "P01"),
             ("assign", "--protocol", "imnm_whole_body", "--readers", "rad,neuro", "--seed", "1")]
    for argv in setup:
        subprocess.run([sys.executable, "-m", "myoscore", *argv], env=env, check=True, capture_output=True)
    for argv in [("status",), ("audit",), ("exams", "list"), ("readers", "list"), ("schemes", "list"),
                 ("worklist", "--as", "rad")]:
        result = _closed_pipe(*argv, tmp_path=tmp_path)
        assert b"Traceback" not in result.stderr, (argv, result.stderr.decode())
