"""Linked views land on the same patient position; orientation letters come from the affine."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent, QWheelEvent
from PySide6.QtWidgets import QApplication

from myoscore.domain import Sequence
from myoscore.gui.linking import SliceLink
from myoscore.gui.settings import ViewSettings
from myoscore.imaging import Volume
from myoscore.phantom import MUSCLE_KEYS, muscle_label
from tests.gui.gui_helpers import open_first_read, press

pytestmark = pytest.mark.gui


def slice_z(volume: Volume, k: int) -> float:
    """Patient z (LPS, mm) of slice k, straight from the affine (independent of the viewer)."""
    return float(volume.index_to_patient((0.0, 0.0, float(k)))[2])


def slice_step(volume: Volume) -> float:
    return float(np.linalg.norm(volume.affine[:3, 2]))


def wheel(view, steps: int) -> None:
    """A real wheel event on a view's viewport (one notch per step)."""
    viewport = view.graphics.viewport()
    centre = QPointF(viewport.width() / 2, viewport.height() / 2)
    for _ in range(abs(steps)):
        event = QWheelEvent(centre, viewport.mapToGlobal(centre), QPoint(), QPoint(0, 120 if steps > 0 else -120),
                            Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase,
                            False)
        QApplication.sendEvent(viewport, event)


def test_linked_scrolling_lands_within_half_a_slice(qtbot, imaged_study, open_window) -> None:
    """STIR and T1 have different slice positions, spacing and matrix; stepping either one
    (keys on the lead, the wheel on the T1 view) puts the other on the nearest slice: the
    patient positions differ by at most half of the follower's slice step."""
    window = open_window("B")
    open_first_read(qtbot, window)
    stir, t1 = window.viewer.views[:2]
    assert stir.loaded.kind is Sequence.STIR
    assert t1.loaded.kind is Sequence.T1
    stir_volume, t1_volume = stir.loaded.volume, t1.loaded.volume
    assert stir_volume.shape != t1_volume.shape
    assert slice_step(stir_volume) != pytest.approx(slice_step(t1_volume))
    assert slice_z(stir_volume, 0) != pytest.approx(slice_z(t1_volume, 0))

    press(qtbot, window, *["Left"] * stir_volume.shape[0])
    assert stir.current.index == 0
    checked = 0
    for _ in range(stir_volume.shape[0] - 1):
        press(qtbot, window, "Right")
        if t1.current.inside:
            gap = abs(slice_z(stir_volume, stir.current.index) - slice_z(t1_volume, t1.current.index))
            assert gap <= slice_step(t1_volume) / 2 + 1e-6
            checked += 1
        assert f"slice {stir.current.index + 1}/{stir_volume.shape[0]}" in stir.slice_label.text()
    assert stir.current.index == stir_volume.shape[0] - 1
    assert checked >= stir_volume.shape[0] - 3

    # Now scroll the T1 view with the mouse wheel: the STIR view follows.
    wheel(t1, -t1_volume.shape[0])
    assert t1.current.index == 0
    seen = set()
    for _ in range(t1_volume.shape[0] - 1):
        wheel(t1, 1)
        seen.add(t1.current.index)
        if stir.current.inside:
            gap = abs(slice_z(stir_volume, stir.current.index) - slice_z(t1_volume, t1.current.index))
            assert gap <= slice_step(stir_volume) / 2 + 1e-6
    assert seen == set(range(1, t1_volume.shape[0]))  # every T1 slice reachable, none skipped
    assert "from T1" in stir.link_label.text() or "as T1" in stir.link_label.text()
    assert t1.link_label.text() == ""


def test_page_keys_step_five_and_zoom_is_linked(qtbot, imaged_study, open_window) -> None:
    window = open_window("B")
    open_first_read(qtbot, window)
    stir, t1 = window.viewer.views[:2]
    press(qtbot, window, *["Left"] * 12)
    press(qtbot, window, "PgUp")
    assert stir.current.index == 5
    press(qtbot, window, "PgDown")
    assert stir.current.index == 0
    def same_range() -> None:
        # Linked in patient millimetres: same centre and height; the width follows each
        # widget's aspect ratio (the views may differ by a pixel or two).
        (x0, x1), (y0, y1) = stir.view_box.viewRange()
        (u0, u1), (v0, v1) = t1.view_box.viewRange()
        assert (u0 + u1) / 2 == pytest.approx((x0 + x1) / 2, abs=0.5)
        assert (v0, v1) == pytest.approx((y0, y1), abs=1e-6)
        assert u1 - u0 == pytest.approx(x1 - x0, rel=0.02)

    zoomed_before = stir.view_box.viewRange()[1][1] - stir.view_box.viewRange()[1][0]
    stir.view_box.scaleBy((0.5, 0.5))
    QApplication.processEvents()
    assert stir.view_box.viewRange()[1][1] - stir.view_box.viewRange()[1][0] < zoomed_before
    same_range()
    stir.view_box.translateBy(x=20.0, y=-10.0)
    QApplication.processEvents()
    same_range()
    press(qtbot, window, "F")
    same_range()


