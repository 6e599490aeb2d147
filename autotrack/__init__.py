"""autotrack: one line to time, count, price and log every LLM SDK call your program makes.

    import autotrack
    tracker = autotrack.track(amplitude_client)   # or a callable, "console", "jsonl:PATH", a Sink
    ...
    tracker.stop()

``import autotrack`` is cheap: the engine, wrapt, the SDKs, the tokenizer and the price
database load on first use, never at import.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._version import __version__
from .context import context
from .errors import AutotrackError, ConfigError
from .event import Event, create_event
from .sinks.base import CallableSink, MemorySink, Sink

if TYPE_CHECKING:
    from .providers.base import Method, Provider, Request, Response, Usage
    from .tracker import Tracker, track

__all__ = [
    "__version__",
    "track",
    "Tracker",
    "context",
    "create_event",
    "Event",
    "Sink",
    "MemorySink",
    "CallableSink",
    "ConfigError",
    "AutotrackError",
    "Provider",
    "Method",
    "Request",
    "Response",
    "Usage",
]

_LAZY = {
    "track": "tracker",
    "Tracker": "tracker",
    "Provider": "providers.base",
    "Method": "providers.base",
    "Request": "providers.base",
    "Response": "providers.base",
    "Usage": "providers.base",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'autotrack' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list:
    return sorted(set(globals()) | set(__all__))
