"""The command line: the same use cases as the GUI, without a window."""
