"""Benchmarks: report figures, never pass or fail. Run with ``make bench``."""
