"""The coordinator's desk: study set-up, progress, agreement, consensus review, scores, export.

A coordinator who signs in gets :class:`CoordinatorWindow`, one tab per task. Every
action is one ``app`` call (the CLI makes the same ones); nothing here decides anything.

``window``
    :class:`CoordinatorWindow`: the tabs, the export dialog, passing on what changed.
``setup_page``
    Import folders (worker thread, progress dialog, summary); exams; series and their
    classification.
``readers_page``
    Readers; assignment with a recorded seed; intra-reader repeat reads.
``progress_page``
    Every read with status and counts; reopen a submitted read.
``agreement_page``
    The agreement report: per-indicator table, confusion matrix, per-unit heatmap.
``consensus_page``
    Mean and adjudicator policies in one action; joint review of discordant items by
    keyboard with the images (the Qt-free :class:`~myoscore.app.review_session.ReviewSession`;
    its keys are rows of :data:`myoscore.app.keymap.REVIEW_KEYMAP`).
``scores_page``
    Derived scores per exam with their coverage (n evaluated / n items, incomplete
    flagged, not evaluable counted), from consensus or a reader; Δ first → last.
``export_dialog``
    Formats, folder, agreement readers, clinical fields; the files written.
``jobs``
    Import and export off the GUI thread, each on its own database connection.
``widgets``
    The page base class and small shared widgets.
"""

from myoscore.gui.coordinator.export_dialog import ExportDialog
from myoscore.gui.coordinator.window import CoordinatorWindow

__all__ = ["CoordinatorWindow", "ExportDialog"]
