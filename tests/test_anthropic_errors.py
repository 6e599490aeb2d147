"""Anthropic failures: the SDK's own exception reaches the caller unchanged, and one error event is emitted.

Recorded 400/401 cassettes, a hand-written SSE cassette with a mid-stream ``event: error``, and
in-process MockTransport faults (529, 429, timeout, a body that breaks mid-stream).
"""

from __future__ import annotations

import json
import math
from typing import Any, Callable, Dict, List, Optional

import anthropic
import pytest

from tests.conftest import cassette, mock_client, sdk_httpx

ERR_400 = "dd-trace-py/anthropic/anthropic_completion_error.yaml"
ERR_401 = "dd-trace-py/anthropic/anthropic_completion_invalid_api_key.yaml"
MIDSTREAM_ERROR = "handwritten/anthropic/message_stream_midstream_overloaded_error_handwritten.yaml"

KEY = "sk-ant-api03-test-key-not-real-0000000000"
OPUS = "claude-3-opus-20240229"
HAIKU_35 = "claude-3-5-haiku-20241022"
JOKE = [{"role": "user", "content": "Tell me a joke about OpenTelemetry"}]

hx: Any = sdk_httpx("anthropic")  # httpx2 for anthropic 2.x, httpx for 0.x




# anthropic added OverloadedError (529) in 0.5x; before, a 529 is a plain status error.
OVERLOADED = getattr(anthropic, "OverloadedError", None) or getattr(
    anthropic._exceptions, "OverloadedError", anthropic.APIStatusError
)

def assert_output_estimated(props: Dict[str, Any]) -> None:
    """A stream cut short: output tokens estimated from the text received, and flagged as such."""
    assert props["output_tokens"] == math.ceil(len(props["output_text"]) / 4)
    assert props["tokens_estimated"] is True

def client() -> anthropic.Anthropic:
    return anthropic.Anthropic(api_key=KEY, max_retries=0)


def aclient() -> anthropic.AsyncAnthropic:
    return anthropic.AsyncAnthropic(api_key=KEY, max_retries=0)


def mock(handler: Callable[[Any], Any], *, is_async: bool = False) -> Any:
    return mock_client(anthropic, handler, is_async=is_async)


def status(code: int, kind: str, message: str) -> Callable[[Any], Any]:
    body = {"type": "error", "error": {"type": kind, "message": message}}
    return lambda request: hx.Response(code, json=body, headers={"request-id": "req_mock"})


def timeout(request: Any) -> Any:
    raise hx.ReadTimeout("timed out", request=request)


def props_of(found: List[Any]) -> Dict[str, Any]:
    assert len(found) == 1, f"expected exactly one event, got {len(found)}"
    return found[0]["event_properties"]


def assert_error_event(props: Dict[str, Any], error: BaseException, *, model: str = OPUS) -> None:
    assert props["provider"] == "anthropic"
    assert props["operation"] == "chat_completion"
    assert props["model"] == model
    assert props["error"] == f"{type(error).__name__}: {error}"
    assert props["output_tokens"] is None
    assert props["response_id"] is None and props["output_text"] is None
    assert props["latency_ms"] is not None and props["latency_ms"] >= 0


# -- recorded 400 / 401 -------------------------------------------------------------------------


def test_400_bad_request(events):
    with cassette(ERR_400), pytest.raises(anthropic.BadRequestError) as caught:
        client().messages.create(model=OPUS, max_tokens=15, messages=["Invalid content"])  # type: ignore[list-item]
    error = caught.value
    assert type(error) is anthropic.BadRequestError
    assert error.status_code == 400
    assert error.body == {
        "type": "error",
        "error": {"type": "invalid_request_error", "message": "messages.0: Input does not match the expected shape."},
    }
    assert error.response.headers["request-id"]
    props = props_of(events())
    assert_error_event(props, error)
    assert "Input does not match the expected shape" in props["error"]
    assert props["streaming"] is False


def test_401_authentication_keeps_key_out_of_event(events):
    messages = [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "Hello, I am looking for information about some books!"},
                {"type": "text", "text": "What is the best selling book?"},
            ],
        }
    ]
    with cassette(ERR_401), pytest.raises(anthropic.AuthenticationError) as caught:
        client().messages.create(model=OPUS, max_tokens=15, messages=messages, system="Respond only in all caps.")
    error = caught.value
    assert type(error) is anthropic.AuthenticationError and error.status_code == 401
    found = events()
    props = props_of(found)
    assert_error_event(props, error)
    assert "invalid x-api-key" in props["error"]
    assert props["input_text"] == (
        "system: Respond only in all caps.\n"
        "user: Hello, I am looking for information about some books!\nWhat is the best selling book?"
    )
    assert props["ai_max_tokens"] == 15
    assert KEY not in json.dumps(found)


async def test_401_async(events):
    with cassette(ERR_401), pytest.raises(anthropic.AuthenticationError) as caught:
        await aclient().messages.create(model=OPUS, max_tokens=15, messages=JOKE)
    assert_error_event(props_of(events()), caught.value)


