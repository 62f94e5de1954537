"""Starting the workstation: sign-in, the window per role, run() on the demo study."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QDialog, QDialogButtonBox, QTableWidget

from myoscore.app import CoordinatorSession, Database, ReaderSession
from myoscore.app.demo import load_demo
from myoscore.gui.app import CoordinatorWindow, SignInDialog, run, window_for
from myoscore.gui.main_window import MainWindow
from tests.gui.gui_helpers import all_texts

pytestmark = pytest.mark.gui


def cell_text(table: QTableWidget, row: int, column: int) -> str:
    item = table.item(row, column)
    assert item is not None, (row, column)
    return item.text()


def click_ok(dialog: QDialog) -> None:
    """Click a dialog's OK button, as a person does."""
    buttons = dialog.findChild(QDialogButtonBox)
    assert buttons is not None
    ok = buttons.button(QDialogButtonBox.StandardButton.Ok)
    assert ok is not None
    ok.click()


def test_sign_in_dialog_refuses_a_wrong_password(qtbot, db: Database, study: CoordinatorSession) -> None:
    dialog = SignInDialog(db, reader="B")
    qtbot.addWidget(dialog)
    names = [dialog.name.itemText(i) for i in range(dialog.name.count())]
    assert names == ["A", "B"]
    assert dialog.name.currentText() == "B"
    dialog.password.setText("wrong")
    dialog.try_sign_in()
    assert dialog.session is None
    assert "wrong name or password" in dialog.error.text()
    dialog.password.setText("pass-phrase-B")
    dialog.try_sign_in()
    assert isinstance(dialog.session, ReaderSession)
    assert dialog.session.reader.name == "B"


def test_worklist_shows_own_reads_in_order(qtbot, db: Database, study: CoordinatorSession, open_window) -> None:
    """Read code (timepoint blinding, the default), status, done/total — in the reader's
    randomised order; with blinding off, subject code and exam label instead of the code."""
    from myoscore.app.study_settings import set_timepoint_blinding

    window = open_window("A")
    reads = window.reader.worklist()
    table = window.worklist.table
    assert table.rowCount() == len(reads) == 2
    for row, read in enumerate(reads):
        assert [table.item(row, c).text() for c in range(table.columnCount())] == [
            str(read.position), read.code, "nxp2_lower_limb", "to do", "0 / 50"]
    assert window.windowTitle() == "myoscore — A — worklist"

    set_timepoint_blinding(study, False)
    window = open_window("A")
    reads = window.reader.worklist()
    table = window.worklist.table
    for row, read in enumerate(reads):
        assert [table.item(row, c).text() for c in range(table.columnCount())] == [
            str(read.position), read.subject_code, read.exam_label, "nxp2_lower_limb", "to do", "0 / 50"]
    assert {read.exam_label for read in reads} == {"baseline", "follow-up"}


def test_a_read_without_images_can_still_be_scored(qtbot, db: Database, study: CoordinatorSession,
                                                   open_window) -> None:
    from tests.gui.gui_helpers import open_first_read, press

    window = open_window("A")
    open_first_read(qtbot, window)
    assert "No image series" in window.viewer.message.text()
    press(qtbot, window, "1", "Right", "O", "G")
    assert window.session.done == 1


def test_coordinator_gets_progress_without_values(qtbot, db: Database, study: CoordinatorSession) -> None:
    from myoscore.app import sign_in
    from myoscore.domain import Role

    study.add_reader("coord", Role.COORDINATOR, "pass-phrase-c")
    session = sign_in(db, "coord", "pass-phrase-c")
    window = window_for(session)
    qtbot.addWidget(window)
    assert isinstance(window, CoordinatorWindow)
    assert window.table.rowCount() == 4
    assert "1 subject, 2 exams, 4 reads, 0 submitted" in window.summary.text()
    assert all("/ 50" in cell_text(window.table, r, 6) for r in range(4))


