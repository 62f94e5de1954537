"""Image views: one :class:`SliceView` per series, several linked in a :class:`ViewerPanel`.

A view draws one slice of a :class:`~myoscore.imaging.Volume` with pyqtgraph, placed in
the station's patient frame (see :mod:`myoscore.gui.linking`), and prints on the image
what a reader needs to trust it: the sequence, the slice number and position, how the
slice was matched to the lead view, the window/level, and the patient-direction letters
(R, L, A, P …) at every edge, derived from the affine.

Mouse: wheel steps slices, Ctrl+wheel zooms, left drag sets window/level (right: wider
window, down: brighter), middle drag pans, right drag zooms. Zoom and pan are linked
between views that share a frame.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QTransform
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from myoscore.app.exam_images import LoadedSeries, Station
from myoscore.gui.linking import SliceLink, ViewSlice

__all__ = ["SliceView", "ViewerPanel"]

_TEXT_STYLE = "color: #f2f2f2; background: rgba(0, 0, 0, 150); padding: 1px 4px; font-size: 11px;"
_ORIENT_STYLE = "color: #ffd54a; background: rgba(0, 0, 0, 120); padding: 0px 4px; font-size: 15px; font-weight: bold;"


def _label_colours() -> np.ndarray:
    """RGBA per label value 0–255: muscles (≥ 100) in distinct hues, other tissue clear."""
    lut = np.zeros((256, 4), dtype=np.uint8)
    golden = 0.618033988749895
    for value in range(100, 256):
        hue = ((value % 100) * golden) % 1.0
        colour = pg.hsvColor(hue, sat=0.7, val=1.0)
        lut[value] = (colour.red(), colour.green(), colour.blue(), 70)
    return lut


_LABEL_LUT = _label_colours()
_OUTLINE_RGBA = np.array([255, 230, 0, 255], dtype=np.uint8)


def _bounding_box(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    """``(row0, row1, col0, col1)`` of the True pixels, one pixel of margin, or None."""
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask.any(axis=0))
    r0, r1 = max(int(rows[0]) - 1, 0), min(int(rows[-1]) + 2, mask.shape[0])
    c0, c1 = max(int(cols[0]) - 1, 0), min(int(cols[-1]) + 2, mask.shape[1])
    return r0, r1, c0, c1


def _edge(mask: np.ndarray) -> np.ndarray:
    """The one-pixel outline of ``mask`` (True where a masked pixel touches an unmasked one)."""
    inner = mask.copy()
    inner[1:, :] &= mask[:-1, :]
    inner[:-1, :] &= mask[1:, :]
    inner[:, 1:] &= mask[:, :-1]
    inner[:, :-1] &= mask[:, 1:]
    return mask & ~inner


class _ReadingViewBox(pg.ViewBox):
    """A ViewBox whose wheel steps slices and whose left drag sets window/level."""

    wheel_stepped = Signal(int)
    window_dragged = Signal(float, float, bool)  # dx, dy in screen pixels, finished

    def __init__(self) -> None:
        super().__init__(lockAspect=True, invertY=True, enableMenu=False, defaultPadding=0.0)

    def wheelEvent(self, ev, axis=None):
        if ev.modifiers() & Qt.KeyboardModifier.ControlModifier:
            super().wheelEvent(ev, axis)
            return
        ev.accept()
        delta = ev.delta() if hasattr(ev, "delta") else ev.angleDelta().y()
        if delta:
            self.wheel_stepped.emit(1 if delta > 0 else -1)

    def mouseDragEvent(self, ev, axis=None):
        if ev.button() == Qt.MouseButton.LeftButton:
            ev.accept()
            d = ev.screenPos() - ev.lastScreenPos()
            self.window_dragged.emit(float(d.x()), float(d.y()), bool(ev.isFinish()))
            return
        super().mouseDragEvent(ev, axis)


class SliceView(QWidget):
    """One series: its slice nearest the focus, with orientation letters and facts."""

    wheel_stepped = Signal(object, int)  # (view, delta)
    window_changed = Signal(object, bool)  # (view, finished)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumSize(220, 220)
        self.graphics = pg.GraphicsView(self)
        self.graphics.setBackground("k")
        self.graphics.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.view_box = _ReadingViewBox()
        self.graphics.setCentralItem(self.view_box)
        self.image_item = pg.ImageItem(axisOrder="row-major")
        self.overlay_item = pg.ImageItem(axisOrder="row-major")
        self.outline_item = pg.ImageItem(axisOrder="row-major")
        for z, item in enumerate((self.image_item, self.overlay_item, self.outline_item)):
            item.setZValue(z)
            # Only the image defines the view's extent; the overlays change size every slice.
            self.view_box.addItem(item, ignoreBounds=item is not self.image_item)
        self.view_box.disableAutoRange()  # the range is set by fit() and by the reader, never on its own
        self.overlay_item.setVisible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.graphics)

        def text_label(style: str) -> QLabel:
            label = QLabel(self)
            label.setStyleSheet(style)
            label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
            return label

        self.title_label = text_label(_TEXT_STYLE + "font-weight: bold;")
        self.slice_label = text_label(_TEXT_STYLE)
        self.link_label = text_label(_TEXT_STYLE)
        self.window_label = text_label(_TEXT_STYLE)
        self.orientation = {edge: text_label(_ORIENT_STYLE) for edge in ("left", "right", "top", "bottom")}

        self.loaded: LoadedSeries | None = None
        self.current: ViewSlice | None = None
        self.levels: tuple[float, float] = (0.0, 1.0)  # window/level as (low, high); not QWidget.window()
        self._outline_values: tuple[int, ...] = ()
        self._outline_lut = np.zeros(256, dtype=bool)
        self._labels8: np.ndarray | None = None
        self._transform = QTransform()
        self._title = ""
        self._overlay_on = False
        self._drag_start: tuple[float, float] | None = None
        self.view_box.wheel_stepped.connect(self._on_wheel)
        self.view_box.window_dragged.connect(self._on_window_dragged)

    # ----------------------------------------------------------------- content
    def set_series(self, loaded: LoadedSeries, transform: tuple[float, ...],
                   labels: tuple[str, str, str, str], window: tuple[float, float]) -> None:
        """Show a series in a frame: ``transform`` places its pixels, ``labels`` are
        the patient directions at the (left, right, top, bottom) edges."""
        self.loaded = loaded
        self.current = None
        self.levels = window
        # uint8 labels draw through a colour table (Qt's Indexed8), without an RGBA copy
        # per slice; label maps with values above 255 fall back to clipping.
        label_voxels = loaded.labels
        self._labels8 = None if label_voxels is None else np.clip(label_voxels, 0, 255).astype(np.uint8)
        self._transform = QTransform(*transform)
        self.image_item.setTransform(self._transform)
        self._title = loaded.kind.value + (f" · {loaded.series.description}" if loaded.series.description else "")
        self.title_label.setText(self._title)
        for edge, text in zip(("left", "right", "top", "bottom"), labels, strict=True):
            self.orientation[edge].setText(text)
        self._place_labels()

    def show_slice(self, view_slice: ViewSlice, link_note: str) -> None:
        """Draw slice ``view_slice.index`` (only if it changed) and update the texts."""
        assert self.loaded is not None
        changed = self.current is None or view_slice.index != self.current.index
        self.current = view_slice
        if changed:
            self.image_item.setImage(self.loaded.volume.voxels[view_slice.index], autoLevels=False,
                                     levels=self.levels)
            self._draw_labels()
        # Only texts that changed are touched: each label repaint also repaints the image under it.
        text = f"slice {view_slice.index + 1}/{view_slice.count} · {view_slice.location:+.1f} mm"
        if text != self.slice_label.text():
            self.slice_label.setText(text)
            self.slice_label.adjustSize()
        if link_note != self.link_label.text():
            self.link_label.setText(link_note)
            self.link_label.adjustSize()
        if bool(link_note) != self.link_label.isVisibleTo(self):
            self.link_label.setVisible(bool(link_note))

    def set_window(self, window: tuple[float, float]) -> None:
        low, high = window
        self.levels = (float(low), float(max(high, low + 1e-3)))
        self.image_item.setLevels(self.levels)
        width, level = self.levels[1] - self.levels[0], (self.levels[1] + self.levels[0]) / 2
        self.window_label.setText(f"W {width:.0f}  L {level:.0f}")
        self._place_labels()

    def mark_scored(self, scored: bool) -> None:
        """Say on the view that the current item is scored on its sequence."""
        text = self._title + ("  ◀ scored here" if scored else "")
        if text != self.title_label.text():
            self.title_label.setText(text)
            self.title_label.adjustSize()

    def set_outline(self, values: tuple[int, ...]) -> None:
        """Outline the label values of the unit being scored (empty: no outline)."""
        if values != self._outline_values:
            self._outline_values = values
            # A 256-entry table: "is this label part of the unit" is one lookup per pixel.
            self._outline_lut = np.zeros(256, dtype=bool)
            self._outline_lut[[v for v in values if 0 <= v < 256]] = True
            self._draw_labels()

    def set_overlay(self, on: bool) -> None:
        if on != self._overlay_on:
            self._overlay_on = on
            self._draw_labels()

    def _draw_labels(self) -> None:
        """Overlay and outline of the current slice. Both are drawn as RGBA cut to their
        bounding box (the rest is transparent anyway): Qt draws a small RGBA image far
        faster than a full-size one or an indexed one, which keeps a slice step cheap."""
        labels = self._labels8
        if labels is None or self.current is None:
            self.overlay_item.setVisible(False)
            self.outline_item.setVisible(False)
            return
        slice_labels = labels[self.current.index]
        self._draw_cropped(self.overlay_item, slice_labels > 0 if self._overlay_on else None,
                           lambda box: _LABEL_LUT[slice_labels[box[0]:box[1], box[2]:box[3]]])
        mask = self._outline_lut[slice_labels] if self._outline_values else None

        def outline(box: tuple[int, int, int, int]) -> np.ndarray:
            assert mask is not None
            edge = _edge(mask[box[0]:box[1], box[2]:box[3]])
            rgba = np.zeros((*edge.shape, 4), dtype=np.uint8)
            rgba[edge] = _OUTLINE_RGBA
            return rgba

        self._draw_cropped(self.outline_item, mask, outline)

    def _draw_cropped(self, item: pg.ImageItem, mask: np.ndarray | None, rgba_of) -> None:
        box = _bounding_box(mask) if mask is not None else None
        item.setVisible(box is not None)
        if box is None:
            return
        placed = QTransform(self._transform)
        placed.translate(box[2], box[0])  # the crop's first pixel sits where it was
        item.setTransform(placed)
        item.setImage(np.ascontiguousarray(rgba_of(box)), autoLevels=False, levels=None)

    def screen_x_of_pixel(self, column: float, row: float) -> float:
        """Widget x coordinate of the centre of an image pixel (for tests and tools)."""
        point = self.image_item.mapToView(QPointF(column + 0.5, row + 0.5))
        device = self.view_box.mapViewToDevice(point)
        return float(self.graphics.mapTo(self, device.toPoint()).x())

    # ------------------------------------------------------------------ events
    def _on_wheel(self, delta: int) -> None:
        self.wheel_stepped.emit(self, delta)

    def _on_window_dragged(self, dx: float, dy: float, finished: bool) -> None:
        low, high = self.levels
        width = max(high - low, 1e-3)
        level = (high + low) / 2
        scale = width / 200.0  # 200 px of drag doubles or halves the window
        width = max(1.0, width + dx * scale)
        level = level - dy * scale
        self.set_window((level - width / 2, level + width / 2))
        self.window_changed.emit(self, finished)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._place_labels()

    def _place_labels(self) -> None:
        w, h = self.width(), self.height()
        for label in (self.title_label, self.slice_label, self.link_label, self.window_label,
                      *self.orientation.values()):
            label.adjustSize()
        self.title_label.move(4, 4)
        self.window_label.move(w - self.window_label.width() - 4, 4)
        self.link_label.move(4, 6 + self.title_label.height())
        self.slice_label.move(4, h - self.slice_label.height() - 4)
        o = self.orientation
        o["left"].move(2, (h - o["left"].height()) // 2)
        o["right"].move(w - o["right"].width() - 2, (h - o["right"].height()) // 2)
        o["top"].move((w - o["top"].width()) // 2, 12 + 2 * self.title_label.height())
        o["bottom"].move((w - o["bottom"].width()) // 2, h - o["bottom"].height() - 6)


class ViewerPanel(QWidget):
    """The linked views of one station: STIR and T1 side by side, a third on demand."""

    focus_changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(4)
        self.message = QLabel("No images", self)
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setWordWrap(True)
        self._layout.addWidget(self.message)
        self.views: list[SliceView] = []
        self.station: Station | None = None
        self.link: SliceLink | None = None
        self.third_visible = False
        self.overlay_on = False
        self.driver: int | None = 0  # the view last scrolled; the others follow it

    def show_message(self, text: str) -> None:
        self.clear()
        self.message.setText(text)
        self.message.setVisible(True)

    def clear(self) -> None:
        for view in self.views:
            self._layout.removeWidget(view)
            view.deleteLater()
        self.views = []
        self.station = None
        self.link = None

    def set_station(self, station: Station, windows: list[tuple[float, float]]) -> None:
        """Build one view per series of the station (the first two shown)."""
        self.clear()
        self.message.setVisible(False)
        self.driver = 0
        self.station = station
        self.link = SliceLink([s.volume for s in station.series])
        lead_box: pg.ViewBox | None = None
        for index, (loaded, window) in enumerate(zip(station.series, windows, strict=True)):
            view = SliceView(self)
            frame = self.link.frames[index]
            view.set_series(loaded, frame.transform(loaded.volume), frame.labels(), window)
            view.set_window(window)
            view.set_overlay(self.overlay_on)
            if self.link.linked_in_plane(index):
                if lead_box is None:
                    lead_box = view.view_box
                else:
                    view.view_box.setXLink(lead_box)
                    view.view_box.setYLink(lead_box)
            view.wheel_stepped.connect(self._on_wheel)
            self._layout.addWidget(view, 1)
            self.views.append(view)
        self._apply_visibility()
        self.refresh()
        self.fit()

    def _apply_visibility(self) -> None:
        for index, view in enumerate(self.views):
            view.setVisible(index < 2 or (index == 2 and self.third_visible))

    def toggle_third(self) -> bool:
        """Show or hide the third series; False when the station has only two."""
        if len(self.views) < 3:
            return False
        self.third_visible = not self.third_visible
        self._apply_visibility()
        self.refresh()
        return True

    def fit(self) -> None:
        if not self.views or self.link is None:
            return
        # Fit the lead's field of view; linked views follow.
        lead = self.views[0]
        lead.view_box.autoRange(items=[lead.image_item], padding=0.0)
        for index, view in enumerate(self.views):
            if not self.link.linked_in_plane(index):
                view.view_box.autoRange(items=[view.image_item], padding=0.0)

    def refresh(self) -> None:
        """Show every view's nearest slice to the focus, and say how it was matched."""
        if self.link is None:
            return
        driver = self.views[self.driver] if self.driver is not None and self.driver < len(self.views) else None
        reference = driver.loaded.kind.value if driver is not None and driver.loaded else "the unit's largest slice"
        for index, view in enumerate(self.views):
            if index >= 2 and not self.third_visible:
                continue
            info = self.link.slice_of(index)
            if not info.inside:
                note = f"outside this series: edge slice, {abs(info.offset):.1f} mm from {reference}"
            elif index == self.driver:
                note = ""
            elif abs(info.offset) < 0.05:
                note = f"same position as {reference}"
            else:
                note = f"nearest slice, {info.offset:+.1f} mm from {reference} (not resampled)"
            view.show_slice(info, note)
        self.focus_changed.emit()

    def step(self, delta: int, view: SliceView | None = None) -> None:
        """Step ``view`` (the lead by default) and move the others to the same position."""
        if self.link is None or not self.views:
            return
        index = self.views.index(view) if view is not None else 0
        self.driver = index
        self.link.step(index, delta)
        self.refresh()

    def go_to(self, point: np.ndarray) -> None:
        """Put the focus on an LPS point (every view shows its nearest slice)."""
        if self.link is None:
            return
        self.link.go_to(point)
        self.driver = None
        self.refresh()

    def set_outline(self, values: tuple[int, ...]) -> None:
        for view in self.views:
            view.set_outline(values)

    def mark_sequence(self, sequence: str) -> None:
        """Mark the view(s) showing the sequence the current item is scored on."""
        for view in self.views:
            view.mark_scored(view.loaded is not None and view.loaded.kind.value == sequence)

    def set_overlay(self, on: bool) -> None:
        self.overlay_on = on
        for view in self.views:
            view.set_overlay(on)

    def _on_wheel(self, view: SliceView, delta: int) -> None:
        self.step(delta, view)
