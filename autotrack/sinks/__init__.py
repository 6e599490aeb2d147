"""Sinks: where events go. ``resolve`` turns a ``track(client=...)`` value into a sink."""

from __future__ import annotations

import os
from typing import Any

from ..errors import ConfigError
from .base import CallableSink, MemorySink, Sink

__all__ = ["Sink", "MemorySink", "CallableSink", "resolve"]

ACCEPTED = (
    "an Amplitude client (has .track(event)), a callable(event), an object with emit/flush/close "
    "(autotrack.Sink), 'console', 'jsonl:PATH', or None (AUTOTRACK_SINK, else console)"
)


def _is_sink(target: Any) -> bool:
    return all(callable(getattr(target, name, None)) for name in ("emit", "flush", "close"))


def resolve(target: Any) -> Any:
    if target is None:
        target = os.environ.get("AUTOTRACK_SINK") or "console"
    if isinstance(target, str):
        spec = target.strip()
        if spec == "console":
            from .console import ConsoleSink

            return ConsoleSink()
        if spec.startswith("jsonl:") and spec[len("jsonl:"):].strip():
            from .jsonl import JsonlSink

            return JsonlSink(spec[len("jsonl:"):].strip())
        origin = "AUTOTRACK_SINK" if os.environ.get("AUTOTRACK_SINK", "").strip() == spec else "client"
        raise ConfigError(f"{origin}={target!r} is not a sink we can use; accepted: {ACCEPTED}")
    if _is_sink(target):
        return target
    if callable(getattr(target, "track", None)):
        from .amplitude import AmplitudeSink

        return AmplitudeSink(target)
    if callable(target):
        return CallableSink(target)
    raise ConfigError(f"client={type(target).__name__} object is not a sink we can use; accepted: {ACCEPTED}")
