"""Background work: operations, sweeps and timers as jobs.

On PostgreSQL, procrastinate jobs run by any number of workers (`ProcrastinateQueue`,
`run_worker`); on SQLite, the same handlers run in-process (`InProcessQueue`).
`job_queue` picks one by the database URL.
"""

from empause.jobs.inprocess import InProcessQueue
from empause.jobs.ports import Handlers, JobQueue
from empause.jobs.procrastinate_queue import ProcrastinateQueue, run_worker
from empause.jobs.running import defer_operation, defer_timer, job_queue
from empause.jobs.settings import JobSettings

__all__ = [
    "Handlers",
    "InProcessQueue",
    "JobQueue",
    "JobSettings",
    "ProcrastinateQueue",
    "defer_operation",
    "defer_timer",
    "job_queue",
    "run_worker",
]