def test_401_on_stream_helper_enter(events):
    with cassette(ERR_401):
        manager = client().messages.stream(model=OPUS, max_tokens=15, messages=JOKE)
        with pytest.raises(anthropic.AuthenticationError) as caught, manager:
            pytest.fail("the body must not run")  # pragma: no cover
    props = props_of(events())
    assert_error_event(props, caught.value)
    assert props["streaming"] is True
    assert props["stream_completed"] == "error"


async def test_401_on_async_stream_helper_enter(events):
    with cassette(ERR_401), pytest.raises(anthropic.AuthenticationError) as caught:
        async with aclient().messages.stream(model=OPUS, max_tokens=15, messages=JOKE):
            pytest.fail("the body must not run")  # pragma: no cover
    props = props_of(events())
    assert_error_event(props, caught.value)
    assert props["stream_completed"] == "error"


# -- MockTransport status errors / timeout -------------------------------------------------------


@pytest.mark.parametrize(
    "handler, expected",
    [
        (status(529, "overloaded_error", "Overloaded"), OVERLOADED),
        (
            status(429, "rate_limit_error", "Number of request tokens has exceeded your rate limit"),
            anthropic.RateLimitError,
        ),
        (status(500, "api_error", "Internal server error"), anthropic.InternalServerError),
        (timeout, anthropic.APITimeoutError),
    ],
    ids=["529-overloaded", "429-rate-limit", "500", "timeout"],
)
def test_status_and_timeout_errors(events, handler, expected):
    with pytest.raises(expected) as caught:
        mock(handler).messages.create(model=OPUS, max_tokens=15, messages=JOKE)
    error = caught.value
    assert type(error) is expected
    if isinstance(error, anthropic.APIStatusError):
        # OverloadedError subclasses APIStatusError on 0.x and InternalServerError on 2.x: either way a status error
        assert error.status_code in (529, 429, 500)
        assert error.request_id == "req_mock"
    props = props_of(events())
    assert_error_event(props, error)


def test_overloaded_on_stream_true_before_any_chunk(events):
    with pytest.raises(OVERLOADED) as caught:
        mock(status(529, "overloaded_error", "Overloaded")).messages.create(
            model=OPUS, max_tokens=15, messages=JOKE, stream=True
        )
    props = props_of(events())
    assert_error_event(props, caught.value)
    assert props["streaming"] is True


async def test_async_overloaded(events):
    # anthropic < 0.5x maps 529 to OverloadedError only in the sync client: the async one raises InternalServerError
    with pytest.raises((OVERLOADED, anthropic.InternalServerError)) as caught:
        await mock(status(529, "overloaded_error", "Overloaded"), is_async=True).messages.create(
            model=OPUS, max_tokens=15, messages=JOKE
        )
    assert_error_event(props_of(events()), caught.value)


async def test_async_timeout(events):
    with pytest.raises(anthropic.APITimeoutError) as caught:
        await mock(timeout, is_async=True).messages.create(model=OPUS, max_tokens=15, messages=JOKE)
    assert_error_event(props_of(events()), caught.value)


async def test_async_stream_helper_timeout(events):
    with pytest.raises(anthropic.APITimeoutError) as caught:
        async with mock(timeout, is_async=True).messages.stream(model=OPUS, max_tokens=15, messages=JOKE):
            pytest.fail("the body must not run")  # pragma: no cover
    props = props_of(events())
    assert_error_event(props, caught.value)
    assert props["stream_completed"] == "error"


# -- a body that breaks mid-stream ---------------------------------------------------------------

SSE_HEAD = (
    b'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_mock_broken","type":"message",'
    b'"role":"assistant","model":"claude-3-5-haiku-20241022","content":[],"stop_reason":null,'
    b'"stop_sequence":null,"usage":{"input_tokens":17,"output_tokens":1}}}\n\n'
    b'event: content_block_start\ndata: {"type":"content_block_start","index":0,'
    b'"content_block":{"type":"text","text":""}}\n\n'
    b'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,'
    b'"delta":{"type":"text_delta","text":"Why did"}}\n\n'
)


class BrokenBody(hx.SyncByteStream, hx.AsyncByteStream):  # type: ignore[misc]
    """An SSE body that sends a few events, then the connection drops."""

    def __iter__(self) -> Any:
        yield SSE_HEAD
        raise hx.ReadError("connection reset by peer")

    async def __aiter__(self) -> Any:
        yield SSE_HEAD
        raise hx.ReadError("connection reset by peer")


def broken(request: Any) -> Any:
    return hx.Response(200, headers={"content-type": "text/event-stream"}, stream=BrokenBody())


def assert_broken_event(props: Dict[str, Any], error: BaseException) -> None:
    assert props["provider"] == "anthropic" and props["model"] == HAIKU_35
    assert props["streaming"] is True
    assert props["stream_completed"] == "error"
    assert props["error"] == f"{type(error).__name__}: {error}"
    assert props["latency_ms"] is not None and props["latency_ms"] > 0
    # what arrived before the failure is kept: the input was billed, the id is what support asks for
    assert props["response_id"] == "msg_mock_broken"
    assert props["response_model"] == HAIKU_35
    assert props["output_text"] == "Why did"
    assert props["input_tokens"] == 17
    # message_start's output_tokens (1) is a placeholder and the final count never came: the output
    # that arrived is counted by us (no Claude tokenizer ships: four characters per token) and says so
    assert_output_estimated(props)
    assert props["time_to_first_token_ms"] is not None


