"""Anthropic Messages, replayed from real recordings: one ``ai_operation`` event per user call.

Covers messages.create (sync/async, plain and stream=True), the messages.stream() helper,
tools, prompt caching, beta messages, with_raw_response and with_streaming_response.
"""

from __future__ import annotations

import gc
import json
import math
from typing import Any, Callable, Dict, List

import anthropic
import genai_prices
import pytest
import yaml

import autotrack
from tests.conftest import CASSETTES, cassette, mock_client, sdk_httpx

MSG = "openllmetry/anthropic/test_messages/"
CREATE = MSG + "test_anthropic_message_create_legacy.yaml"
STREAMING = MSG + "test_anthropic_message_streaming_legacy.yaml"
MANAGER = MSG + "test_anthropic_message_stream_manager_legacy.yaml"
TOOLS = MSG + "test_anthropic_tools_legacy.yaml"
TOOLS_STREAM = MSG + "test_anthropic_tools_streaming_legacy.yaml"
CACHING = "openllmetry/anthropic/test_prompt_caching/test_anthropic_prompt_caching_legacy.yaml"
STRUCTURED = "openllmetry/anthropic/test_structured_outputs/test_anthropic_structured_outputs_legacy.yaml"

KEY = "sk-ant-api03-test-key-not-real-0000000000"
JOKE = [{"role": "user", "content": "Tell me a joke about OpenTelemetry"}]
SYSTEM = "You are a comedian."
JOKE_INPUT_TEXT = "system: You are a comedian.\nuser: Tell me a joke about OpenTelemetry"

OPUS = "claude-3-opus-20240229"
HAIKU = "claude-3-haiku-20240307"
HAIKU_35 = "claude-3-5-haiku-20241022"
SONNET_35 = "claude-3-5-sonnet-20240620"
SONNET_45 = "claude-sonnet-4-5-20250929"



def assert_output_estimated(props: Dict[str, Any]) -> None:
    """A stream cut short: output tokens estimated from the text received, and flagged as such."""
    assert props["output_tokens"] == math.ceil(len(props["output_text"]) / 4)
    assert props["tokens_estimated"] is True

def sampling(**values: float) -> Dict[str, Any]:
    """temperature/top_p as this SDK takes them: keyword arguments (0.x) or extra_body (2.x dropped them)."""
    import inspect

    params = inspect.signature(anthropic.resources.messages.Messages.create).parameters
    if all(name in params for name in values):
        return dict(values)
    return {"extra_body": dict(values)}


def client() -> anthropic.Anthropic:
    return anthropic.Anthropic(api_key=KEY, max_retries=0)


def aclient() -> anthropic.AsyncAnthropic:
    return anthropic.AsyncAnthropic(api_key=KEY, max_retries=0)


def recorded_request(path: str, index: int = 0) -> Dict[str, Any]:
    with open(CASSETTES / path) as f:
        body = yaml.safe_load(f)["interactions"][index]["request"]["body"]
    return json.loads(body)


def props_of(found: List[Any]) -> Dict[str, Any]:
    assert len(found) == 1, f"expected exactly one event, got {len(found)}"
    assert found[0]["event_type"] == "ai_operation"
    return found[0]["event_properties"]


def price(model: str, *, input_tokens: int, output_tokens: int, cache_read: int = 0, cache_write: int = 0) -> float:
    usage = genai_prices.Usage(
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        cache_read_tokens=cache_read,
        cache_write_tokens=cache_write,
    )
    return float(genai_prices.calc_price(usage, model, provider_id="anthropic").total_price)


def assert_common(props: Dict[str, Any], *, model: str, streaming: bool) -> None:
    assert props["provider"] == "anthropic"
    assert props["operation"] == "chat_completion"
    assert props["model"] == model
    assert props["response_model"] == model
    assert props["streaming"] is streaming
    assert props["error"] is None
    assert props["latency_ms"] is not None and props["latency_ms"] > 0
    assert props["provider_sdk_version"] == anthropic.__version__
    assert props["ai_sdk_version"] == f"autotrack-{autotrack.__version__}"
    assert props["tokens_estimated"] is False
    assert props["total_tokens"] == props["input_tokens"] + props["output_tokens"]


