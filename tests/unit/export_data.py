"""Datasets for the export tests, built from the shipped protocols (seeds 000 and 004),
and a check of written figure files; shared by the ``test_export_*`` and figure modules."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from myoscore.agreement import cohen_kappa
from myoscore.app.schemes import protocol
from myoscore.domain import NOT_EVALUABLE
from myoscore.domain.agreement import RowKind
from myoscore.export import (
    CONSENSUS,
    AgreementRow,
    ExamInfo,
    ExportDataset,
    RatingRow,
    derived_for,
    rating_rows,
    reader_source,
)
from myoscore.schemes import Protocol, ScaleKind
from myoscore.scores import reconcile_mean

READER_A, READER_B = reader_source("A"), reader_source("B")
#: Known cells of the seed 000 dataset (subject S-101, baseline).
FRACTIONAL_KEY = "edema.thigh.anterior.R"  # A 2, B 3 → consensus 2.5
NE_KEY = "edema.thigh.medial.R"  # NE from both readers and in consensus
ZERO_KEY = "edema.thigh.posterior.R"  # 0 from both readers


def random_codes(proto: Protocol, seed: int, ne_share: float = 0.05) -> dict[str, str]:
    """A plausible read: every item a level of its scale, a few not evaluable."""
    rng = np.random.default_rng(seed)
    codes = {}
    for item in proto.items:
        scale = proto.scales[item.scale]
        codes[item.key] = NOT_EVALUABLE if rng.random() < ne_share else str(rng.choice(scale.codes))
    return codes


def second_reader(proto: Protocol, first: Mapping[str, str], seed: int) -> dict[str, str]:
    """Another reader who mostly agrees: 80% the same code, else a neighbouring level."""
    rng = np.random.default_rng(seed)
    codes = {}
    for key, code in first.items():
        scale = proto.scale_of(key)
        if code == NOT_EVALUABLE or rng.random() < 0.8:
            codes[key] = code
        else:
            position = scale.codes.index(code)
            step = 1 if position == 0 else -1 if position == len(scale.codes) - 1 else int(rng.choice([-1, 1]))
            codes[key] = scale.codes[position + step]
    return codes


def mean_consensus(proto: Protocol, a: Mapping[str, str], b: Mapping[str, str]) -> dict[str, str | float]:
    """Seed 000's policy: the mean of the two readers (fractional where they differ);
    what the mean cannot decide (nominal, NE against a value) takes reader A's code."""
    result = reconcile_mean(proto, {"A": a, "B": b})
    out: dict[str, str | float] = {d.item_key: a[d.item_key] for d in result.discordant}
    for value in result.decided:
        if value.code is None:  # a fractional mean: a number without a level
            assert value.value is not None
            out[value.item_key] = value.value
        else:
            out[value.item_key] = value.code
    return out


def agreement(proto: Protocol,
              pairs: Sequence[tuple[Mapping[str, str], Mapping[str, str]]]) -> tuple[AgreementRow, ...]:
    """One row per indicator (all regions), computed with :func:`cohen_kappa`."""
    rows = []
    for indicator in dict.fromkeys(item.indicator for item in proto.items):
        items = [item for item in proto.items if item.indicator == indicator]
        scale = proto.scales[items[0].scale]
        first = [a[item.key] for a, _ in pairs for item in items]
        second = [b[item.key] for _, b in pairs for item in items]
        plain = cohen_kappa(first, second, categories=scale.codes)
        weighted = (cohen_kappa(first, second, categories=scale.codes, weights="linear")
                    if scale.kind is ScaleKind.ORDINAL else None)
        n_ne = sum(NOT_EVALUABLE in pair for pair in zip(first, second, strict=True))
        rows.append(AgreementRow(RowKind.INDICATOR, indicator, indicator, None, None, scale.name, scale.codes,
                                 len(first), n_ne, 0, plain.n, plain.percent_agreement, plain.kappa, plain.se,
                                 plain.ci_low, plain.ci_high, None if weighted is None else weighted.kappa,
                                 None if weighted is None else weighted.ci_low,
                                 None if weighted is None else weighted.ci_high, None))
    rows.append(AgreementRow(RowKind.INDICATOR, "Undefined example", "Undefined example", "calf", None, None, (),
                             3, 3, 0, 0, math.nan, math.nan, math.nan, math.nan, math.nan, None, None, None,
                             "no pair compared"))
    return tuple(rows)


