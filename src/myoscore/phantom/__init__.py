"""Synthetic exams with known truth, for the demo, tests and benchmarks.

Written as real DICOM (and NIfTI) by the project's own code, with label maps and a JSON
ground truth of every muscle's grades. Muscle keys come from the shipped atlases.

``limbs``
    :func:`write_phantom`: one subject's thigh-and-calf exam pair (baseline, follow-up),
    keys of the ``lower_limb_compartments`` atlas.
``whole_body``
    :func:`write_whole_body_phantom`: one subject's whole-body exam pair in six
    overlapping stations, keys of the ``whole_body_muscles`` atlas (seed 004).
``atlas_keys``
    The muscles of a shipped atlas, per region, in the atlas's order.

The phantom sits above ``imaging`` (it uses its Volume and NIfTI writer) and writes DICOM
with pydicom itself: writing synthetic files is its one job.
"""

from myoscore.phantom.limbs import (
    MUSCLE_KEYS,
    NON_MUSCLE_LABELS,
    PhantomInfo,
    PhantomSeries,
    muscle_label,
    write_phantom,
)
from myoscore.phantom.whole_body import (
    STATIONS,
    WB_MUSCLE_KEYS,
    WholeBodyInfo,
    WholeBodySeries,
    wb_muscle_label,
    write_whole_body_phantom,
)

__all__ = [
    "MUSCLE_KEYS",
    "NON_MUSCLE_LABELS",
    "STATIONS",
    "WB_MUSCLE_KEYS",
    "PhantomInfo",
    "PhantomSeries",
    "WholeBodyInfo",
    "WholeBodySeries",
    "muscle_label",
    "wb_muscle_label",
    "write_phantom",
    "write_whole_body_phantom",
]
