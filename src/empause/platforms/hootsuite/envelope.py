"""Hootsuite's `data` / `errors` / `metadata.cursor` envelopes, and errors mapped to the port."""

from __future__ import annotations

from typing import Any

from empause.platforms.port import AlreadySent, NotFound, Permanent

CANNOT_DELETE = 40003  # "attempted to delete a message that cannot be deleted in its current state"
RESOURCE_NOT_FOUND = 4001


def data_one(body: Any) -> dict[str, Any]:
    """A single item: an object, or (as recorded traffic shows for GET /v1/messages/{id})
    a one-element array."""
    data = body.get("data") if isinstance(body, dict) else None
    if isinstance(data, list):
        data = data[0] if data else None
    return data if isinstance(data, dict) else {}


def data_list(body: Any) -> list[dict[str, Any]]:
    """A collection; a lone object is treated as a one-element collection."""
    data = body.get("data") if isinstance(body, dict) else None
    if isinstance(data, dict):
        return [data]
    return [item for item in data or [] if isinstance(item, dict)]


def next_cursor(body: Any) -> str | None:
    metadata = body.get("metadata") if isinstance(body, dict) else None
    cursor = metadata.get("cursor") if isinstance(metadata, dict) else None
    value = cursor.get("next") if isinstance(cursor, dict) else None
    return str(value) if value else None


def errors_of(body: Any) -> list[dict[str, Any]]:
    errors = body.get("errors") if isinstance(body, dict) else None
    return [e for e in errors or [] if isinstance(e, dict)]


def error_code(error: dict[str, Any]) -> int | None:
    try:
        return int(error.get("code"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def to_exception(status: int, body: Any) -> Permanent:
    """The port's exception for a refusal that retrying will not fix."""
    errors = errors_of(body)
    codes = [error_code(e) for e in errors]
    first = errors[0] if errors else {}
    text = str(first.get("message") or f"HTTP {status}")
    code = codes[0] if codes else None
    if CANNOT_DELETE in codes:
        return AlreadySent(text, code=CANNOT_DELETE, status=status)
    if status == 404 or RESOURCE_NOT_FOUND in codes:
        return NotFound(text, code=code, status=status)
    return Permanent(f"{text} (code {code})" if code else text, code=code, status=status)
