"""Decide a series' sequence kind (STIR, T1, T2, Dixon W/F/IP/OP, other) from its header.

Rules, first match wins; the reason names the fields that decided:

1. **Dixon** — a Dixon marker (``DIXON``/``IDEAL``/``FLEX``/``mDIXON`` in ImageType,
   SeriesDescription or ProtocolName) and a component: ImageType values ``W``/``WATER``,
   ``F``/``FAT``, ``IP``/``IN_PHASE``, ``OP``/``OUT_PHASE``/``OPP_PHASE`` (Siemens, GE,
   Philips ``W_FFE``-style), else a component word in the description (``_W``, ``fat``,
   ``in``, ``opp``). ImageType ``WATER``/``FAT``/``IN_PHASE``/``OUT_PHASE`` alone is enough.
2. **Inversion recovery by timing** — InversionTime 80–300 ms with TR ≥ 1500 ms is a
   short-tau inversion recovery: STIR. InversionTime 300–1500 ms with TR < 3000 ms is a
   T1-weighted inversion recovery (MPRAGE-like): T1. Longer TI (FLAIR): other.
3. **Description words** — ``STIR``/``TIRM``/``TIR`` → STIR; ``T1`` → T1; ``T2`` → T2
   (matched as words, so ``t1_tse_tra`` and ``T1W`` count and ``T12`` does not).
4. **Timing** — TR < 1000 ms and TE < 30 ms → T1; TR ≥ 1500 ms and TE ≥ 60 ms → T2.
5. Otherwise other, with the values that were seen.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from myoscore.domain import Sequence

__all__ = ["classify_series", "kind_from_name"]

_DIXON_MARKERS = ("DIXON", "IDEAL", "FLEX")

# ImageType values (also the first part of Philips "W_FFE"-style values).
_IMAGE_TYPE_COMPONENTS: dict[str, Sequence] = {
    "W": Sequence.DIXON_WATER,
    "WATER": Sequence.DIXON_WATER,
    "F": Sequence.DIXON_FAT,
    "FAT": Sequence.DIXON_FAT,
    "IP": Sequence.DIXON_IN,
    "IN": Sequence.DIXON_IN,
    "IN_PHASE": Sequence.DIXON_IN,
    "INPHASE": Sequence.DIXON_IN,
    "OP": Sequence.DIXON_OUT,
    "OUT": Sequence.DIXON_OUT,
    "OPP": Sequence.DIXON_OUT,
    "OUT_PHASE": Sequence.DIXON_OUT,
    "OPP_PHASE": Sequence.DIXON_OUT,
    "OUTPHASE": Sequence.DIXON_OUT,
    "OPPPHASE": Sequence.DIXON_OUT,
}
# Values that name a Dixon component without any other marker.
_UNAMBIGUOUS_COMPONENTS = ("WATER", "FAT", "IN_PHASE", "OUT_PHASE", "OPP_PHASE")

# Words in a description, lower case. Longer words first so "water" is not "w".
_DESCRIPTION_COMPONENTS: tuple[tuple[str, Sequence], ...] = (
    ("water", Sequence.DIXON_WATER),
    ("fat", Sequence.DIXON_FAT),
    ("inphase", Sequence.DIXON_IN),
    ("in_phase", Sequence.DIXON_IN),
    ("outphase", Sequence.DIXON_OUT),
    ("out_phase", Sequence.DIXON_OUT),
    ("opp", Sequence.DIXON_OUT),
    ("op", Sequence.DIXON_OUT),
    ("out", Sequence.DIXON_OUT),
    ("ip", Sequence.DIXON_IN),
    ("in", Sequence.DIXON_IN),
    ("w", Sequence.DIXON_WATER),
    ("f", Sequence.DIXON_FAT),
)


def _word(pattern: str) -> re.Pattern[str]:
    # A "word" here is bounded by anything that is not a letter or digit, so the
    # underscores of vendor names ("t1_tse_tra", "mDIXON_W") are boundaries too.
    return re.compile(rf"(?<![a-z0-9]){pattern}(?![a-z0-9])", re.IGNORECASE)


_STIR_WORDS = _word(r"(stir|tirm|tir)")
_T1_WORDS = _word(r"t1(w|_?weighted)?")
_T2_WORDS = _word(r"t2(w|_?weighted)?")
_T2_FLAIR = _word(r"flair")


def _number(value: Any) -> float | None:
    """A header number as float; ``None`` for absent, empty or unparseable values."""
    if value is None or value == "":
        return None
    if isinstance(value, (list, tuple)):
        value = value[0] if value else None
        if value is None:
            return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number


def _tokens(value: Any) -> list[str]:
    """Multi-valued header text (``"ORIGINAL\\PRIMARY\\M"`` or a list) as upper tokens."""
    if value is None:
        return []
    if isinstance(value, str):
        parts: Iterable[Any] = value.split("\\")
    elif isinstance(value, Iterable):
        parts = value
    else:
        parts = [value]
    return [str(p).strip().upper() for p in parts if str(p).strip()]


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return " ".join(str(v) for v in value)
    return str(value)


def _fmt(number: float) -> str:
    return f"{number:g}"


def _dixon(fields: Mapping[str, Any]) -> tuple[Sequence, str] | None:
    image_type = _tokens(fields.get("ImageType"))
    description = _text(fields.get("SeriesDescription"))
    protocol = _text(fields.get("ProtocolName"))
    names = f"{description} {protocol}"

    marker_in_type = next((t for t in image_type if any(m in t for m in _DIXON_MARKERS)), None)
    marker_in_name = next((m for m in _DIXON_MARKERS if m.lower() in names.lower()), None)
    has_marker = marker_in_type is not None or marker_in_name is not None
    image_type_text = "\\".join(image_type)

    # ImageType component: the whole value, or its first part (Philips "W_FFE").
    for token in image_type:
        candidates = [token, token.split("_")[0]]
        for candidate in candidates:
            kind = _IMAGE_TYPE_COMPONENTS.get(candidate)
            if kind is None:
                continue
            if has_marker or token in _UNAMBIGUOUS_COMPONENTS:
                return kind, f"ImageType {image_type_text} → {kind.value}"

    if marker_in_name is None:
        return None
    # Description component word, searched in the text after removing the marker
    # itself ("mDIXON" must not be read as an "m"-something).
    for source_name, source in (("SeriesDescription", description), ("ProtocolName", protocol)):
        if not source:
            continue
        cleaned = re.sub(r"m?dixon|ideal|flex", " ", source, flags=re.IGNORECASE)
        for word, kind in _DESCRIPTION_COMPONENTS:
            if _word(re.escape(word)).search(cleaned):
                return kind, f"{source_name} '{source}' ({marker_in_name} {word}) → {kind.value}"
    return None


def classify_series(header_fields: Mapping[str, Any]) -> tuple[Sequence, str]:
    """Classify a series from its header fields.

    Parameters
    ----------
    header_fields
        DICOM keywords → values (pydicom values, strings or numbers): SeriesDescription,
        ProtocolName, ScanningSequence, SequenceVariant, InversionTime, RepetitionTime,
        EchoTime, ImageType. Missing keys are treated as absent.

    Returns
    -------
    (Sequence, reason)
        The kind and a one-line reason naming the fields that decided it, e.g.
        ``"InversionTime 230 ms, TR 6770 ms → STIR"``.
    """
    dixon = _dixon(header_fields)
    if dixon is not None:
        return dixon

    ti = _number(header_fields.get("InversionTime"))
    tr = _number(header_fields.get("RepetitionTime"))
    te = _number(header_fields.get("EchoTime"))
    scanning = _tokens(header_fields.get("ScanningSequence"))
    variant = _tokens(header_fields.get("SequenceVariant"))
    description = _text(header_fields.get("SeriesDescription"))
    protocol = _text(header_fields.get("ProtocolName"))

    # Some exporters write InversionTime 0 for sequences without inversion.
    inversion = ti is not None and ti > 0
    if inversion and ti is not None:
        tr_text = f", TR {_fmt(tr)} ms" if tr is not None else ""
        if 80 <= ti <= 300 and (tr is None or tr >= 1500):
            return Sequence.STIR, f"InversionTime {_fmt(ti)} ms{tr_text} → STIR"
        if 300 < ti <= 1500 and (tr is None or tr < 3000):
            return Sequence.T1, f"InversionTime {_fmt(ti)} ms{tr_text} (T1-weighted IR) → T1"
        if ti > 1500:
            return (
                Sequence.OTHER,
                f"InversionTime {_fmt(ti)} ms{tr_text} (fluid-attenuated IR) → OTHER",
            )

    for name, text in (("SeriesDescription", description), ("ProtocolName", protocol)):
        if not text:
            continue
        if _STIR_WORDS.search(text):
            return Sequence.STIR, f"{name} '{text}' → STIR"
        if _T2_FLAIR.search(text):
            return Sequence.OTHER, f"{name} '{text}' (FLAIR) → OTHER"
        if _T1_WORDS.search(text):
            return Sequence.T1, f"{name} '{text}' → T1"
        if _T2_WORDS.search(text):
            return Sequence.T2, f"{name} '{text}' → T2"

    if "IR" in scanning and inversion and ti is not None:
        return Sequence.OTHER, f"ScanningSequence IR, InversionTime {_fmt(ti)} ms → OTHER"

    if tr is not None and te is not None:
        gradient_echo = "GR" in scanning and "SE" not in scanning
        timing = f"TR {_fmt(tr)} ms, TE {_fmt(te)} ms"
        if gradient_echo and "SP" in variant and tr < 50 and te < 10:
            return Sequence.T1, f"{timing} (spoiled gradient echo) → T1"
        if tr < 1000 and te < 30:
            return Sequence.T1, f"{timing} → T1"
        if tr >= 1500 and te >= 60:
            return Sequence.T2, f"{timing} → T2"
        return Sequence.OTHER, f"{timing} (neither T1- nor T2-weighted) → OTHER"

    seen = [
        f"{key} {_text(header_fields.get(key))!r}"
        for key in ("SeriesDescription", "ProtocolName", "RepetitionTime", "EchoTime")
        if header_fields.get(key) not in (None, "")
    ]
    return Sequence.OTHER, f"no rule matched ({', '.join(seen) or 'no header fields'}) → OTHER"


def kind_from_name(name: str) -> tuple[Sequence, str]:
    """Classify a NIfTI file by its name (``thigh_stir.nii.gz`` → STIR).

    Dixon words (``water``, ``fat``, ``inphase``, ``outphase``/``opp``) count only with
    a Dixon marker in the name; otherwise ``stir``/``tirm``, ``t1``, ``t2``.
    """
    stem = re.sub(r"\.nii(\.gz)?$", "", name, flags=re.IGNORECASE)
    fields = {"SeriesDescription": stem}
    kind, _ = classify_series(fields)
    return kind, f"file name '{name}' → {kind.value}"
