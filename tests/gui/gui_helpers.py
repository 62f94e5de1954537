"""Helpers for the workstation tests: registering the phantom, pressing keys, reading texts."""

from __future__ import annotations

from myoscore.app import CoordinatorSession
from myoscore.domain import Sequence
from myoscore.phantom import PhantomInfo


def register_phantom(coordinator: CoordinatorSession, exam_id: int, info: PhantomInfo, suffix: str = "") -> None:
    """Register the phantom's DICOM series and label maps as the series of one exam."""
    for series in info.series:
        files = sorted(str(p) for p in series.dicom_dir.glob("*.dcm"))
        coordinator.add_series(
            exam_id, series.series_uid + suffix, series.sequence, kind_reason="phantom",
            description=f"{series.sequence.value.lower()}_{series.region}", path=str(series.dicom_dir),
            files=files, shape=series.shape, spacing=series.spacing)
    for region, path in info.label_maps.items():
        coordinator.add_series(
            exam_id, f"labels:{region}{suffix}", Sequence.LABEL_MAP, kind_reason="phantom labels",
            description=f"{region} muscles", path=str(path.parent), files=[str(path)])


#: The time of the next typed key, in ms (key events carry it, as the window system's do).
_TYPING = {"now": 1_000_000.0}
#: A reader typing briskly: a key every 250 ms, held 80 ms (the dead time is 150 ms).
TYPING_STEP_MS, HOLD_MS = 250.0, 80.0


def key_event(kind: str, text: str, time_ms: float, *, auto_repeat: bool = False):
    """A real QKeyEvent (``kind``: "press" or "release") for a key text, stamped ``time_ms``."""
    from PySide6.QtCore import QEvent
    from PySide6.QtGui import QKeyEvent, QKeySequence

    combination = QKeySequence(text)[0]  # type: ignore[index]  # PySide6's stubs lack QKeySequence.__getitem__
    event_type = QEvent.Type.KeyPress if kind == "press" else QEvent.Type.KeyRelease
    typed = text if len(text) == 1 else ""
    event = QKeyEvent(event_type, combination.key(), combination.keyboardModifiers(), typed, auto_repeat)
    event.setTimestamp(int(time_ms))
    return event


def send_key(window, kind: str, text: str, time_ms: float, *, auto_repeat: bool = False) -> None:
    """Deliver one key event to the window's focus widget through Qt (event filters included)."""
    from PySide6.QtWidgets import QApplication

    target = window.focusWidget() or window
    QApplication.sendEvent(target, key_event(kind, text, time_ms, auto_repeat=auto_repeat))
    QApplication.processEvents()


def press(qtbot, window, *keys: str) -> None:
    """Type real keys (``"3"``, ``"Shift+Tab"``, ``"Ctrl+Z"``) on the window's focus widget,
    as a person does: each pressed and released, 250 ms apart (event times, no sleeping)."""
    for text in keys:
        _TYPING["now"] += TYPING_STEP_MS
        send_key(window, "press", text, _TYPING["now"])
        send_key(window, "release", text, _TYPING["now"] + HOLD_MS)


def hold(window, text: str, repeats: int, *, auto_repeat: bool, interval_ms: float = 40.0,
         releases: bool = False) -> None:
    """Hold a key down: one press, then ``repeats`` repeated presses ``interval_ms`` apart —
    without releases, or (``releases``) as X11 sends auto-repeat, a release and a press with
    one time — with or without Qt's auto-repeat flag; then the real release."""
    _TYPING["now"] += TYPING_STEP_MS
    now = _TYPING["now"]
    send_key(window, "press", text, now)
    for _ in range(repeats):
        now += interval_ms
        if releases:
            send_key(window, "release", text, now, auto_repeat=auto_repeat)
        send_key(window, "press", text, now, auto_repeat=auto_repeat)
    send_key(window, "release", text, now + 30)
    _TYPING["now"] = now + 30


def open_first_read(qtbot, window) -> int:
    """Open the worklist's selected read with the Enter key and wait for its images."""
    from PySide6.QtCore import Qt

    read_id: int = window.worklist.current_read_id()
    with qtbot.waitSignal(window.images_loaded, timeout=20_000):
        qtbot.keyClick(window.worklist.table, Qt.Key.Key_Return)
    assert window.session is not None
    assert window.session.read_id == read_id
    return read_id


