"""Frames of one SeriesInstanceUID → series records: split, deduplicated, ordered.

A series is split where its frames differ in orientation, image type, echo, matrix,
pixel spacing or multi-frame file (each part is its own record with ``split`` ``#1``,
``#2``…); within a part, slices are ordered by the projection of
``ImagePositionPatient`` on the slice normal and planned into a regular stack by
:func:`myoscore.imaging.geometry.plan_stack`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

from myoscore.imaging.classify import classify_series
from myoscore.imaging.dicom_header import Frame
from myoscore.imaging.dicom_values import as_float, as_int, as_str
from myoscore.imaging.geometry import plan_stack, slice_normal
from myoscore.imaging.records import SeriesRecord, SliceRef

__all__ = ["records_from_series"]


def _cluster(values: list[tuple[float, ...] | None], tolerance: float) -> list[int]:
    """Cluster ids for vectors that agree within ``tolerance`` (None forms its own)."""
    centres: list[tuple[float, ...] | None] = []
    ids = []
    for value in values:
        match = None
        for index, centre in enumerate(centres):
            if value is None or centre is None:
                if value is centre:
                    match = index
                    break
                continue
            if max(abs(a - b) for a, b in zip(value, centre, strict=True)) <= tolerance:
                match = index
                break
        if match is None:
            centres.append(value)
            match = len(centres) - 1
        ids.append(match)
    return ids


def _plane_name(orientation: tuple[float, ...] | None) -> str:
    if orientation is None:
        return "unknown orientation"
    normal = np.abs(slice_normal(orientation))
    axis = int(np.argmax(normal))
    if normal[axis] < 0.866:
        return "oblique"
    return ("sagittal", "coronal", "axial")[axis]


def _echo_text(frame: Frame) -> str:
    if frame.echo is None:
        return "echo (none)"
    if frame.echo_time is not None and frame.echo != frame.echo_time:
        return f"echo {frame.echo:g}, TE {frame.echo_time:g} ms"
    return f"echo TE {frame.echo:g} ms" if frame.multiframe else f"echo {frame.echo:g}"


# The components a series is split by, each with the words naming a part. Two series
# that share one SeriesInstanceUID still differ in SeriesNumber; an enhanced file holds
# several stacks (StackID) or echoes; a multi-frame file is always its own part.
_Component = tuple[str, Callable[[Frame], Any] | None, Callable[[Frame], str]]
_STRONG: tuple[_Component, ...] = (
    ("series_number", lambda f: f.series_number, lambda f: f"SeriesNumber {f.series_number}"),
    ("orientation", None, lambda f: f"orientation {_plane_name(f.orientation)}"),
    ("image_type", lambda f: f.image_type, lambda f: "ImageType " + ("\\".join(f.image_type) or "(none)")),
    ("echo", lambda f: f.echo, _echo_text),
    ("matrix", lambda f: (f.rows, f.columns), lambda f: f"matrix {f.rows}×{f.columns}"),
    ("spacing", None, lambda f: f"pixel spacing {'×'.join(f'{s:g}' for s in f.pixel_spacing or ())} mm"),
    ("stack", lambda f: f.stack, lambda f: f"stack {f.stack or '(none)'}"),
    ("file", lambda f: str(f.path) if f.multiframe else "", lambda f: f"multi-frame file {f.path.name}"),
)

# What tells the volumes of a 4-D series apart when positions repeat, tried in order.
_FOURTH: tuple[tuple[str, Callable[[Frame], Any], Callable[[Frame], str]], ...] = (
    ("echo_time", lambda f: f.echo_time, lambda f: f"TE {f.echo_time:g} ms"),
    ("temporal", lambda f: f.temporal, lambda f: f"temporal position {f.temporal}"),
    ("b_value", lambda f: f.b_value, lambda f: f"b-value {f.b_value:g}"),
    ("acquisition", lambda f: f.acquisition, lambda f: f"acquisition {f.acquisition}"),
)


def _strong_keys(frames: list[Frame]) -> list[tuple[Any, ...]]:
    orientation_ids = _cluster([f.orientation for f in frames], 1e-3)
    spacing_ids = _cluster([f.pixel_spacing for f in frames], 1e-3)
    keys = []
    for frame, orientation_id, spacing_id in zip(frames, orientation_ids, spacing_ids, strict=True):
        values = []
        for name, key, _ in _STRONG:
            if name == "orientation":
                values.append(orientation_id)
            elif name == "spacing":
                values.append(spacing_id)
            else:
                assert key is not None
                values.append(key(frame))
        keys.append(tuple(values))
    return keys


def _distinct(frames: list[Frame]) -> list[Frame]:
    """Without copies of one SOP instance (kept once later, with an issue)."""
    seen: set[tuple[str, int | None]] = set()
    out = []
    for frame in frames:
        key = (frame.sop_uid, frame.frame)
        if frame.sop_uid and key in seen:
            continue
        seen.add(key)
        out.append(frame)
    return out


def _location_counts(frames: list[Frame]) -> dict[float, list[Frame]] | None:
    """Frames by rounded location along the normal, or None when geometry is missing."""
    if not frames or frames[0].orientation is None or any(f.position is None for f in frames):
        return None
    try:
        normal = slice_normal(frames[0].orientation)
    except ValueError:
        return None
    by_location: dict[float, list[Frame]] = defaultdict(list)
    for frame in frames:
        assert frame.position is not None
        by_location[round(float(np.dot(frame.position, normal)), 2)].append(frame)
    return by_location


def _has_duplicates(frames: list[Frame]) -> bool:
    counts = _location_counts(_distinct(frames))
    return counts is not None and any(len(v) > 1 for v in counts.values())


def _split_fourth(frames: list[Frame]) -> list[tuple[list[Frame], str]]:
    """Split a part whose positions repeat into one volume per echo/repetition.

    The first of :data:`_FOURTH` that leaves no repeated position wins; if none does
    but every position occurs the same number of times, the k-th image at each position
    (in acquisition, temporal, instance order) is repetition k. Otherwise the part is
    left whole, and loading refuses it naming the duplicated positions.
    """
    if not _has_duplicates(frames):
        return [(frames, "")]
    for _name, key, describe in _FOURTH:
        groups: dict[Any, list[Frame]] = defaultdict(list)
        for frame in frames:
            groups[key(frame)].append(frame)
        if len(groups) > 1 and not any(_has_duplicates(g) for g in groups.values()):
            ordered = sorted(groups.values(), key=lambda g: (key(g[0]) is None, key(g[0]) or 0))
            return [(members, describe(members[0])) for members in ordered]
    distinct = _distinct(frames)
    counts = _location_counts(distinct)
    if counts is None:
        return [(frames, "")]
    sizes = {len(v) for v in counts.values()}
    if len(sizes) != 1:
        return [(frames, "")]
    n = sizes.pop()
    repetitions: list[list[Frame]] = [[] for _ in range(n)]
    for at_location in counts.values():
        in_order = sorted(at_location, key=lambda f: (f.acquisition or 0, f.temporal or 0, *_order_key(f)))
        for k, frame in enumerate(in_order):
            repetitions[k].append(frame)
    return [(members, f"repetition {k} of {n}") for k, members in enumerate(repetitions, start=1)]


def _split_groups(frames: list[Frame]) -> list[tuple[list[Frame], str]]:
    """Split one UID's frames by the strong components, then 4-D parts by the fourth axis."""
    keys = _strong_keys(frames)
    groups: dict[tuple[Any, ...], list[Frame]] = defaultdict(list)
    for key, frame in zip(keys, frames, strict=True):
        groups[key].append(frame)
    ordered = sorted(groups.items(), key=lambda item: min(_order_key(f) for f in item[1]))
    # Name only the components that differ between the parts.
    differing = [i for i in range(len(_STRONG)) if len({key[i] for key, _ in ordered}) > 1]
    result = []
    for _key, members in ordered:
        first = members[0]
        reason = ", ".join(_STRONG[i][2](first) for i in differing)
        for sub, fourth in _split_fourth(members):
            result.append((sub, ", ".join(r for r in (reason, fourth) if r)))
    return result