def test_orientation_labels_match_the_known_different_leg(qtbot, imaged_study, phantom, open_window) -> None:
    """Axial phantom: R on the screen's left, L right, A top, P bottom; and the leg drawn on
    the side labelled R is the phantom's right leg — the bigger one, with the grade-5 edema
    of vastus lateralis that the left leg does not have (brighter on STIR)."""
    window = open_window("B")
    open_first_read(qtbot, window)
    truth = phantom.ground_truth["timepoints"]["baseline"]["edema"]
    assert truth["R"]["thigh.anterior.vastus_lateralis"] == 5
    assert truth["L"]["thigh.anterior.vastus_lateralis"] == 0
    window.session.go_to("edema.thigh.anterior.R")
    window.broadcast(window.session.next_item() | window.session.previous_item())
    stir = window.viewer.views[0]
    assert window.viewer.station.name == "Thigh"
    for view in window.viewer.views:
        texts = {edge: label.text() for edge, label in view.orientation.items()}
        assert texts == {"left": "R", "right": "L", "top": "A", "bottom": "P"}
        assert view.orientation["left"].x() < view.width() / 2 < view.orientation["right"].x()
        assert view.orientation["top"].y() < view.height() / 2 < view.orientation["bottom"].y()

    k = stir.current.index
    labels = stir.loaded.labels[k]
    image = np.asarray(stir.loaded.volume.voxels[k], dtype=float)
    right_vl = labels == muscle_label("thigh.anterior.vastus_lateralis", "R")
    left_vl = labels == muscle_label("thigh.anterior.vastus_lateralis", "L")
    assert right_vl.any()
    assert left_vl.any()
    assert image[right_vl].mean() > 1.3 * image[left_vl].mean()  # the edematous one
    right_leg = (labels >= 100) & (labels < 100 + len(MUSCLE_KEYS))
    left_leg = (labels >= 200) & (labels < 200 + len(MUSCLE_KEYS))
    assert right_leg.sum() > left_leg.sum()  # the left leg is 8 % smaller

    # Where these pixels land on screen: the right leg on the side whose letter is R.
    rows, cols = np.nonzero(right_vl)
    x_right = stir.screen_x_of_pixel(float(cols.mean()), float(rows.mean()))
    rows, cols = np.nonzero(left_vl)
    x_left = stir.screen_x_of_pixel(float(cols.mean()), float(rows.mean()))
    assert x_right < stir.width() / 2 < x_left
    assert abs(x_right - stir.orientation["left"].x()) < abs(x_right - stir.orientation["right"].x())
    # The scored unit is outlined on this slice.
    assert stir.outline_item.isVisible()


def test_flipped_series_gets_flipped_letters_and_lines_up() -> None:
    """A series stored with columns running right-to-left (affine column −x) is drawn in the
    lead's frame: the same patient point lands on the same frame coordinate, and its own
    letters (if drawn alone) are swapped."""
    rng = np.random.default_rng(1)
    voxels = rng.integers(0, 1000, size=(6, 20, 30)).astype(np.int16)
    affine = np.diag([2.0, 2.0, 5.0, 1.0])
    affine[:3, 3] = (-29.0, -19.0, -12.5)
    lead = Volume(voxels, affine)
    flipped_affine = affine.copy()
    flipped_affine[0, 0] = -2.0
    flipped_affine[0, 3] = 29.0
    flipped = Volume(voxels[:, :, ::-1], flipped_affine)
    link = SliceLink([lead, flipped])
    assert link.linked_in_plane(1)
    assert link.frame.labels() == ("R", "L", "A", "P")
    from myoscore.gui.linking import Frame

    assert Frame.of(flipped).labels() == ("L", "R", "A", "P")
    t_lead, t_flip = (np.array(link.frame.transform(v)) for v in (lead, flipped))

    def place(t: np.ndarray, i: float, j: float) -> tuple[float, float]:
        m11, m12, m21, m22, dx, dy = t
        x, y = i + 0.5, j + 0.5
        return (m11 * x + m21 * y + dx, m12 * x + m22 * y + dy)

    for i, j in ((0, 0), (7, 3), (29, 19)):
        point = lead.index_to_patient((i, j, 0))
        fi, fj, _ = flipped.patient_to_index(point)
        assert place(t_lead, i, j) == pytest.approx(place(t_flip, fi, fj))
        assert place(t_lead, i, j) == pytest.approx(link.frame.to_frame(point))


