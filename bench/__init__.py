"""Benchmarks run on this machine (not tests): `python -m bench.api`."""
