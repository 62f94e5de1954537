"""Checks on one DICOM file's bytes: is it DICOM at all, where its pixels are, is it whole.

These run before any series logic, so that a damaged or foreign file becomes a
sentence naming what is wrong (and the bytes where it goes wrong) instead of an
exception later while loading.
"""

from __future__ import annotations

import struct
from typing import Any

from myoscore.imaging.dicom_tags import PIXEL_TAGS

__all__ = [
    "encapsulated_problem",
    "header_ends_cleanly",
    "looks_like_dicom_without_preamble",
    "native_dtype",
    "pixel_element",
    "skip_file_meta",
]

# Explicit VRs a Part 10 file meta element can have.
_META_VRS = {b"UL", b"OB", b"UI", b"SH", b"AE", b"SQ"}


def looks_like_dicom_without_preamble(head: bytes) -> bool:
    """A data set written without the 128-byte preamble and 'DICM' marker.

    Such a file starts straight with its file meta group (0002,xxxx, explicit VR) or,
    older still, with the data set's first element in group 0008 (either VR encoding).
    pydicom reads both with ``force=True``.
    """
    if len(head) < 8:
        return False
    group: int
    element: int
    group, element = struct.unpack("<HH", head[:4])
    if group == 0x0002:
        return bytes(head[4:6]) in _META_VRS
    return group == 0x0008 and element <= 0x0020


def skip_file_meta(fp: Any) -> int:
    """From the file's start, the offset just past the preamble, marker and file meta."""
    from pydicom.filereader import data_element_generator

    fp.seek(0)
    head = fp.read(132)
    start = 132 if head[128:132] == b"DICM" else 0
    fp.seek(start)
    first = fp.read(2)
    fp.seek(start)
    if len(first) == 2 and struct.unpack("<H", first)[0] == 0x0002:
        # The file meta group is always explicit VR little endian.
        for _ in data_element_generator(fp, False, True, stop_when=lambda tag, vr, length: tag >> 16 != 0x0002):
            pass
        start = fp.tell()
    return start


def pixel_element(fp: Any, size: int, little_endian: bool, implicit_vr: bool) -> tuple[int, int, int] | None:
    """At the current position: ``(tag, value offset, value length)`` of a pixel element."""
    start = fp.tell()
    head = fp.read(12)
    if len(head) < 8:
        return None
    endian = "<" if little_endian else ">"
    group, element = struct.unpack(endian + "HH", head[:4])
    tag = (group << 16) | element
    if tag not in PIXEL_TAGS:
        return None
    if implicit_vr:
        length = struct.unpack(endian + "I", head[4:8])[0]
        return tag, start + 8, length
    if len(head) < 12:
        return tag, size + 1, 0  # header itself cut short
    length = struct.unpack(endian + "I", head[8:12])[0]
    return tag, start + 12, length


def encapsulated_problem(fp: Any, offset: int, size: int, little_endian: bool) -> str | None:
    """Why encapsulated pixel data starting at ``offset`` is not whole, or None.

    pydicom's :func:`~pydicom.encaps.parse_fragments` walks the items (the basic offset
    table counts as the first); it stops quietly at the end of the file, so the last
    item's length and the sequence delimiter are checked here.
    """
    from pydicom.encaps import parse_fragments

    endian = "<" if little_endian else ">"
    fp.seek(offset)
    try:
        count, offsets = parse_fragments(fp, endianness=endian)
    except ValueError as exc:
        if "end of the data" in str(exc):
            return f"truncated: the file ends inside the compressed pixel data (at byte {size})"
        return f"corrupt compressed pixel data: {exc}"
    if not offsets:
        return f"truncated: the file ends inside the compressed pixel data (no fragment, at byte {size})"
    fp.seek(offsets[-1] + 4)
    length = struct.unpack(endian + "I", fp.read(4))[0]
    end = offsets[-1] + 8 + length
    if end > size:
        return (
            f"truncated: compressed pixel data fragment {count - 1} needs {length} bytes "
            f"but the file ends at byte {size}"
        )
    fp.seek(end)
    delimiter = fp.read(4)
    if len(delimiter) < 4:
        return (
            f"truncated: the file ends inside the compressed pixel data "
            f"(after {count - 1} fragment(s), at byte {size})"
        )
    if struct.unpack(endian + "HH", delimiter) != (0xFFFE, 0xE0DD):
        return f"corrupt compressed pixel data: unexpected tag at byte {end}"
    return None


def header_ends_cleanly(fp: Any, dataset: Any, size: int) -> bool:
    """True if the file's last data element ends exactly at the end of the file."""
    from pydicom.dataelem import DataElement
    from pydicom.filereader import data_element_generator

    implicit_vr, little_endian = dataset.original_encoding
    if implicit_vr is None or little_endian is None:
        return True
    start = skip_file_meta(fp)
    fp.seek(start)
    end = start
    for element in data_element_generator(fp, implicit_vr, little_endian, defer_size=0):
        # The generator yields a DataElement (which has no length field) only for a sequence
        # of undefined length, after reading it up to its delimiter.
        if isinstance(element, DataElement) or element.length == 0xFFFFFFFF:
            end = fp.tell()
        else:
            end = element.value_tell + element.length
    return end == size


def native_dtype(transfer_syntax: str, bits_allocated: int | None, signed: bool, samples: int) -> str | None:
    """numpy dtype of uncompressed pixel bytes in this transfer syntax, or None.

    None when the pixels must be decoded by pydicom (compressed syntaxes, deflate,
    unusual bit depths, colour).
    """
    from pydicom.uid import UID

    uid = UID(transfer_syntax)
    if not uid.is_transfer_syntax or uid.is_encapsulated or uid.is_deflated:
        return None
    if bits_allocated not in (8, 16, 32) or samples != 1:
        return None
    endian = "<" if uid.is_little_endian else ">"
    return f"{endian if bits_allocated > 8 else '|'}{'i' if signed else 'u'}{bits_allocated // 8}"
