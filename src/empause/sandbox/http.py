"""Minimal request/response types for the sandbox's hand-rolled ASGI dispatcher.

A plain ASGI app (no framework middleware stack) keeps each request cheap, which is what
lets one sandbox process serve well over 1,000 requests/second.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from empause.sandbox.errors import ApiError

JSON_TYPE = b"application/json;charset=utf-8"


@dataclass(slots=True)
class Request:
    method: str
    path: str
    query_string: str
    headers: dict[str, str]
    body: bytes
    params: dict[str, str] = field(default_factory=dict)
    _query: list[tuple[str, str]] | None = None

    @property
    def query(self) -> list[tuple[str, str]]:
        if self._query is None:
            self._query = parse_qsl(self.query_string, keep_blank_values=True)
        return self._query

    def arg(self, name: str) -> str | None:
        for key, value in self.query:
            if key == name:
                return value
        return None

    def args(self, name: str) -> list[str]:
        return [value for key, value in self.query if key == name]

    def form(self) -> dict[str, str]:
        try:
            text = self.body.decode()
        except UnicodeDecodeError:
            return {}
        return dict(parse_qsl(text, keep_blank_values=True))

    def json(self) -> object:
        """The JSON body; malformed JSON is the spec's 400, never a 500."""
        if not self.body.strip():
            raise ApiError(400, 4000, "A JSON request body is required")
        try:
            return json.loads(self.body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ApiError(400, 1100, f"Malformed JSON body: {exc}") from None

    def json_object(self) -> dict:
        body = self.json()
        if not isinstance(body, dict):
            raise ApiError(400, 4000, "The request body must be a JSON object")
        return body


@dataclass(slots=True)
class Response:
    status: int
    body: bytes
    content_type: bytes = JSON_TYPE
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)


def dumps(data: object) -> bytes:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()


def json_response(data: object, status: int = 200) -> Response:
    return Response(status, dumps(data))


def data_response(data: object, **extra: object) -> Response:
    return Response(200, dumps({"data": data, **extra}))


def html_response(text: str, status: int = 200) -> Response:
    return Response(status, text.encode(), b"text/html; charset=utf-8")


def redirect(location: str) -> Response:
    return Response(302, b"", b"text/plain", [(b"location", location.encode())])
