"""The test suite, a package so that its modules import each other by full name (``tests.gui.gui_helpers``)
and mypy sees one module per file (two ``conftest.py``)."""
