"""Sinks that raise, hang or are slow never reach the app; they are counted, logged once, reported."""

from __future__ import annotations

import logging
import threading
import time

import openai

import autotrack
from tests.test_engine_support import MESSAGES, chat_handler, client


def _call(c):
    return c.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)


class RaisingSink:
    def __init__(self, exc, flush_exc=None, close_exc=None):
        self.exc, self.flush_exc, self.close_exc = exc, flush_exc, close_exc
        self.calls = 0

    def emit(self, events):
        self.calls += 1
        raise self.exc

    def flush(self):
        if self.flush_exc is not None:
            raise self.flush_exc

    def close(self):
        if self.close_exc is not None:
            raise self.close_exc


class HangingSink:
    """emit() blocks until the test releases it (or, as a 'slow' sink, until ``delay`` passes)."""

    def __init__(self, delay=None):
        self.entered = threading.Event()
        self.release = threading.Event()
        self.delay = delay
        self.events = []
        self.emit_done_at = []

    def emit(self, events):
        self.entered.set()
        self.release.wait(self.delay if self.delay is not None else 30)
        self.events.extend(events)
        self.emit_done_at.append(time.monotonic())

    def flush(self):
        return None

    def close(self):
        return None


def test_raising_sink_is_counted_reported_and_logged_once(caplog):
    boom = RuntimeError("sink down")
    seen = []
    sink = RaisingSink(boom)
    caplog.set_level(logging.WARNING, logger="autotrack")
    c = client(openai, chat_handler())
    with autotrack.track(sink, on_error=seen.append) as tracker:
        results = []
        for _ in range(3):
            results.append(_call(c))
            assert tracker.flush(5)
        stats = tracker.stats
    assert [r.choices[0].message.content for r in results] == ["Hello there!"] * 3
    assert sink.calls == 3
    assert stats["sink_errors"] == 3 and stats["emitted"] == 0
    assert seen == [boom, boom, boom] and all(e is boom for e in seen)
    logged = [r for r in caplog.records if r.name == "autotrack" and "sink" in r.getMessage()]
    assert len(logged) == 1


def test_raising_callable_and_on_error_that_raises_too():
    def bad_callback(exc):
        raise ValueError("on_error is broken as well")

    def bad_sink(event):
        raise KeyError("nope")

    c = client(openai, chat_handler())
    with autotrack.track(bad_sink, on_error=bad_callback) as tracker:
        result = _call(c)
        assert tracker.flush(5)
        assert tracker.stats["sink_errors"] == 1
    assert result.choices[0].message.content == "Hello there!"


def test_sink_flush_and_close_failures_are_counted_not_raised():
    flush_exc, close_exc = OSError("flush failed"), OSError("close failed")
    seen = []
    tracker = autotrack.track(RaisingSink(RuntimeError("emit"), flush_exc, close_exc), on_error=seen.append)
    _call(client(openai, chat_handler()))
    assert tracker.flush(5) is True
    assert tracker.stop() is True
    assert flush_exc in seen and close_exc in seen
    assert tracker.stats["sink_errors"] >= 3


def _eventually(predicate, timeout=5.0):
    """Wait for a condition the background threads will reach (a bounded wait, not a sleep)."""
    deadline = time.monotonic() + timeout
    pause = threading.Event()
    while not predicate():
        if time.monotonic() > deadline:
            return False
        pause.wait(0.005)
    return True


def test_hanging_sink_never_blocks_the_app_and_queue_drops_when_full():
    sink = HangingSink()
    c = client(openai, chat_handler())
    tracker = autotrack.track(sink, max_queue_size=5)
    try:
        _call(c)
        assert sink.entered.wait(5)  # the delivery thread is now stuck inside emit()
        results = [_call(c) for _ in range(20)]
        assert not sink.release.is_set()  # every call returned while the sink was still hanging
        assert len(results) == 20
        # The pipeline keeps draining records into small events; the delivery queue holds 5 of them.
        assert _eventually(lambda: tracker.stats["dropped"] == 15), tracker.stats
        assert tracker.queued == 5
        started = time.monotonic()
        assert tracker.flush(timeout=0.2) is False
        assert time.monotonic() - started < 2.0
        for _ in range(50):
            _call(c)
        assert _eventually(lambda: tracker.stats["dropped"] == 65), tracker.stats
        assert tracker.queued <= 6  # 5 events + the flush marker: bounded
    finally:
        sink.release.set()
    assert tracker.flush(5) is True
    assert len(sink.events) == 6
    assert tracker.stats["emitted"] == 6
    tracker.stop()


def test_slow_sink_does_not_slow_the_app():
    sink = HangingSink(delay=0.3)
    c = client(openai, chat_handler())
    with autotrack.track(sink) as tracker:
        _call(c)
        assert sink.entered.wait(5)
        returned_at = []
        for _ in range(10):
            _call(c)
            returned_at.append(time.monotonic())
        assert sink.emit_done_at == [] or returned_at[-1] < sink.emit_done_at[0]
        assert tracker.flush(5)
    assert len(sink.events) == 11
    assert returned_at[-1] < sink.emit_done_at[0]  # all ten calls returned before the first slow emit ended
