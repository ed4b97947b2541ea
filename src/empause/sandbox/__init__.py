"""Faithful emulators of the platforms' APIs, for the demo, the tests and the benchmarks."""