def _order_key(frame: Frame) -> tuple[int, str, int]:
    return (frame.instance_number or 0, str(frame.path), frame.frame or 0)


def _spacing_fallback(fields: Mapping[str, Any]) -> float:
    for value in (fields.get("SpacingBetweenSlices"), fields.get("SliceThickness")):
        number = as_float(value)
        if number:
            return abs(number)
    return 1.0


def _record_from_frames(
    members: list[Frame], split: str, split_reason: str, split_note: str | None
) -> SeriesRecord:
    issues: list[str] = []
    if split_note:
        issues.append(split_note)
    first = members[0]
    fields = dict(first.fields)
    fields["ImageType"] = first.image_type
    fields["SeriesNumber"] = first.series_number
    if first.echo_time is not None:
        fields["EchoTime"] = first.echo_time  # this part's, not the first file's of the UID
    elif first.echo is not None and first.fields.get("EchoTime") is None:
        fields["EchoTime"] = first.echo

    # Identical SOP instances (the same image copied twice): keep the first.
    unique: dict[tuple[str, int | None], Frame] = {}
    for frame in sorted(members, key=_order_key):
        key = (frame.sop_uid, frame.frame)
        if frame.sop_uid and key in unique:
            issues.append(
                f"same image twice: {frame.path} is a copy of {unique[key].path} "
                f"(SOPInstanceUID {frame.sop_uid}); the copy is ignored"
            )
            continue
        unique[key] = frame
    frames = list(unique.values())

    orientation = first.orientation
    if orientation is None:
        orientation = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)
        issues.append("no ImageOrientationPatient: axial orientation assumed, labels may be wrong")
    normal = slice_normal(orientation)
    if any(f.position is None for f in frames):
        broken = [f for f in frames if f.position_problem]
        if broken:
            shown = ", ".join(f"{f.label}: {f.position_problem}" for f in broken[:3])
            more = f" and {len(broken) - 3} more" if len(broken) > 3 else ""
            issues.append(
                f"unusable ImagePositionPatient in {len(broken)} image(s) ({shown}{more}): slices ordered "
                "by InstanceNumber, geometry approximate"
            )
        else:
            missing = [f.label for f in frames if f.position is None]
            issues.append(
                f"no ImagePositionPatient in {len(missing)} image(s) (first {missing[0]}): slices ordered by "
                "InstanceNumber, geometry approximate"
            )
        frames.sort(key=_order_key)
        step = _spacing_fallback(fields)
        positions = [tuple(float(v) for v in normal * step * k) for k in range(len(frames))]
    else:
        positions = [f.position for f in frames if f.position is not None]  # all of them (checked above)
    locations = [float(np.dot(p, normal)) for p in positions]
    order = sorted(range(len(frames)), key=lambda i: (locations[i], _order_key(frames[i])))
    frames = [frames[i] for i in order]
    positions = [positions[i] for i in order]
    locations = [locations[i] for i in order]

    labels = [
        f.path.name if f.frame is None else f"{f.path.name}[frame {f.frame + 1}]" for f in frames
    ]
    plan = plan_stack(locations, labels)
    issues.extend(plan.issues)

    notes: dict[str, list[Path]] = defaultdict(list)
    for frame in frames:
        for note in frame.notes:
            notes[note].append(frame.path)
    for note, paths in notes.items():
        unique_paths = list(dict.fromkeys(paths))
        issues.append(
            f"header warning in {len(unique_paths)} file(s) (first {unique_paths[0].name}): {note}"
        )

    pixel_spacing = first.pixel_spacing
    if pixel_spacing is None:
        pixel_spacing = (1.0, 1.0)
        issues.append("no PixelSpacing: 1 mm pixels assumed")
    z_spacing = plan.step if len(frames) > 1 else _spacing_fallback(fields)

    slices = tuple(
        SliceRef(
            path=f.path,
            frame=f.frame,
            position=(float(p[0]), float(p[1]), float(p[2])),
            location=loc,
            instance_number=f.instance_number,
            rescale_slope=f.scaling.slope,
            rescale_intercept=f.scaling.intercept,
            dtype=f.dtype,
            real_slope=f.scaling.real_slope,
            real_intercept=f.scaling.real_intercept,
            native=f.native,
        )
        for f, p, loc in zip(frames, positions, locations, strict=True)
    )
    scaling_notes = dict.fromkeys(note for f in frames for note in f.scaling.notes)
    issues.extend(f"intensity scaling: {note}" for note in scaling_notes)
    differing = [f.scaling for f in frames if f.scaling.differs]
    if differing:
        source, units = differing[0].real_source, differing[0].real_units
        fields["real_world_source"] = source
        fields["real_world_units"] = units
        issues.append(
            f"intensities: display values (stored × RescaleSlope + RescaleIntercept) are shown; the "
            f"real-world values ({source}{', ' + units if units else ''}) differ and are loaded with "
            "values='real_world' (CLI: --values real-world)"
        )
    if split_reason:
        fields["series_part"] = split_reason
    kind, reason = classify_series(fields)
    series_number = as_int(fields.get("SeriesNumber"))
    return SeriesRecord(
        study_uid=first.study_uid,
        series_uid=first.series_uid,
        split=split,
        source="dicom",
        modality=as_str(fields.get("Modality")),
        description=_described(as_str(fields.get("SeriesDescription")), split_reason),
        protocol_name=as_str(fields.get("ProtocolName")),
        series_number=series_number,
        kind=kind,
        kind_reason=reason,
        paths=tuple(dict.fromkeys(f.path for f in frames)),
        slices=slices,
        shape=(plan.n_slots, first.rows, first.columns),
        spacing=(float(pixel_spacing[1]), float(pixel_spacing[0]), float(z_spacing)),
        orientation=tuple(float(v) for v in orientation),
        issues=tuple(issues),
        split_reason=split_reason,
        header=MappingProxyType(fields),
        affine=(),  # DICOM: the affine follows from the slices
        **first.identifying,
    )


def _described(description: str, part: str) -> str:
    """The series description with the part it is, e.g. ``"T2 map (echo 2, TE 20 ms)"``."""
    if not part:
        return description
    return f"{description} ({part})" if description else f"({part})"


def records_from_series(frames: list[Frame]) -> list[SeriesRecord]:
    groups = _split_groups(frames)
    if len(groups) == 1:
        return [_record_from_frames(groups[0][0], "", "", None)]
    reasons = "; ".join(reason for _, reason in groups)
    note = f"series split into {len(groups)} parts ({reasons})"
    return [
        _record_from_frames(members, f"#{i}", reason, note)
        for i, (members, reason) in enumerate(groups, start=1)
    ]
