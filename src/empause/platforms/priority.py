"""Which upstream calls go first when an account's request budget is the bottleneck.

Calls that make messages safe (operations, sweeps, enforcement) are *urgent*: the rate
limiter serves them before ordinary reads (the webhook inbox's triage), so a flood of
events, forged or not, cannot queue in front of the calls that stop a post going out.
The mark travels with the task (a context variable), through every call the engine makes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_URGENT: ContextVar[bool] = ContextVar("empause_urgent_calls", default=False)


def is_urgent() -> bool:
    return _URGENT.get()


@contextmanager
def urgent() -> Iterator[None]:
    """Upstream calls made inside (and by tasks started inside) go before ordinary ones."""
    token = _URGENT.set(True)
    try:
        yield
    finally:
        _URGENT.reset(token)
