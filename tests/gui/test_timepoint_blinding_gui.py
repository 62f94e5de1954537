"""Timepoint blinding in the windows (issue 14) and the audited reveal of series
descriptions on the set-up page (issue 11)."""

from __future__ import annotations

import pytest

from myoscore.app.study_settings import set_timepoint_blinding, settings
from tests.gui.gui_helpers import (
    all_texts,
    click,
    click_cell,
    click_check,
    open_desk,
    open_first_read,
    press,
    table_texts,
)

pytestmark = pytest.mark.gui

NEEDLES = ("SUBJ-01", "SUBJ-", "baseline", "follow-up")


def _leaks(texts: list[str]) -> list[str]:
    joined = "\n".join(texts).lower()
    return [needle for needle in NEEDLES if needle.lower() in joined]


def test_reader_window_shows_read_codes_only(qtbot, imaged_study, open_window) -> None:
    """On (the default): the worklist has a Read column of codes, no Subject/Exam; the reading
    window's title, header, status bar, help and submit question name the read by its code."""
    window = open_window("B")
    table = window.worklist.table
    headers = [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())]
    assert headers == ["#", "Read", "Protocol", "Status", "Scored"]
    codes = {r.code: r for r in imaged_study.reads() if r.reader_name == "B"}
    assert {table_texts(table, row)[1] for row in range(table.rowCount())} == set(codes)
    assert _leaks([window.windowTitle(), *all_texts(window)]) == []

    read_id = open_first_read(qtbot, window)
    code = next(c for c, r in codes.items() if r.id == read_id)
    assert window.windowTitle() == f"myoscore — B — {code}"
    assert window.read_label.text() == f"{code} · nxp2_lower_limb"
    press(qtbot, window, "1")  # a value: the status bar speaks
    press(qtbot, window, "F1")  # the help overlay
    asked: list[str] = []
    answers = iter([True, False])  # submit with unscored items: yes; submit and lock: no

    def ask(title: str, text: str) -> bool:
        asked.append(f"{title}\n{text}")
        return next(answers)

    window.ask = ask
    window.request_submit()
    assert len(asked) == 2
    assert f"Submit {code}?" in asked[1]
    seen = [window.windowTitle(), *all_texts(window), window.statusBar().currentMessage(), *asked]
    assert _leaks(seen) == []


def test_reader_window_with_blinding_off_shows_subject_and_timepoint(qtbot, imaged_study, open_window) -> None:
    """Off: today's worklist columns and the subject · timepoint title."""
    set_timepoint_blinding(imaged_study, False)
    window = open_window("B")
    table = window.worklist.table
    headers = [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())]
    assert headers == ["#", "Subject", "Exam", "Protocol", "Status", "Scored"]
    read_id = open_first_read(qtbot, window)
    read = next(r for r in imaged_study.reads() if r.id == read_id)
    assert window.windowTitle() == f"myoscore — B — {read.subject_code} · {read.exam_label}"


def test_setup_page_toggles_timepoint_blinding(qtbot, imaged_study) -> None:
    """The set-up page's check box is the setting: a click turns it off (audited), another on."""
    window = open_desk(qtbot, imaged_study)
    box = window.setup_page.settings_box.timepoint_check
    assert box.isChecked()
    click_check(qtbot, box)
    assert not settings(imaged_study)[0].on
    event = imaged_study.audit_log(1)[0]
    assert (event.action, event.old, event.new) == ("set_setting", "on", "off")
    assert "off" in window.setup_page.message.text()
    click_check(qtbot, box)
    assert settings(imaged_study)[0].on
    assert box.isChecked()


def test_series_descriptions_are_hidden_until_revealed(qtbot, imaged_study) -> None:
    """The series table hides SeriesDescription (and folders, in tooltips) until Reveal
    descriptions, which is audited for the exam shown; another exam is hidden again."""
    window = open_desk(qtbot, imaged_study)
    page = window.setup_page
    descriptions = {s.description for s in imaged_study.series()}
    assert descriptions
    assert page.series_table.rowCount() > 0

    def shown() -> set[str]:
        return {table_texts(page.series_table, row)[3] for row in range(page.series_table.rowCount())}

    def tooltips() -> str:
        table = page.series_table
        cells = [table.item(r, c) for r in range(table.rowCount()) for c in range(table.columnCount())]
        return "\n".join(item.toolTip() for item in cells if item is not None)

    assert shown() == {"(hidden: Reveal descriptions, audited)"}
    assert "/" not in tooltips()  # no folder
    before = len(imaged_study.audit_log(500))
    click(qtbot, page.reveal_button)
    exam_id = page.current_exam_id()
    assert shown() <= descriptions
    assert shown() != set()
    assert "/" in tooltips()
    events = imaged_study.audit_log(500)
    assert len(events) == before + 1
    assert (events[0].action, events[0].target) == ("reveal_series_descriptions", f"exam {exam_id}")
    assert not page.reveal_button.isEnabled()
    other = next(row for row in range(page.exams_table.rowCount())
                 if page.exams_table.item(row, 0).data(256) != exam_id)
    click_cell(qtbot, page.exams_table, other)
    assert shown() == {"(hidden: Reveal descriptions, audited)"}
    assert page.reveal_button.isEnabled()
