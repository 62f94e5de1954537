"""Helpers for the workstation tests: registering the phantom, pressing keys, reading texts."""

from __future__ import annotations

from myoscore.domain import Sequence
from myoscore.imaging import PhantomInfo
from myoscore.store import CoordinatorSession


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


def press(qtbot, window, *keys: str) -> None:
    """Press real keys (``"3"``, ``"Shift+Tab"``, ``"Ctrl+Z"``) on the window's focus widget."""
    from PySide6.QtGui import QKeySequence

    for text in keys:
        combination = QKeySequence(text)[0]
        target = window.focusWidget() or window
        qtbot.keyClick(target, combination.key(), combination.keyboardModifiers())


def open_first_read(qtbot, window) -> int:
    """Open the worklist's selected read with the Enter key and wait for its images."""
    from PySide6.QtCore import Qt

    read_id = window.worklist.current_read_id()
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
            while iterator.value():
                item = iterator.value()
                for column in range(widget.columnCount()):
                    texts += [item.text(column), item.toolTip(column)]
                iterator += 1
        if isinstance(widget, QTableWidget):
            for column in range(widget.columnCount()):
                header = widget.horizontalHeaderItem(column)
                texts.append(header.text() if header else "")
            for row in range(widget.rowCount()):
                for column in range(widget.columnCount()):
                    cell = widget.item(row, column)
                    if cell is not None:
                        texts += [cell.text(), cell.toolTip()]
        if isinstance(widget, QMainWindow):
            texts.append(widget.statusBar().currentMessage())
    return [t for t in texts if t]
