"""Study groups as data: rules over exam clinical fields, evaluated per subject at its
first exam (seed 004: EARLY-BT, EARLY-UT, LATE).

A group file (``scoring_schemes/groups/<protocol>.toml``, or one a study names) lists
groups in order, each with conditions on clinical fields (``months_from_onset``,
``treated``); a subject belongs to the first group whose conditions all hold at its
first exam (by date, else by exam order). Subjects whose fields are missing get none.
The result is a ``subject → group`` mapping that exports and figures use.
"""

from __future__ import annotations

import operator
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from myoscore.domain import Exam, MyoscoreError
from myoscore.resources import schemes_dir

__all__ = ["FIELDS", "GroupRule", "GroupRules", "evaluate_groups", "group_rules_for", "load_group_rules"]

#: The exam fields a condition may test.
FIELDS = ("months_from_onset", "treated")
_TESTS: dict[str, Callable[[Any, Any], bool]] = {
    "le": operator.le, "lt": operator.lt, "ge": operator.ge, "gt": operator.gt, "eq": operator.eq,
}


@dataclass(frozen=True)
class GroupRule:
    label: str
    description: str
    conditions: tuple[tuple[str, str, float | bool], ...]  # (field, test, operand)

    def matches(self, exam: Exam) -> bool:
        for field, test, operand in self.conditions:
            value = getattr(exam, field)
            if value is None:
                return False
            if isinstance(operand, bool) != isinstance(value, bool):
                return False
            if not _TESTS[test](value, operand):
                return False
        return True


@dataclass(frozen=True)
class GroupRules:
    name: str
    title: str
    source: str
    groups: tuple[GroupRule, ...]

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(g.label for g in self.groups)

    def group_of(self, exam: Exam) -> str | None:
        return next((g.label for g in self.groups if g.matches(exam)), None)


def load_group_rules(path: Path) -> GroupRules:
    """Read a group file; a bad one raises an error naming the file, the group and the key."""
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise MyoscoreError(f"{path}: cannot read group rules: {exc}") from None
    head = data.get("groups", {})
    if not isinstance(head, dict) or not isinstance(head.get("name"), str):
        raise MyoscoreError(f"{path}: [groups] needs a name")
    rules: list[GroupRule] = []
    for number, entry in enumerate(data.get("group", []), start=1):
        where = f"{path}: group {number}"
        label = entry.get("label")
        if not isinstance(label, str) or not label:
            raise MyoscoreError(f"{where}: 'label' is missing")
        when = entry.get("when")
        if not isinstance(when, dict) or not when:
            raise MyoscoreError(f"{where} ({label}): 'when' must give at least one condition")
        conditions: list[tuple[str, str, float | bool]] = []
        for field, test in when.items():
            if field not in FIELDS:
                raise MyoscoreError(f"{where} ({label}): unknown field {field!r} (use {', '.join(FIELDS)})")
            if not isinstance(test, dict) or len(test) != 1:
                raise MyoscoreError(f"{where} ({label}): {field} needs one test such as {{ le = 6 }}")
            (name, operand), = test.items()
            if name not in _TESTS:
                raise MyoscoreError(f"{where} ({label}): {field}: unknown test {name!r} (use {', '.join(_TESTS)})")
            if not isinstance(operand, (int, float, bool)):
                raise MyoscoreError(f"{where} ({label}): {field}.{name} must be a number or true/false")
            conditions.append((field, name, operand if isinstance(operand, bool) else float(operand)))
        rules.append(GroupRule(label, str(entry.get("description", "")), tuple(conditions)))
    if not rules:
        raise MyoscoreError(f"{path}: no [[group]] defined")
    if len({r.label for r in rules}) != len(rules):
        raise MyoscoreError(f"{path}: group labels must be unique")
    return GroupRules(head["name"], str(head.get("title", "")), str(head.get("source", "")), tuple(rules))


def group_rules_for(protocol_name: str) -> GroupRules | None:
    """The shipped group file of a protocol (``scoring_schemes/groups/<name>.toml``), if any."""
    path = schemes_dir() / "groups" / f"{protocol_name}.toml"
    return load_group_rules(path) if path.is_file() else None


def evaluate_groups(rules: GroupRules, exams: Iterable[Exam]) -> dict[str, str]:
    """``subject code → group label``, each subject judged at its first exam (by date,
    else by id); subjects that match no group are left out."""
    first: dict[str, Exam] = {}
    for exam in sorted(exams, key=lambda e: (e.exam_date is None, e.exam_date.toordinal() if e.exam_date else 0, e.id)):
        first.setdefault(exam.subject_code, exam)
    groups: dict[str, str] = {}
    for subject, exam in first.items():
        label = rules.group_of(exam)
        if label is not None:
            groups[subject] = label
    return groups


def ordered(groups: Mapping[str, str], rules: GroupRules) -> dict[str, str]:
    """The mapping with subjects ordered by the rules' group order (figures keep it)."""
    rank = {label: i for i, label in enumerate(rules.labels)}
    return dict(sorted(groups.items(), key=lambda kv: (rank.get(kv[1], len(rank)), kv[0])))
