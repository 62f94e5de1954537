"""Keyboard viewing: fit to the body, zoom to the unit, pan, window/level, layouts, outlines, cards."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

from myoscore.phantom import NON_MUSCLE_LABELS
from tests.gui.gui_helpers import open_first_read, press

pytestmark = pytest.mark.gui


def width_height(window) -> tuple[float, float]:
    (x0, x1), (y0, y1) = window.viewer.view_range()
    return x1 - x0, y1 - y0


def centre(window) -> tuple[float, float]:
    (x0, x1), (y0, y1) = window.viewer.view_range()
    return (x0 + x1) / 2, (y0 + y1) / 2


def contains(outer: Sequence[Sequence[float]], box: Sequence[float], tol: float = 1e-6) -> bool:
    (x0, x1), (y0, y1) = outer
    bx0, bx1, by0, by1 = box
    return x0 - tol <= bx0 and bx1 <= x1 + tol and y0 - tol <= by0 and by1 <= y1 + tol


def go(window, key: str) -> None:
    window.session.go_to(key)
    window.broadcast(window.session.next_item() | window.session.previous_item())


def fill(window, box: Sequence[float]) -> float:
    """How much of the view the box fills in its limiting dimension (1.0: edge to edge)."""
    w, h = width_height(window)
    return max((box[1] - box[0]) / w, (box[3] - box[2]) / h)


def test_fit_to_body_not_the_field_of_view(qtbot, imaged_study, open_window) -> None:
    """A read opens fitted to the body found on the image; Shift+F shows the whole field of
    view (larger), F fits the body again: the body fills the view edge to edge within the margin."""
    window = open_window("B")
    open_first_read(qtbot, window)
    stir = window.viewer.views[0]
    body = stir.frame_box(stir.loaded.body.whole)
    fitted = width_height(window)
    assert contains(window.viewer.view_range(), body)
    assert fill(window, body) > 0.9
    press(qtbot, window, "Shift+F")
    fov = width_height(window)
    assert fov[0] > fitted[0] * 1.3
    assert fov[1] > fitted[1] * 1.3
    assert fill(window, body) < 0.75
    press(qtbot, window, "F")
    assert width_height(window) == pytest.approx(fitted, rel=1e-3)
    # The body box comes from the pixels: the phantom's background is outside it.
    r0, r1, c0, c1 = stir.loaded.body.whole
    voxels = np.asarray(stir.loaded.volume.voxels, dtype=float)
    outside = np.ones(voxels.shape[1:], dtype=bool)
    outside[r0:r1, c0:c1] = False
    assert voxels[:, outside].mean() < 0.1 * voxels[:, ~outside].mean()


def test_zoom_keys_and_zoom_to_unit(qtbot, imaged_study, open_window) -> None:
    """+ and - zoom by 1.25 about the centre; Z fills the view with the current unit's
    outline and a margin; moving to another item while zoomed re-centres on its outline."""
    window = open_window("B")
    open_first_read(qtbot, window)
    go(window, "edema.thigh.anterior.R")
    before_size, before_centre = width_height(window), centre(window)
    press(qtbot, window, "+")
    assert width_height(window)[1] == pytest.approx(before_size[1] / 1.25, rel=1e-3)
    assert centre(window) == pytest.approx(before_centre, abs=1e-3)
    press(qtbot, window, "-")
    assert width_height(window)[1] == pytest.approx(before_size[1], rel=1e-3)

    press(qtbot, window, "Z")
    unit = window.viewer.unit_box()
    assert unit is not None
    assert contains(window.viewer.view_range(), unit)
    assert width_height(window)[0] < before_size[0] * 0.9
    assert width_height(window)[1] < before_size[1] * 0.9
    assert 0.7 < fill(window, unit) < 0.8  # the outline and 15 % margin on each side
    assert window.viewer.zoomed

    press(qtbot, window, "Down", "Down")  # the left side, then the medial compartment, right
    assert window.session.item.key == "edema.thigh.medial.R"
    medial = window.viewer.unit_box()
    assert medial is not None
    assert medial != unit
    assert centre(window) == pytest.approx(((medial[0] + medial[1]) / 2, (medial[2] + medial[3]) / 2), abs=0.5)
    assert contains(window.viewer.view_range(), medial)


def test_pan_keys_move_by_a_fraction_of_the_view(qtbot, imaged_study, open_window) -> None:
    """Shift+arrows pan by 15 % of the view; the linked T1 view follows."""
    window = open_window("B")
    open_first_read(qtbot, window)
    press(qtbot, window, "+", "+")
    (x0, x1), (y0, y1) = window.viewer.view_range()
    press(qtbot, window, "Shift+Right")
    (u0, _u1), (v0, v1) = window.viewer.view_range()
    assert u0 - x0 == pytest.approx(0.15 * (x1 - x0), rel=1e-3)
    assert (v0, v1) == pytest.approx((y0, y1))
    press(qtbot, window, "Shift+Down", "Shift+Left")
    (a0, _a1), (b0, b1) = window.viewer.view_range()
    assert a0 == pytest.approx(x0, abs=1e-3)
    assert b0 - y0 == pytest.approx(0.15 * (y1 - y0), rel=1e-3)
    t1 = window.viewer.views[1]
    (_t0, _t1), (w0, w1) = t1.view_box.viewRange()
    assert (w0, w1) == pytest.approx((b0, b1), abs=1e-6)


def test_window_level_keys_step_with_the_window(qtbot, imaged_study, open_window) -> None:
    """] and [ widen and narrow the window of the sequence being scored by 1.25, keeping the
    level; . and , move the level by a tenth of the window; the T1 view is untouched."""
    window = open_window("B")
    open_first_read(qtbot, window)
    go(window, "edema.thigh.anterior.R")  # scored on STIR
    stir, t1 = window.viewer.views[:2]
    low, high = stir.levels
    t1_levels = t1.levels
    press(qtbot, window, "]")
    assert stir.levels[1] - stir.levels[0] == pytest.approx(1.25 * (high - low), rel=1e-6)
    assert sum(stir.levels) / 2 == pytest.approx((low + high) / 2, rel=1e-6)
    press(qtbot, window, "[", "[")
    width = stir.levels[1] - stir.levels[0]
    assert width == pytest.approx((high - low) / 1.25, rel=1e-6)
    level = sum(stir.levels) / 2
    press(qtbot, window, ".")
    assert sum(stir.levels) / 2 == pytest.approx(level + 0.1 * width, rel=1e-6)
    press(qtbot, window, ",", ",")
    assert sum(stir.levels) / 2 == pytest.approx(level - 0.1 * width, rel=1e-6)
    assert t1.levels == t1_levels
    assert f"W {width:.0f}" in stir.window_label.text()


def test_mouse_drag_across_the_view_changes_the_window_by_its_width(qtbot, imaged_study, open_window) -> None:
    """A left drag of the full view width doubles the window (not 200 px per doubling,
    compounding per event); 150 px down lowers the level by 150/height of a window."""
    window = open_window("B")
    open_first_read(qtbot, window)
    stir = window.viewer.views[0]
    low, high = stir.levels
    width, level = high - low, (high + low) / 2
    viewport = stir.graphics.viewport()
    start = QPoint(10, viewport.height() // 3)
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=start)
    steps = 20
    dx, dy = stir.graphics.width() - 20, 150
    for i in range(1, steps + 1):
        point = QPointF(start.x() + dx * i / steps, start.y() + dy * i / steps)
        move = QMouseEvent(QMouseEvent.Type.MouseMove, point, viewport.mapToGlobal(point), Qt.MouseButton.NoButton,
                           Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
        QApplication.sendEvent(viewport, move)
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=QPoint(start.x() + dx, start.y() + dy))
    new_width = stir.levels[1] - stir.levels[0]
    new_level = sum(stir.levels) / 2
    assert new_width == pytest.approx(width * (1 + dx / stir.graphics.width()), rel=0.05)
    assert new_level == pytest.approx(level - width * dy / stir.graphics.height(), rel=0.05)
    assert abs(new_level - level) < width  # 150 px never swings the level by more than a window


def test_side_zoom_fills_the_view_with_the_side_scored(qtbot, imaged_study, open_window) -> None:
    """Shift+S: the right leg fills the view on a right-side item (screen left), S switches to
    the left leg; Shift+S again shows both legs."""
    window = open_window("B")
    open_first_read(qtbot, window)
    go(window, "edema.thigh.anterior.R")
    press(qtbot, window, "L")  # side by side: portrait views, where one leg is much larger than two
    assert window.viewer.arrangement == "side by side"
    stir = window.viewer.views[0]
    both = width_height(window)
    press(qtbot, window, "Shift+S")
    right = stir.frame_box(stir.loaded.body.sides["R"])
    assert contains(window.viewer.view_range(), right)
    assert fill(window, right) > 0.9
    assert width_height(window)[0] < both[0] * 0.8
    right_centre = centre(window)
    press(qtbot, window, "S")
    assert window.session.item.side == "L"
    left = stir.frame_box(stir.loaded.body.sides["L"])
    assert contains(window.viewer.view_range(), left)
    assert centre(window)[0] > right_centre[0]  # patient left is on the screen's right
    press(qtbot, window, "Shift+S")
    assert width_height(window) == pytest.approx(both, rel=1e-3)


def test_layouts_follow_the_window_shape_and_the_key(qtbot, imaged_study, open_window) -> None:
    """A wide window puts STIR and T1 side by side, a tall one stacks them (STIR above);
    L cycles automatic → side by side → stacked → automatic."""
    window = open_window("B")
    open_first_read(qtbot, window)
    stir, t1 = window.viewer.views[:2]
    window.resize(1900, 640)
    window.splitter.setSizes([1650, 250])
    QApplication.processEvents()
    assert window.viewer.arrangement == "side by side"
    assert t1.x() > stir.x()
    assert t1.y() == stir.y()
    window.resize(1024, 1000)
    window.splitter.setSizes([700, 324])
    QApplication.processEvents()
    assert window.viewer.arrangement == "stacked"
    assert t1.y() > stir.y()
    assert t1.x() == stir.x()
    press(qtbot, window, "L")
    assert window.viewer.layout_mode == "side by side"
    QApplication.processEvents()
    assert t1.x() > stir.x()
    press(qtbot, window, "L")
    assert window.viewer.layout_mode == "stacked"
    press(qtbot, window, "L")
    assert window.viewer.layout_mode == "automatic"
    assert window.viewer.arrangement == "stacked"
    # Stacked in a tall panel draws the thigh larger than side by side would.
    stacked_fill = stir.graphics.width()
    assert stacked_fill > window.viewer.width() * 0.9


def test_outlines_follow_the_measure(qtbot, imaged_study, open_window) -> None:
    """Muscle edema outlines the compartment's muscles; subcutaneous edema the subcutaneous
    fat next to that compartment on that side; fascia edema the fascia next to it."""
    window = open_window("B")
    open_first_read(qtbot, window)
    stir = window.viewer.views[0]

    go(window, "edema.thigh.anterior.R")
    muscle_box = stir.outline_box
    assert muscle_box is not None
    go(window, "subcutaneous_edema.thigh.anterior.R")
    mask = stir._outline_mask_of(stir.loaded.labels[stir.current.index])
    labels = stir.loaded.labels[stir.current.index]
    assert mask.any()
    assert set(np.unique(labels[mask]).tolist()) == {NON_MUSCLE_LABELS["subcutaneous_fat"]}
    # The anterior sector: on the patient's right (screen left) and in front (top) of the leg.
    rows, cols = np.nonzero(mask)
    leg = (labels >= 100) & (labels < 200)
    leg_rows, _leg_cols = np.nonzero(leg)
    assert rows.mean() < leg_rows.mean()
    assert cols.max() < labels.shape[1] / 2 + 1
    go(window, "subcutaneous_edema.thigh.posterior.R")
    posterior = stir._outline_mask_of(labels)
    assert np.nonzero(posterior)[0].mean() > leg_rows.mean()
    assert not (posterior & mask).any()
    go(window, "fascia_edema.thigh.anterior.L")
    fascia = stir._outline_mask_of(labels)
    assert fascia.any()
    assert set(np.unique(labels[fascia]).tolist()) == {NON_MUSCLE_LABELS["fascia"]}
    assert np.nonzero(fascia)[1].min() > labels.shape[1] / 2 - 1  # the left leg, screen right
    assert stir.outline_item.isVisible()
    drawn = stir.outline_item.image  # the outline's RGBA crop, drawn where the mask's box is
    r0, r1, c0, c1 = stir.outline_box
    assert drawn.shape[:2] == (r1 - r0, c1 - c0)
    assert (drawn[..., 3] > 0).sum() > 0


def test_overlay_has_a_legend_and_names_the_muscle_under_the_mouse(qtbot, imaged_study, open_window) -> None:
    window = open_window("B")
    open_first_read(qtbot, window)
    press(qtbot, window, "O")
    stir = window.viewer.views[0]
    legend = window.viewer.legend
    assert legend.isVisible()
    assert stir.outline_item.image is not None
    assert stir.outline_item.boundingRect().width() > 0  # the outline stays drawn over the overlay
    assert "rectus&nbsp;femoris&nbsp;(thigh,&nbsp;anterior)" in legend.text()
    assert legend.geometry().top() >= max(v.geometry().bottom() for v in window.viewer.visible_views())
    labels = stir.loaded.labels[stir.current.index]
    value = int(np.bincount(labels[labels >= 100].ravel()).argmax())
    rows, cols = np.nonzero(labels == value)
    pixel = QPointF(cols[0] + 0.5, rows[0] + 0.5)
    stir._on_mouse_moved(stir.image_item.mapToScene(pixel))
    assert stir.hover_label.isVisible()
    name = stir.label_names[value].rpartition(":")[2].split(".")[-1].replace("_", " ")
    assert stir.hover_label.text().startswith(name)
    press(qtbot, window, "O")
    assert not legend.isVisible()
    assert not stir.hover_label.isVisible()


def test_scale_card_explains_the_levels_once(qtbot, imaged_study, open_window) -> None:
    """Edema levels show their label once (no "(score 2)" repeat) and a card that explains
    segmented vs global and mild vs moderate, with its source; C hides and shows the card."""
    window = open_window("B")
    open_first_read(qtbot, window)
    go(window, "edema.thigh.anterior.R")
    row = window.scoring.level_row("2")
    assert "(score 2)" not in row.text_label.text()
    assert row.text_label.text().count("segmented") == 1
    assert row.card_label.isVisible()
    card = row.card_label.text()
    assert "segment" in card
    assert "global" in card
    assert "mild" in card.lower()
    assert "moderate" in card.lower()
    assert "Reading note" in window.scoring._card(window.session.scale).source_label.text()
    press(qtbot, window, "C")
    assert not row.card_label.isVisible()
    assert "Moderate" in window.scoring.level_row("4").text_label.text()
    press(qtbot, window, "C")
    assert row.card_label.isVisible()


def test_small_window_keeps_names_whole_and_texts_apart(qtbot, imaged_study, open_window) -> None:
    """At 1024×640 the item column shows "Anterior compartment" and "Posterior compartment"
    whole; no two texts on a view overlap."""
    window = open_window("B")
    open_first_read(qtbot, window)
    window.resize(1024, 640)
    QApplication.processEvents()
    tree = window.scoring.tree
    metrics = tree.fontMetrics()
    for key in ("edema.thigh.anterior.R", "edema.thigh.posterior.R"):
        row = window.scoring._rows[key]
        needed = metrics.horizontalAdvance(row.text(0)) + tree.indentation() * 2
        assert tree.columnWidth(0) >= needed, row.text(0)
        assert row.toolTip(0) == window.session.protocol.item(key).title
    for view in window.viewer.visible_views():
        shown = [label for label in (view.title_label, view.window_label, view.link_label, view.slice_label,
                                     *view.orientation.values()) if label.isVisibleTo(view) and label.text()]
        for i, a in enumerate(shown):
            for b in shown[i + 1:]:
                assert not a.geometry().intersects(b.geometry()), (a.text(), b.text())


def test_next_exam_is_loaded_in_the_background_and_opens_at_once(qtbot, imaged_study, open_window) -> None:
    """While the reader scores the first exam, the worklist's next exam loads off the GUI
    thread; opening it shows its images within the open call, with no load task."""
    window = open_window("B")
    with qtbot.waitSignal(window.next_exam_ready, timeout=30_000) as ready:
        open_first_read(qtbot, window)
    next_id = ready.args[0]
    assert next_id == window.next_read_id()
    assert next_id != window.session.read_id
    press(qtbot, window, "Esc")
    assert window.pages.currentWidget() is window.worklist
    shown: list[bool] = []
    window.images_loaded.connect(lambda: shown.append(True))
    window.open_read(next_id)
    assert shown == [True]  # emitted inside open_read: no thread, no wait
    assert window.images is not None
    assert window.viewer.views
    assert window.viewer.views[0].current is not None
    assert window.image_cache.get(window.reader.image_sources(next_id)) is window.images
