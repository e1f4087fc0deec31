"""Benchmarks and tools, run from the project root as modules: `python -m scripts.NAME`."""
