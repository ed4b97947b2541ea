"""Shared fixtures live in tests/fixtures/, one module per area, loaded here as plugins."""

pytest_plugins = [
    "tests.fixtures.sandbox",
    "tests.fixtures.socialhub",
    "tests.fixtures.database",
    "tests.fixtures.app",
    "tests.fixtures.jobs",
]


def pytest_configure(config: object) -> None:
    """No test reads or writes this user's data directory (the default database lives
    there): platformdirs follows XDG_DATA_HOME, here a fresh folder per test run."""
    import os
    import tempfile

    os.environ["XDG_DATA_HOME"] = tempfile.mkdtemp(prefix="empause-xdg-")
