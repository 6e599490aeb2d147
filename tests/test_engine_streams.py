"""Streams: one event however the stream ends; the SDK's stream object, chunks and exceptions unchanged."""

from __future__ import annotations

import asyncio
import gc
import json

import anthropic
import openai
import pytest

import autotrack
from tests.test_engine_support import MESSAGES, chat_chunks, chat_handler, client, sdk_httpx, sse_bytes

OHX = sdk_httpx(openai)
AHX = sdk_httpx(anthropic)
SSE = {"content-type": "text/event-stream"}


def _stream(c, **kwargs):
    return c.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True, **kwargs)


def _dump(chunks):
    return [(type(c), c.model_dump()) for c in chunks]


@pytest.fixture
def tracked():
    sink = autotrack.MemorySink()
    tracker = autotrack.track(sink)

    def events():
        assert tracker.flush(5)
        return list(sink.events)

    yield events
    tracker.stop()


def test_completed_stream_is_the_sdks_stream_with_identical_chunks():
    untracked = list(_stream(client(openai, chat_handler())))
    sent = []

    def handler(request):
        sent.append(json.loads(request.content))
        return chat_handler()(request)

    sink = autotrack.MemorySink()
    with autotrack.track(sink) as tracker:
        stream = _stream(client(openai, handler))
        assert type(stream) is openai.Stream
        tracked_chunks = list(stream)
        assert tracker.flush(5)
    assert _dump(tracked_chunks) == _dump(untracked)
    assert len(tracked_chunks) == 6  # the injected usage-only chunk is hidden from the app
    assert sent[0]["stream_options"] == {"include_usage": True}
    [event] = sink.events
    assert event["stream_completed"] == "completed"
    assert event["streaming"] is True
    assert event["output_text"] == "Hello world"
    assert (event["input_tokens"], event["output_tokens"], event["tokens_estimated"]) == (9, 4, False)
    assert 0 < event["time_to_first_token_ms"] <= event["latency_ms"]


def test_abandoned_stream_emits_one_event_when_collected(tracked):
    stream = _stream(client(openai, chat_handler()))
    it = iter(stream)
    first = [next(it), next(it)]
    assert first[1].choices[0].delta.content == "Hel"
    del stream, it
    gc.collect()
    [event] = tracked()
    assert event["stream_completed"] == "abandoned"
    assert event["output_text"] == "Hel"
    gc.collect()
    assert len(tracked()) == 1


def test_with_block_exited_early_is_closed(tracked):
    with _stream(client(openai, chat_handler())) as stream:
        for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content == "lo":
                break
    assert stream.response.is_closed
    [event] = tracked()
    assert event["stream_completed"] == "closed"
    assert event["output_text"] == "Hello"
    del stream
    gc.collect()
    assert len(tracked()) == 1


def test_close_is_closed_once(tracked):
    stream = _stream(client(openai, chat_handler()))
    next(iter(stream))
    stream.close()
    stream.close()
    assert stream.response.is_closed
    del stream
    gc.collect()
    [event] = tracked()
    assert event["stream_completed"] == "closed"


def test_sse_error_mid_stream_reaches_caller_and_is_recorded(tracked):
    def handler(request):
        body = sse_bytes(chat_chunks()[:2], done=False) + sse_bytes([{"error": {"message": "overloaded",
                                                                                "type": "server_error"}}])
        return OHX.Response(200, headers=SSE, content=body)

    got = []
    with pytest.raises(openai.APIError) as info:
        for chunk in _stream(client(openai, handler)):
            got.append(chunk)
    assert len(got) == 2
    [event] = tracked()
    assert event["stream_completed"] == "error"
    assert event["error"] == f"APIError: {info.value}"


def test_transport_error_mid_stream_is_the_same_exception_object(tracked):
    failure = OHX.ReadError("connection reset mid-stream")

    def body():
        yield sse_bytes(chat_chunks()[:3], done=False)
        raise failure

    def handler(request):
        return OHX.Response(200, headers=SSE, content=body())

    got = []
    with pytest.raises(Exception) as info:
        for chunk in _stream(client(openai, handler)):
            got.append(chunk)
    # openai 1.x lets httpx's ReadError through; openai 3.x wraps it in APIConnectionError (cause: ours)
    assert info.value is failure or (isinstance(info.value, openai.APIConnectionError)
                                     and info.value.__cause__ is failure)
    assert len(got) == 3
    [event] = tracked()
    assert event["stream_completed"] == "error"
    assert event["error"] == f"{type(info.value).__name__}: {info.value}"