def nxp2_dataset() -> ExportDataset:
    """Seed 000: three subjects (one with a follow-up), readers A and B, mean consensus."""
    proto = protocol("nxp2_lower_limb")
    exams = (
        ExamInfo(1, "S-101", "baseline", 1, months_from_onset=3.0, treated=False),
        ExamInfo(2, "S-101", "follow-up", 2, months_from_onset=15.5, treated=True),
        ExamInfo(3, "S-102", "baseline", 1, months_from_onset=40.0, treated=True),
        ExamInfo(4, "S-103", "baseline", 1),
    )
    ratings: list[RatingRow] = []
    pairs = []
    for exam in exams:
        a = random_codes(proto, exam.exam_id)
        b = second_reader(proto, a, 100 + exam.exam_id)
        if exam.exam_id == 1:
            a.update({FRACTIONAL_KEY: "2", NE_KEY: NOT_EVALUABLE, ZERO_KEY: "0"})
            b.update({FRACTIONAL_KEY: "3", NE_KEY: NOT_EVALUABLE, ZERO_KEY: "0"})
        if exam.exam_id == 4:  # reader B left two items unscored
            del b["fat.calf.lateral.L"], b["edema_pattern.calf"]
        pairs.append((a, b))
        ratings += rating_rows(proto, exam.exam_id, READER_A, a)
        ratings += rating_rows(proto, exam.exam_id, READER_B, b)
        ratings += rating_rows(proto, exam.exam_id, CONSENSUS, mean_consensus(proto, a, b))
    return ExportDataset(proto, exams, tuple(ratings), derived_for(proto, ratings),
                         agreement(proto, pairs[:3]), groups={"S-101": "EARLY", "S-102": "EARLY", "S-103": "LATE"})


def imnm_dataset() -> ExportDataset:
    """Seed 004: three subjects, two with a follow-up; T1 missing for one whole exam."""
    proto = protocol("imnm_whole_body")
    exams = (
        ExamInfo(11, "P-01", "first MRI", 1, months_from_onset=2.0, treated=False),
        ExamInfo(12, "P-01", "last MRI", 2, months_from_onset=13.0, treated=True),
        ExamInfo(13, "P-02", "first MRI", 1, months_from_onset=60.0, treated=True),
        ExamInfo(14, "P-02", "second MRI", 2, months_from_onset=70.0, treated=True),
        ExamInfo(15, "P-02", "last MRI", 3, months_from_onset=84.0, treated=True),
        ExamInfo(16, "P-03", "first MRI", 1, months_from_onset=6.0, treated=False),
    )
    ratings: list[RatingRow] = []
    for exam in exams:
        a = random_codes(proto, 50 + exam.exam_id, ne_share=0.02)
        if exam.exam_id == 13:  # no T1 series in this exam (seed 004: "MRI study did not include ...")
            a.update({item.key: NOT_EVALUABLE for item in proto.items if item.measure == "t1"})
        b = second_reader(proto, a, 150 + exam.exam_id)
        ratings += rating_rows(proto, exam.exam_id, READER_A, a)
        ratings += rating_rows(proto, exam.exam_id, READER_B, b)
        ratings += rating_rows(proto, exam.exam_id, CONSENSUS, a)  # joint review agreed with A
    return ExportDataset(proto, exams, tuple(ratings), derived_for(proto, ratings),
                         groups={"P-01": "EARLY-BT", "P-02": "LATE", "P-03": "EARLY-UT"})


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def check_files(paths: list[Path], stem: str) -> str:
    """PNG signature, SVG parses as XML, PDF header; returns the SVG text."""
    assert [p.name for p in paths] == [f"{stem}.png", f"{stem}.svg", f"{stem}.pdf"]
    png, svg, pdf = (p.read_bytes() for p in paths)
    assert png.startswith(PNG_SIGNATURE)
    assert ET.fromstring(svg).tag == "{http://www.w3.org/2000/svg}svg"
    assert pdf.startswith(b"%PDF")
    assert pdf.rstrip().endswith(b"%%EOF")
    return svg.decode("utf-8")