def clip(text: str, limit: int = 500) -> str:
    """What the event keeps of a (PII-free) text with the default max_content_length."""
    return text if len(text) <= limit else text[:limit] + "…[truncated]"


def text_of(chunks: List[Any]) -> str:
    return "".join(
        c.delta.text for c in chunks if c.type == "content_block_delta" and getattr(c.delta, "text", None) is not None
    )


@pytest.fixture
def later(sink: autotrack.MemorySink) -> Any:
    """Start a tracker only when the test says so (after an untracked baseline run)."""
    started: List[Any] = []

    def start() -> Callable[[], List[Any]]:
        tracker = autotrack.track(sink)
        started.append(tracker)

        def read() -> List[Any]:
            assert tracker.flush(10)
            return list(sink.events)

        return read

    yield start
    for tracker in started:
        tracker.stop()


# -- messages.create, non-streaming -------------------------------------------------------


def test_create_sync(events):
    with cassette(CREATE):
        message = client().messages.create(
            model=OPUS, max_tokens=1024, messages=JOKE, system=SYSTEM, **sampling(temperature=0.5, top_p=0.9)
        )
    assert type(message) is anthropic.types.Message
    assert message.id == "msg_01TPXhkPo8jy6yQMrMhjpiAE"
    props = props_of(events())
    assert_common(props, model=OPUS, streaming=False)
    assert props["response_id"] == "msg_01TPXhkPo8jy6yQMrMhjpiAE"
    assert props["finish_reason"] == "end_turn"
    assert (props["input_tokens"], props["output_tokens"], props["total_tokens"]) == (17, 220, 237)
    assert props["cached_input_tokens"] is None and props["cache_creation_input_tokens"] is None
    assert props["cost"] == pytest.approx(price(OPUS, input_tokens=17, output_tokens=220))
    assert props["input_text"] == JOKE_INPUT_TEXT
    assert props["output_text"] == clip(message.content[0].text)
    assert props["ai_max_tokens"] == 1024 and props["ai_temperature"] == 0.5 and props["ai_top_p"] == 0.9
    assert props["tool_calls"] is None
    assert props["stream_completed"] is None and props["time_to_first_token_ms"] is None


async def test_create_async(events):
    with cassette(CREATE):
        message = await aclient().messages.create(model=OPUS, max_tokens=1024, messages=JOKE, system=SYSTEM)
    assert type(message) is anthropic.types.Message
    props = props_of(events())
    assert_common(props, model=OPUS, streaming=False)
    assert props["response_id"] == message.id == "msg_01TPXhkPo8jy6yQMrMhjpiAE"
    assert props["finish_reason"] == "end_turn"
    assert (props["input_tokens"], props["output_tokens"]) == (17, 220)
    assert props["cost"] == pytest.approx(price(OPUS, input_tokens=17, output_tokens=220))
    assert props["input_text"] == JOKE_INPUT_TEXT
    assert props["output_text"].startswith("Sure, here's a joke about OpenTelemetry:")


def test_system_as_text_blocks_is_in_input_text(events):
    system = [{"type": "text", "text": "Answer briefly."}, {"type": "text", "text": "Be kind."}]
    with cassette(CREATE):
        client().messages.create(model=OPUS, max_tokens=1024, messages=JOKE, system=system)
    props = props_of(events())
    assert props["input_text"] == "system: Answer briefly.\nBe kind.\nuser: Tell me a joke about OpenTelemetry"


# -- messages.create(stream=True) ---------------------------------------------------------


def _stream_sync(path: str, model: str, **extra: Any) -> List[Any]:
    with cassette(path):
        stream = client().messages.create(model=model, max_tokens=1024, messages=JOKE, stream=True, **extra)
        assert type(stream) is anthropic.Stream
        return list(stream)


async def _stream_async(path: str, model: str, **extra: Any) -> List[Any]:
    with cassette(path):
        stream = await aclient().messages.create(model=model, max_tokens=1024, messages=JOKE, stream=True, **extra)
        assert type(stream) is anthropic.AsyncStream
        return [chunk async for chunk in stream]