def test_window_level_drag_is_remembered_per_sequence(qtbot, imaged_study, open_window, settings_path) -> None:
    """A left drag changes the STIR window; the next window (same reader) opens with it; W resets."""
    window = open_window("B")
    open_first_read(qtbot, window)
    stir = window.viewer.views[0]
    before = stir.levels
    viewport = stir.graphics.viewport()
    start = QPointF(viewport.width() / 2, viewport.height() / 2)
    buttons = Qt.MouseButton.LeftButton
    events = [QMouseEvent(QMouseEvent.Type.MouseButtonPress, start, viewport.mapToGlobal(start), buttons, buttons,
                          Qt.KeyboardModifier.NoModifier)]
    for step in range(1, 6):
        point = start + QPointF(12 * step, 8 * step)
        events.append(QMouseEvent(QMouseEvent.Type.MouseMove, point, viewport.mapToGlobal(point),
                                  Qt.MouseButton.NoButton, buttons, Qt.KeyboardModifier.NoModifier))
    end = start + QPointF(60, 40)
    events.append(QMouseEvent(QMouseEvent.Type.MouseButtonRelease, end, viewport.mapToGlobal(end), buttons,
                              Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier))
    for event in events:
        QApplication.sendEvent(viewport, event)
    after = stir.levels
    assert after != before
    assert after[1] - after[0] > before[1] - before[0]  # dragged right: wider
    remembered = ViewSettings(settings_path).window("B", "STIR")
    assert remembered == pytest.approx(after, rel=1e-4)
    assert ViewSettings(settings_path).window("B", "T1") is None
    assert ViewSettings(settings_path).window("A", "STIR") is None
    window.close()

    again = open_window("B")
    open_first_read(qtbot, again)
    assert again.viewer.views[0].levels == pytest.approx(after, rel=1e-4)
    assert again.viewer.views[1].levels == pytest.approx(again.viewer.views[1].loaded.window)
    press(qtbot, again, "W")
    assert again.viewer.views[0].levels == pytest.approx(again.viewer.views[0].loaded.window)
    assert ViewSettings(settings_path).window("B", "STIR") is None


def test_items_move_the_views_to_their_station(qtbot, imaged_study, open_window) -> None:
    """Selecting a calf item switches to the calf station at the slice where that unit is
    largest; G switches stations by hand; O toggles the label overlay."""
    window = open_window("B")
    open_first_read(qtbot, window)
    assert window.viewer.station.name == "Thigh"
    window.broadcast(window.session.go_to("edema.calf.lateral.L"))
    assert window.viewer.station.name == "Calf"
    stir = window.viewer.views[0]
    labels = stir.loaded.labels
    values = window.viewer.station.label_map.values_for("calf.lateral", "L")
    areas = np.isin(labels, values).sum(axis=(1, 2))
    assert areas[stir.current.index] >= 0.8 * areas.max()
    assert stir.outline_item.isVisible()
    press(qtbot, window, "G")
    assert window.viewer.station.name == "Thigh"
    press(qtbot, window, "O")
    assert window.viewer.views[0].overlay_item.isVisible()
    press(qtbot, window, "O")
    assert not window.viewer.views[0].overlay_item.isVisible()


def test_third_series_on_demand(qtbot, imaged_study, phantom, open_window) -> None:
    """A third series of the station is hidden until T; then it is linked like the others."""
    thigh_t1 = phantom.get("baseline", "thigh", Sequence.T1)
    reader_read = open_window("B").reader.worklist()[-1]
    exam_id = next(r.exam_id for r in imaged_study.reads() if r.id == reader_read.id)  # readers see no exam id
    imaged_study.add_series(exam_id, "third:t1-nifti", Sequence.OTHER, description="t1 nifti copy",
                            files=[str(thigh_t1.nifti_path)])
    window = open_window("B")
    window.worklist.table.setCurrentCell(window.worklist._read_ids.index(reader_read.id), 0)
    open_first_read(qtbot, window)
    assert len(window.viewer.views) == 3
    third = window.viewer.views[2]
    assert not third.isVisible()
    press(qtbot, window, "T")
    assert third.isVisible()
    press(qtbot, window, "Right")
    t1 = window.viewer.views[1]
    assert third.current.index == t1.current.index  # the same grid as the T1 it copies
    assert {e: lbl.text() for e, lbl in third.orientation.items()} == {"left": "R", "right": "L", "top": "A",
                                                                      "bottom": "P"}
