"""Benchmarks: scripts (``python benchmarks/bench_store.py``; ``make bench`` runs them all), a package
only so that mypy names each module ``benchmarks.bench_…``."""
