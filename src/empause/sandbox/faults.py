"""Injectable faults, globally or per route key ("DELETE /v1/messages/{messageId}", "*").

Faults never apply to /_sandbox/ and /oauth2/ unless that route key is named explicitly.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, fields, replace


@dataclass(slots=True, frozen=True)
class FaultSpec:
    latency_ms: float = 0
    jitter_ms: float = 0
    error_rate: float = 0
    timeout_rate: float = 0
    lost_response_rate: float = 0
    hang_seconds: float = 5

    @property
    def active(self) -> bool:
        return bool(
            self.latency_ms or self.jitter_ms or self.error_rate or self.timeout_rate
            or self.lost_response_rate
        )

    def delay(self, rng: random.Random) -> float:
        """Seconds to wait before handling."""
        jitter = rng.uniform(-self.jitter_ms, self.jitter_ms) if self.jitter_ms else 0
        return max(0.0, self.latency_ms + jitter) / 1000


KNOBS = tuple(f.name for f in fields(FaultSpec))


def _coerce(values: dict) -> dict:
    out = {}
    for name in KNOBS:
        if name in values and values[name] is not None:
            value = float(values[name])
            if value < 0 or (name.endswith("_rate") and value > 1):
                raise ValueError(f"{name} out of range: {value}")
            out[name] = value
    return out


class Faults:
    """The fault configuration: a default spec plus per-route overrides."""

    def __init__(self, latency_ms: float = 0, seed: int = 7) -> None:
        self.base_latency_ms = latency_ms
        self.rng = random.Random(seed)
        self.reset(seed)

    def reset(self, seed: int = 7) -> None:
        self.rng.seed(seed)
        self.default = FaultSpec(latency_ms=self.base_latency_ms)
        self.routes: dict[str, FaultSpec] = {}

    def configure(self, body: dict) -> None:
        """Apply a /_sandbox/faults body (knobs replace the defaults; `routes` replace all)."""
        self.default = replace(self.default, **_coerce(body))
        if "routes" in body:
            routes = body["routes"] or {}
            if not isinstance(routes, dict):
                raise ValueError("routes must be an object")
            self.routes = {
                key: replace(FaultSpec(hang_seconds=self.default.hang_seconds), **_coerce(v or {}))
                for key, v in routes.items()
            }

    def for_route(self, key: str, protected: bool) -> FaultSpec | None:
        spec = self.routes.get(key)
        if spec is not None:
            return spec
        if protected:
            return None
        return self.routes.get("*", self.default)

    def describe(self) -> dict:
        def as_dict(spec: FaultSpec) -> dict:
            return {f.name: getattr(spec, f.name) for f in fields(spec)}

        return {**as_dict(self.default), "routes": {k: as_dict(v) for k, v in self.routes.items()}}