def test_run_on_the_demo_study(qtbot, db: Database, tmp_path: Path) -> None:
    """run(database) as `myoscore start` calls it: sign in as a demo reader, the workstation
    opens on the worklist, closing it returns 0."""
    assert load_demo(CoordinatorSession(db, "myoscore-demo"))
    seen: dict[str, object] = {}
    texts: list[str] = []

    def sign_in_then_close() -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, SignInDialog):
            QTimer.singleShot(20, sign_in_then_close)
            return
        dialog.password.setText("demo-reading")
        click_ok(dialog)
        QTimer.singleShot(50, close_window)

    def close_window() -> None:
        windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]
        if not windows:
            QTimer.singleShot(20, close_window)
            return
        window = windows[0]
        seen["title"] = window.windowTitle()
        seen["rows"] = window.worklist.table.rowCount()
        texts.extend(all_texts(window))
        window.close()

    QTimer.singleShot(0, sign_in_then_close)
    watchdog = QTimer()
    watchdog.setSingleShot(True)
    watchdog.timeout.connect(QApplication.quit)
    watchdog.start(20_000)
    code = run(db, ["myoscore", "--reader", "radiologist", "--settings", str(tmp_path / "viewer.ini")])
    watchdog.stop()
    assert code == 0
    assert seen["title"] == "myoscore — radiologist — worklist"
    assert seen["rows"] == 6  # nxp2 on DEMO-001 (2), imnm on DEMO-001 and DEMO-002 (4)
    assert not any("months" in text or "treated" in text for text in texts)
    # The demo shows timepoint blinding: read codes, never "DEMO-001 · follow-up".
    assert not any(word in text for text in texts for word in ("DEMO-", "baseline", "follow-up"))


def test_run_cancelled_sign_in_returns_zero(qtbot, db: Database, study: CoordinatorSession) -> None:
    def cancel() -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, QDialog):
            QTimer.singleShot(20, cancel)
            return
        dialog.reject()

    QTimer.singleShot(0, cancel)
    assert run(db) == 0


def test_many_qt_calls_do_not_exhaust_none_or_true() -> None:
    """PySide6 6.12.0 on CPython 3.11 drops a reference to None per void call and to True per
    emit, and the interpreter aborts once the count reaches zero (minutes into a reading
    session). pyproject.toml keeps that release off Python < 3.12; this catches a regression."""
    import sys

    from PySide6.QtCore import QObject, Signal

    class Emitter(QObject):
        stepped = Signal(int)

    emitter = Emitter()
    emitter.stepped.connect(lambda _value: None)
    none_before, true_before = sys.getrefcount(None), sys.getrefcount(True)
    for value in range(20_000):
        emitter.stepped.emit(value)
        emitter.setObjectName("emitter")  # a void method: returns None
    # The broken release loses 20 000 of each; a sound one keeps both (give or take a few).
    assert sys.getrefcount(None) > none_before - 100
    assert sys.getrefcount(True) > true_before - 100


def test_sign_out_comes_back_to_the_sign_in_screen(qtbot, db: Database, study: CoordinatorSession,
                                                   tmp_path: Path) -> None:
    """run(): reader A signs in and opens a read; Ctrl+Q closes the window and shows the
    sign-in dialog again (cancelled here: run returns 0)."""
    from tests.gui.gui_helpers import send_key

    dialogs: list[str] = []

    def next_dialog() -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, SignInDialog):
            QTimer.singleShot(20, next_dialog)
            return
        dialogs.append(dialog.name.currentText())
        if len(dialogs) == 1:
            dialog.password.setText("pass-phrase-A")
            click_ok(dialog)
            QTimer.singleShot(50, sign_out)
        else:
            dialog.reject()

    def sign_out() -> None:
        windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]
        if not windows:
            QTimer.singleShot(20, sign_out)
            return
        window = windows[0]
        read_id = window.worklist.current_read_id()
        assert read_id is not None
        window.open_read(read_id)
        QTimer.singleShot(0, next_dialog)
        send_key(window, "press", "Ctrl+Q", 1000.0)  # the window closes and is deleted: no release

    QTimer.singleShot(0, next_dialog)
    watchdog = QTimer()
    watchdog.setSingleShot(True)
    watchdog.timeout.connect(QApplication.quit)
    watchdog.start(20_000)
    code = run(db, ["myoscore", "--reader", "A", "--settings", str(tmp_path / "viewer.ini")])
    watchdog.stop()
    assert code == 0
    assert dialogs == ["A", "A"]
