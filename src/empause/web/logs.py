"""Logs: short human lines on a terminal, one JSON object per line otherwise.

`EMPAUSE_LOG_FORMAT=json` (or `human`) chooses; unset, a terminal (stderr is a TTY) gets
human lines and anything else (a service manager, a file, a collector) gets JSON, with
whatever `extra=` the caller attached either way.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import UTC, datetime
from typing import TextIO

LOG_FORMAT_VARIABLE = "EMPAUSE_LOG_FORMAT"
FORMATS = ("human", "json")

_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(_extras(record))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def _extras(record: logging.LogRecord) -> dict[str, object]:
    return {
        key: value
        for key, value in vars(record).items()
        if key not in _STANDARD and not key.startswith("_")
    }


class HumanFormatter(logging.Formatter):
    """`17:31:02 request GET /api/status 200 3.1 ms` — time, level when not INFO, message,
    then the extras as key=value (a request reads as a request)."""

    def format(self, record: logging.LogRecord) -> str:
        extras = _extras(record)
        when = datetime.fromtimestamp(record.created).strftime("%H:%M:%S")
        parts = [when]
        if record.levelno != logging.INFO:
            parts.append(record.levelname)
        if record.getMessage() == "request" and {"method", "path", "status"} <= set(extras):
            parts.append(f"{extras.pop('method')} {extras.pop('path')} {extras.pop('status')}")
            duration = extras.pop("duration_ms", None)
            if duration is not None:
                parts.append(f"{duration} ms")
            extras.pop("route", None)
        else:
            parts.append(record.getMessage())
        parts.extend(f"{key}={_short(value)}" for key, value in extras.items())
        line = " ".join(parts)
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def _short(value: object) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= 80 else text[:77] + "..."


def chosen_format(stream: TextIO | None = None) -> str:
    """EMPAUSE_LOG_FORMAT if set (human or json), else human on a terminal, JSON otherwise."""
    wanted = os.environ.get(LOG_FORMAT_VARIABLE, "").strip().lower()
    if wanted in FORMATS:
        return wanted
    stream = stream or sys.stderr
    return "human" if stream.isatty() else "json"


def configure(level: int = logging.INFO) -> None:
    """Logs to stderr for the app and uvicorn alike (uvicorn's access log is replaced)."""
    handler = logging.StreamHandler()
    human = chosen_format(handler.stream) == "human"
    handler.setFormatter(HumanFormatter() if human else JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
    logging.getLogger("uvicorn.access").disabled = True  # our middleware logs requests
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per upstream call is noise
