"""Benchmarks: each prints a table comparing CareNet's path with a raw baseline of the same run."""