def test_stream_true_body_breaks_mid_way(events):
    received: List[Any] = []
    stream = mock(broken).messages.create(model=HAIKU_35, max_tokens=15, messages=JOKE, stream=True)
    assert type(stream) is anthropic.Stream
    with pytest.raises(hx.ReadError) as caught:
        for event in stream:
            received.append(event)
    assert [e.type for e in received] == ["message_start", "content_block_start", "content_block_delta"]
    assert_broken_event(props_of(events()), caught.value)


def test_stream_helper_body_breaks_mid_way(events):
    manager = mock(broken).messages.stream(model=HAIKU_35, max_tokens=15, messages=JOKE)
    with pytest.raises(hx.ReadError) as caught, manager as stream:
        for _ in stream.text_stream:
            pass
    assert_broken_event(props_of(events()), caught.value)


async def test_async_stream_helper_body_breaks_mid_way(events):
    with pytest.raises(hx.ReadError) as caught:
        async with mock(broken, is_async=True).messages.stream(model=HAIKU_35, max_tokens=15, messages=JOKE) as s:
            async for _ in s.text_stream:
                pass
    assert_broken_event(props_of(events()), caught.value)


# -- hand-written cassette: `event: error` (overloaded_error) mid-stream ------------------------


def assert_midstream_error(props: Dict[str, Any], error: Optional[BaseException]) -> None:
    assert error is not None
    assert props["provider"] == "anthropic" and props["model"] == HAIKU_35
    assert props["streaming"] is True
    assert props["stream_completed"] == "error"
    assert props["error"] == f"{type(error).__name__}: {error}"
    assert "overloaded_error" in props["error"]
    assert props["response_id"] == "msg_handwritten_midstream_overloaded"
    assert props["output_text"] == "Why did the span cross"
    assert props["finish_reason"] is None
    assert props["input_tokens"] == 17
    assert_output_estimated(props)  # message_start's 1 is a placeholder, not a count
    assert props["cached_input_tokens"] == 0
    assert props["time_to_first_token_ms"] is not None


def test_midstream_error_event_on_stream_true(events):
    received: List[Any] = []
    with cassette(MIDSTREAM_ERROR):
        stream = client().messages.create(model=HAIKU_35, max_tokens=1024, messages=JOKE, stream=True)
        assert type(stream) is anthropic.Stream
        with pytest.raises(anthropic.APIStatusError) as caught:
            for event in stream:
                received.append(event)
    # the SDK raises the error from the SSE body (HTTP status was 200): a status error naming overloaded_error
    assert caught.value.body == {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    assert [e.type for e in received] == [
        "message_start",
        "content_block_start",
        "content_block_delta",
        "content_block_delta",
    ]
    assert_midstream_error(props_of(events()), caught.value)


def test_midstream_error_event_on_stream_helper(events):
    manager = client().messages.stream(model=HAIKU_35, max_tokens=1024, messages=JOKE)
    with cassette(MIDSTREAM_ERROR), pytest.raises(anthropic.APIStatusError) as caught, manager as stream:
        stream.get_final_message()
    assert_midstream_error(props_of(events()), caught.value)


async def test_midstream_error_event_on_async_stream_helper(events):
    with cassette(MIDSTREAM_ERROR), pytest.raises(anthropic.APIStatusError) as caught:
        async with aclient().messages.stream(model=HAIKU_35, max_tokens=1024, messages=JOKE) as stream:
            async for _ in stream.text_stream:
                pass
    assert_midstream_error(props_of(events()), caught.value)


def test_error_then_success_are_two_events(events):
    with cassette(ERR_400), pytest.raises(anthropic.BadRequestError):
        client().messages.create(model=OPUS, max_tokens=15, messages=JOKE)
    with cassette(MIDSTREAM_ERROR):
        stream = client().messages.create(model=HAIKU_35, max_tokens=1024, messages=JOKE, stream=True)
        first = next(iter(stream))
        stream.close()
    assert first.type == "message_start"
    found = events()
    assert [e["event_properties"]["error"] is None for e in found] == [False, True]
    assert found[1]["event_properties"]["stream_completed"] == "closed"


# The same, reached through the helpers' until_done().


async def test_async_stream_helper_body_breaks_mid_way_until_done(events):
    with pytest.raises(hx.ReadError) as caught:
        async with mock(broken, is_async=True).messages.stream(model=HAIKU_35, max_tokens=15, messages=JOKE) as s:
            await s.until_done()
    assert_broken_event(props_of(events()), caught.value)


def test_midstream_error_event_on_stream_helper_until_done(events):
    manager = client().messages.stream(model=HAIKU_35, max_tokens=1024, messages=JOKE)
    with cassette(MIDSTREAM_ERROR), pytest.raises(anthropic.APIStatusError) as caught, manager as stream:
        stream.until_done()
    assert_midstream_error(props_of(events()), caught.value)
