"""The sink protocol: where events go. Shaped like httpx's transports: small and explicit."""

from __future__ import annotations

from typing import Any, Dict, List, Sequence

try:
    from typing import Protocol, runtime_checkable
except ImportError:  # pragma: no cover - Python < 3.8
    from typing_extensions import Protocol, runtime_checkable  # type: ignore[assignment]


@runtime_checkable
class Sink(Protocol):
    """Receives batches of events on the tracker's worker thread.

    ``emit`` may raise; the tracker counts it (``stats["sink_errors"]``), logs it once and
    goes on. ``flush`` and ``close`` are called from ``tracker.flush()`` / ``tracker.stop()``.
    """

    def emit(self, events: Sequence[Dict[str, Any]]) -> None: ...

    def flush(self) -> None: ...

    def close(self) -> None: ...


class MemorySink:
    """Keeps events in a list: for tests, and for reading events back in your own code."""

    def __init__(self) -> None:
        self.events: List[Dict[str, Any]] = []

    def emit(self, events: Sequence[Dict[str, Any]]) -> None:
        self.events.extend(events)

    def flush(self) -> None:
        return None

    def close(self) -> None:
        return None


class CallableSink:
    """Calls a function once per event."""

    def __init__(self, function: Any) -> None:
        self.function = function

    def emit(self, events: Sequence[Dict[str, Any]]) -> None:
        for event in events:
            self.function(event)

    def flush(self) -> None:
        return None

    def close(self) -> None:
        return None

    def __repr__(self) -> str:
        return f"CallableSink({self.function!r})"
