"""Never break the host app: same return object, same exception object, error events; sampling; the guard."""

from __future__ import annotations

import logging

import anthropic
import openai
import pytest

import autotrack
from tests.test_engine_support import (
    MESSAGES,
    anthropic_body,
    chat_handler,
    client,
    closed_port,
    props,
    sdk_httpx,
)

OHX = sdk_httpx(openai)
AHX = sdk_httpx(anthropic)


@pytest.fixture
def observed(monkeypatch):
    """What the SDK's own ``create`` returned or raised, seen from a layer *below* autotrack's wrapper."""
    from openai.resources.chat.completions import completions as module

    original = vars(module.Completions)["create"]
    seen = []

    def create(self, *args, **kwargs):
        try:
            result = original(self, *args, **kwargs)
        except BaseException as exc:
            seen.append(exc)
            raise
        seen.append(result)
        return result

    monkeypatch.setattr(module.Completions, "create", create)
    yield seen


def _status_handler(status: int, hx=OHX):
    def handle(request):
        return hx.Response(status, json={"error": {"message": "nope", "type": "test_error", "code": None}})

    return handle


def test_result_is_the_identical_object_the_sdk_returned(observed):
    from openai.resources.chat.completions import completions as module

    sink = autotrack.MemorySink()
    with autotrack.track(sink) as tracker:
        assert vars(module.Completions)["create"] is not observed  # our wrapper sits above the observer
        result = client(openai, chat_handler()).chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
        assert tracker.flush(5)
    assert len(observed) == 1
    assert result is observed[0]
    assert [e["model"] for e in sink.events] == ["gpt-4o-mini"]


@pytest.mark.parametrize(
    "status, cls",
    [(401, openai.AuthenticationError), (429, openai.RateLimitError), (500, openai.InternalServerError)],
)
@pytest.mark.parametrize("track_errors", [True, False])
def test_status_errors_propagate_unchanged(observed, status, cls, track_errors):
    sink = autotrack.MemorySink()
    with autotrack.track(sink, track_errors=track_errors) as tracker:
        c = client(openai, _status_handler(status))
        with pytest.raises(cls) as info:
            c.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
        assert tracker.flush(5)
    assert info.value is observed[0]
    assert info.value.status_code == status
    if not track_errors:
        assert sink.events == []
        return
    [event] = sink.events
    p = props(event)
    assert p["error"] == f"{cls.__name__}: {info.value}"
    assert isinstance(p["latency_ms"], float) and p["latency_ms"] > 0
    assert p["model"] == "gpt-4o-mini"
    assert p["output_tokens"] is None and p["cost"] is None


def test_timeout_propagates_as_api_timeout_error(observed):
    def handle(request):
        raise OHX.ReadTimeout("read timed out", request=request)

    sink = autotrack.MemorySink()
    with autotrack.track(sink) as tracker:
        with pytest.raises(openai.APITimeoutError) as info:
            client(openai, handle).chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
        assert tracker.flush(5)
    assert info.value is observed[0]
    [event] = sink.events
    assert event["error"] == f"APITimeoutError: {info.value}"
    assert event["latency_ms"] > 0


def test_refused_connection_propagates_as_api_connection_error(observed):
    port = closed_port()
    sink = autotrack.MemorySink()
    with autotrack.track(sink) as tracker:
        c = openai.OpenAI(api_key="sk-test-key-0000000000000000", base_url=f"http://127.0.0.1:{port}/v1",
                          max_retries=0, timeout=5)
        with pytest.raises(openai.APIConnectionError) as info:
            c.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
        assert tracker.flush(5)
    assert type(info.value) is openai.APIConnectionError
    assert info.value is observed[0]
    [event] = sink.events
    assert event["error"] == f"APIConnectionError: {info.value}"
    assert event["latency_ms"] > 0


def test_refused_connection_without_error_tracking_emits_nothing():
    port = closed_port()
    sink = autotrack.MemorySink()
    with autotrack.track(sink, track_errors=False) as tracker:
        c = openai.OpenAI(api_key="sk-test-key-0000000000000000", base_url=f"http://127.0.0.1:{port}/v1",
                          max_retries=0)
        with pytest.raises(openai.APIConnectionError):
            c.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
        client(openai, chat_handler()).chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
        assert tracker.flush(5)
    assert [e["error"] for e in sink.events] == [None]


