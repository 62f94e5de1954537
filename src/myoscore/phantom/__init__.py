"""Synthetic exams with known truth, for the demo, tests and benchmarks.

Written as real DICOM (and NIfTI) by the project's own code, with label maps and a JSON
ground truth of every muscle's grades. Muscle keys come from the shipped atlases.

``limbs``
    :func:`write_phantom`: one subject's thigh-and-calf exam pair (baseline, follow-up),
    keys of the ``lower_limb_compartments`` atlas.
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

__all__ = [
    "MUSCLE_KEYS",
    "NON_MUSCLE_LABELS",
    "PhantomInfo",
    "PhantomSeries",
    "muscle_label",
    "write_phantom",
]