def _anthropic_sse():
    model = "claude-3-5-haiku-20241022"
    events = [
        ("message_start", {"type": "message_start", "message": {
            "id": "msg_s1", "type": "message", "role": "assistant", "model": model, "content": [],
            "stop_reason": None, "stop_sequence": None, "usage": {"input_tokens": 10, "output_tokens": 1}}}),
        ("content_block_start", {"type": "content_block_start", "index": 0,
                                 "content_block": {"type": "text", "text": ""}}),
        ("content_block_delta", {"type": "content_block_delta", "index": 0,
                                 "delta": {"type": "text_delta", "text": "Hi"}}),
        ("content_block_delta", {"type": "content_block_delta", "index": 0,
                                 "delta": {"type": "text_delta", "text": " there"}}),
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        ("message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                           "usage": {"output_tokens": 3}}),
        ("message_stop", {"type": "message_stop"}),
    ]
    return b"".join(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode() for name, data in events)


def test_anthropic_stream_completed_and_abandoned(tracked):
    def handler(request):
        return AHX.Response(200, headers=SSE, content=_anthropic_sse())

    c = client(anthropic, handler)
    kwargs = {"model": "claude-3-5-haiku-20241022", "max_tokens": 10, "messages": MESSAGES, "stream": True}
    stream = c.messages.create(**kwargs)
    assert type(stream) is anthropic.Stream
    assert [e.type for e in stream][-1] == "message_stop"
    half = c.messages.create(**kwargs)
    it = iter(half)
    next(it)
    del half, it
    gc.collect()
    first, second = tracked()
    assert first["stream_completed"] == "completed"
    assert first["output_text"] == "Hi there"
    assert (first["input_tokens"], first["output_tokens"]) == (10, 3)
    assert second["stream_completed"] == "abandoned"


# -- async ----------------------------------------------------------------------------------
def _async_handler(body_factory=None):
    async def handle(request):
        if body_factory is not None:
            return OHX.Response(200, headers=SSE, content=body_factory())
        return chat_handler()(request)

    return handle


async def _astream(c):
    return await c.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)


async def test_async_stream_completed_and_closed(tracked):
    c = client(openai, _async_handler(), is_async=True)
    stream = await _astream(c)
    assert type(stream) is openai.AsyncStream
    chunks = [ch async for ch in stream]
    assert len(chunks) == 6
    async with await _astream(c) as second:
        async for _ in second:
            break
    third = await _astream(c)
    await third.__anext__()
    await third.close()
    statuses = [e["stream_completed"] for e in tracked()]
    assert statuses == ["completed", "closed", "closed"]


async def test_async_stream_error_mid_stream(tracked):
    failure = OHX.ReadError("reset")

    async def body():
        yield sse_bytes(chat_chunks()[:2], done=False)
        raise failure

    with pytest.raises(Exception) as info:
        async for _ in await _astream(client(openai, _async_handler(body), is_async=True)):
            pass
    assert info.value is failure or (isinstance(info.value, openai.APIConnectionError)
                                     and info.value.__cause__ is failure)
    [event] = tracked()
    assert event["stream_completed"] == "error"


async def test_cancelled_task_while_iterating_propagates_and_emits_once(tracked):
    gate = asyncio.Event()
    reached = asyncio.Event()

    async def body():
        yield sse_bytes(chat_chunks()[:2], done=False)
        await gate.wait()
        yield sse_bytes(chat_chunks()[2:])

    c = client(openai, _async_handler(body), is_async=True)

    async def consume():
        async for _ in await _astream(c):
            reached.set()

    task = asyncio.ensure_future(consume())
    await reached.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    gate.set()
    gc.collect()
    events = tracked()
    assert len(events) == 1
    assert events[0]["stream_completed"] in ("error", "closed", "abandoned")