def _assert_streaming_event(props: Dict[str, Any], chunks: List[Any]) -> None:
    assert_common(props, model=HAIKU, streaming=True)
    assert props["stream_completed"] == "completed"
    assert props["response_id"] == "msg_01MXWxhWoPSgrYhjTuMDM6F1"
    assert props["finish_reason"] == "end_turn"
    # input from message_start (17), output from the final message_delta (171, not message_start's 3)
    assert (props["input_tokens"], props["output_tokens"]) == (17, 171)
    assert props["cost"] == pytest.approx(price(HAIKU, input_tokens=17, output_tokens=171))
    assert props["output_text"] == clip(text_of(chunks))
    assert props["output_text"].startswith("Here's an OpenTelemetry-themed joke")
    assert props["time_to_first_token_ms"] is not None
    assert 0 < props["time_to_first_token_ms"] <= props["latency_ms"]
    assert props["input_text"] == JOKE_INPUT_TEXT


def test_create_stream_sync(later):
    baseline = _stream_sync(STREAMING, HAIKU)
    read = later()
    chunks = _stream_sync(STREAMING, HAIKU, system=SYSTEM)
    assert [c.type for c in chunks] == [c.type for c in baseline]
    assert [c.model_dump() for c in chunks] == [c.model_dump() for c in baseline]
    _assert_streaming_event(props_of(read()), chunks)


async def test_create_stream_async(later):
    baseline = await _stream_async(STREAMING, HAIKU)
    read = later()
    chunks = await _stream_async(STREAMING, HAIKU, system=SYSTEM)
    assert [c.model_dump() for c in chunks] == [c.model_dump() for c in baseline]
    _assert_streaming_event(props_of(read()), chunks)


def test_create_stream_with_block_and_close(events):
    with cassette(STREAMING):
        stream = client().messages.create(model=HAIKU, max_tokens=1024, messages=JOKE, stream=True)
        assert type(stream) is anthropic.Stream
        with stream as entered:
            assert entered is stream
            first = next(iter(stream))
            assert first.type == "message_start"
            assert events() == []  # nothing before the stream ends
    props = props_of(events())
    assert props["stream_completed"] == "closed"
    assert props["input_tokens"] == 17
    assert props["response_id"] == "msg_01MXWxhWoPSgrYhjTuMDM6F1"


def test_create_stream_dropped_unfinished_is_abandoned(events):
    with cassette(STREAMING):
        stream = client().messages.create(model=HAIKU, max_tokens=1024, messages=JOKE, stream=True)
        it = iter(stream)
        next(it), next(it), next(it)
        del stream, it
        gc.collect()
    props = props_of(events())
    assert props["stream_completed"] == "abandoned"
    assert props["response_id"] == "msg_01MXWxhWoPSgrYhjTuMDM6F1"
    assert props["output_text"] == "Here's an"
    assert props["input_tokens"] == 17
    assert_output_estimated(props)


# -- messages.stream() helper -------------------------------------------------------------


def _assert_manager_event(props: Dict[str, Any], text: str, status: str = "completed") -> None:
    assert_common(props, model=HAIKU_35, streaming=True)
    assert props["stream_completed"] == status
    assert props["response_id"] == "msg_01MCkQZZtEKF3nVbFaExwATe"
    assert props["finish_reason"] == "end_turn"
    assert (props["input_tokens"], props["output_tokens"]) == (17, 108)
    # the recording reports cache fields (both 0): they are kept, not dropped
    assert props["cached_input_tokens"] == 0 and props["cache_creation_input_tokens"] == 0
    assert props["cost"] == pytest.approx(price(HAIKU_35, input_tokens=17, output_tokens=108))
    assert props["output_text"] == clip(text)
    assert props["input_text"] == JOKE_INPUT_TEXT
    assert props["time_to_first_token_ms"] is not None
    assert 0 < props["time_to_first_token_ms"] <= props["latency_ms"]


def test_stream_helper_text_stream_and_final_message(events):
    with cassette(MANAGER):
        manager = client().messages.stream(model=HAIKU_35, max_tokens=1024, messages=JOKE, system=SYSTEM)
        assert isinstance(manager, anthropic.lib.streaming.MessageStreamManager)
        with manager as stream:
            assert type(stream) is anthropic.lib.streaming.MessageStream
            text = "".join(stream.text_stream)
            final = stream.get_final_message()
    assert text.startswith("Here's a joke about OpenTelemetry:")
    assert final.usage.output_tokens == 108 and final.content[0].text == text
    _assert_manager_event(props_of(events()), text)


