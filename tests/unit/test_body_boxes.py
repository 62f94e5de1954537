"""The body found on an image (fit to body, side zoom) and what a measure outlines."""

from __future__ import annotations

import numpy as np

from myoscore.app.exam_images import LabelMap, body_boxes, measure_mask
from myoscore.imaging import Volume


def _disc(shape: tuple[int, int], row: float, col: float, radius: float) -> np.ndarray:
    rows, cols = np.indices(shape)
    return (rows - row) ** 2 + (cols - col) ** 2 <= radius**2


def _volume(image: np.ndarray, slices: int = 3) -> Volume:
    """An axial stack of one image: columns run to the patient's left (+x, LPS)."""
    return Volume(np.repeat(image[None], slices, axis=0).astype(np.float32), np.diag([2.0, 2.0, 5.0, 1.0]))


def test_body_is_the_tissue_not_the_field_of_view() -> None:
    """Two legs on noise: the body box is the legs' box; a noise speck is left out; each side's
    box is one leg (patient right = low x = the screen's left)."""
    rng = np.random.default_rng(1)
    image = rng.uniform(0, 30, (120, 200))
    image[_disc(image.shape, 60, 50, 25)] = 500
    image[_disc(image.shape, 60, 150, 22)] = 500
    image[5:8, 5:8] = 600  # a bright speck in a corner
    body = body_boxes(_volume(image), (0.0, 600.0))
    assert body is not None
    r0, r1, c0, c1 = body.whole
    assert (r0, r1) == (35, 86)
    assert (c0, c1) == (25, 173)
    assert body.sides["R"][2:] == (25, 76)
    assert body.sides["L"][2:] == (128, 173)


def test_side_box_of_an_arm_muscle_is_the_arm() -> None:
    """Trunk with two arms: an arm muscle's side box is that arm; a trunk muscle's is the
    trunk's half on that side; without a unit, the whole side."""
    image = np.zeros((120, 240))
    image[_disc(image.shape, 60, 120, 45)] = 400  # trunk
    image[_disc(image.shape, 60, 30, 18)] = 400  # right arm (low x)
    image[_disc(image.shape, 60, 210, 18)] = 400  # left arm
    body = body_boxes(_volume(image), (0.0, 400.0))
    assert body is not None
    arm = _disc(image.shape, 60, 30, 8)
    assert body.side_box("R", arm) == (42, 79, 12, 49)
    trunk_muscle = _disc(image.shape, 60, 100, 8)
    trunk_box = body.side_box("R", trunk_muscle)
    assert trunk_box is not None
    assert trunk_box[2:] == (75, 120)
    whole_side = body.side_box("R")
    assert whole_side == body.sides["R"]
    assert whole_side is not None
    assert whole_side[2] == 12


def test_subcutaneous_sector_and_fascia_by_nearest_muscle() -> None:
    """A generic subcutaneous-fat label is split by nearest muscle: the sector next to the
    anterior muscle (top) belongs to the anterior compartment, not to the posterior one."""
    shape = (60, 60)
    labels = np.zeros(shape, dtype=np.int16)
    labels[_disc(shape, 30, 30, 26)] = 2  # subcutaneous fat
    labels[_disc(shape, 30, 30, 20)] = 3  # fascia
    labels[_disc(shape, 30, 30, 19)] = 4  # intermuscular fat
    labels[_disc(shape, 20, 30, 8)] = 100  # anterior muscle (top rows)
    labels[_disc(shape, 40, 30, 8)] = 101  # posterior muscle
    label_map = LabelMap(_volume(labels.astype(np.float32)), {2: "subcutaneous_fat", 3: "fascia"}, {
        ("subcutaneous_fat", None): (2,), ("fascia", None): (3,),
        ("thigh", "R"): (100, 101), ("thigh.anterior", "R"): (100,), ("thigh.posterior", "R"): (101,)})
    front = measure_mask(labels, label_map, "thigh.anterior", "R", "subcutaneous_edema")
    back = measure_mask(labels, label_map, "thigh.posterior", "R", "subcutaneous_edema")
    assert front is not None
    assert back is not None
    assert front.any()
    assert back.any()
    assert not (front & back).any()
    assert (front | back).sum() == (labels == 2).sum()
    assert np.nonzero(front)[0].mean() < 30 < np.nonzero(back)[0].mean()
    fascia = measure_mask(labels, label_map, "thigh.anterior", "R", "fascia_edema")
    assert set(np.unique(labels[fascia]).tolist()) == {3}
    assert measure_mask(labels, label_map, "thigh.anterior", "R", "edema") is None
    # Labelled per compartment: used as they are.
    own = LabelMap(label_map.volume, {}, {**label_map.units, ("thigh.anterior.fascia", "R"): (4,)})
    assert (measure_mask(labels, own, "thigh.anterior", "R", "fascia_edema") == (labels == 4)).all()
