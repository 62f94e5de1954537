"""Groups as data: seed 004's EARLY-BT / EARLY-UT / LATE from the first exam's clinical fields."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from myoscore.app.groups import evaluate_groups, group_rules_for, load_group_rules
from myoscore.domain import Exam, MyoscoreError


def exam(id_: int, subject: str, when: date | None, months: float | None, treated: bool | None) -> Exam:
    return Exam(id_, 0, subject, "exam", when, months, treated)


def test_seed_004_groups_at_the_first_exam() -> None:
    """≤ 6 months untreated → EARLY-BT, ≤ 6 treated → EARLY-UT, > 6 → LATE; judged at the
    first exam by date (a later exam's fields never move a subject); missing fields: none."""
    rules = group_rules_for("imnm_whole_body")
    assert rules is not None
    assert rules.labels == ("EARLY-BT", "EARLY-UT", "LATE")
    exams = [
        exam(1, "A", date(2020, 1, 1), 2, False), exam(2, "A", date(2021, 1, 1), 14, True),
        exam(4, "B", date(2021, 3, 1), 30, True), exam(3, "B", date(2019, 3, 1), 6, True),
        exam(5, "C", date(2020, 5, 1), 7, False),
        exam(6, "D", date(2020, 5, 1), None, False),
        exam(7, "E", None, 6, None),
    ]
    assert evaluate_groups(rules, exams) == {"A": "EARLY-BT", "B": "EARLY-UT", "C": "LATE"}


def test_no_rules_for_a_protocol_without_groups() -> None:
    assert group_rules_for("nxp2_lower_limb") is None


def test_bad_rules_name_the_file_and_the_group(tmp_path: Path) -> None:
    path = tmp_path / "g.toml"
    path.write_text('[groups]\nname = "x"\n[[group]]\nlabel = "A"\nwhen = { age = { le = 3 } }\n', encoding="utf-8")
    with pytest.raises(MyoscoreError, match=r"g.toml: group 1 \(A\): unknown field 'age'"):
        load_group_rules(path)
