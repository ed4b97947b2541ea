"""Shared fixtures live in tests/fixtures/, one module per area, loaded here as plugins."""

pytest_plugins = [
    "tests.fixtures.sandbox",
    "tests.fixtures.socialhub",
    "tests.fixtures.database",
    "tests.fixtures.app",
    "tests.fixtures.jobs",
]
