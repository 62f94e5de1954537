"""Image views: one :class:`SliceView` per series, several linked in a :class:`ViewerPanel`.

A view draws one slice of a :class:`~myoscore.imaging.Volume` with pyqtgraph, placed in
the station's patient frame (see :mod:`myoscore.gui.linking`), and prints on the image
what a reader needs to trust it: the sequence, the slice number and position, how the
slice was matched to the lead view, the window/level, and the patient-direction letters
(R, L, A, P …) at every edge, derived from the affine.

Mouse: wheel steps slices, Ctrl+wheel zooms, left drag sets window/level (right: wider
window, down: brighter; a drag across the whole view changes the window by its own
width), middle drag pans, right drag zooms. Zoom and pan are linked between views that
share a frame. The keyboard does the same through the keymap (zoom, zoom to the unit,
fit to the body or one side of it, pan, window/level), by calling :class:`ViewerPanel`.

Layouts: the views sit side by side or stacked (STIR above T1); *automatic* picks the
one in which the body is drawn larger, from the panel's aspect ratio and the body's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from html import escape
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QResizeEvent, QTransform
from PySide6.QtWidgets import QBoxLayout, QLabel, QVBoxLayout, QWidget

from myoscore.app.exam_images import Box, LoadedSeries, Station
from myoscore.gui.linking import SliceLink, ViewSlice

__all__ = ["LAYOUTS", "SliceView", "ViewerPanel", "label_name"]

#: The viewer's layouts, in the order the layout key cycles through them.
LAYOUTS = ("automatic", "side by side", "stacked")
#: Margin around a unit's outline when zooming to it, as a fraction of its size.
UNIT_MARGIN = 0.15
#: Margin around the body (or one side of it) when fitting to it.
BODY_MARGIN = 0.04

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


def label_name(name: str, value: int) -> str:
    """A label table's name as a reader reads it: ``"R:thigh.anterior.rectus_femoris"``
    or ``"thigh.anterior.rectus_femoris"`` on side R → ``"rectus femoris (thigh, anterior)"``."""
    if not name:
        return f"label {value}"
    key = name.rpartition(":")[2]
    parts = key.split(".")
    head = parts[-1].replace("_", " ")
    where = ", ".join(p.replace("_", " ") for p in parts[:-1])
    return f"{head} ({where})" if where else head
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
    edge: np.ndarray = mask & ~inner
    return edge


class _ReadingViewBox(pg.ViewBox):  # type: ignore[misc]  # pyqtgraph is untyped
    """A ViewBox whose wheel steps slices and whose left drag sets window/level."""

    wheel_stepped = Signal(int)
    window_dragged = Signal(float, float, bool, bool)  # dx, dy since the press (screen px), started, finished

    def __init__(self) -> None:
        super().__init__(lockAspect=True, invertY=True, enableMenu=False, defaultPadding=0.0)

    def wheelEvent(self, ev: Any, axis: int | None = None) -> None:  # a pyqtgraph scene event
        if ev.modifiers() & Qt.KeyboardModifier.ControlModifier:
            super().wheelEvent(ev, axis)
            return
        ev.accept()
        delta = ev.delta() if hasattr(ev, "delta") else ev.angleDelta().y()
        if delta:
            self.wheel_stepped.emit(1 if delta > 0 else -1)

    def mouseDragEvent(self, ev: Any, axis: int | None = None) -> None:
        if ev.button() == Qt.MouseButton.LeftButton:
            ev.accept()
            d = ev.screenPos() - ev.buttonDownScreenPos()
            self.window_dragged.emit(float(d.x()), float(d.y()), bool(ev.isStart()), bool(ev.isFinish()))
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
        self.hover_label = text_label(_TEXT_STYLE + "font-weight: bold;")  # the muscle under the mouse
        self.hover_label.setVisible(False)

        self.loaded: LoadedSeries | None = None
        self.current: ViewSlice | None = None
        self.levels: tuple[float, float] = (0.0, 1.0)  # window/level as (low, high); not QWidget.window()
        self.label_names: Mapping[int, str] = {}
        self._outline_values: tuple[int, ...] = ()
        self._outline_mask_of: Callable[[np.ndarray], np.ndarray | None] | None = None
        self._outline_lut = np.zeros(256, dtype=bool)
        #: Pixel box ``(row0, row1, col0, col1)`` of the outline on the current slice.
        self.outline_box: Box | None = None
        self._labels8: np.ndarray | None = None
        self._transform = QTransform()
        self._title = ""
        self._overlay_on = False
        self._drag_start: tuple[float, float] | None = None
        self.view_box.wheel_stepped.connect(self._on_wheel)
        self.view_box.window_dragged.connect(self._on_window_dragged)
        self.graphics.scene().sigMouseMoved.connect(self._on_mouse_moved)

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

    def set_outline(self, values: tuple[int, ...],
                    mask_of: Callable[[np.ndarray], np.ndarray | None] | None = None) -> None:
        """Outline the label values of the unit being scored (empty: no outline).

        ``mask_of`` (a slice of labels → the pixels to outline) replaces the values for
        measures scored on another tissue than the unit's muscles (its subcutaneous
        sector, its fascia); it is called again with each new slice.
        """
        if values != self._outline_values or mask_of is not self._outline_mask_of:
            self._outline_values = values
            self._outline_mask_of = mask_of
            # A 256-entry table: "is this label part of the unit" is one lookup per pixel.
            self._outline_lut = np.zeros(256, dtype=bool)
            self._outline_lut[[v for v in values if 0 <= v < 256]] = True
            self._draw_labels()

    def set_overlay(self, on: bool) -> None:
        if on != self._overlay_on:
            self._overlay_on = on
            if not on:
                self.hover_label.setVisible(False)
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
        if self._outline_mask_of is not None and self.loaded is not None and self.loaded.labels is not None:
            mask = self._outline_mask_of(self.loaded.labels[self.current.index])
        else:
            mask = self._outline_lut[slice_labels] if self._outline_values else None
        self.outline_box = _bounding_box(mask) if mask is not None else None

        def outline(box: tuple[int, int, int, int]) -> np.ndarray:
            assert mask is not None
            edge = _edge(mask[box[0]:box[1], box[2]:box[3]])
            rgba = np.zeros((*edge.shape, 4), dtype=np.uint8)
            rgba[edge] = _OUTLINE_RGBA
            return rgba

        self._draw_cropped(self.outline_item, mask, outline)

    def legend_html(self) -> str:
        """The overlay's colours of the muscles on the current slice, as one line of
        rich text (the panel shows it under the views, never over the image)."""
        if self._labels8 is None or self.current is None:
            return ""
        slice_labels = self._labels8[self.current.index]
        present = np.flatnonzero(np.bincount(slice_labels.ravel(), minlength=256)[100:]) + 100
        entries: dict[str, str] = {}
        for value in present.tolist():
            name = label_name(self.label_names.get(value, ""), value)
            r, g, b, _a = (int(c) for c in _LABEL_LUT[value])
            entries.setdefault(name, f"<span style='color: rgb({r},{g},{b}); font-size: 14px'>■</span>&nbsp;"
                                     f"{escape(name).replace(' ', '&nbsp;')}")
        return " &nbsp; ".join(entries[name] for name in sorted(entries))

    def _draw_cropped(self, item: pg.ImageItem, mask: np.ndarray | None,
                      rgba_of: Callable[[tuple[int, int, int, int]], np.ndarray]) -> None:
        box = _bounding_box(mask) if mask is not None else None
        item.setVisible(box is not None)
        if box is None:
            return
        placed = QTransform(self._transform)
        placed.translate(box[2], box[0])  # the crop's first pixel sits where it was
        item.setTransform(placed)
        item.setImage(np.ascontiguousarray(rgba_of(box)), autoLevels=False, levels=None)

    def frame_box(self, box: Box) -> tuple[float, float, float, float]:
        """``(x0, x1, y0, y1)`` in the frame (mm) of a pixel box ``(row0, row1, col0, col1)``."""
        r0, r1, c0, c1 = box
        corners = [self._transform.map(QPointF(c, r)) for c in (c0, c1) for r in (r0, r1)]
        xs, ys = [p.x() for p in corners], [p.y() for p in corners]
        return min(xs), max(xs), min(ys), max(ys)

    def label_under(self, scene_pos: QPointF) -> int | None:
        """The label value under a scene point on the current slice (None: none, outside)."""
        if self.loaded is None or self.loaded.labels is None or self.current is None:
            return None
        point = self.image_item.mapFromScene(scene_pos)
        col, row = int(np.floor(point.x())), int(np.floor(point.y()))
        labels = self.loaded.labels[self.current.index]
        if not (0 <= row < labels.shape[0] and 0 <= col < labels.shape[1]):
            return None
        return int(labels[row, col])

    def screen_x_of_pixel(self, column: float, row: float) -> float:
        """Widget x coordinate of the centre of an image pixel (for tests and tools)."""
        point = self.image_item.mapToView(QPointF(column + 0.5, row + 0.5))
        device = self.view_box.mapViewToDevice(point)
        return float(self.graphics.mapTo(self, device.toPoint()).x())

    # ------------------------------------------------------------------ events
    def _on_wheel(self, delta: int) -> None:
        self.wheel_stepped.emit(self, delta)

    def _on_window_dragged(self, dx: float, dy: float, started: bool, finished: bool) -> None:
        # Relative to the window at the press (not compounding per mouse event): a drag
        # across the whole view changes the window by its own width, a drag down the
        # whole view lowers the level (brighter) by one width.
        if started or self._drag_start is None:
            low, high = self.levels
            self._drag_start = (max(high - low, 1e-3), (high + low) / 2)
        width0, level0 = self._drag_start
        view_width = max(float(self.graphics.width()), 50.0)
        view_height = max(float(self.graphics.height()), 50.0)
        width = max(width0 * 0.02, width0 + width0 * dx / view_width)
        level = level0 - width0 * dy / view_height
        self.set_window((level - width / 2, level + width / 2))
        if finished:
            self._drag_start = None
        self.window_changed.emit(self, finished)

    def step_window(self, width_factor: float, level_steps: float) -> None:
        """Window wider by ``width_factor`` (< 1: narrower) and the level up by
        ``level_steps`` tenths of the current window: steps proportional to the window."""
        low, high = self.levels
        width, level = max(high - low, 1e-3), (high + low) / 2
        level += level_steps * 0.1 * width
        width *= width_factor
        self.set_window((level - width / 2, level + width / 2))
        self.window_changed.emit(self, True)

    def _on_mouse_moved(self, scene_pos: QPointF) -> None:
        if not self._overlay_on:
            return
        value = self.label_under(scene_pos)
        text = label_name(self.label_names.get(value, ""), value) if value else ""
        if value is not None and value and value < 100 and not self.label_names.get(value):
            text = ""
        if text != self.hover_label.text():
            self.hover_label.setText(text)
            self.hover_label.adjustSize()
            self._place_labels()
        self.hover_label.setVisible(bool(text))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._place_labels()

    def _place_labels(self) -> None:
        """Texts at the edges, never on top of each other: when the view is too narrow
        for the title and the window/level on one line, the window/level goes below."""
        w, h = self.width(), self.height()
        for label in (self.title_label, self.slice_label, self.link_label, self.window_label,
                      self.hover_label, *self.orientation.values()):
            label.adjustSize()
            label.setMaximumWidth(max(w - 8, 40))
        self.title_label.move(4, 4)
        y = 6 + self.title_label.height()
        if self.title_label.width() + self.window_label.width() + 12 > w:
            self.window_label.move(4, y)
            y += 2 + self.window_label.height()
        else:
            self.window_label.move(w - self.window_label.width() - 4, 4)
        self.link_label.move(4, y)
        if self.link_label.isVisibleTo(self):
            y += 2 + self.link_label.height()
        self.slice_label.move(4, h - self.slice_label.height() - 4)
        self.hover_label.move(w - self.hover_label.width() - 4, h - self.hover_label.height() - 4)
        o = self.orientation
        o["left"].move(2, (h - o["left"].height()) // 2)
        o["right"].move(w - o["right"].width() - 2, (h - o["right"].height()) // 2)
        o["top"].move((w - o["top"].width()) // 2, max(y, 12 + 2 * self.title_label.height()))
        o["bottom"].move((w - o["bottom"].width()) // 2, h - self.slice_label.height() - o["bottom"].height() - 8)


class ViewerPanel(QWidget):
    """The linked views of one station: STIR and T1 side by side or stacked, a third on
    demand; zoom, pan, fit and window/level for the keyboard (see the module docstring)."""

    focus_changed = Signal()
    layout_changed = Signal(str)  # the layout now in use ("side by side" or "stacked")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(2)
        self._layout = QBoxLayout(QBoxLayout.Direction.LeftToRight)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(4)
        outer.addLayout(self._layout, 1)
        #: The overlay's legend: the colour and name of each muscle on the lead view's slice.
        self.legend = QLabel(self)
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.legend.setWordWrap(True)
        self.legend.setStyleSheet("background: #263238; color: #eceff1; padding: 2px 6px; font-size: 11px;")
        self.legend.setVisible(False)
        outer.addWidget(self.legend)
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
        self.layout_mode = LAYOUTS[0]  # "automatic", "side by side" or "stacked"
        self.arrangement = "side by side"  # what is in use now
        #: The reader zoomed or panned: the views are not fitted, and selecting an item
        #: re-centres on its outline instead of fitting again.
        self.zoomed = False
        #: Fitting shows the current side only (when the item has one).
        self.side_zoom = False
        self.side: str | None = None
        self._projection_key: tuple[object, ...] | None = None
        self._projection: np.ndarray | None = None

    def show_message(self, text: str) -> None:
        self.clear()
        self.message.setText(text)
        self.message.setVisible(True)

    def clear(self) -> None:
        for view in self.views:
            self._layout.removeWidget(view)
            # Hidden and detached now: without a running event loop (scripts, tests) a
            # deleteLater may wait, and the old view would show under the new ones.
            view.hide()
            view.setParent(None)
            view.deleteLater()
        self.views = []
        self.station = None
        self.link = None
        self._projection_key = None

    def set_station(self, station: Station, windows: list[tuple[float, float]]) -> None:
        """Build one view per series of the station (the first two shown)."""
        self.clear()
        self.message.setVisible(False)
        self.driver = 0
        self.station = station
        self.link = SliceLink([s.volume for s in station.series])
        names = dict(station.label_map.names) if station.label_map is not None else {}
        lead_box: pg.ViewBox | None = None
        for index, (loaded, window) in enumerate(zip(station.series, windows, strict=True)):
            view = SliceView(self)
            frame = self.link.frames[index]
            view.set_series(loaded, frame.transform(loaded.volume), frame.labels(), window)
            view.label_names = names
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
        self._arrange()
        self.fit()

    def visible_views(self) -> list[SliceView]:
        return [v for i, v in enumerate(self.views) if i < 2 or (i == 2 and self.third_visible)]

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
        self._arrange()
        self._refit()
        return True

    # ------------------------------------------------------------------ layout
    def cycle_layout(self) -> str:
        """Automatic → side by side → stacked → automatic; returns the new mode."""
        self.layout_mode = LAYOUTS[(LAYOUTS.index(self.layout_mode) + 1) % len(LAYOUTS)]
        self._arrange()
        self._refit()
        return self.layout_mode

    def automatic_arrangement(self) -> str:
        """The layout that draws the body larger in this panel: each view gets a share of
        the width (side by side) or of the height (stacked); the body keeps its aspect."""
        count = max(len(self.visible_views()), 1)
        width, height = max(self.width(), 1), max(self.height(), 1)
        aspect = 1.0  # body width / height in mm; square field of view when unknown
        lead = self.views[0] if self.views else None
        if lead is not None and lead.loaded is not None and lead.loaded.body is not None:
            x0, x1, y0, y1 = lead.frame_box(lead.loaded.body.whole)
            aspect = max(x1 - x0, 1.0) / max(y1 - y0, 1.0)
        side_scale = min(width / count / aspect, height)
        stacked_scale = min(width / aspect, height / count)
        return "stacked" if stacked_scale > side_scale * 1.02 else "side by side"

    def _arrange(self) -> None:
        arrangement = self.automatic_arrangement() if self.layout_mode == "automatic" else self.layout_mode
        direction = (QBoxLayout.Direction.TopToBottom if arrangement == "stacked"
                     else QBoxLayout.Direction.LeftToRight)
        changed = arrangement != self.arrangement
        self.arrangement = arrangement
        if self._layout.direction() != direction:
            self._layout.setDirection(direction)
        self._layout.activate()
        for view in self.views:
            # Let the views take their new sizes now, so a fit right after uses them.
            view.graphics.resize(view.size())
        if changed:
            self.layout_changed.emit(arrangement)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self.views:
            self._arrange()
            self._refit()

    # ------------------------------------------------------------- zoom and pan
    def _boxes(self) -> list[tuple[SliceView, pg.ViewBox]]:
        """The lead view and every view not linked to it in plane (each moves on its own)."""
        if self.link is None:
            return []
        return [(view, view.view_box) for index, view in enumerate(self.views)
                if index == 0 or not self.link.linked_in_plane(index)]

    def view_range(self) -> tuple[tuple[float, float], tuple[float, float]]:
        """The lead view's ``((x0, x1), (y0, y1))`` in frame millimetres."""
        (x0, x1), (y0, y1) = self.views[0].view_box.viewRange()
        return (float(x0), float(x1)), (float(y0), float(y1))

    @staticmethod
    def _show_box(view_box: pg.ViewBox, box: tuple[float, float, float, float], margin: float) -> None:
        x0, x1, y0, y1 = box
        mx, my = (x1 - x0) * margin, (y1 - y0) * margin
        view_box.setRange(xRange=(x0 - mx, x1 + mx), yRange=(y0 - my, y1 + my), padding=0.0)

    def fit_field_of_view(self) -> None:
        """The whole image of each view (the field of view, background and all)."""
        for view, box in self._boxes():
            box.autoRange(items=[view.image_item], padding=0.0)
        self.zoomed = False

    def fit(self) -> None:
        """Fit to the body on the current station (one side of it with side zoom on);
        the field of view when no body was found."""
        if not self.views or self.link is None:
            return
        for view, view_box in self._boxes():
            body = view.loaded.body if view.loaded is not None else None
            if body is None:
                view_box.autoRange(items=[view.image_item], padding=0.0)
                continue
            pixels: Box | None = body.whole
            if self.side_zoom and self.side is not None and self.side in body.sides:
                pixels = body.side_box(self.side, self._unit_projection(view))
            self._show_box(view_box, view.frame_box(pixels or body.whole), BODY_MARGIN)
        self.zoomed = False

    def _unit_projection(self, view: SliceView) -> np.ndarray | None:
        """Pixels of the current unit on any slice of a view (cached per unit)."""
        values = view._outline_values
        if view.loaded is None or view.loaded.labels is None or not values:
            return None
        key = (id(view), values)
        if self._projection_key != key:
            self._projection_key = key
            self._projection = np.asarray(np.isin(view.loaded.labels, np.asarray(values)).any(axis=0))
        return self._projection

    def _refit(self) -> None:
        if not self.zoomed:
            self.fit()

    def set_side(self, side: str | None) -> None:
        """The side being scored (``"R"``, ``"L"`` or None), for side zoom."""
        self.side = side

    def toggle_side_zoom(self) -> bool:
        self.side_zoom = not self.side_zoom
        self.fit()
        return self.side_zoom

    def zoom(self, factor: float) -> None:
        """Zoom about the view's centre (``factor`` > 1: closer)."""
        for _view, box in self._boxes():
            box.scaleBy((1.0 / factor, 1.0 / factor))
        self.zoomed = True

    def pan(self, fx: float, fy: float) -> None:
        """Move what is shown by fractions of the view (``fx`` > 0: towards the right)."""
        for _view, box in self._boxes():
            (x0, x1), (y0, y1) = box.viewRange()
            box.translateBy(x=fx * (x1 - x0), y=fy * (y1 - y0))
        self.zoomed = True

    def unit_box(self) -> tuple[float, float, float, float] | None:
        """The outline's box on the lead view's slice, in frame mm (None: no outline here)."""
        if not self.views or self.views[0].outline_box is None:
            return None
        return self.views[0].frame_box(self.views[0].outline_box)

    def zoom_to_unit(self) -> bool:
        """The current unit's outline (with a margin) fills the views; False without one."""
        box = self.unit_box()
        if box is None or self.link is None:
            return False
        for index, (view, view_box) in enumerate(self._boxes()):
            own = box if index == 0 else (view.frame_box(view.outline_box) if view.outline_box else None)
            if own is not None:
                self._show_box(view_box, own, UNIT_MARGIN)
        self.zoomed = True
        return True

    def follow_item(self) -> None:
        """After the item changed: fit again (side zoom, not zoomed), or keep the zoom and
        re-centre on the new unit's outline (zooming out if it does not fit)."""
        if not self.views:
            return
        if not self.zoomed:
            self.fit()
            return
        box = self.unit_box()
        if box is None:
            return
        x0, x1, y0, y1 = box
        (v0, v1), (w0, w1) = self.view_range()
        if x1 - x0 > v1 - v0 or y1 - y0 > w1 - w0:
            self.zoom_to_unit()
            return
        self.views[0].view_box.translateBy(x=(x0 + x1) / 2 - (v0 + v1) / 2, y=(y0 + y1) / 2 - (w0 + w1) / 2)

    # ----------------------------------------------------------- window/level
    def step_window(self, width_factor: float, level_steps: float, sequence: str | None = None) -> list[SliceView]:
        """Step the window/level of the views showing ``sequence`` (all when none does)."""
        views = self.visible_views()
        chosen = [v for v in views if v.loaded is not None and v.loaded.kind.value == sequence] or views
        for view in chosen:
            view.step_window(width_factor, level_steps)
        return chosen

    # ----------------------------------------------------------------- slices
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
        self._show_legend()
        self.focus_changed.emit()

    def _show_legend(self) -> None:
        text = self.views[0].legend_html() if self.overlay_on and self.views else ""
        if text != self.legend.text():
            self.legend.setText(text)
        if bool(text) != self.legend.isVisibleTo(self):
            self.legend.setVisible(bool(text))

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

    def set_outline(self, values: tuple[int, ...],
                    mask_of: Callable[[np.ndarray], np.ndarray | None] | None = None) -> None:
        for view in self.views:
            view.set_outline(values, mask_of)

    def mark_sequence(self, sequence: str) -> None:
        """Mark the view(s) showing the sequence the current item is scored on."""
        for view in self.views:
            view.mark_scored(view.loaded is not None and view.loaded.kind.value == sequence)

    def set_overlay(self, on: bool) -> None:
        self.overlay_on = on
        for view in self.views:
            view.set_overlay(on)
        self._show_legend()

    def _on_wheel(self, view: SliceView, delta: int) -> None:
        self.step(delta, view)
