"""The call record: everything the hot path notes about one user call, and nothing more.

The wrapper fills it with references and clock readings only; the background worker
turns it into an event later. Slots keep it small and quick to allocate.
"""

from __future__ import annotations

import contextvars
import time
from typing import TYPE_CHECKING, Any, List, Mapping, Optional, Tuple

if TYPE_CHECKING:
    from .providers.base import Method, Provider
    from .tracker import Tracker

# Set while a tracked call runs, so that SDK methods called by other SDK methods
# (a helper built on create) are passed straight through: one event per user call.
inside_tracked_call: contextvars.ContextVar[bool] = contextvars.ContextVar("autotrack_inside", default=False)


def snapshot(kwargs: Mapping[str, Any]) -> Mapping[str, Any]:
    """The call's arguments as they are now: a chat loop appends to its ``messages`` list after the call.

    Only top-level lists are copied (shallowly): cheap, and what apps mutate in practice.
    """
    for value in kwargs.values():
        if type(value) is list:
            return {key: list(v) if type(v) is list else v for key, v in kwargs.items()}
    return kwargs


class CallRecord:
    __slots__ = (
        "provider",
        "method",
        "instance",
        "args",
        "kwargs",
        "context",
        "trackers",
        "start_ns",
        "start_wall_ns",
        "end_ns",
        "end_wall_ns",
        "result",
        "error",
        "streaming",
        "chunks",
        "chunk_times",
        "stream_status",
        "usage_injected",
        "streaming_requested",
    )

    def __init__(
        self,
        provider: Provider,
        method: Method,
        instance: Any,
        args: Tuple[Any, ...],
        kwargs: Mapping[str, Any],
        context: Mapping[str, Any],
        trackers: Tuple[Tracker, ...],
    ) -> None:
        self.provider = provider
        self.method = method
        self.instance = instance
        self.args = args
        self.kwargs = snapshot(kwargs)
        self.context = context
        self.trackers = trackers
        self.start_wall_ns = time.time_ns()
        self.start_ns = time.perf_counter_ns()
        self.end_ns: Optional[int] = None
        self.end_wall_ns: Optional[int] = None
        self.result: Any = None
        self.error: Optional[BaseException] = None
        self.streaming = False
        self.chunks: Optional[List[Any]] = None
        self.chunk_times: Optional[List[int]] = None
        self.stream_status: Optional[str] = None
        self.usage_injected = False
        self.streaming_requested = kwargs.get("stream") is True

    def finish(self, result: Any = None, error: Optional[BaseException] = None) -> None:
        self.end_ns = time.perf_counter_ns()
        self.end_wall_ns = time.time_ns()
        self.result = result
        self.error = error

    def deliver(self) -> None:
        """Hand the finished record to every tracker that was active when the call began."""
        for tracker in self.trackers:
            tracker._enqueue(self)

    @property
    def latency_ms(self) -> Optional[float]:
        if self.end_ns is None:
            return None
        return (self.end_ns - self.start_ns) / 1e6

    def time_to_chunk_ms(self, index: Optional[int]) -> Optional[float]:
        """Milliseconds from the call to stream chunk ``index`` (the first token's chunk)."""
        times = self.chunk_times
        if not times or index is None or not 0 <= index < len(times):
            return None
        return (times[index] - self.start_ns) / 1e6
