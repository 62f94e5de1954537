"""Frames of one SeriesInstanceUID → series records: split, deduplicated, ordered.

A series is split where its frames differ in orientation, image type, echo, matrix,
pixel spacing or multi-frame file (each part is its own record with ``split`` ``#1``,
``#2``…); within a part, slices are ordered by the projection of
``ImagePositionPatient`` on the slice normal and planned into a regular stack by
:func:`myoscore.imaging.geometry.plan_stack`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
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


def _split_groups(frames: list[Frame]) -> list[tuple[list[Frame], str]]:
    """Split one series' frames by orientation, image type, echo, matrix, multi-frame file."""
    orientation_ids = _cluster([f.orientation for f in frames], 1e-3)
    spacing_ids = _cluster([f.pixel_spacing for f in frames], 1e-3)
    keys = []
    for frame, orientation_id, spacing_id in zip(frames, orientation_ids, spacing_ids, strict=True):
        keys.append(
            (
                orientation_id,
                frame.image_type,
                frame.echo,
                (frame.rows, frame.columns),
                spacing_id,
                str(frame.path) if frame.multiframe else "",
            )
        )
    groups: dict[tuple[Any, ...], list[Frame]] = defaultdict(list)
    for key, frame in zip(keys, frames, strict=True):
        groups[key].append(frame)
    if len(groups) == 1:
        return [(frames, "")]
    # Name only the components that differ between the parts.
    ordered = sorted(groups.items(), key=lambda item: min(_order_key(f) for f in item[1]))
    differing = [
        i for i in range(6) if len({key[i] for key, _ in ordered}) > 1
    ]
    result = []
    for _key, members in ordered:
        first = members[0]
        parts = []
        for i in differing:
            if i == 0:
                parts.append(f"orientation {_plane_name(first.orientation)}")
            elif i == 1:
                image_type = "\\".join(first.image_type) or "(none)"
                parts.append(f"ImageType {image_type}")
            elif i == 2:
                parts.append(f"echo {first.echo:g}" if first.echo is not None else "echo (none)")
            elif i == 3:
                parts.append(f"matrix {first.rows}×{first.columns}")
            elif i == 4:
                spacing = first.pixel_spacing or ()
                parts.append(f"pixel spacing {'×'.join(f'{s:g}' for s in spacing)} mm")
            elif i == 5:
                parts.append(f"multi-frame file {first.path.name}")
        result.append((members, ", ".join(parts)))
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
    if first.echo is not None and first.fields.get("EchoTime") is None:
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
        issues.append(
            "no ImagePositionPatient: slices ordered by InstanceNumber, geometry approximate"
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
            rescale_slope=f.slope,
            rescale_intercept=f.intercept,
            dtype=f.dtype,
            native=f.native,
        )
        for f, p, loc in zip(frames, positions, locations, strict=True)
    )
    kind, reason = classify_series(fields)
    series_number = as_int(fields.get("SeriesNumber"))
    return SeriesRecord(
        study_uid=first.study_uid,
        series_uid=first.series_uid,
        split=split,
        source="dicom",
        modality=as_str(fields.get("Modality")),
        description=as_str(fields.get("SeriesDescription")),
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
        **first.identifying,
    )


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
