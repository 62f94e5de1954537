"""`myoscore settings` (coordinator, audited) and the reader's CLI under timepoint blinding."""

from __future__ import annotations

import json

import pytest


@pytest.fixture
def cli(cli_study):
    run = cli_study
    assert run("readers", "add", "rad")[0] == 0
    for label in ("baseline", "follow-up"):
        for subject in ("P01", "P02"):
            assert run("exams", "add", subject, "--label", label)[0] == 0
    assert run("assign", "--protocol", "nxp2_lower_limb", "--readers", "rad", "--seed", "42")[0] == 0
    return run


def test_settings_show_and_set(cli) -> None:
    """show lists timepoint-blinding on (default); set turns it off, audited; bad input is one sentence."""
    code, out, _ = cli("settings", "show")
    assert code == 0
    assert out.startswith("timepoint-blinding   on (default): readers see")
    assert json.loads(cli("settings", "--json")[1])[0] == {
        "setting": "timepoint-blinding", "value": "on", "default": True, "values": ["on", "off"],
        "meaning": json.loads(cli("settings", "show", "--json")[1])[0]["meaning"]}
    assert cli("settings", "set", "timepoint-blinding", "off") == (0, "timepoint-blinding is off\n", "")
    assert cli("settings", "set", "timepoint-blinding", "off")[1] == "timepoint-blinding is off (it was already)\n"
    audit = json.loads(cli("audit", "--json", "--limit", "5")[1])
    assert [(e["action"], e["old"], e["new"]) for e in audit if e["action"] == "set_setting"] == [
        ("set_setting", "on", "off")]
    code, _, err = cli("settings", "set", "timepoint-blinding", "maybe")
    assert (code, err) == (1, "myoscore: timepoint-blinding is on or off, not 'maybe'\n")
    code, _, err = cli("settings", "set", "timepoint-blinding", "on", "--as", "rad")
    assert code == 1
    assert "rad is a reader; this command needs a coordinator" in err


def test_reader_cli_shows_codes_only_while_on(cli) -> None:
    """worklist (text and JSON), rate and submit name no subject or timepoint while blinding
    is on; off, the worklist shows them again."""
    outputs = []
    for argv in (("worklist",), ("worklist", "--json")):
        code, out, err = cli(*argv, "--as", "rad")
        assert code == 0
        outputs.append(out + err)
    rows = json.loads(outputs[1])
    read = rows[0]["read"]
    commands: tuple[tuple[str, ...], ...] = (
        ("rate", str(read), "edema.thigh.anterior.R", "4", "--json"), ("rate", str(read), "nothing", "1"),
        ("submit", str(read)), ("rate", str(read), "edema.thigh.anterior.R", "3"))
    for command in commands:
        outputs.append("".join(cli(*command, "--as", "rad")[1:]))
    text = "\n".join(outputs)
    assert all(word not in text for word in ("P01", "P02", "baseline", "follow-up"))
    assert rows[0]["code"] in outputs[0]
    assert rows[0]["code"].startswith("R-")

    assert cli("settings", "set", "timepoint-blinding", "off")[0] == 0
    out = cli("worklist", "--as", "rad")[1]
    assert "P01" in out
    assert "follow-up" in out
