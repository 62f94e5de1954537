"""Seed 004 on a thigh-and-calf exam: units no series shows, the confirmation, region NE."""

from __future__ import annotations

import pytest

from myoscore.app import CoordinatorSession, Database, ReaderSession, sign_in
from myoscore.app.coverage import NOT_IMAGED, refresh_exam_regions
from myoscore.domain import NOT_EVALUABLE, Role
from myoscore.schemes import Protocol
from tests.gui.gui_helpers import all_texts, open_first_read, press

pytestmark = pytest.mark.gui


@pytest.fixture
def imnm_on_limbs(imaged_study: CoordinatorSession, imnm: Protocol) -> CoordinatorSession:
    """Reader C reads the thigh-and-calf exam with the whole-body protocol."""
    exam = imaged_study.exams()[0]
    refresh_exam_regions(imaged_study, [exam.id])
    imaged_study.add_reader("C", Role.READER, "pass-phrase-C")
    imaged_study.assign(imnm, ["C"], [exam.id], seed=3)
    return imaged_study


def stored(db: Database, read_id: int) -> dict[str, str]:
    reader = sign_in(db, "C", "pass-phrase-C")
    assert isinstance(reader, ReaderSession)
    return {key: r.code for key, r in reader.ratings(read_id).items()}


def test_not_imaged_unit_needs_a_second_press_and_region_ne_is_one_key(qtbot, db: Database, imnm_on_limbs,
                                                                      open_window) -> None:
    """Psoas (pelvis) is in no series: the row and the station bar say so; "1" stores nothing
    and asks; "1" again stores it; Shift+N marks the rest of the pelvis NE and moves to the
    next region; Ctrl+Z undoes the whole region at once."""
    window = open_window("C")
    read_id = open_first_read(qtbot, window)
    session = window.session
    assert session.item.unit.region == "pelvis"
    texts = all_texts(window)
    assert any(f"Pelvis — {NOT_IMAGED}" in t for t in texts)
    assert NOT_IMAGED in window.station_label.text()
    first = session.item.key

    press(qtbot, window, "1")
    assert first not in stored(db, read_id)
    assert NOT_IMAGED in window.statusBar().currentMessage()
    assert "press 1 again" in window.statusBar().currentMessage()
    press(qtbot, window, "1")
    assert stored(db, read_id)[first] == "1"

    pelvis = [it.key for it in session.items if it.unit.region == "pelvis" and it.key != first]
    press(qtbot, window, "Shift+N")
    after = stored(db, read_id)
    assert all(after[k] == NOT_EVALUABLE for k in pelvis)
    assert after[first] == "1"
    assert window.session.item.unit.region != "pelvis"
    press(qtbot, window, "Ctrl+Z")
    undone = stored(db, read_id)
    assert not any(k in undone for k in pelvis)
    assert undone[first] == "1"


def test_thigh_items_are_shown_on_their_station(qtbot, imnm_on_limbs, open_window) -> None:
    """A thigh muscle of the 004 read is in a series: the station bar names the station
    that contains it, and no confirmation is asked."""
    window = open_window("C")
    open_first_read(qtbot, window)
    key = next(it.key for it in window.session.items if it.unit.key == "thigh.anterior.rectus_femoris")
    window.run_session(lambda s: s.go_to(key))
    assert "contains Rectus femoris" in window.station_label.text()
    assert window.station_label.text().startswith("Thigh")
    press(qtbot, window, "1")
    assert window.session.code(key) == "1"
