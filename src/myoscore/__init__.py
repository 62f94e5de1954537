"""myoscore: blinded, semi-quantitative muscle MRI reading for myositis research.

The package is layered; imports only point downward (checked by import-linter):

``gui`` | ``cli``
    Entry points. Qt lives only in ``gui``; ``cli`` is ``main(argv) -> int``.
``app``
    Use cases (rate an item, submit a read, assign readers, reconcile, export)
    shared by the GUI, the CLI and the tests; the reading session and its keymap.
``store`` | ``imaging`` | ``export``
    Adapters: SQL (SQLAlchemy, Alembic; blinding and audit enforced here), image
    files (pydicom, nibabel, SimpleITK → one ``Volume`` type), output formats.
``scores``
    Derived scores of the papers and reconciliation of reads: pure functions.
``schemes`` | ``agreement``
    Scales, atlases and protocols as validated TOML data; agreement statistics.
``domain``
    Frozen dataclasses and error types, standard library only.
"""

__version__ = "0.1.0"
