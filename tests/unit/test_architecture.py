"""The core runs without Qt, and the public API of each layer is explicit."""

from __future__ import annotations

import subprocess
import sys

import pytest

CORE = ["myoscore.domain", "myoscore.schemes", "myoscore.agreement", "myoscore.scores", "myoscore.store",
        "myoscore.export",
        "myoscore.app.schemes", "myoscore.app.study", "myoscore.app.reading", "myoscore.app.analysis",
        "myoscore.app.reading_session", "myoscore.app.exam_images", "myoscore.app.keymap",
        "myoscore.cli.main", "myoscore.cli.analysis"]


def test_core_imports_no_qt() -> None:
    """Importing the core and the CLI loads neither PySide6 nor pyqtgraph (import-linter checks the source)."""
    probe = (
        "import sys\n"
        + "".join(f"import {name}\n" for name in CORE)
        + "print(sorted(m for m in sys.modules if m.split('.')[0] in {'PySide6', 'pyqtgraph'}))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


@pytest.mark.parametrize(
    "package", ["myoscore.domain", "myoscore.schemes", "myoscore.agreement", "myoscore.scores", "myoscore.store",
                "myoscore.export"]
)
def test_public_api_is_explicit(package: str) -> None:
    """Every name in ``__all__`` exists, and nothing public is left out of it."""
    module = __import__(package, fromlist=["__all__"])
    exported = set(module.__all__)
    assert all(hasattr(module, name) for name in exported)
    public = {name for name in vars(module) if not name.startswith("_") and not isinstance(getattr(module, name),
                                                                                            type(sys))}
    assert public <= exported | {"annotations"}


def test_workstation_start_up_leaves_heavy_libraries_unloaded() -> None:
    """The window's imports load no scipy.stats, matplotlib, openpyxl, SimpleITK, pydicom or
    Alembic commands: those load on use, and the window must show within 2 s (DESIGN.md)."""
    heavy = ["scipy.stats", "matplotlib", "openpyxl", "SimpleITK", "pydicom", "nibabel", "alembic.command"]
    probe = (
        "import os, sys\n"
        "os.environ['QT_QPA_PLATFORM'] = 'offscreen'\n"
        "import myoscore.gui, myoscore.cli.main\n"
        f"print(sorted(m for m in {heavy!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