def test_stream_helper_until_done(events):
    manager = client().messages.stream(model=HAIKU_35, max_tokens=1024, messages=JOKE, system=SYSTEM)
    with cassette(MANAGER), manager as stream:
        stream.until_done()
        final = stream.get_final_message()
        text = stream.get_final_text()
    assert final.id == "msg_01MCkQZZtEKF3nVbFaExwATe"
    _assert_manager_event(props_of(events()), text)


def test_stream_helper_plain_iteration_keeps_events(later):
    def run() -> List[Any]:
        manager = client().messages.stream(model=HAIKU_35, max_tokens=1024, messages=JOKE, system=SYSTEM)
        with cassette(MANAGER), manager as stream:
            return [(e.type, getattr(e, "snapshot", None) is not None) for e in stream]

    baseline = run()
    read = later()
    assert run() == baseline
    props = props_of(read())
    assert props["stream_completed"] == "completed"
    assert (props["input_tokens"], props["output_tokens"]) == (17, 108)


async def test_stream_helper_async(events):
    with cassette(MANAGER):
        manager = aclient().messages.stream(model=HAIKU_35, max_tokens=1024, messages=JOKE, system=SYSTEM)
        assert isinstance(manager, anthropic.lib.streaming.AsyncMessageStreamManager)
        async with manager as stream:
            assert type(stream) is anthropic.lib.streaming.AsyncMessageStream
            text = "".join([t async for t in stream.text_stream])
            final = await stream.get_final_message()
    assert final.usage.output_tokens == 108
    _assert_manager_event(props_of(events()), text)


async def test_stream_helper_async_until_done(events):
    with cassette(MANAGER):
        async with aclient().messages.stream(model=HAIKU_35, max_tokens=1024, messages=JOKE, system=SYSTEM) as stream:
            await stream.until_done()
            text = await stream.get_final_text()
    _assert_manager_event(props_of(events()), text)


def test_stream_helper_never_entered_makes_no_event(events):
    with cassette(MANAGER) as tape:
        manager = client().messages.stream(model=HAIKU_35, max_tokens=1024, messages=JOKE)
        assert tape.play_count == 0
        del manager
    assert events() == []


@pytest.mark.filterwarnings("ignore:coroutine .* was never awaited:RuntimeWarning")  # the SDK's, untracked too
async def test_async_stream_helper_never_entered_makes_no_event(events):
    with cassette(MANAGER) as tape:
        manager = aclient().messages.stream(model=HAIKU_35, max_tokens=1024, messages=JOKE)
        del manager
        assert tape.play_count == 0
    assert events() == []


def test_stream_helper_exited_early_is_closed(events):
    manager = client().messages.stream(model=HAIKU_35, max_tokens=1024, messages=JOKE, system=SYSTEM)
    with cassette(MANAGER), manager as stream:
        text = next(iter(stream.text_stream))  # one text chunk, then leave the block
    assert text == "Here"
    props = props_of(events())
    assert props["stream_completed"] == "closed"
    assert props["streaming"] is True
    assert props["response_id"] == "msg_01MCkQZZtEKF3nVbFaExwATe"
    assert props["output_text"] == "Here"
    assert props["finish_reason"] is None
    # the stream ended before message_delta: input is message_start's count; its output_tokens (1) is a
    # placeholder, not a count, so the output received is counted by us and marked estimated
    assert props["input_tokens"] == 17
    assert_output_estimated(props)
    assert props["cached_input_tokens"] == 0


async def test_async_stream_helper_exited_early_is_closed(events):
    with cassette(MANAGER):
        async with aclient().messages.stream(model=HAIKU_35, max_tokens=1024, messages=JOKE) as stream:
            text = await stream.text_stream.__anext__()
    assert text == "Here"
    props = props_of(events())
    assert props["stream_completed"] == "closed"
    assert props["output_text"] == "Here"


# -- tools --------------------------------------------------------------------------------


def test_tools_non_stream(events):
    body = recorded_request(TOOLS)
    with cassette(TOOLS):
        message = client().messages.create(**body)
    assert [b.type for b in message.content] == ["text", "tool_use", "tool_use"]
    props = props_of(events())
    assert_common(props, model=SONNET_35, streaming=False)
    assert props["tool_calls"] == ["get_weather", "get_time"]
    assert props["finish_reason"] == "tool_use"
    assert (props["input_tokens"], props["output_tokens"]) == (514, 152)
    assert props["output_text"] == message.content[0].text
    assert props["response_id"] == "msg_01RBkXFe9TmDNNWThMz2HmGt"