def test_anthropic_error_and_result_identity():
    from anthropic.resources import messages as module

    sink = autotrack.MemorySink()
    with autotrack.track(sink) as tracker:
        bad = client(anthropic, _status_handler(401, AHX))
        with pytest.raises(anthropic.AuthenticationError) as info:
            bad.messages.create(model="claude-3-5-haiku-20241022", max_tokens=5, messages=MESSAGES)
        good = client(anthropic, lambda r: AHX.Response(200, json=anthropic_body()))
        result = good.messages.create(model="claude-3-5-haiku-20241022", max_tokens=5, messages=MESSAGES)
        assert tracker.flush(5)
    assert type(result).__name__ == "Message" and result.content[0].text == "Hi!"
    assert hasattr(module, "Messages")
    errors = [e["error"] for e in sink.events]
    assert errors == [f"AuthenticationError: {info.value}", None]


async def test_async_status_error_propagates_with_event():
    sink = autotrack.MemorySink()
    with autotrack.track(sink) as tracker:
        c = client(openai, _status_handler(500), is_async=True)
        with pytest.raises(openai.InternalServerError) as info:
            await c.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
        ok = await client(openai, chat_handler(), is_async=True).chat.completions.create(
            model="gpt-4o-mini", messages=MESSAGES)
        assert tracker.flush(5)
    assert ok.choices[0].message.content == "Hello there!"
    assert [e["error"] for e in sink.events] == [f"InternalServerError: {info.value}", None]


# -- sampling -------------------------------------------------------------------------------
def test_sample_rate_zero_keeps_errors_only():
    sink = autotrack.MemorySink()
    with autotrack.track(sink, sample_rate=0) as tracker:
        good = client(openai, chat_handler())
        for _ in range(3):
            good.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
        with pytest.raises(openai.RateLimitError):
            client(openai, _status_handler(429)).chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
        assert tracker.flush(5)
        stats = tracker.stats
    assert [e["error"].split(":")[0] for e in sink.events] == ["RateLimitError"]
    assert stats["sampled_out"] == 3
    assert stats["emitted"] == 1


def test_sample_rate_one_samples_nothing_out():
    sink = autotrack.MemorySink()
    with autotrack.track(sink, sample_rate=1.0) as tracker:
        for _ in range(5):
            client(openai, chat_handler()).chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
        assert tracker.flush(5)
        assert tracker.stats["sampled_out"] == 0
    assert len(sink.events) == 5


# -- the guard ------------------------------------------------------------------------------
def test_internal_failure_is_counted_reported_and_swallowed(monkeypatch, caplog):
    monkeypatch.delenv("AUTOTRACK_RAISE_INTERNAL_ERRORS", raising=False)
    boom = RuntimeError("redactor exploded")
    seen = []

    def bad_redact(text):
        raise boom

    sink = autotrack.MemorySink()
    caplog.set_level(logging.DEBUG, logger="autotrack")
    with autotrack.track(sink, redact=bad_redact, on_error=seen.append) as tracker:
        c = client(openai, chat_handler())
        results = [c.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES) for _ in range(3)]
        assert tracker.flush(5)
        stats = tracker.stats
    assert [r.choices[0].message.content for r in results] == ["Hello there!"] * 3
    assert stats["internal_errors"] == 3
    assert seen == [boom, boom, boom]
    warnings = [r for r in caplog.records if r.name == "autotrack" and r.levelno >= logging.WARNING]
    assert len(warnings) <= 1  # once per site per process (maybe already logged by an earlier test)
    assert sink.events == []


@pytest.mark.parametrize("sdk", [openai, anthropic])
async def test_async_success_event_reads_the_response(sdk):
    sink = autotrack.MemorySink()
    with autotrack.track(sink) as tracker:
        if sdk is openai:
            c = client(openai, chat_handler(), is_async=True)
            result = await c.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
            text = result.choices[0].message.content
        else:
            c = client(anthropic, lambda r: AHX.Response(200, json=anthropic_body()), is_async=True)
            result = await c.messages.create(model="claude-3-5-haiku-20241022", max_tokens=5, messages=MESSAGES)
            text = result.content[0].text
        assert tracker.flush(5)
    [event] = sink.events
    assert event["output_text"] == text
    assert event["tokens_estimated"] is False
    assert event["response_id"] == result.id
