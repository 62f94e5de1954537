"""The phantom package: its own layer, its muscle keys from the shipped atlas."""

from __future__ import annotations

import myoscore.phantom as phantom
from myoscore.phantom import MUSCLE_KEYS, muscle_label
from myoscore.phantom.atlas_keys import shipped_atlas


def test_public_api_is_explicit() -> None:
    """Every name in myoscore.phantom.__all__ exists, and nothing private is exported."""
    for name in phantom.__all__:
        assert hasattr(phantom, name), name
        assert not name.startswith("_")


def test_limb_phantom_draws_exactly_the_lower_limb_atlas_muscles() -> None:
    """MUSCLE_KEYS are the lower_limb_compartments atlas's muscles, in its order."""
    atlas = shipped_atlas("lower_limb_compartments")
    assert tuple(m.key for m in sorted(atlas.muscles, key=lambda m: m.order)) == MUSCLE_KEYS
    assert len(set(MUSCLE_KEYS)) == len(MUSCLE_KEYS) == 24


def test_label_values_are_per_side() -> None:
    """Right muscles are 100 + index, left 200 + index."""
    assert muscle_label(MUSCLE_KEYS[0], "R") == 100
    assert muscle_label(MUSCLE_KEYS[-1], "L") == 200 + len(MUSCLE_KEYS) - 1
