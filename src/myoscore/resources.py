"""Where the shipped data lives, in a wheel and in a source checkout.

In a wheel, ``scoring_schemes/`` and ``resources/`` are copied into the package
(``[tool.hatch.build.targets.wheel.force-include]``); in an editable install they stay
at the repository root, where studies and developers edit them.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _data_dir(name: str) -> Path:
    for candidate in (_PACKAGE / name, _PACKAGE.parents[1] / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"myoscore's {name}/ folder is missing from {_PACKAGE}; reinstall myoscore")


def schemes_dir() -> Path:
    return _data_dir("scoring_schemes")


def resources_dir() -> Path:
    return _data_dir("resources")
