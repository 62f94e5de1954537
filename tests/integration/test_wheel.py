"""A non-editable wheel carries scoring_schemes/ and resources/ and works on its own."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_wheel_carries_schemes_and_lists_them(tmp_path: Path) -> None:
    """Build the wheel, install it into a clean target, list the schemes from there."""
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path),
         str(ROOT)],
        check=True, capture_output=True,
    )
    wheel = next(tmp_path.glob("myoscore-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "myoscore/scoring_schemes/protocols/nxp2_lower_limb.toml" in names
    assert "myoscore/resources/demo/demo_study.toml" in names
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
                   check=True, capture_output=True)
    env = {**os.environ, "PYTHONPATH": str(target)}
    probe = "import myoscore.resources as r, myoscore; print(myoscore.__file__); print(r.schemes_dir())"
    out = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, env=env, capture_output=True, text=True,
                         check=True).stdout.splitlines()
    assert all(line.startswith(str(target)) for line in out), out
    listing = subprocess.run([sys.executable, "-m", "myoscore", "schemes", "list"], cwd=tmp_path, env=env,
                             capture_output=True, text=True, check=True).stdout
    assert "imnm_whole_body" in listing
    assert "mercuri_modified" in listing
