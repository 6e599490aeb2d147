"""Sinks: console, jsonl, callable, the Sink protocol, and a real amplitude.Amplitude client."""

from __future__ import annotations

import json
from decimal import Decimal

import openai
import pytest

import autotrack
from tests.test_engine_support import MESSAGES, chat_handler, client


def _calls(n=2, **ctx):
    c = client(openai, chat_handler())
    with autotrack.context(**ctx):
        for _ in range(n):
            c.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)


def test_console_prints_one_line_per_event_to_stderr(capsys):
    with autotrack.track("console") as tracker:
        _calls(3)
        assert tracker.flush(5)
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert len(lines) == 3
    assert all(line.startswith("[autotrack] openai chat_completion gpt-4o-mini ") for line in lines)
    assert all("tokens=12/3" in line and "cost=$" in line for line in lines)
    assert captured.out == ""


def test_jsonl_appends_valid_json_lines(tmp_path):
    path = tmp_path / "events.jsonl"
    path.write_text('{"pre": "existing"}\n')
    with autotrack.track(f"jsonl:{path}") as tracker:
        _calls(2, user_id="u-json")
        tracker.record(autotrack.create_event(model="m", metadata={"d": Decimal("0.25")}))
        assert tracker.flush(5)
    with autotrack.track(f"jsonl:{path}"):
        _calls(1)
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert lines[0] == {"pre": "existing"}
    assert [e.get("event_type") for e in lines[1:]] == ["ai_operation"] * 4
    assert [e["user_id"] for e in lines[1:3]] == ["u-json", "u-json"]
    assert lines[3]["event_properties"]["d"] == 0.25
    assert all(e["event_properties"]["model"] for e in lines[1:])


def test_callable_gets_each_event():
    got = []
    with autotrack.track(got.append) as tracker:
        _calls(2)
        assert tracker.flush(5)
    assert len(got) == 2
    assert all(isinstance(e, dict) and e["event_type"] == "ai_operation" for e in got)
    assert json.loads(json.dumps(got[0]))["event_properties"]["model"] == "gpt-4o-mini"


class BatchSink:
    def __init__(self):
        self.batches, self.flushes, self.closes = [], 0, 0

    def emit(self, events):
        self.batches.append(list(events))

    def flush(self):
        self.flushes += 1

    def close(self):
        self.closes += 1


def test_sink_protocol_object_receives_batches_and_flush_close():
    sink = BatchSink()
    assert isinstance(sink, autotrack.Sink)
    tracker = autotrack.track(sink)
    _calls(3)
    assert tracker.flush(5)
    assert sum(len(b) for b in sink.batches) == 3
    assert all(isinstance(b, list) and b for b in sink.batches)
    assert sink.flushes >= 1 and sink.closes == 0
    tracker.stop()
    assert sink.closes == 1
    tracker.stop()
    assert sink.closes == 1


# -- Amplitude ------------------------------------------------------------------------------
amplitude = pytest.importorskip("amplitude")


class CaptureDestination(amplitude.DestinationPlugin):
    def __init__(self):
        super().__init__()
        self.events = []

    def execute(self, event):
        from amplitude.plugin import verify_event

        assert verify_event(event), "the real destination would reject this event"
        self.events.append(event)

    def flush(self):
        return None


@pytest.fixture
def amp():
    amp_client = amplitude.Amplitude("test-api-key")
    for plugin in list(amp_client._Amplitude__timeline.plugins[amplitude.PluginType.DESTINATION]):
        amp_client.remove(plugin)  # no HTTP, no retries at exit
    capture = CaptureDestination()
    amp_client.add(capture)
    yield amp_client, capture
    amp_client.shutdown()


def _plain(value):
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_plain(v) for v in value)
    return value is None or type(value) in (bool, int, float, str)


def test_amplitude_client_gets_base_events_with_device_id_fallback(amp):
    amp_client, capture = amp
    with autotrack.track(amp_client) as tracker:
        _calls(1)
        assert tracker.flush(5)
    [event] = capture.events
    assert isinstance(event, amplitude.BaseEvent)
    assert event.event_type == "ai_operation"
    assert event.user_id is None
    assert event.device_id and event.device_id.startswith("autotrack-")
    body = event.get_event_body()
    props = body["event_properties"]
    assert props["model"] == "gpt-4o-mini" and props["provider"] == "openai"
    assert props["input_tokens"] == 12 and props["output_tokens"] == 3
    assert isinstance(props["cost"], float) and props["cost"] > 0
    assert _plain(props)
    assert not any(isinstance(v, Decimal) for v in props.values())


def test_amplitude_user_id_from_context(amp):
    amp_client, capture = amp
    with autotrack.track(amp_client) as tracker:
        _calls(1, user_id="u1", session_id="s1", plan="pro")
        tracker.record(autotrack.create_event(model="m", cost=Decimal("0.5")))
        assert tracker.flush(5)
    first, manual = capture.events
    assert first.user_id == "u1"
    body = first.get_event_body()
    assert body["event_properties"]["plan"] == "pro" and body["event_properties"]["session_id"] == "s1"
    assert manual.get_event_body()["event_properties"]["cost"] == 0.5  # a Decimal would drop every property
