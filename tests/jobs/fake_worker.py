"""A real worker process with recording handlers, for the kill test:
``python -m tests.jobs.fake_worker DATABASE_URL STEPS STEP_SECONDS [STALLED_AFTER]``
(the default settings unless STALLED_AFTER is given)."""

from __future__ import annotations

import asyncio
import logging
import sys

from empause.jobs import JobSettings, run_worker
from tests.jobs.recording import RecordingHandlers


def main() -> None:
    database_url, steps, step_seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    logging.basicConfig(level=logging.INFO)
    handlers = RecordingHandlers(database_url, steps=steps, step_seconds=step_seconds)
    settings = JobSettings(stalled_after=float(sys.argv[4])) if len(sys.argv) > 4 else None
    asyncio.run(run_worker(database_url, handlers, concurrency=1, settings=settings))


if __name__ == "__main__":
    main()
