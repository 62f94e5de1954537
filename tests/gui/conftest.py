"""Fixtures for the workstation tests: a small phantom registered for the study's exams."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from myoscore.app import CoordinatorSession, Database, ReaderSession, sign_in
from myoscore.phantom import PhantomInfo, write_phantom
from tests.gui.gui_helpers import register_phantom

# Small enough for the whole GUI suite to stay well under a minute.
PHANTOM_SHAPE = (10, 96, 96)


@pytest.fixture(scope="session")
def phantom(tmp_path_factory: pytest.TempPathFactory) -> PhantomInfo:
    """The thigh + calf phantom, baseline only, STIR + T1 DICOM, label maps (written once)."""
    return write_phantom(tmp_path_factory.mktemp("phantom"), shape=PHANTOM_SHAPE, timepoints=("baseline",))


@pytest.fixture
def imaged_study(study: CoordinatorSession, phantom: PhantomInfo) -> CoordinatorSession:
    """The conftest ``study`` (readers A and B, two exams) with phantom images on both exams."""
    for number, exam in enumerate(study.exams()):
        register_phantom(study, exam.id, phantom, suffix=f".{number}")
    return study


@pytest.fixture(autouse=True)
def _private_config_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Windows built without a settings file (the coordinator's desk) use the default one:
    in tests a fresh folder, never the user's own config directory."""
    monkeypatch.setenv("MYOSCORE_CONFIG_DIR", str(tmp_path_factory.mktemp("config")))


@pytest.fixture
def settings_path(tmp_path: Path) -> Path:
    return tmp_path / "viewer.ini"


@pytest.fixture
def open_window(qtbot, db: Database, settings_path: Path) -> Iterator[Callable[..., object]]:
    """Sign a reader in and show their workstation window; closed at teardown."""
    from myoscore.gui.main_window import MainWindow
    from myoscore.gui.settings import ViewSettings

    windows: list[MainWindow] = []

    def make(name: str = "B", password: str | None = None) -> MainWindow:
        session = sign_in(db, name, password or f"pass-phrase-{name}")
        assert isinstance(session, ReaderSession)
        window = MainWindow(session, ViewSettings(settings_path))
        qtbot.addWidget(window)
        window.resize(1400, 850)
        window.show()
        qtbot.waitExposed(window)
        windows.append(window)
        return window

    yield make
    for window in windows:
        window.wait_for_images()

