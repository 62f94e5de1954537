"""The PySide6 + pyqtgraph workstation: the only package that imports Qt.

PySide6 is imported before pyqtgraph so that pyqtgraph binds to it. Modules:

``app``
    :func:`run` (QApplication, sign-in, the window for the user's role).
``main_window``
    :class:`MainWindow`: worklist, linked views and scoring panel; the one place that
    runs actions (from :mod:`myoscore.app.keymap`) and broadcasts their ``Changes``.
``worklist``, ``scoring_panel``, ``slice_view``, ``help_overlay``
    The panels; each redraws only what a ``Changes`` names.
``linking``
    Patient-coordinate linking of views (numpy only).
``settings``
    Per-user window/level memory (not study data).
"""

import PySide6.QtCore  # noqa: F401 - first, so that pyqtgraph binds to PySide6

# isort: split
import pyqtgraph  # noqa: F401 - after PySide6 (above)

from myoscore.gui.app import run
from myoscore.gui.main_window import MainWindow

__all__ = ["MainWindow", "run"]