async def test_tools_stream_async(events):
    body = recorded_request(TOOLS_STREAM)
    with cassette(TOOLS_STREAM):
        stream = await aclient().messages.create(**body)
        assert type(stream) is anthropic.AsyncStream
        chunks = [c async for c in stream]
    props = props_of(events())
    assert_common(props, model=SONNET_35, streaming=True)
    assert props["tool_calls"] == ["get_weather", "get_time"]
    assert props["finish_reason"] == "tool_use"
    assert (props["input_tokens"], props["output_tokens"]) == (506, 153)
    assert props["output_text"] == text_of(chunks)
    assert props["output_text"].startswith("Certainly! I can help you")
    assert props["stream_completed"] == "completed"


def test_tools_stream_helper_sync(events):
    body = recorded_request(TOOLS_STREAM)
    body.pop("stream")
    with cassette(TOOLS_STREAM), client().messages.stream(**body) as stream:
        final = stream.get_final_message()
    assert [b.name for b in final.content if b.type == "tool_use"] == ["get_weather", "get_time"]
    props = props_of(events())
    assert props["tool_calls"] == ["get_weather", "get_time"]
    assert props["finish_reason"] == "tool_use"
    assert (props["input_tokens"], props["output_tokens"]) == (506, 153)


# -- prompt caching -----------------------------------------------------------------------


def test_prompt_caching_write_then_read(events):
    with cassette(CACHING):
        c = client()
        written = c.messages.create(**recorded_request(CACHING, 0))
        read = c.messages.create(**recorded_request(CACHING, 1))
    assert written.usage.cache_creation_input_tokens == 1163 and read.usage.cache_read_input_tokens == 1163
    found = events()
    assert len(found) == 2
    first, second = (e["event_properties"] for e in found)
    assert first["response_id"] == written.id and second["response_id"] == read.id

    # input_tokens = input + cache_read + cache_creation (README: everything the model read)
    assert (first["input_tokens"], first["cached_input_tokens"], first["cache_creation_input_tokens"]) == (
        1167,
        0,
        1163,
    )
    assert first["output_tokens"] == 187 and first["total_tokens"] == 1167 + 187
    assert (second["input_tokens"], second["cached_input_tokens"], second["cache_creation_input_tokens"]) == (
        1167,
        1163,
        0,
    )
    assert second["output_tokens"] == 202

    # priced with the cache-write and cache-read rates, not the plain input rate
    write_cost = price(SONNET_35, input_tokens=1167, output_tokens=187, cache_write=1163)
    read_cost = price(SONNET_35, input_tokens=1167, output_tokens=202, cache_read=1163)
    assert first["cost"] > 0 and second["cost"] > 0
    assert first["cost"] == pytest.approx(write_cost)
    assert second["cost"] == pytest.approx(read_cost)
    assert first["cost"] != pytest.approx(price(SONNET_35, input_tokens=1167, output_tokens=187))
    assert second["cost"] != pytest.approx(price(SONNET_35, input_tokens=1167, output_tokens=202))

    for props in (first, second):
        assert props["input_text"].startswith(
            "system: You help generate concise summaries of news articles and blog posts that user sends you.\n"
            "user: test_anthropic_prompt_caching <- IGNORE THIS."
        )
        assert props["input_text"].endswith("…[truncated]")


# -- beta ---------------------------------------------------------------------------------


def test_beta_create_structured_output(events):
    body = recorded_request(STRUCTURED)
    output_format = body.pop("output_format")
    with cassette(STRUCTURED):
        message = client().beta.messages.create(
            **body, betas=["structured-outputs-2025-11-13"], extra_body={"output_format": output_format}
        )
    assert type(message).__name__ == "BetaMessage"
    assert json.loads(message.content[0].text)["rating"] == 7
    props = props_of(events())
    assert_common(props, model=SONNET_45, streaming=False)
    assert props["response_id"] == "msg_01RRuttC1Mzd1RUPyP68mcB5"
    assert (props["input_tokens"], props["output_tokens"]) == (222, 39)
    assert props["cached_input_tokens"] == 0 and props["cache_creation_input_tokens"] == 0
    assert props["cost"] == pytest.approx(price(SONNET_45, input_tokens=222, output_tokens=39))
    assert props["output_text"] == message.content[0].text
    assert props["finish_reason"] == "end_turn"


