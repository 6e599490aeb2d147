"""Regression tests for failure modes found in review: each one broke the bar before its fix."""

from __future__ import annotations

import asyncio
import json
import threading
import time

import openai

import autotrack
from tests.test_engine_support import MESSAGES, chat_handler, client


def _call(c, **kwargs):
    return c.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, **kwargs)


class CancellingSink:
    """A sink whose emit raises a BaseException (asyncio.CancelledError), then recovers."""

    def __init__(self) -> None:
        self.events: list = []
        self.calls = 0

    def emit(self, events):
        self.calls += 1
        if self.calls == 1:
            raise asyncio.CancelledError()
        self.events.extend(events)

    def flush(self):
        return None

    def close(self):
        return None


def test_a_sink_raising_base_exception_does_not_end_delivery():
    sink = CancellingSink()
    tracker = autotrack.track(sink, providers=["openai"])
    c = client(openai, chat_handler())
    _call(c)
    assert tracker.flush(5) is True
    _call(c)
    assert tracker.flush(5) is True
    assert len(sink.events) == 1
    assert tracker.stats["sink_errors"] == 1
    tracker.stop()


def test_flush_after_stop_returns_at_once():
    tracker = autotrack.track(autotrack.MemorySink(), providers=["openai"])
    tracker.stop()
    started = time.monotonic()
    assert tracker.flush(timeout=None) is True
    assert time.monotonic() - started < 1.0


def test_messages_appended_after_the_call_are_not_reported():
    sink = autotrack.MemorySink()
    tracker = autotrack.track(sink, providers=["openai"])
    history = [{"role": "user", "content": "first question"}]
    reply = client(openai, chat_handler()).chat.completions.create(model="gpt-4o-mini", messages=history)
    history.append({"role": "assistant", "content": reply.choices[0].message.content})
    history.append({"role": "user", "content": "a later question never sent in this call"})
    assert tracker.flush(5)
    assert sink.events[0]["input_text"] == "user: first question"
    tracker.stop()


def test_context_properties_are_redacted_and_cannot_set_content():
    sink = autotrack.MemorySink()
    tracker = autotrack.track(sink, providers=["openai"], include_inputs=False)
    with autotrack.context(user_id="u-1", note="reach me at jane@example.com", input_text="smuggled"):
        _call(client(openai, chat_handler()))
    assert tracker.flush(5)
    props = sink.events[0]["event_properties"]
    assert props["note"] == "reach me at [EMAIL]"
    assert "input_text" not in props
    assert props["user_id"] == "u-1"
    assert "jane@example.com" not in json.dumps(sink.events[0])
    tracker.stop()


def test_manual_event_metadata_is_redacted_and_the_callers_event_untouched():
    sink = autotrack.MemorySink()
    tracker = autotrack.track(sink, providers=["openai"])
    event = autotrack.create_event(model="m", provider="p", operation="chat_completion", input_data="hi",
                                   metadata={"secret_note": "key sk-proj-abcdefghijklmnopqrstuvwx"})
    tracker.record(event)
    assert tracker.flush(5)
    assert sink.events[0]["event_properties"]["secret_note"] == "key [SECRET]"
    assert event["event_properties"]["secret_note"] == "key sk-proj-abcdefghijklmnopqrstuvwx"
    tracker.stop()


def test_record_with_odd_input_never_raises(monkeypatch):
    monkeypatch.delenv("AUTOTRACK_RAISE_INTERNAL_ERRORS", raising=False)
    tracker = autotrack.track(autotrack.MemorySink(), providers=["openai"])
    tracker.record(None)  # type: ignore[arg-type]
    tracker.record(42)  # type: ignore[arg-type]
    assert tracker.stats["internal_errors"] == 2
    tracker.stop()


def test_a_hung_sink_keeps_no_requests_alive():
    """The pipeline turns records into small events even while the sink hangs: big prompts are let go."""
    release = threading.Event()
    entered = threading.Event()

    def hang(event):
        entered.set()
        release.wait(10)

    tracker = autotrack.track(hang, providers=["openai"], max_queue_size=50)
    c = client(openai, chat_handler())
    big = [{"role": "user", "content": "x" * 200_000}]
    try:
        c.chat.completions.create(model="gpt-4o-mini", messages=big)
        assert entered.wait(5)
        for _ in range(100):
            c.chat.completions.create(model="gpt-4o-mini", messages=big)
        deadline = time.monotonic() + 10
        while tracker._pipeline and time.monotonic() < deadline:
            threading.Event().wait(0.01)
        assert len(tracker._pipeline) == 0  # no record (and so no 200 kB prompt) waits on the sink
        assert len(tracker._delivery) <= 50
        assert tracker.stats["dropped"] > 0
    finally:
        release.set()
    assert tracker.flush(10)
    stats = tracker.stats
    assert stats["emitted"] + stats["dropped"] == 101  # every call is either delivered or counted
    tracker.stop()
