"""The phantoms' muscle keys, taken from the shipped atlases (never a private list)."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache

from myoscore.domain import MyoscoreError
from myoscore.resources import schemes_dir
from myoscore.schemes import Atlas, load_atlas

__all__ = ["atlas_muscle_keys", "shipped_atlas"]


@cache
def shipped_atlas(name: str) -> Atlas:
    """A shipped atlas (``scoring_schemes/atlases/<name>.toml``), loaded once."""
    return load_atlas(schemes_dir() / "atlases" / f"{name}.toml")


def atlas_muscle_keys(atlas_name: str, regions: Mapping[str, tuple[str, ...]]) -> dict[str, dict[str, str]]:
    """For each phantom region, the atlas's muscles there: last key part → full key.

    ``regions`` maps a phantom region to the atlas region keys it draws (the first one
    the atlas has is used), e.g. ``{"calf": ("calf", "leg")}``. Muscles come in the
    atlas's order, so label values follow the atlas.
    """
    atlas = shipped_atlas(atlas_name)
    present = {region.key for region in atlas.regions}
    result: dict[str, dict[str, str]] = {}
    for phantom_region, candidates in regions.items():
        region = next((key for key in candidates if key in present), None)
        if region is None:
            raise MyoscoreError(f"atlas {atlas_name} has no region {' or '.join(candidates)} for the phantom")
        result[phantom_region] = {
            muscle.key.rsplit(".", 1)[-1]: muscle.key
            for muscle in sorted(atlas.muscles, key=lambda m: m.order)
            if muscle.region == region
        }
    return result
