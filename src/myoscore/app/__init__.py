"""Use cases over the store, shared by the GUI, the CLI and the tests (no Qt here)."""
