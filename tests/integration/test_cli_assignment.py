"""``myoscore assign`` by selection and design, ``--dry-run``, ``assignments list`` and ``undo``."""

from __future__ import annotations

import json
from typing import Any

import pytest


@pytest.fixture
def cli(cli_study):
    run = cli_study
    for name in ("rad", "neuro", "third"):
        assert run("readers", "add", name)[0] == 0
    for subject in ("P01", "P02", "P03", "P04", "P05"):
        assert run("exams", "add", subject)[0] == 0
    return run


def _reads(cli) -> list[dict[str, Any]]:
    code, out, _ = cli("status", "--json")
    assert code == 0
    reads: list[dict[str, Any]] = json.loads(out)["reads"]
    return reads


def test_assign_chosen_exams_dry_run_then_for_real_then_undo(cli) -> None:
    """The dry run stores nothing and says what would be made; the assignment is listed with
    its seed and undone by id."""
    code, out, _ = cli("assign", "--protocol", "nxp2_lower_limb", "--readers", "rad", "neuro",
                       "--exams", "2", "4", "--seed", "17", "--dry-run")
    assert code == 0
    assert out.startswith("would create 4 reads: 2 exams × 2 readers of nxp2_lower_limb (design all, seed 17)")
    assert _reads(cli) == []
    code, out, _ = cli("assign", "--protocol", "nxp2_lower_limb", "--readers", "rad", "neuro",
                       "--exams", "2", "4", "--seed", "17")
    assert code == 0
    assert out.startswith("assignment 1: created 4 reads: 2 exams × 2 readers")
    assert sorted((r["reader"], r["exam"]) for r in _reads(cli)) == [
        ("neuro", "baseline")] * 2 + [("rad", "baseline")] * 2
    code, out, _ = cli("assignments", "list", "--json")
    [record] = json.loads(out)
    assert (record["assignment"], record["design"], record["seed"], record["exams"], record["reads"]) == (
        1, "all", "17", [2, 4], 4)
    code, out, _ = cli("assignments", "list")
    assert "seed 17" in out
    assert "rad, neuro × 2 exams" in out
    assert "4 reads, 0 started" in out
    code, out, _ = cli("assignments", "undo", "1")
    assert (code, out) == (0, "assignment 1 undone: its reads were deleted (audited)\n")
    assert _reads(cli) == []
    assert "undone" in cli("assignments", "list")[1]
    code, _, err = cli("assignments", "undo", "1")
    assert code == 1
    assert "assignment 1 was already undone" in err


def test_balanced_design_from_the_cli_json(cli) -> None:
    code, out, _ = cli("assign", "--protocol", "nxp2_lower_limb", "--readers", "rad", "neuro", "third",
                       "--unassigned", "--design", "balanced", "--anchor", "2", "--per-exam", "2",
                       "--seed", "3", "--json")
    assert code == 0
    plan = json.loads(out)
    assert plan["design"] == "balanced"
    assert len(plan["anchors"]) == 2
    assert len(plan["reads"]) == 2 * 3 + 3 * 2
    loads = [len(ids) for ids in plan["worklists"].values()]
    assert max(loads) - min(loads) <= 1


def test_the_older_comma_form_still_works(cli) -> None:
    code, out, _ = cli("assign", "--protocol", "nxp2_lower_limb", "--readers", "rad,neuro", "--exams", "1,3",
                       "--seed", "42")
    assert code == 0
    assert "created 4 reads" in out
    code, out, _ = cli("assign", "--protocol", "nxp2_lower_limb", "--readers", "rad,neuro", "--seed", "42")
    assert code == 0
    assert "created 6 reads: 3 exams × 2 readers" in out
    code, out, _ = cli("assign", "--protocol", "nxp2_lower_limb", "--readers", "rad,neuro")
    assert (code, out) == (0, "nothing to assign: every exam that is not excluded has a read of nxp2_lower_limb\n")


@pytest.mark.parametrize(("argv", "message"), [
    (("--readers", "rad", "neuro", "--design", "balanced", "--per-exam", "3"),
     "readers per exam must be from 1 to the number of readers chosen (2), not 3"),
    (("--readers", "rad", "--design", "balanced", "--anchor", "9"),
     "the anchor set must be from 0 to the number of exams chosen (5), not 9"),
    (("--readers", "rad", "--anchor", "1"), "belong to the balanced design"),
    (("--readers", "rad", "--exams", "1", "99"), "no exam 99"),
    (("--readers", "boss"), "boss is a coordinator, not a reader"),
])
def test_bad_assignments_exit_1_with_one_sentence(cli, argv, message) -> None:
    code, _, err = cli("assign", "--protocol", "nxp2_lower_limb", *argv)
    assert code == 1
    assert message in err
    assert err.count("\n") == 1
    assert _reads(cli) == []


def test_undo_refused_naming_the_reads_with_ratings(cli) -> None:
    cli("assign", "--protocol", "nxp2_lower_limb", "--readers", "rad", "neuro", "--exams", "1", "2", "--seed", "5")
    code, out, _ = cli("worklist", "--as", "rad", "--json")
    first = json.loads(out)[0]
    assert cli("rate", str(first["read"]), "edema.thigh.anterior.R", "2", "--as", "rad")[0] == 0
    code, _, err = cli("assignments", "undo", "1", "--as", "boss")
    assert code == 1
    assert "assignment 1: 1 of its 4 reads has ratings (reader rad exam" in err
    assert len(_reads(cli)) == 4
    code, _, err = cli("assignments", "undo", "7")
    assert (code, err) == (1, "myoscore: no assignment 7\n")
