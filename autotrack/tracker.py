"""Trackers: options, lifecycle, fan-out to every active tracker, and the worker's pipeline."""

from __future__ import annotations

import atexit
import enum
import logging
import random
import time
from typing import Any, Dict, List, Optional, Tuple

from . import patching
from ._guard import internal_error
from ._locks import ForkSafeLock
from ._worker import Worker, is_closing, is_marker, release_marker
from .event import Event
from .options import UNSET, Options
from .pipeline import build_event, prepare_manual
from .providers import Provider, load
from .record import CallRecord
from .sinks import resolve

logger = logging.getLogger("autotrack")

_lock = ForkSafeLock(reentrant=True)
_active: Tuple[Tracker, ...] = ()

STAT_NAMES = ("emitted", "dropped", "sampled_out", "sink_errors", "internal_errors")


class State(enum.Enum):
    RUNNING = "running"
    STOPPED = "stopped"


def active_trackers() -> Tuple[Tracker, ...]:
    return _active


class Tracker:
    """One ``track()`` call: its options, its sink, its two background threads and its counts.

    Records go through a bounded queue to the *pipeline* thread, which turns them into small,
    truncated events; events go through a second bounded queue to the *delivery* thread, which
    owns the sink. A slow or hung sink therefore holds at most ``max_queue_size`` small events,
    never the app's requests and responses.
    """

    def __init__(self, options: Options, providers: Dict[str, Provider], sink: Any) -> None:
        self.options = options
        self.sink = sink
        self._providers = providers
        self._provider_names = tuple(providers)
        self._stats: Dict[str, int] = dict.fromkeys(STAT_NAMES, 0)
        self._stats_lock = ForkSafeLock()
        self._logged: set = set()
        self._state = State.RUNNING
        self._pipeline = Worker("autotrack-pipeline", self._build, options.max_queue_size)
        self._delivery = Worker("autotrack-delivery", self._emit, options.max_queue_size)

    # -- public ---------------------------------------------------------------------------
    @property
    def stats(self) -> Dict[str, int]:
        """Counts so far: emitted, dropped, sampled_out, sink_errors, internal_errors."""
        return dict(self._stats)

    @property
    def queued(self) -> int:
        """Calls and events waiting in the background queues right now."""
        return len(self._pipeline) + len(self._delivery)

    @property
    def providers(self) -> Tuple[str, ...]:
        return self._provider_names

    @property
    def running(self) -> bool:
        return self._state is State.RUNNING

    def record(self, event: Dict[str, Any]) -> None:
        """Send a manual event (see ``autotrack.create_event``) through this tracker's pipeline."""
        if self._state is not State.RUNNING:
            return
        if not isinstance(event, dict):
            internal_error("tracker.record", TypeError(f"record() takes an event dict, got {type(event).__name__}"),
                           (self,))
            return
        copied = Event(event)  # the caller's dict is theirs: the pipeline works on a copy
        props = copied.get("event_properties")
        if isinstance(props, dict):
            copied["event_properties"] = dict(props)
        if not self._pipeline.put(copied):
            self._count("dropped")

    def flush(self, timeout: Optional[float] = 5.0) -> bool:
        """Wait until every event queued so far is delivered; False if ``timeout`` ran out first."""
        deadline = None if timeout is None else time.monotonic() + timeout
        if not self._pipeline.flush(timeout):
            return False
        remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
        return self._delivery.flush(remaining)

    def stop(self, timeout: Optional[float] = 5.0) -> bool:
        """Stop tracking: unpatch when no other tracker is active, then flush and close the sink. Idempotent."""
        global _active
        with _lock:
            if self._state is State.STOPPED:
                return True
            self._state = State.STOPPED
            _active = tuple(t for t in _active if t is not self)
            patching.update(_providers_of(_active), _active)
        deadline = None if timeout is None else time.monotonic() + timeout
        ok = self._pipeline.stop(timeout)
        remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
        # The sink is closed on the delivery thread: a sink that hangs cannot hang stop().
        return self._delivery.stop(remaining) and ok

    def __enter__(self) -> Tracker:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<autotrack.Tracker {self._state.value} providers={list(self._provider_names)} sink={self.sink!r}>"

    # -- hot path ------------------------------------------------------------------------
    def _enqueue(self, record: CallRecord) -> None:
        # A call still running when stop() came also counts as dropped: nothing is lost silently.
        if self._state is not State.RUNNING or not self._pipeline.put(record):
            self._count("dropped")

    # -- pipeline thread -----------------------------------------------------------------
    def _build(self, batch: List[Any]) -> None:
        for item in batch:
            if is_marker(item):
                release_marker(item)
                continue
            try:
                event = self._to_event(item)
            except Exception as exc:
                internal_error("pipeline", exc, (self,))
                continue
            if event is not None and not self._delivery.put(event):
                self._count("dropped")

    def _to_event(self, item: Any) -> Optional[Event]:
        options = self.options
        if isinstance(item, CallRecord):
            if item.error is not None and not options.track_errors:
                return None
            if item.error is None and options.sample_rate < 1.0 and random.random() >= options.sample_rate:
                self._count("sampled_out")
                return None
            return build_event(item, options)
        return prepare_manual(item, options)

    # -- delivery thread -----------------------------------------------------------------
    def _emit(self, batch: List[Any]) -> None:
        events: List[Dict[str, Any]] = []
        for item in batch:
            if not is_marker(item):
                events.append(item)
                continue
            self._send(events)
            events = []
            try:
                self.sink.close() if is_closing(item) else self.sink.flush()
            except BaseException as exc:
                self._sink_failed(exc, 0)
            release_marker(item)
        self._send(events)

    def _send(self, events: List[Dict[str, Any]]) -> None:
        if not events:
            return
        try:
            self.sink.emit(events)
        except BaseException as exc:  # even CancelledError or SystemExit from a sink must not end the thread
            self._sink_failed(exc, len(events))
            return
        self._count("emitted", len(events))

    def _count(self, name: str, n: int = 1) -> None:
        with self._stats_lock:
            self._stats[name] += n

    def _sink_failed(self, exc: BaseException, count: int) -> None:
        self._count("sink_errors", max(count, 1))
        if "sink" not in self._logged:
            self._logged.add("sink")
            logger.warning("autotrack: sink %r failed (logged once, counted in tracker.stats): %r", self.sink, exc)
        self._call_on_error(exc)

    def _report_error(self, counter: str, exc: BaseException) -> None:
        self._count(counter)
        self._call_on_error(exc)

    def _call_on_error(self, exc: BaseException) -> None:
        callback = self.options.on_error
        if callback is None:
            return
        try:
            callback(exc)
        except BaseException:
            logger.debug("autotrack: on_error callback raised", exc_info=True)