def all_texts(window) -> list[str]:
    """Every text a user can see or hover in a window: titles, labels, buttons, tooltips,
    tree and table cells and headers, combo items, the status bar."""
    from PySide6.QtWidgets import (
        QAbstractButton,
        QComboBox,
        QLabel,
        QLineEdit,
        QMainWindow,
        QTableWidget,
        QTreeWidget,
        QTreeWidgetItemIterator,
        QWidget,
    )

    texts: list[str] = []
    widgets = [window, *window.findChildren(QWidget)]
    for widget in widgets:
        texts += [widget.windowTitle(), widget.toolTip(), widget.statusTip(), widget.whatsThis(),
                  widget.accessibleName(), widget.accessibleDescription()]
        if isinstance(widget, (QLabel, QAbstractButton, QLineEdit)):
            texts.append(widget.text())
        if isinstance(widget, QComboBox):
            texts += [widget.itemText(i) for i in range(widget.count())]
        if isinstance(widget, QTreeWidget):
            header = widget.headerItem()
            texts += [header.text(c) for c in range(widget.columnCount())]
            iterator = QTreeWidgetItemIterator(widget)
            while (item := iterator.value()) is not None:  # None past the last item (the stubs say otherwise)
                for column in range(widget.columnCount()):
                    texts += [item.text(column), item.toolTip(column)]
                iterator += 1
        if isinstance(widget, QTableWidget):
            for column in range(widget.columnCount()):
                column_header = widget.horizontalHeaderItem(column)
                texts.append(column_header.text() if column_header else "")
            for row in range(widget.rowCount()):
                for column in range(widget.columnCount()):
                    cell = widget.item(row, column)
                    if cell is not None:
                        texts += [cell.text(), cell.toolTip()]
        if isinstance(widget, QMainWindow):
            texts.append(widget.statusBar().currentMessage())
    return [t for t in texts if t]


# -- the coordinator's desk -----------------------------------------------------------------
#: Items every exam gets fixed codes for (A, B), so tests know a few discordances in advance:
#: two levels (mean 2.5), not evaluable against a value, two nominal codes, one agreement.
FIXED_CODES = {
    "edema.thigh.anterior.R": ("2", "3"),
    "edema.thigh.medial.R": ("NE", "1"),
    "edema_pattern.thigh": ("patchy", "diffuse"),
    "fat.calf.lateral.R": ("1", "1"),
}


def paired_codes(protocol, exam_id: int, agree: float = 0.75) -> tuple[dict[str, str], dict[str, str]]:
    """Two readers' codes for every item of one exam: B agrees with A on about ``agree`` of
    the drawn items (sometimes NE); the items of :data:`FIXED_CODES` as listed there."""
    import random

    rng = random.Random(exam_id)
    a: dict[str, str] = {}
    b: dict[str, str] = {}
    for item in protocol.items:
        codes = protocol.scales[item.scale].codes
        a[item.key] = rng.choice(codes)
        roll = rng.random()
        b[item.key] = a[item.key] if roll < agree else ("NE" if roll > 0.96 else rng.choice(codes))
    for key, (code_a, code_b) in FIXED_CODES.items():
        a[key], b[key] = code_a, code_b
    return a, b


def submit_reads(db, name: str, codes_by_exam: dict[int, dict[str, str]], password: str | None = None) -> None:
    """Sign a reader in, rate every item of each of their reads as given, and submit."""
    from myoscore.app import CoordinatorSession, ReaderSession, sign_in

    session = sign_in(db, name, password or f"pass-phrase-{name}")
    assert isinstance(session, ReaderSession)
    # A timepoint-blinded reader sees no exam ids: the coordinator's view says which is which.
    exam_of = {read.id: read.exam_id for read in CoordinatorSession(db, "test-coordinator").reads()}
    for read in session.worklist():
        for key, code in codes_by_exam[exam_of[read.id]].items():
            session.rate(read.id, key, code)
        session.submit(read.id)


def submit_both(db, coordinator: CoordinatorSession, protocol) -> dict[int, tuple[dict[str, str], dict[str, str]]]:
    """Readers A and B of the ``study`` fixture score every exam (see :func:`paired_codes`) and submit."""
    drawn = {exam.id: paired_codes(protocol, exam.id) for exam in coordinator.exams()}
    submit_reads(db, "A", {exam: pair[0] for exam, pair in drawn.items()})
    submit_reads(db, "B", {exam: pair[1] for exam, pair in drawn.items()})
    return drawn


def open_desk(qtbot, coordinator: CoordinatorSession):
    """The coordinator's window, shown (closed by pytest-qt at teardown)."""
    from myoscore.gui.coordinator import CoordinatorWindow

    window = CoordinatorWindow(coordinator)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


def click(qtbot, widget) -> None:
    """A left click in the middle of a widget (a button, a check box)."""
    from PySide6.QtCore import Qt

    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def click_tab(qtbot, tabs, title: str) -> None:
    """Click the tab whose title starts with ``title``."""
    from PySide6.QtCore import Qt

    bar = tabs.tabBar()
    index = next(i for i in range(tabs.count()) if tabs.tabText(i).replace("&&", "&").startswith(title))
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(index).center())
    assert tabs.currentIndex() == index


def click_cell(qtbot, table, row: int, column: int = 0) -> None:
    """Click one cell of a table widget (scrolled into view first)."""
    from PySide6.QtCore import Qt

    item = table.item(row, column)
    table.scrollToItem(item)
    rect = table.visualItemRect(item)
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def table_texts(table, row: int) -> list[str]:
    return [table.item(row, c).text() if table.item(row, c) else "" for c in range(table.columnCount())]


def click_check(qtbot, box) -> None:
    """Click a check box or radio button on its indicator (a wide one's middle may be empty space)."""
    from PySide6.QtCore import QPoint, Qt

    qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=QPoint(8, box.height() // 2))
