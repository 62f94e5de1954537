"""The reader's workstation window: worklist, linked image views and scoring panel.

This is the only place that runs actions: a key press is looked up in the keymap
(:mod:`myoscore.app.keymap`), a click is mapped to the same reading-session call, and
the :class:`~myoscore.app.reading_session.Changes` that come back are broadcast to the
panels, which redraw only what changed. Loading images runs on a worker thread; every
database call (rating, clearing, submitting, listing) stays on the GUI thread.

Blinding: everything shown comes from the reader's blinded session (subject code and exam
label, or under timepoint blinding the read's opaque code only; protocol, the reader's
own values) and from image voxels; file paths, DICOM
identity fields, exam dates and clinical fields never reach this window, and problems
with a series are reported by kind and number only.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from functools import partial

import numpy as np
from PySide6.QtCore import QEvent, QKeyCombination, QObject, QRunnable, Qt, QThreadPool, Signal
from PySide6.QtGui import QCloseEvent, QKeyEvent, QKeySequence, QResizeEvent
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from myoscore.app import ReaderSession
from myoscore.app.changes import NOTHING, Changes, refused
from myoscore.app.coverage import NOT_IMAGED, description_rules
from myoscore.app.exam_images import MEASURE_TISSUE, ExamImageCache, ExamImages, measure_mask
from myoscore.app.keymap import DEAD_TIME_MS, KEYMAP, Binding, Keyboard
from myoscore.app.logs import log_file
from myoscore.app.reading_session import ReadingSession
from myoscore.app.remote_images import workstation_remote_images
from myoscore.domain import MyoscoreError, ReadStatus
from myoscore.domain.blinding import ImageSources, read_title
from myoscore.gui.help_overlay import HelpOverlay
from myoscore.gui.scoring_panel import ScoringPanel
from myoscore.gui.settings import ViewSettings
from myoscore.gui.slice_view import SliceView, ViewerPanel
from myoscore.gui.worklist import WorklistView

__all__ = ["MainWindow", "event_time_ms", "key_text"]

log = logging.getLogger(__name__)

_MODIFIERS = (Qt.KeyboardModifier.ShiftModifier | Qt.KeyboardModifier.ControlModifier
              | Qt.KeyboardModifier.AltModifier | Qt.KeyboardModifier.MetaModifier)
_BARE_MODIFIER_KEYS = {Qt.Key.Key_Shift, Qt.Key.Key_Control, Qt.Key.Key_Alt, Qt.Key.Key_Meta,
                       Qt.Key.Key_AltGr, Qt.Key.Key_CapsLock}


def key_text(event: QKeyEvent) -> str:
    """The keymap's name of a key press: Qt's portable text, keypad folded into the
    main keys, Backtab spelled ``Shift+Tab``; ``""`` for a bare modifier."""
    key = Qt.Key(event.key())
    if key in _BARE_MODIFIER_KEYS or key == Qt.Key.Key_unknown:
        return ""
    modifiers = event.modifiers() & _MODIFIERS
    if key == Qt.Key.Key_Backtab:
        key, modifiers = Qt.Key.Key_Tab, modifiers | Qt.KeyboardModifier.ShiftModifier
    if key == Qt.Key.Key_Enter:
        key = Qt.Key.Key_Return
    return QKeySequence(QKeyCombination(modifiers, key)).toString(QKeySequence.SequenceFormat.PortableText)


def event_time_ms(event: QKeyEvent) -> float:
    """When a key event happened, in ms: the window system's own time (X server time,
    unaffected by how late a busy GUI thread gets to the event), or this process's
    monotonic clock for synthetic events that carry none (``timestamp() == 0``)."""
    stamp = event.timestamp()
    return float(stamp) if stamp else time.monotonic() * 1000.0


def forward_key(keyboard: Keyboard, event: QKeyEvent) -> Binding | Changes | None:
    """Give a key press or release to the app's :class:`~myoscore.app.keymap.Keyboard`:
    a press gives the row to run or a refusal; a release (or a bare modifier) gives None."""
    text = key_text(event)
    if not text:
        return None
    if event.type() == QEvent.Type.KeyRelease:
        keyboard.release(text, event_time_ms(event))
        return None
    return keyboard.press(text, event_time_ms(event), auto_repeat=event.isAutoRepeat())


class _LoadSignals(QObject):
    finished = Signal(int, object)  # token, ExamImages or a reader-safe error text
    progressed = Signal(int, str)
    prefetched = Signal(int)  # read id whose images are now in the cache


class _LoadTask(QRunnable):
    """Loads an exam's series off the GUI thread (no database access here)."""

    def __init__(self, token: int, series: ImageSources, signals: _LoadSignals, cache: ExamImageCache) -> None:
        super().__init__()
        self.token, self.series, self.signals, self.cache = token, series, signals, cache

    def run(self) -> None:
        try:
            images = self.cache.load(self.series, lambda text: self.signals.progressed.emit(self.token, text))
        except Exception:
            log.exception("loading the images of an exam failed")
            self.signals.finished.emit(self.token, "The images of this exam could not be loaded; "
                                                   f"the details are in the log ({log_file()}).")
        else:
            self.signals.finished.emit(self.token, images)


