"""The timings of background work, in one place, and the names both queues share."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class JobSettings:
    """Timings (seconds) of workers, takeover and retries.

    A worker killed mid-job is taken over after at most about
    ``stalled_after + recovery_interval + fetch_polling_interval`` (7 s with the defaults):
    its last heartbeat grows older than ``stalled_after``, a live worker's recovery loop
    puts the job back to do, and a worker polling for jobs picks it up.
    """

    heartbeat_interval: float = 1.0
    stalled_after: float = 5.0
    recovery_interval: float = 1.0
    fetch_polling_interval: float = 1.0
    restart_delay: float = 2.0
    shutdown_grace: float = 5.0
    sweep_interval: int = 60
    timer_check_interval: int = 10  # the safety net under timed pauses' own jobs
    retry_first_delay: int = 1
    retry_max_delay: int = 300
    max_attempts: int = 30

    def retry_delay(self, attempts: int) -> int:
        """Seconds to wait before attempt ``attempts + 1``: doubling, capped."""
        return int(min(self.retry_first_delay * 2**attempts, self.retry_max_delay))


def organization_lock(organization_id: str) -> str:
    """The lock every job of one organization holds: one at a time per organization."""
    return f"organization:{organization_id}"


def every(seconds: int) -> str:
    """A cron expression (seconds as the 6th column) firing every ``seconds`` seconds."""
    if 0 < seconds < 60 and 60 % seconds == 0:
        return f"* * * * * */{seconds}"
    minutes, rest = divmod(seconds, 60)
    if rest == 0 and 0 < minutes < 60 and 60 % minutes == 0:
        return f"*/{minutes} * * * *"
    if seconds == 3600:
        return "0 * * * *"
    raise ValueError(f"sweep interval {seconds} s does not divide a minute or an hour")
