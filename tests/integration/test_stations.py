"""Stations: every series knows the atlas regions it covers; a read knows what no series shows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from myoscore.app import CoordinatorSession, ReaderSession, sign_in
from myoscore.app.coverage import NOT_IMAGED, load_description_rules, not_imaged_regions
from myoscore.app.imports import import_paths
from myoscore.app.reading_session import ReadingSession
from myoscore.cli.main import main
from myoscore.domain import NOT_EVALUABLE, MyoscoreError, NeedsConfirmation, Role, Sequence
from myoscore.phantom import WholeBodyInfo, write_phantom, write_whole_body_phantom
from myoscore.schemes import Protocol

WHOLE_BODY_REGIONS = {"pelvis", "thigh", "leg", "lumbar", "shoulder", "chest", "arm", "thoracic"}


@pytest.fixture(scope="module")
def wb(tmp_path_factory: pytest.TempPathFactory) -> WholeBodyInfo:
    return write_whole_body_phantom(tmp_path_factory.mktemp("wb"), slices=8, timepoints=("baseline",))


def _import_whole_body(coordinator: CoordinatorSession, wb: WholeBodyInfo) -> int:
    import_paths(coordinator, [wb.out_dir / "dicom" / "baseline"], subject_code="WB-01", link_identity=False)
    exam = coordinator.exams()[-1]
    import_paths(coordinator, sorted((wb.out_dir / "labels").glob("*.nii.gz")), exam_id=exam.id, link_identity=False)
    return exam.id


def _reader(coordinator: CoordinatorSession, protocol: Protocol, exam_id: int) -> tuple[ReaderSession, int]:
    coordinator.add_reader("R", Role.READER, "pass-phrase-R")
    coordinator.assign(protocol, ["R"], [exam_id], seed=1)
    reader = sign_in(coordinator.database, "R", "pass-phrase-R")
    assert isinstance(reader, ReaderSession)
    return reader, reader.worklist()[0].id


def test_whole_body_series_cover_each_station(coordinator: CoordinatorSession, wb: WholeBodyInfo) -> None:
    """After import, each STIR/T1 series has the regions of its station from the label map
    in its z-range (not its neighbours' few overlapping slices), and its z-range."""
    exam_id = _import_whole_body(coordinator, wb)
    series = coordinator.series(exam_id)
    by_description = {s.description: s for s in series if s.kind is not Sequence.LABEL_MAP}
    pelvis = by_description["WB_STIR_tra_pelvis"]
    assert "pelvis" in pelvis.regions
    assert "shoulder" not in pelvis.regions
    assert pelvis.z_range is not None
    assert pelvis.z_range[0] < 0 < pelvis.z_range[1]
    assert "leg" in by_description["WB_STIR_tra_legs"].regions
    assert "thigh" in by_description["WB_t1_tse_tra_thighs"].regions
    assert {"shoulder", "arm"} <= set(by_description["WB_STIR_tra_shoulders"].regions)
    assert "arm" in by_description["WB_STIR_tra_upper_arms"].regions
    covered = {r for s in series if s.kind is not Sequence.LABEL_MAP for r in s.regions}
    assert covered == WHOLE_BODY_REGIONS


def test_series_list_json_has_regions(tmp_path: Path, wb: WholeBodyInfo, monkeypatch, capsys) -> None:
    """`series list --json` gives each series' `regions` (atlas region keys)."""
    monkeypatch.setenv("MYOSCORE_DB", str(tmp_path / "cli.sqlite"))
    monkeypatch.setenv("MYOSCORE_USER", "boss")
    monkeypatch.setenv("MYOSCORE_PASSWORD", "cli-pass-phrase")
    assert main(["init", "--coordinator", "boss"]) == 0
    assert main(["import", str(wb.out_dir / "dicom" / "baseline"), "--json"]) == 0
    capsys.readouterr()
    assert main(["series", "list", "--json", "--reveal"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert all(isinstance(r["regions"], list) for r in rows)
    # No label map imported: the descriptions' words decide.
    regions = {r["description"]: r["regions"] for r in rows}
    assert regions["WB_STIR_tra_pelvis"] == ["pelvis"]
    assert regions["WB_STIR_tra_upper_arms"] == ["arm"]
    assert regions["WB_STIR_tra_abdomen_lumbar"] == ["lumbar"]


def test_a_whole_body_read_has_every_muscle_in_some_series(coordinator: CoordinatorSession, wb: WholeBodyInfo,
                                                           imnm: Protocol) -> None:
    """Seed 004's protocol on the whole-body exam: no region is outside every series."""
    exam_id = _import_whole_body(coordinator, wb)
    reader, read_id = _reader(coordinator, imnm, exam_id)
    session = ReadingSession(reader, read_id)
    assert session.not_imaged_regions == frozenset()


@pytest.fixture
def thigh_calf_read(coordinator: CoordinatorSession, tmp_path: Path, imnm: Protocol) -> ReadingSession:
    """Seed 004's protocol on a thigh-and-calf exam (pelvis and upper body in no series)."""
    info = write_phantom(tmp_path / "limbs", shape=(4, 32, 32), timepoints=("baseline",))
    import_paths(coordinator, [info.out_dir / "dicom" / "baseline"], subject_code="TC-01", link_identity=False)
    exam = coordinator.exams()[-1]
    import_paths(coordinator, sorted((info.out_dir / "labels").glob("*.nii.gz")), exam_id=exam.id,
                 link_identity=False)
    reader, read_id = _reader(coordinator, imnm, exam.id)
    return ReadingSession(reader, read_id, start="first")


def test_thigh_calf_exam_knows_what_it_does_not_show(thigh_calf_read: ReadingSession) -> None:
    """The lower-limb label maps say thigh and calf; calf is the whole-body atlas's leg."""
    session = thigh_calf_read
    assert session.not_imaged_regions == {"pelvis", "lumbar", "shoulder", "chest", "arm", "thoracic"}
    assert session.item.unit.region == "pelvis"
    assert session.not_imaged()


def test_a_value_on_a_not_imaged_unit_needs_a_second_press(thigh_calf_read: ReadingSession) -> None:
    """Positive for psoas on a thigh-only exam is held back with the reason; the same value
    again stores it; NE never needs a confirmation."""
    session = thigh_calf_read
    key = session.item.key
    with pytest.raises(NeedsConfirmation, match=NOT_IMAGED):
        session.set_level(1)
    assert session.code(key) is None
    session.set_level(1)
    assert session.code(key) == "1"
    session.mark_not_evaluable()
    assert session.code(session.items[1].key) == NOT_EVALUABLE


def test_region_not_evaluable_in_one_key_and_one_undo(thigh_calf_read: ReadingSession) -> None:
    """Shift+N's action marks every unscored pelvis item NE (kept values stay), moves past
    the region, and one undo restores them all."""
    session = thigh_calf_read
    with pytest.raises(NeedsConfirmation):
        session.set_level(1)
    session.set_level(1)  # confirmed: psoas R positive
    kept = session.items[0].key
    pelvis = [it.key for it in session.items if it.unit.region == "pelvis"]
    changes = session.mark_region_not_evaluable()
    assert changes.value
    assert session.code(kept) == "1"
    assert all(session.code(k) == NOT_EVALUABLE for k in pelvis if k != kept)
    assert session.item.unit.region != "pelvis"
    session.undo()
    assert session.code(kept) == "1"
    assert all(session.code(k) is None for k in pelvis if k != kept)


def test_description_rules_are_data_and_bad_files_say_where(tmp_path: Path) -> None:
    """Rules name regions by words; a bad file names the file and the rule."""
    rules_file = tmp_path / "rules.toml"
    rules_file.write_text('[[rule]]\nwords = ["hip"]\nregions = ["pelvis"]\n', encoding="utf-8")
    rules = load_description_rules(rules_file)
    assert rules.regions_for("t1_tse_tra_HIPS") == ("pelvis",)
    assert rules.regions_for("t1_tse_tra") == ()
    rules_file.write_text('[[rule]]\nwords = []\nregions = ["pelvis"]\n', encoding="utf-8")
    with pytest.raises(MyoscoreError, match=r"rules.toml: rule 1: 'words'"):
        load_description_rules(rules_file)


def test_unknown_coverage_never_blocks(coordinator: CoordinatorSession) -> None:
    """A series whose regions are unknown (no label map, no known word): nothing is flagged."""
    coordinator.add_exam("X-01", "baseline")
    exam = coordinator.exams()[-1]
    coordinator.add_series(exam.id, "uid-1", Sequence.STIR, description="t2_stir_tra")
    assert not_imaged_regions(coordinator.series(exam.id), {"pelvis"}) == frozenset()


def test_protocol_option_prefills_not_imaged_regions_ne_audited(coordinator: CoordinatorSession, tmp_path: Path,
                                                                 imnm: Protocol) -> None:
    """With `prefill_not_imaged = true`, opening the read stores NE for every item of the
    regions no series covers, each audited as prefill_ne; imaged regions stay unscored."""
    from dataclasses import replace

    from myoscore.schemes import protocol_hash

    option = replace(imnm, prefill_not_imaged=True)
    option = replace(option, hash=protocol_hash(option))
    assert option.hash != imnm.hash
    info = write_phantom(tmp_path / "limbs", shape=(4, 32, 32), timepoints=("baseline",))
    import_paths(coordinator, [info.out_dir / "dicom" / "baseline"], subject_code="TC-02", link_identity=False)
    exam = coordinator.exams()[-1]
    import_paths(coordinator, sorted((info.out_dir / "labels").glob("*.nii.gz")), exam_id=exam.id,
                 link_identity=False)
    reader, read_id = _reader(coordinator, option, exam.id)
    session = ReadingSession(reader, read_id)
    upper = [it.key for it in session.items if it.unit.region in {"pelvis", "shoulder", "arm", "thoracic"}]
    assert all(session.code(k) == NOT_EVALUABLE for k in upper)
    assert all(session.code(it.key) is None for it in session.items if it.unit.region == "thigh")
    assert session.item.unit.region == "thigh"  # opens at the first item left to score
    events = [e for e in coordinator.audit_log(limit=1000) if e.action == "prefill_ne"]
    assert len(events) == sum(1 for it in session.items if it.unit.region in session.not_imaged_regions)


def test_prefill_option_is_validated(tmp_path: Path) -> None:
    """A protocol file with a non-boolean option names the file and the key."""
    from myoscore.schemes import load_library

    library = load_library(Path(__file__).resolve().parents[2] / "scoring_schemes")
    source = (Path(__file__).resolve().parents[2] / "scoring_schemes" / "protocols" / "imnm_whole_body.toml")
    bad = tmp_path / "protocols" / "bad.toml"
    bad.parent.mkdir()
    bad.write_text(source.read_text(encoding="utf-8").replace('name = "imnm_whole_body"', 'name = "bad"\n'
                   'prefill_not_imaged = "yes"', 1), encoding="utf-8")
    from myoscore.schemes import load_protocol

    with pytest.raises(MyoscoreError, match="prefill_not_imaged"):
        load_protocol(bad, library.scales, library.atlases)


def test_demo_then_import_gives_whole_body_regions(tmp_path: Path, monkeypatch, capsys) -> None:
    """`myoscore demo --out DIR` writes the whole-body exams; `myoscore import` of them (DICOM
    and label maps) gives series whose regions cover pelvis, thigh, leg, shoulder and arm."""
    assert main(["demo", "--out", str(tmp_path / "demo"), "--json"]) == 0
    written = json.loads(capsys.readouterr().out)
    whole_body = Path(written["whole_body"]["out_dir"])
    assert set(written["whole_body"]["stations"]) == {"leg", "thigh", "pelvis", "lumbar", "arm", "shoulder"}
    monkeypatch.setenv("MYOSCORE_DB", str(tmp_path / "demo.sqlite"))
    monkeypatch.setenv("MYOSCORE_USER", "boss")
    monkeypatch.setenv("MYOSCORE_PASSWORD", "cli-pass-phrase")
    assert main(["init", "--coordinator", "boss"]) == 0
    assert main(["import", str(whole_body / "dicom" / "baseline"), str(whole_body / "labels")]) == 0
    capsys.readouterr()
    assert main(["series", "list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    covered = {r for row in rows for r in row["regions"]}
    assert {"pelvis", "thigh", "leg", "shoulder", "arm"} <= covered