class _PrefetchTask(QRunnable):
    """Loads the next exam of the worklist into the cache while the reader scores."""

    def __init__(self, read_id: int, series: ImageSources, signals: _LoadSignals, cache: ExamImageCache) -> None:
        super().__init__()
        self.read_id, self.series, self.signals, self.cache = read_id, series, signals, cache

    def run(self) -> None:
        try:
            self.cache.load(self.series)
        except Exception:
            # Not the reader's problem yet: opening that exam loads it again and says so.
            log.exception("prefetching the images of the next exam failed")
            return
        self.signals.prefetched.emit(self.read_id)


class MainWindow(QMainWindow):
    """A signed-in reader's window (see the module docstring)."""

    images_loaded = Signal()
    changes_applied = Signal(object)  # Changes
    read_opened = Signal(int)
    next_exam_ready = Signal(int)  # read id of the worklist's next exam, now loaded in the background
    signed_out = Signal()

    def __init__(self, reader: ReaderSession, settings: ViewSettings | None = None,
                 parent: QWidget | None = None, *, dead_time_ms: float = DEAD_TIME_MS) -> None:
        super().__init__(parent)
        self.reader = reader
        #: Key presses and releases → keymap rows; one stored value per physical press.
        self.keyboard = Keyboard(KEYMAP, dead_time_ms=dead_time_ms)
        self.settings = settings if settings is not None else ViewSettings()
        self.session: ReadingSession | None = None
        self.images: ExamImages | None = None
        self.station_index = 0
        #: Asks a yes/no question; tests replace it. Returns True for yes.
        self.ask: Callable[[str, str], bool] = self._ask_dialog
        self._token = 0
        self._mask_key: tuple[object, ...] | None = None
        self._mask_of: Callable[[np.ndarray], np.ndarray | None] | None = None
        self._pool = QThreadPool(self)
        # One thread for the exam being opened, one for the next exam's prefetch.
        self._pool.setMaxThreadCount(2)
        #: The current exam and the next one of the worklist, loaded (see _prefetch_next).
        # Series this workstation does not hold come from the study's DICOM server, by UID,
        # through the workstation's bounded cache (app.remote_images; docs/multisite.md).
        self.image_cache = ExamImageCache(capacity=2, remote=workstation_remote_images(reader))
        self.prefetch_enabled = True
        self._signals = _LoadSignals(self)
        self._signals.finished.connect(self._on_images_loaded)
        self._signals.progressed.connect(self._on_load_progress)
        self._signals.prefetched.connect(self.next_exam_ready.emit)

        self.pages = QStackedWidget(self)
        self.worklist = WorklistView(self.pages)
        self.worklist.read_chosen.connect(self.open_read)
        self.pages.addWidget(self.worklist)

        self.reading_page = QWidget(self.pages)
        page_layout = QVBoxLayout(self.reading_page)
        page_layout.setContentsMargins(4, 4, 4, 4)
        bar = QHBoxLayout()
        self.back_button = QPushButton("◀ Worklist  Esc", self.reading_page)
        self.read_label = QLabel(self.reading_page)
        self.read_label.setStyleSheet("font-weight: bold; font-size: 14px;")
        self.station_label = QLabel(self.reading_page)
        self.help_button = QPushButton("Keys  F1", self.reading_page)
        for button in (self.back_button, self.help_button):
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.back_button.clicked.connect(self.back_to_worklist)
        self.help_button.clicked.connect(self.toggle_help)
        bar.addWidget(self.back_button)
        bar.addWidget(self.read_label)
        bar.addStretch(1)
        bar.addWidget(self.station_label)
        bar.addWidget(self.help_button)
        page_layout.addLayout(bar)
        self.splitter = QSplitter(Qt.Orientation.Horizontal, self.reading_page)
        self.viewer = ViewerPanel(self.splitter)
        self.scoring = ScoringPanel(self.splitter)
        self.scoring.setMinimumWidth(240)  # the splitter narrows it this far; names wrap or scroll, never cut
        self.splitter.addWidget(self.viewer)
        self.splitter.addWidget(self.scoring)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 1)
        self.viewer.layout_changed.connect(self._on_layout_changed)
        page_layout.addWidget(self.splitter, 1)
        self.pages.addWidget(self.reading_page)
        self.setCentralWidget(self.pages)
        self.help_overlay = HelpOverlay(self.reading_page)

        self.scoring.item_clicked.connect(lambda key: self.run_session(lambda s: s.go_to(key)))
        self.scoring.level_clicked.connect(lambda code: self.run_session(lambda s: s.set_value(code)))
        self.scoring.clear_clicked.connect(lambda: self.run_session(ReadingSession.clear))
        self.scoring.undo_clicked.connect(lambda: self.run_session(ReadingSession.undo))
        self.scoring.submit_clicked.connect(self.request_submit)

        self.setMinimumSize(1024, 640)
        self.resize(1500, 900)
        self.splitter.setSizes([940, 560])  # images get the room; the panel keeps its definitions readable
        app = QApplication.instance()
        assert app is not None, "create the QApplication first"
        app.installEventFilter(self)
        self.show_worklist()

    # ------------------------------------------------------------------ pages
    def _set_title(self) -> None:
        title = f"myoscore — {self.reader.reader.name}"
        if self.session is not None and self.pages.currentWidget() is self.reading_page:
            read = self.session.read
            title += f" — {read_title(read)}" + (" (read-only)" if self.session.locked else "")
        else:
            title += " — worklist"
        self.setWindowTitle(title)

    def show_worklist(self) -> None:
        self.worklist.set_reads(self.reader.reader.name, self.reader.worklist(),
                                blinded=self.reader.timepoint_blinded())
        self.pages.setCurrentWidget(self.worklist)
        self.statusBar().clearMessage()
        self.help_overlay.setVisible(False)
        self.worklist.table.setFocus()
        self._set_title()

    def open_read(self, read_id: int) -> None:
        """Open one of the reader's reads (read-only when submitted) and load its images."""
        try:
            session = ReadingSession(self.reader, read_id)
            series = self.reader.image_sources(read_id)
        except MyoscoreError as exc:
            self.statusBar().showMessage(str(exc), 8000)
            return
        self.session = session
        self.images = None
        self.scoring.set_session(session)
        read = session.read
        self.read_label.setText(f"{read_title(read)} · {read.protocol_name}")
        self.pages.setCurrentWidget(self.reading_page)
        self.station_label.setText("")
        self._set_title()
        self._token += 1
        cached = self.image_cache.get(series) if series else None
        if cached is not None:
            # Prefetched while the reader scored the previous exam: shown at once.
            self._on_images_loaded(self._token, cached)
        elif series:
            self.viewer.show_message("Loading images …")
            self._pool.start(_LoadTask(self._token, series, self._signals, self.image_cache))
        else:
            self.viewer.show_message("No image series are registered for this exam.\n"
                                     "You can still score; the coordinator adds images.")
            self.images_loaded.emit()
        if session.locked:
            self.statusBar().showMessage("This read is submitted: it opens read-only.", 8000)
        self.read_opened.emit(read_id)

    def wait_for_images(self, timeout_ms: int = 30_000) -> bool:
        """Block until the loader is idle (tests, screenshots and benchmarks)."""
        done = self._pool.waitForDone(timeout_ms)
        QApplication.processEvents()
        return done

    # ---------------------------------------------------------------- images
    def _on_load_progress(self, token: int, text: str) -> None:
        if token == self._token:
            self.viewer.show_message(text[:1].upper() + text[1:] + " …")

    def _on_images_loaded(self, token: int, result: object) -> None:
        if token != self._token or self.session is None:
            return
        if isinstance(result, str):
            self.viewer.show_message(result)
            self.images_loaded.emit()
            return
        assert isinstance(result, ExamImages)
        self.images = result
        if not result.stations:
            self.viewer.show_message("None of this exam's series could be shown.\n" + "\n".join(result.problems))
        else:
            self._show_station(0)
            self._locate_current_item()
        if result.problems:
            self.statusBar().showMessage("; ".join(result.problems), 15000)
        self.images_loaded.emit()
        self._prefetch_next()

    def next_read_id(self) -> int | None:
        """The read after the current one in the reader's worklist (not submitted first)."""
        if self.session is None:
            return None
        reads = self.reader.worklist()
        ids = [r.id for r in reads]
        if self.session.read_id not in ids:
            return None
        after = reads[ids.index(self.session.read_id) + 1:] + reads[:ids.index(self.session.read_id)]
        open_reads = [r for r in after if r.status is not ReadStatus.SUBMITTED]
        chosen = (open_reads or after)[:1]
        return chosen[0].id if chosen else None

    def _prefetch_next(self) -> None:
        """Load the next exam's series in the background (database calls stay here)."""
        if not self.prefetch_enabled:
            return
        read_id = self.next_read_id()
        if read_id is None:
            return
        try:
            series = self.reader.image_sources(read_id)
        except MyoscoreError:
            log.exception("listing the next exam's series failed")
            return
        if not series or self.image_cache.get(series) is not None or self.image_cache.loading(series):
            return
        self._pool.start(_PrefetchTask(read_id, series, self._signals, self.image_cache))

    def _show_station(self, index: int) -> None:
        assert self.images is not None
        self.station_index = index
        station = self.images.stations[index]
        name = self.reader.reader.name
        windows = [self.settings.window(name, s.kind.value) or s.window for s in station.series]
        self.viewer.set_station(station, windows)
        for view in self.viewer.views:
            view.window_changed.connect(self._on_window_changed)
        self._say_station()

    def _say_station(self, unit_text: str = "") -> None:
        """The station bar: which station is shown and whether it holds the current unit."""
        assert self.images is not None
        index = self.station_index
        station = self.images.stations[index]
        count = len(self.images.stations)
        overlay = " · label map: O" if station.label_map is not None else ""
        self.station_label.setText(f"{station.name} ({index + 1}/{count}{', G: next' if count > 1 else ''})"
                                   f"{overlay}{unit_text}")

    def _locate_current_item(self) -> None:
        """Outline the item's unit and move the views where it is largest."""
        if self.images is None or not self.images.stations or self.session is None:
            return
        item = self.session.item
        found = self.images.locate(item.unit.key, item.side)
        name = item.unit.name
        if found is not None:
            station_index, point = found
            if station_index != self.station_index:
                self._show_station(station_index)
            self.viewer.go_to(point)
            self._say_station(f" · contains {name}")
        elif self.session.not_imaged(item):
            self._say_station(f" · {name}: {NOT_IMAGED}")
        else:
            # No label map outlines the unit: the station whose series cover its region.
            by_region = self.images.station_for_region(item.unit.region, description_rules().canonical)
            if by_region is not None and by_region != self.station_index:
                self._show_station(by_region)
            self._say_station(f" · covers {item.unit.region} ({name})" if by_region is not None else "")
        self._outline_current_item()
        self.viewer.follow_item()

    def _outline_current_item(self) -> None:
        if self.images is None or not self.images.stations or self.session is None:
            return
        item = self.session.item
        label_map = self.images.stations[self.station_index].label_map
        values = label_map.values_for(item.unit.key, item.side) if label_map is not None else ()
        # Subcutaneous and fascia edema are scored on that tissue next to the unit, not
        # on its muscles: outline what is scored.
        mask_of = None
        if label_map is not None and item.measure in MEASURE_TISSUE:
            key = (item.measure, item.unit.key, item.side, self.station_index)
            if self._mask_key != key:
                self._mask_key = key
                self._mask_of = partial(measure_mask, label_map=label_map, unit_key=item.unit.key,
                                        side=item.side, measure=item.measure)
            mask_of = self._mask_of
        self.viewer.set_side(item.side)
        self.viewer.set_outline(values, mask_of)
        self.viewer.mark_sequence(item.sequence)

    def _on_window_changed(self, view: SliceView, finished: bool) -> None:
        if finished and view.loaded is not None:
            self.settings.set_window(self.reader.reader.name, view.loaded.kind.value, view.levels)

    # ---------------------------------------------------------------- actions
    def run_session(self, action: Callable[[ReadingSession], Changes]) -> Changes:
        """Run one reading-session action and broadcast what changed (errors → status bar)."""
        if self.session is None:
            return NOTHING
        try:
            changes = action(self.session)
        except MyoscoreError as exc:  # a rule said no (locked, no such level): nothing stored
            changes = refused(str(exc))
        self.broadcast(changes)
        return changes

    def broadcast(self, changes: Changes) -> None:
        if not changes:
            return
        self.scoring.apply(changes)
        if changes.refused:
            self.statusBar().showMessage(changes.refused, 8000)
        if changes.item:
            self._locate_current_item()
        if changes.status:
            self._set_title()
        if changes.value and self.session is not None:
            self.statusBar().showMessage(f"Stored. {self.session.done}/{self.session.total} scored.", 3000)
        self.changes_applied.emit(changes)

    def run_binding(self, binding: Binding) -> None:
        if binding.target == "session":
            self.run_session(binding.run_on_session)
        else:
            binding.run_on_window(self)

    def run_key(self, text: str) -> bool:
        """Run the action bound to a key text (``"Ctrl+Z"``) as a click would, without the
        key-press rule (there is no physical key); False if none."""
        binding = self.keyboard.binding_for(text)
        if binding is None:
            return False
        self.run_binding(binding)
        return True

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind == QEvent.Type.WindowDeactivate and watched is self:
            self.keyboard.reset()  # releases now go to another window
        if (kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease) and isinstance(watched, QWidget)
                and watched.window() is self and self.pages.currentWidget() is self.reading_page):
            assert isinstance(event, QKeyEvent)
            # Presses *and* releases go to the app's Keyboard: it decides whether a press of
            # a value-storing key is a new physical press (isAutoRepeat() is not trusted).
            # Every key but a bare modifier is the keymap's here (an unbound one is refused
            # with a message, once: not passed on to parents that would filter it again).
            outcome = forward_key(self.keyboard, event)
            if isinstance(outcome, Changes):
                self.broadcast(outcome)
            elif outcome is not None:
                self.run_binding(outcome)
            return bool(key_text(event))
        return super().eventFilter(watched, event)

    # --------------------------------------------------- WindowControls (keymap)
    def step_slice(self, delta: int) -> None:
        self.viewer.step(delta)

    def window_preset(self) -> None:
        name = self.reader.reader.name
        for view in self.viewer.views:
            if view.loaded is not None:
                view.set_window(view.loaded.window)
                self.settings.forget_window(name, view.loaded.kind.value)
        self.statusBar().showMessage("Window/level presets restored.", 3000)

    def toggle_overlay(self) -> None:
        station = self.viewer.station
        if station is None or station.label_map is None:
            self.statusBar().showMessage("This exam has no muscle label map to overlay.", 4000)
            return
        self.viewer.set_overlay(not self.viewer.overlay_on)

    def toggle_third_view(self) -> None:
        if not self.viewer.toggle_third():
            self.statusBar().showMessage("This station has no third series.", 4000)

    def next_station(self) -> None:
        if self.images is None or len(self.images.stations) < 2:
            self.statusBar().showMessage("This exam has one station only.", 4000)
            return
        self._show_station((self.station_index + 1) % len(self.images.stations))
        self._outline_current_item()

    def reset_zoom(self) -> None:
        self.viewer.fit()

    def fit_field_of_view(self) -> None:
        self.viewer.fit_field_of_view()

    def zoom(self, factor: float) -> None:
        if self.viewer.views:
            self.viewer.zoom(factor)

    def zoom_to_unit(self) -> None:
        if not self.viewer.views:
            return
        if not self.viewer.zoom_to_unit():
            self.statusBar().showMessage("The current unit has no outline on this slice "
                                         "(no label map, or not on this slice).", 4000)

    def toggle_side_zoom(self) -> None:
        if not self.viewer.views:
            return
        on = self.viewer.toggle_side_zoom()
        side = {"R": "right", "L": "left"}.get(self.viewer.side or "", "")
        if on and not side:
            self.statusBar().showMessage("Side zoom on: this item has no side, so the whole body is shown.", 4000)
        else:
            self.statusBar().showMessage(f"Side zoom on: the {side} side fills the views." if on
                                         else "Side zoom off: the whole body fills the views.", 4000)

    def pan(self, dx: float, dy: float) -> None:
        if self.viewer.views:
            self.viewer.pan(dx, dy)

    def step_window(self, width_factor: float, level_steps: float) -> None:
        sequence = self.session.item.sequence if self.session is not None else None
        for view in self.viewer.step_window(width_factor, level_steps, sequence):
            self._on_window_changed(view, True)

    def cycle_layout(self) -> None:
        mode = self.viewer.cycle_layout()
        shown = self.viewer.arrangement
        self.statusBar().showMessage(f"Layout: {mode}" + (f" (now {shown})" if mode == "automatic" else "") + ".",
                                     4000)

    def _on_layout_changed(self, arrangement: str) -> None:
        pass  # the views refit themselves; nothing else depends on the layout yet

    def toggle_scale_card(self) -> None:
        shown = self.scoring.toggle_card()
        self.statusBar().showMessage("Scale card shown: each level's longer description." if shown
                                     else "Scale card hidden: labels and the paper's definitions only.", 4000)

    def toggle_help(self) -> None:
        self.help_overlay.toggle()

    def sign_out(self) -> None:
        """Leave (everything is stored) and close; ``signed_out`` tells the app to show the
        sign-in screen again."""
        self.help_overlay.setVisible(False)
        self.back_to_worklist()
        self.signed_out.emit()
        self.close()

    def back_to_worklist(self) -> None:
        if self.help_overlay.isVisible():
            self.help_overlay.setVisible(False)
            return
        self.keyboard.reset()
        self._token += 1  # a load still running is for a read no longer shown
        self.viewer.show_message("")
        self.session = None
        self.images = None
        self.show_worklist()

    def request_submit(self) -> None:
        """Warn about unscored items, confirm, then lock the read."""
        session = self.session
        if session is None:
            return
        if session.locked:
            self.statusBar().showMessage("This read is already submitted and locked.", 6000)
            return
        unscored = session.unscored()
        if unscored:
            titles = [session.protocol.item(key).title for key in unscored[:8]]
            more = f"\n… and {len(unscored) - 8} more" if len(unscored) > 8 else ""
            text = (f"{len(unscored)} of {session.total} items have no value:\n\n• " + "\n• ".join(titles) + more
                    + "\n\nThey will stay unscored (not 0, not 'not evaluable'). Submit anyway?")
            if not self.ask("Unscored items", text):
                session.go_to(unscored[0])
                self.broadcast(Changes(item=True))
                return
        if not self.ask("Submit and lock the read",
                        f"Submit {read_title(session.read)}?\n\nThe read will be "
                        "locked: no value can be changed afterwards. Only the coordinator can reopen it."):
            return
        changes = self.run_session(ReadingSession.submit)
        if changes.status:
            self.statusBar().showMessage("Submitted and locked.", 6000)

    def _ask_dialog(self, title: str, text: str) -> bool:
        answer = QMessageBox.question(self, title, text, QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                      QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes

    # ------------------------------------------------------------------ closing
    def closeEvent(self, event: QCloseEvent) -> None:
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)
        self._token += 1
        self._pool.clear()
        self._pool.waitForDone(10_000)
        super().closeEvent(event)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self.help_overlay.isVisible():
            self.help_overlay.setGeometry(self.reading_page.rect())
