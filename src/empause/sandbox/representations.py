"""Representations as Hootsuite returns them: every key its schema in the official spec
defines, `null` where unset, at every depth. Clients written against real traffic read keys
without checking for them, so a sandbox that leaves keys out would hide their bugs.

The spec is the official Swagger file, shipped with the sandbox (spec/).
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import yaml

SPEC_PATH = Path(__file__).parent / "spec" / "hootsuite-rest-api-swagger.yaml"


@functools.cache
def definitions() -> dict[str, Any]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    spec = yaml.load(SPEC_PATH.read_text(), Loader=loader)
    return dict(spec["definitions"])


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    while node.get("$ref"):
        node = definitions()[str(node["$ref"]).rsplit("/", 1)[-1]]
    return node


def complete(value: Any, node: dict[str, Any]) -> Any:
    """`value` with every property `node` (a schema) defines, recursively; None where unset."""
    node = _resolve(node)
    properties = node.get("properties")
    if isinstance(value, dict) and properties:
        full = {key: None for key in properties}
        full.update(value)
        for key, child in properties.items():
            if full[key] is not None:
                full[key] = complete(full[key], child)
        return full
    items = node.get("items")
    if isinstance(value, list) and isinstance(items, dict):
        return [complete(item, items) for item in value]
    return value


def as_defined(value: dict[str, Any], name: str) -> dict[str, Any]:
    """`value` completed as the spec's definition `name` (e.g. SocialProfileMessage)."""
    result: dict[str, Any] = complete(value, {"$ref": f"#/definitions/{name}"})
    return result