async def test_beta_create_async(events):
    body = recorded_request(STRUCTURED)
    body.pop("output_format")
    with cassette(STRUCTURED):
        message = await aclient().beta.messages.create(**body)
    props = props_of(events())
    assert props["response_id"] == message.id == "msg_01RRuttC1Mzd1RUPyP68mcB5"
    assert (props["input_tokens"], props["output_tokens"]) == (222, 39)


def test_beta_create_stream(events):
    with cassette(STREAMING):
        stream = client().beta.messages.create(model=HAIKU, max_tokens=1024, messages=JOKE, system=SYSTEM, stream=True)
        assert type(stream) is anthropic.Stream
        chunks = list(stream)
    _assert_streaming_event(props_of(events()), chunks)


def test_beta_stream_helper(events):
    manager = client().beta.messages.stream(model=HAIKU_35, max_tokens=1024, messages=JOKE, system=SYSTEM)
    with cassette(MANAGER), manager as stream:
        assert type(stream).__name__ == "BetaMessageStream"
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert type(final).__name__ in ("BetaMessage", "ParsedBetaMessage")
    _assert_manager_event(props_of(events()), text)


async def test_beta_stream_helper_async(events):
    with cassette(MANAGER):
        async with aclient().beta.messages.stream(model=HAIKU_35, max_tokens=1024, messages=JOKE, system=SYSTEM) as s:
            text = "".join([t async for t in s.text_stream])
    _assert_manager_event(props_of(events()), text)


# -- with_raw_response / with_streaming_response -------------------------------------------


def test_with_raw_response_create(events):
    with cassette(CREATE):
        raw = client().messages.with_raw_response.create(model=OPUS, max_tokens=1024, messages=JOKE, system=SYSTEM)
        assert raw.headers.get("request-id")
        message = raw.parse()
    assert type(message) is anthropic.types.Message
    assert message.id == "msg_01TPXhkPo8jy6yQMrMhjpiAE"
    props = props_of(events())
    assert_common(props, model=OPUS, streaming=False)
    assert (props["input_tokens"], props["output_tokens"]) == (17, 220)
    assert props["response_id"] == message.id
    assert props["finish_reason"] == "end_turn"
    assert props["output_text"].startswith("Sure, here's a joke about OpenTelemetry:")
    assert raw.parse() is message  # the SDK's cache still works after our read


async def test_with_raw_response_create_async(events):
    with cassette(CREATE):
        raw = await aclient().messages.with_raw_response.create(model=OPUS, max_tokens=1024, messages=JOKE)
        message = await raw.parse() if _is_awaitable(raw.parse) else raw.parse()
    props = props_of(events())
    assert props["response_id"] == message.id
    assert (props["input_tokens"], props["output_tokens"]) == (17, 220)


def _is_awaitable(fn: Any) -> bool:
    import inspect

    return inspect.iscoroutinefunction(fn)


def test_with_streaming_response_body_readable_one_event(events):
    response = client().messages.with_streaming_response.create(model=OPUS, max_tokens=1024, messages=JOKE)
    with cassette(CREATE), response as resp:
        body = json.loads(b"".join(resp.iter_bytes()))
    assert body["id"] == "msg_01TPXhkPo8jy6yQMrMhjpiAE"
    del resp, response  # never parsed: the engine hands the record over when the response is collected
    gc.collect()
    props = props_of(events())
    assert props["provider"] == "anthropic" and props["model"] == OPUS
    assert props["error"] is None


def test_with_streaming_response_read_unparsed_usage(events):
    response = client().messages.with_streaming_response.create(model=OPUS, max_tokens=1024, messages=JOKE)
    with cassette(CREATE), response as resp:
        resp.read()
    del resp, response
    gc.collect()
    props = props_of(events())
    assert props["tokens_estimated"] is False
    assert (props["input_tokens"], props["output_tokens"]) == (17, 220)
    assert props["response_id"] == "msg_01TPXhkPo8jy6yQMrMhjpiAE"


