"""Reference tests: statistics against published values."""
