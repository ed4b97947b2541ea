"""Structured log lines: an event name plus key=value fields, also passed as `extra`.

Readable in a terminal and machine-parsable by any JSON formatter that reads `extra`.
"""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger("empause.prescreen")


def log(event: str, level: int = logging.INFO, **fields: Any) -> None:
    if not logger.isEnabledFor(level):  # e.g. every acknowledgement logs at DEBUG
        return
    text = " ".join(f"{key}={value!r}" for key, value in fields.items())
    logger.log(level, "%s %s", event, text, extra={"event": event, "fields": fields})