def test_with_streaming_response_parse(events):
    response = client().messages.with_streaming_response.create(model=OPUS, max_tokens=1024, messages=JOKE)
    with cassette(CREATE), response as resp:
        assert events() == []  # the body is not read for the user
        message = resp.parse()
    assert type(message) is anthropic.types.Message
    props = props_of(events())
    assert props["response_id"] == message.id == "msg_01TPXhkPo8jy6yQMrMhjpiAE"
    assert (props["input_tokens"], props["output_tokens"]) == (17, 220)
    assert props["tokens_estimated"] is False


def test_with_streaming_response_stream_true(later):
    def run() -> List[Any]:
        with (
            cassette(STREAMING),
            client().messages.with_streaming_response.create(
                model=HAIKU, max_tokens=1024, messages=JOKE, stream=True
            ) as resp,
        ):
            stream = resp.parse()
            assert type(stream) is anthropic.Stream
            return list(stream)

    baseline = run()
    read = later()
    chunks = run()
    assert [c.model_dump() for c in chunks] == [c.model_dump() for c in baseline]
    props = props_of(read())
    assert props["streaming"] is True and props["stream_completed"] == "completed"
    assert (props["input_tokens"], props["output_tokens"]) == (17, 171)
    assert props["output_text"] == clip(text_of(chunks))


def test_with_raw_response_stream_true(events):
    with cassette(STREAMING):
        raw = client().messages.with_raw_response.create(model=HAIKU, max_tokens=1024, messages=JOKE, stream=True)
        stream = raw.parse()
        assert type(stream) is anthropic.Stream
        chunks = list(stream)
    props = props_of(events())
    assert props["stream_completed"] == "completed"
    assert props["response_id"] == "msg_01MXWxhWoPSgrYhjTuMDM6F1"
    assert (props["input_tokens"], props["output_tokens"]) == (17, 171)
    assert props["output_text"] == clip(text_of(chunks))


def test_text_block_opening_with_text_counts_as_output(events):
    """A content_block_start may carry the block's first text (the SDK's own snapshot starts from it)."""
    sse = (
        b'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_mock_open","type":"message",'
        b'"role":"assistant","model":"claude-3-5-haiku-20241022","content":[],"stop_reason":null,'
        b'"stop_sequence":null,"usage":{"input_tokens":9,"output_tokens":1}}}\n\n'
        b'event: content_block_start\ndata: {"type":"content_block_start","index":0,'
        b'"content_block":{"type":"text","text":"Hello"}}\n\n'
        b'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,'
        b'"delta":{"type":"text_delta","text":" there"}}\n\n'
        b'event: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\n'
        b'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn",'
        b'"stop_sequence":null},"usage":{"output_tokens":2}}\n\n'
        b'event: message_stop\ndata: {"type":"message_stop"}\n\n'
    )
    hx = sdk_httpx("anthropic")
    sdk = mock_client(
        anthropic, lambda request: hx.Response(200, headers={"content-type": "text/event-stream"}, content=sse)
    )
    with sdk.messages.stream(model=HAIKU_35, max_tokens=10, messages=JOKE) as stream:
        final = stream.get_final_text()
    assert final == "Hello there"
    props = props_of(events())
    assert props["output_text"] == final
    assert (props["input_tokens"], props["output_tokens"]) == (9, 2)
    assert props["finish_reason"] == "end_turn"


def test_stream_helper_returns_the_sdks_own_manager_and_stop_restores_it(sink):
    from anthropic.lib.streaming import _messages

    originals = {name: vars(_messages.MessageStreamManager)[name] for name in ("__enter__", "__exit__")}
    tracker = autotrack.track(sink, providers=["anthropic"])
    with cassette(MANAGER):
        manager = client().messages.stream(model=HAIKU_35, max_tokens=1024, messages=JOKE)
        assert type(manager) is _messages.MessageStreamManager
        with manager as stream:
            assert type(stream) is _messages.MessageStream
            text = "".join(stream.text_stream)
    assert tracker.flush(5)
    [event] = sink.events
    assert event["output_text"] == text[:500] + ("…[truncated]" if len(text) > 500 else "")
    tracker.stop()
    for name, original in originals.items():
        assert vars(_messages.MessageStreamManager)[name] is original