def _providers_of(trackers: Tuple[Tracker, ...]) -> Dict[str, Provider]:
    merged: Dict[str, Provider] = {}
    for tracker in trackers:
        merged.update(tracker._providers)
    return merged


def track(
    client: Any = UNSET,
    providers: Any = UNSET,
    include_inputs: Any = UNSET,
    include_outputs: Any = UNSET,
    track_errors: Any = UNSET,
    max_content_length: Any = UNSET,
    max_messages: Any = UNSET,
    redact_pii: Any = UNSET,
    redact: Any = UNSET,
    sample_rate: Any = UNSET,
    pricing: Any = UNSET,
    stream_usage: Any = UNSET,
    on_error: Any = UNSET,
    **more: Any,
) -> Tracker:
    """Instrument every installed LLM SDK and send one ``ai_operation`` event per call to ``client``.

    Defaults: ``client=None`` (``AUTOTRACK_SINK``, else console), ``providers=None`` (every
    discovered provider), ``include_inputs=True``, ``include_outputs=True``,
    ``track_errors=True``, ``max_content_length=500``, ``max_messages=6``, ``redact_pii=True``,
    ``redact=None``, ``sample_rate=1.0``, ``pricing=None``, ``stream_usage="auto"``,
    ``on_error=None``. Each can also come from an ``AUTOTRACK_<NAME>`` variable; an explicit
    argument wins. Raises :class:`autotrack.ConfigError` for a value it cannot use.
    """
    global _active
    options = Options.resolve(
        client=client,
        providers=providers,
        include_inputs=include_inputs,
        include_outputs=include_outputs,
        track_errors=track_errors,
        max_content_length=max_content_length,
        max_messages=max_messages,
        redact_pii=redact_pii,
        redact=redact,
        sample_rate=sample_rate,
        pricing=pricing,
        stream_usage=stream_usage,
        on_error=on_error,
        **more,
    )
    found = load(options.providers)
    sink = resolve(options.client)
    tracker = Tracker(options, found, sink)
    with _lock:
        _active = _active + (tracker,)
        patching.update(_providers_of(_active), _active)
    return tracker


def _flush_at_exit() -> None:
    trackers = _active
    if not trackers:
        return
    deadline = time.monotonic() + max(t.options.exit_flush_timeout for t in trackers)
    for tracker in trackers:
        try:
            tracker.flush(max(0.0, deadline - time.monotonic()))
        except Exception:
            pass


atexit.register(_flush_at_exit)
