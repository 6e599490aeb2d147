"""The whole OpenAI surface, replayed: one ``ai_operation`` event per user call, the SDK's own objects back.

HTTP comes from the recorded cassettes (tests/cassettes/README.md) or, for faults and for checking what
was sent, from an in-process MockTransport. The real ``openai`` package is used throughout.
"""

from __future__ import annotations

import gzip
import inspect
import json
from typing import Any, Callable, Dict, Iterator, List, Optional

import openai
import pytest
import yaml

import autotrack
from tests.conftest import CASSETTES, cassette, sdk_httpx

# The HTTP library this openai version is built on: httpx2 for 3.x, httpx for 1.x.
hx: Any = sdk_httpx("openai")

# -- cassettes ------------------------------------------------------------------------------------
OA = "openllmetry/openai/"
DD = "dd-trace-py/openai/"
CHAT = OA + "test_chat/test_chat.yaml"
CHAT_REASONING = OA + "test_chat/test_chat_with_messages_attributes.yaml"
CHAT_TOOLS = OA + "test_chat/test_chat_tools.yaml"
CHAT_TOOLS_STREAM = OA + "test_chat/test_chat_tools_streaming.yaml"
CHAT_PARALLEL_TOOLS_STREAM = OA + "test_functions/test_open_ai_function_calls_tools_streaming_parallel.yaml"
CHAT_STREAM_NO_USAGE = (
    OA + "test_finish_reasons/TestChatCompletionsFinishReasons.test_chat_streaming_sets_top_level_finish_reasons.yaml"
)
CHAT_STREAM_USAGE = DD + "chat_completion_stream_prompt_caching_cache_read.yaml"
AZURE_CHAT = OA + "test_azure/test_chat.yaml"
COMPLETION = OA + "test_completions/test_completion_with_messages_attributes.yaml"
COMPLETION_STREAM = (
    OA + "test_finish_reasons/"
    "TestCompletionsFinishReasons.test_completions_streaming_sets_top_level_finish_reasons.yaml"
)
EMBEDDINGS = OA + "test_embeddings/test_embeddings.yaml"
RESP_STOP = OA + "test_finish_reasons/TestResponsesAPIFinishReasons.test_responses_api_stop_finish_reason.yaml"
RESP_TOOL = OA + "test_finish_reasons/TestResponsesAPIFinishReasons.test_responses_api_tool_call_finish_reason.yaml"
RESP_STREAM = OA + "test_responses/test_responses_streaming.yaml"
RESP_REASONING = OA + "test_responses/test_responses_reasoning.yaml"
ERR_CHAT = DD + "llama_index_chat_error.yaml"
ERR_RESPONSES = DD + "response_error.yaml"
ERR_COMPLETION_STREAM = DD + "completion_stream_wrong_api_key.yaml"

JOKE = [{"role": "user", "content": "Tell me a joke about opentelemetry"}]
WEATHER = [{"role": "user", "content": "What's the weather like in San Francisco?"}]
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_current_weather",
        "description": "Get the current weather",
        "parameters": {
            "type": "object",
            "properties": {"location": {"type": "string", "description": "The city and state, e.g. San Francisco, CA"}},
            "required": ["location"],
        },
    },
}
STORY = "Tell me a three sentence bedtime story about a unicorn."


HANDWRITTEN = "handwritten/openai/"
RESP_MCP = HANDWRITTEN + "responses_mcp_call_handwritten.yaml"
AZURE_V1_CHAT = HANDWRITTEN + "azure_v1_chat_handwritten.yaml"
CHAT_STREAM_MIDSTREAM_ERROR = HANDWRITTEN + "chat_stream_midstream_error_handwritten.yaml"



# -- helpers --------------------------------------------------------------------------------------


def genai_prices_knows(model: str, provider: str = "openai") -> bool:
    from genai_prices.data_snapshot import get_snapshot

    try:
        get_snapshot().find_provider_model(model, None, provider, None)
    except LookupError:
        return False
    return True

def chat_helpers(client: Any) -> Any:
    """Where parse() and stream() live: chat.completions, or beta.chat.completions before openai 1.92."""
    completions = client.chat.completions
    return completions if hasattr(completions, "parse") else client.beta.chat.completions

def only(events: Callable[[], List[Any]]) -> Dict[str, Any]:
    """The properties of the single event delivered so far (fails when there are 0 or 2+)."""
    found = events()
    assert len(found) == 1, [e["event_properties"] for e in found]
    assert found[0]["event_type"] == "ai_operation"
    return found[0]["event_properties"]


def flushed(tracker: Any, sink: autotrack.MemorySink) -> List[Dict[str, Any]]:
    assert tracker.flush(10)
    return [e["event_properties"] for e in sink.events]


def sync_client(**kwargs: Any) -> openai.OpenAI:
    return openai.OpenAI(api_key="sk-test", max_retries=0, **kwargs)


def async_client(**kwargs: Any) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(api_key="sk-test", max_retries=0, **kwargs)


def recorded(path: str, index: int = 0) -> Dict[str, Any]:
    """Interaction ``index`` of a cassette: request body (str) and response body (text)."""
    with open(CASSETTES / path) as f:
        interaction = yaml.safe_load(f)["interactions"][index]
    body = interaction["response"]["body"]["string"]
    if isinstance(body, bytes):
        body = gzip.decompress(body).decode()
    return {"request": interaction["request"]["body"], "response": body}


def sse_payloads(path: str, index: int = 0) -> List[Dict[str, Any]]:
    """The JSON objects of a recorded SSE body, in order, without ``[DONE]``."""
    lines = recorded(path, index)["response"].splitlines()
    return [json.loads(line[6:]) for line in lines if line.startswith("data: ") and line != "data: [DONE]"]


class Recorder:
    """An in-process HTTP server for a real SDK client: records requests, serves what ``respond`` returns."""

    def __init__(self, respond: Callable[[Any], Any]) -> None:
        self.respond = respond
        self.requests: List[Any] = []

    def __call__(self, request: Any) -> Any:
        self.requests.append(request)
        return self.respond(request)

    @property
    def bodies(self) -> List[Dict[str, Any]]:
        return [json.loads(r.content) for r in self.requests]

    def client(self, *, is_async: bool = False, base_url: str = "https://api.openai.com/v1", **kwargs: Any) -> Any:
        transport = hx.MockTransport(self)
        http_client = hx.AsyncClient(transport=transport) if is_async else hx.Client(transport=transport)
        cls = openai.AsyncOpenAI if is_async else openai.OpenAI
        return cls(api_key="sk-test-key-0000000000000000", max_retries=0, http_client=http_client,
                   base_url=base_url, **kwargs)


def chat_chunk(content: Optional[str] = None, *, finish: Optional[str] = None, model: str = "gpt-4o-mini",
               usage: Optional[Dict[str, Any]] = None, no_choices: bool = False) -> Dict[str, Any]:
    chunk: Dict[str, Any] = {
        "id": "chatcmpl-handwritten1",
        "object": "chat.completion.chunk",
        "created": 1774963566,
        "model": model,
        "choices": [] if no_choices else [
            {"index": 0, "delta": {} if content is None else {"content": content}, "finish_reason": finish}
        ],
    }
    if usage is not None:
        chunk["usage"] = usage
    return chunk


def sse_bytes(chunks: List[Dict[str, Any]], done: bool = True) -> bytes:
    out = "".join(f"data: {json.dumps(c)}\n\n" for c in chunks)
    return (out + ("data: [DONE]\n\n" if done else "")).encode()


def sse_response(chunks: List[Dict[str, Any]]) -> Any:
    return hx.Response(200, headers={"content-type": "text/event-stream"}, content=sse_bytes(chunks))


USAGE = {"prompt_tokens": 21, "completion_tokens": 7, "total_tokens": 28,
         "prompt_tokens_details": {"cached_tokens": 5}, "completion_tokens_details": {"reasoning_tokens": 2}}
TEXT_CHUNKS = [chat_chunk("Hel"), chat_chunk("lo"), chat_chunk(finish="stop")]
USAGE_CHUNK = chat_chunk(no_choices=True, usage=USAGE)


async def collect(stream: Any) -> List[Any]:
    if isinstance(stream, openai.AsyncStream):
        return [c async for c in stream]
    return list(stream)


async def maybe_await(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


def dumps(items: List[Any]) -> List[Any]:
    return [item.model_dump() for item in items]


def assert_no_content_fields(props: Dict[str, Any]) -> None:
    assert props["output_text"] is None
    assert props["tool_calls"] is None


# =================================================================================================
# 1. chat.completions.create
# =================================================================================================
async def test_async_chat_create_non_stream(events):
    with cassette(CHAT):
        result = await async_client().chat.completions.create(model="gpt-3.5-turbo", messages=JOKE, max_tokens=50)
    assert type(result) is openai.types.chat.ChatCompletion
    assert result.id == "chatcmpl-908MD9ivBBLb6EaIjlqwFokntayQK"
    props = only(events)
    assert props["provider"] == "openai"
    assert props["operation"] == "chat_completion"
    assert props["model"] == "gpt-3.5-turbo"
    assert props["response_model"] == "gpt-3.5-turbo-0125"
    assert props["response_id"] == result.id
    assert (props["input_tokens"], props["output_tokens"], props["total_tokens"]) == (15, 19, 34)
    assert props["cached_input_tokens"] is None and props["reasoning_tokens"] is None  # 2024 usage: no details
    assert props["tokens_estimated"] is False
    assert props["finish_reason"] == "stop"
    assert props["output_text"] == result.choices[0].message.content
    assert props["ai_max_tokens"] == 50
    assert props["streaming"] is False and props["stream_completed"] is None
    assert isinstance(props["cost"], float) and props["cost"] > 0
    assert props["error"] is None
    assert props["latency_ms"] > 0


async def test_async_chat_stream_same_chunks_as_untracked(sink):
    kwargs = dict(model="gpt-4o", messages=JOKE, stream=True, stream_options={"include_usage": True})
    with cassette(CHAT_STREAM_USAGE):
        baseline = [c async for c in await async_client().chat.completions.create(**kwargs)]

    tracker = autotrack.track(sink, providers=["openai"])
    with cassette(CHAT_STREAM_USAGE):
        stream = await async_client().chat.completions.create(**kwargs)
        assert type(stream) is openai.AsyncStream
        chunks = [c async for c in stream]
    assert all(type(c) is openai.types.chat.ChatCompletionChunk for c in chunks)
    assert len(chunks) == len(baseline) == len(sse_payloads(CHAT_STREAM_USAGE))
    assert dumps(chunks) == dumps(baseline)
    assert chunks[-1].usage is not None  # the caller asked for usage: the usage chunk is theirs

    [props] = flushed(tracker, sink)
    assert props["operation"] == "chat_completion"
    assert props["model"] == "gpt-4o" and props["response_model"] == "gpt-4o-2024-08-06"
    assert props["response_id"] == "chatcmpl-BpJBM4XqgLRpLxmTeun39ESCNhQwb"
    assert (props["input_tokens"], props["output_tokens"], props["cached_input_tokens"]) == (1420, 100, 1280)
    assert props["tokens_estimated"] is False
    assert props["streaming"] is True and props["stream_completed"] == "completed"
    assert props["finish_reason"] == "length"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text and props["output_text"] == text[:500] + ("…[truncated]" if len(text) > 500 else "")
    assert isinstance(props["cost"], float) and props["cost"] > 0


def test_chat_tools_non_stream(events):
    with cassette(CHAT_TOOLS):
        result = sync_client().chat.completions.create(model="gpt-3.5-turbo", messages=WEATHER, tools=[WEATHER_TOOL])
    assert type(result) is openai.types.chat.ChatCompletion
    assert result.choices[0].message.tool_calls[0].function.name == "get_current_weather"
    props = only(events)
    assert props["tool_calls"] == ["get_current_weather"]
    assert props["finish_reason"] == "tool_calls"
    assert props["output_text"] is None
    assert (props["input_tokens"], props["output_tokens"]) == (68, 16)
    assert props["response_id"] == "chatcmpl-9Xtj3KivtcjzP9VpvgQkC1HznIlOj"
    assert props["tokens_estimated"] is False
    assert isinstance(props["cost"], float)


def test_chat_tools_stream(events):
    with cassette(CHAT_TOOLS_STREAM):
        stream = sync_client().chat.completions.create(
            model="gpt-3.5-turbo", messages=WEATHER, tools=[WEATHER_TOOL], stream=True
        )
        assert type(stream) is openai.Stream
        chunks = list(stream)
    assert len(chunks) == len(sse_payloads(CHAT_TOOLS_STREAM)) == 8
    assert dumps(chunks) == dumps([openai.types.chat.ChatCompletionChunk.model_validate(p)
                                   for p in sse_payloads(CHAT_TOOLS_STREAM)])
    props = only(events)
    assert props["tool_calls"] == ["get_current_weather"]
    assert props["finish_reason"] == "tool_calls"
    assert props["output_text"] is None
    assert props["response_id"] == "chatcmpl-9Xtj47S36iWNBARmBocBaifGBbjtw"
    assert props["response_model"] == "gpt-3.5-turbo-0125"
    assert props["streaming"] is True and props["stream_completed"] == "completed"
    assert props["tokens_estimated"] is True  # this recording has no usage chunk
    assert props["input_tokens"] > 0


async def test_chat_parallel_tools_stream_async(events):
    with cassette(CHAT_PARALLEL_TOOLS_STREAM):
        stream = await async_client().chat.completions.create(
            model="gpt-3.5-turbo",
            messages=[{"role": "user", "content": "What's the weather like in San Francisco and Boston?"}],
            tools=[WEATHER_TOOL],
            stream=True,
        )
        assert type(stream) is openai.AsyncStream
        chunks = [c async for c in stream]
    assert len(chunks) == len(sse_payloads(CHAT_PARALLEL_TOOLS_STREAM))
    indexes = {tc.index for c in chunks if c.choices for tc in (c.choices[0].delta.tool_calls or ())}
    assert indexes == {0, 1}
    props = only(events)
    assert props["tool_calls"] == ["get_current_weather", "get_current_weather"]
    assert props["finish_reason"] == "tool_calls"
    assert props["response_id"] == "chatcmpl-9g58noIjRkOeNNxfFsFfcNjhXlul7"
    assert props["stream_completed"] == "completed"


def test_chat_reasoning_tokens(events):
    with cassette(CHAT_REASONING):
        result = sync_client().chat.completions.create(model="gpt-5-nano", messages=JOKE)
    props = only(events)
    assert result.usage.completion_tokens_details.reasoning_tokens == 960
    assert props["model"] == "gpt-5-nano" and props["response_model"] == "gpt-5-nano-2025-08-07"
    assert (props["input_tokens"], props["output_tokens"], props["total_tokens"]) == (15, 993, 1008)
    assert props["reasoning_tokens"] == 960
    assert props["cached_input_tokens"] == 0
    assert props["output_text"] == result.choices[0].message.content
    assert isinstance(props["cost"], float) and props["cost"] > 0


# =================================================================================================
# 2. chat.completions.parse
# =================================================================================================
def test_chat_parse_sync(events):
    with cassette(CHAT):
        result = chat_helpers(sync_client()).parse(
            model="gpt-3.5-turbo", messages=JOKE, response_format={"type": "text"}
        )
    assert isinstance(result, openai.types.chat.ParsedChatCompletion)
    assert result.id == "chatcmpl-908MD9ivBBLb6EaIjlqwFokntayQK"
    props = only(events)
    assert props["operation"] == "chat_completion"
    assert props["response_id"] == result.id
    assert (props["input_tokens"], props["output_tokens"]) == (15, 19)
    assert props["output_text"] == result.choices[0].message.content
    assert props["finish_reason"] == "stop"


async def test_chat_parse_async_with_pydantic_format(events):
    pydantic = pytest.importorskip("pydantic")

    class Joke(pydantic.BaseModel):
        setup: str
        punchline: str

    # The recorded answer is plain text, which a pydantic response_format cannot parse: the SDK raises,
    # and that call must still be exactly one event (with the SDK's error, the HTTP usage is not ours to read).
    with cassette(CHAT), pytest.raises(Exception) as raised:
        await chat_helpers(async_client()).parse(model="gpt-3.5-turbo", messages=JOKE, response_format=Joke)
    props = only(events)
    assert props["operation"] == "chat_completion"
    assert props["error"].startswith(type(raised.value).__name__)

    # ...and a dict response_format parses: one more event, with usage.
    with cassette(CHAT):
        result = await chat_helpers(async_client()).parse(
            model="gpt-3.5-turbo", messages=JOKE, response_format={"type": "text"}
        )
    found = [e["event_properties"] for e in events()]
    assert len(found) == 2
    assert found[1]["response_id"] == result.id
    assert (found[1]["input_tokens"], found[1]["output_tokens"]) == (15, 19)


# =================================================================================================
# 3. chat.completions.stream helper
# =================================================================================================
def test_chat_stream_helper_sync(events):
    client = sync_client()
    with cassette(CHAT_STREAM_NO_USAGE), chat_helpers(client).stream(model="gpt-3.5-turbo", messages=JOKE) as stream:
        deltas = [e.delta for e in stream if e.type == "content.delta"]
        final = stream.get_final_completion()
    text = "".join(deltas)
    assert text and final.choices[0].message.content == text
    assert final.id == "chatcmpl-DPTDjy1I4VCisvy6st32Oi1jiKniH"
    props = only(events)
    assert props["operation"] == "chat_completion"
    assert props["output_text"] == text
    assert props["response_id"] == final.id
    assert props["finish_reason"] == "stop"
    assert props["streaming"] is True and props["stream_completed"] == "completed"
    assert props["tokens_estimated"] is True


async def test_chat_stream_helper_async(events):
    with cassette(CHAT_STREAM_NO_USAGE):
        async with chat_helpers(async_client()).stream(model="gpt-3.5-turbo", messages=JOKE) as stream:
            deltas = [e.delta async for e in stream if e.type == "content.delta"]
            final = await stream.get_final_completion()
    text = "".join(deltas)
    assert text and final.choices[0].message.content == text
    props = only(events)
    assert props["output_text"] == text
    assert props["response_id"] == final.id
    assert props["streaming"] is True and props["stream_completed"] == "completed"
    assert props["latency_ms"] >= props["time_to_first_token_ms"] > 0


def test_chat_stream_helper_gets_injected_usage_and_hides_the_usage_chunk(events):
    chunks = [*TEXT_CHUNKS, USAGE_CHUNK]
    server = Recorder(lambda request: sse_response(chunks))
    with chat_helpers(server.client()).stream(model="gpt-4o-mini", messages=JOKE) as stream:
        seen = [e.type for e in stream]
        final = stream.get_final_completion()
    assert server.bodies[0]["stream_options"] == {"include_usage": True}
    assert seen.count("chunk") == len(TEXT_CHUNKS)  # the helper never saw the chunk we asked for
    assert final.choices[0].message.content == "Hello"
    props = only(events)
    assert (props["input_tokens"], props["output_tokens"], props["cached_input_tokens"]) == (21, 7, 5)
    assert props["tokens_estimated"] is False


# =================================================================================================
# 4. with_raw_response / with_streaming_response
# =================================================================================================
def test_with_raw_response_sync(events):
    with cassette(CHAT):
        raw = sync_client().chat.completions.with_raw_response.create(model="gpt-3.5-turbo", messages=JOKE)
        parsed = raw.parse()
    assert type(parsed) is openai.types.chat.ChatCompletion
    assert parsed.id == "chatcmpl-908MD9ivBBLb6EaIjlqwFokntayQK"
    assert raw.parse() is parsed
    props = only(events)
    assert props["response_id"] == parsed.id
    usage = parsed.usage
    assert (props["input_tokens"], props["output_tokens"]) == (usage.prompt_tokens, usage.completion_tokens)
    assert props["tokens_estimated"] is False
    assert props["output_text"] == parsed.choices[0].message.content
    assert props["response_model"] == parsed.model


async def test_with_raw_response_async(events):
    with cassette(CHAT):
        raw = await async_client().chat.completions.with_raw_response.create(model="gpt-3.5-turbo", messages=JOKE)
        parsed = await maybe_await(raw.parse())
    assert type(parsed) is openai.types.chat.ChatCompletion
    props = only(events)
    assert props["response_id"] == parsed.id
    assert (props["input_tokens"], props["output_tokens"]) == (15, 19)
    assert props["tokens_estimated"] is False


def test_with_raw_response_stream_leaves_the_body_to_the_user(events):
    with cassette(CHAT_STREAM_USAGE):
        raw = sync_client().chat.completions.with_raw_response.create(
            model="gpt-4o", messages=JOKE, stream=True, stream_options={"include_usage": True}
        )
        chunks = list(raw.parse())
    assert len(chunks) == len(sse_payloads(CHAT_STREAM_USAGE))
    props = only(events)
    assert props["operation"] == "chat_completion"
    assert props["streaming"] is True


def test_with_streaming_response_reads_usage(events):
    with cassette(CHAT), sync_client().chat.completions.with_streaming_response.create(
        model="gpt-3.5-turbo", messages=JOKE
    ) as response:
        body = response.parse()
    assert body.id == "chatcmpl-908MD9ivBBLb6EaIjlqwFokntayQK"
    props = only(events)
    assert props["tokens_estimated"] is False
    assert (props["input_tokens"], props["output_tokens"]) == (15, 19)
    assert props["response_id"] == body.id


def test_with_streaming_response_one_event_and_user_reads_body(events):
    with cassette(CHAT), sync_client().chat.completions.with_streaming_response.create(
        model="gpt-3.5-turbo", messages=JOKE
    ) as response:
        assert response.http_response.status_code == 200
        body = response.parse()
    assert type(body) is openai.types.chat.ChatCompletion
    assert body.choices[0].message.content.startswith("Why did Opentelemetry")
    props = only(events)
    assert props["operation"] == "chat_completion"
    assert props["model"] == "gpt-3.5-turbo"
    assert props["error"] is None


def test_with_raw_response_stream_is_not_sent_stream_options(events):
    """with_raw_response users may read the SSE bytes themselves: we must not ask for a chunk they would see."""
    server = Recorder(lambda request: sse_response(
        [*TEXT_CHUNKS, USAGE_CHUNK] if "stream_options" in json.loads(request.content) else TEXT_CHUNKS
    ))
    raw = server.client().chat.completions.with_raw_response.create(model="gpt-4o-mini", messages=JOKE, stream=True)
    chunks = list(raw.parse())
    assert "stream_options" not in server.bodies[0]
    assert dumps(chunks) == dumps([openai.types.chat.ChatCompletionChunk.model_validate(c) for c in TEXT_CHUNKS])
    props = only(events)
    assert props["tokens_estimated"] is True and props["output_tokens"] > 0
    assert props["stream_completed"] == "completed"


def test_with_streaming_response_stream_bytes_are_untouched(events):
    """The user reads the raw SSE lines: we must not have asked for a usage chunk they would see."""
    server = Recorder(lambda request: sse_response(
        [*TEXT_CHUNKS, USAGE_CHUNK] if "stream_options" in json.loads(request.content) else TEXT_CHUNKS
    ))
    with server.client().chat.completions.with_streaming_response.create(
        model="gpt-4o-mini", messages=JOKE, stream=True
    ) as response:
        lines = [line for line in response.iter_lines() if line]
    del response
    assert "stream_options" not in server.bodies[0]
    assert lines == sse_bytes(TEXT_CHUNKS).decode().split("\n\n")[:-1]
    props = only(events)  # the raw response was collected unparsed: reported then
    assert props["operation"] == "chat_completion"
    assert props["streaming"] is True


# =================================================================================================
# 5. Responses API
# =================================================================================================
def test_responses_create_stop(events):
    with cassette(RESP_STOP):
        result = sync_client().responses.create(model="gpt-4.1-nano", input="Say hello in one word.")
    assert type(result) is openai.types.responses.Response
    assert result.output_text == "Hello!"
    props = only(events)
    assert props["operation"] == "response"
    assert props["provider"] == "openai"
    assert props["model"] == "gpt-4.1-nano" and props["response_model"] == "gpt-4.1-nano-2025-04-14"
    assert props["response_id"] == result.id
    assert (props["input_tokens"], props["output_tokens"], props["total_tokens"]) == (13, 3, 16)
    assert (props["cached_input_tokens"], props["reasoning_tokens"]) == (0, 0)
    assert props["output_text"] == "Hello!"
    assert props["input_text"] == "Say hello in one word."
    assert props["finish_reason"] == "completed"
    assert props["tool_calls"] is None
    assert props["tokens_estimated"] is False
    assert isinstance(props["cost"], float) and props["cost"] > 0


async def test_responses_create_tool_call_async(events):
    with cassette(RESP_TOOL):
        result = await async_client().responses.create(
            model="gpt-4.1-nano",
            input=[{"type": "message", "role": "user", "content": "What's the weather in Paris?"}],
            tool_choice="required",
            tools=[{"type": "function", "name": "get_weather", "description": "Get the current weather for a location",
                    "parameters": {"type": "object", "properties": {"location": {"type": "string"}},
                                   "required": ["location"]}, "strict": False}],
        )
    assert result.output[0].type == "function_call"
    props = only(events)
    assert props["operation"] == "response"
    assert props["tool_calls"] == ["get_weather"]
    assert props["output_text"] is None
    assert (props["input_tokens"], props["output_tokens"]) == (58, 6)
    assert props["response_id"] == result.id
    assert props["input_text"] is not None and "Paris" in props["input_text"]


def test_responses_create_stream(events):
    with cassette(RESP_STREAM):
        stream = sync_client().responses.create(model="gpt-4.1-nano", input=STORY, stream=True)
        assert type(stream) is openai.Stream
        items = list(stream)
    assert len(items) == 86
    assert items[-1].type == "response.completed"
    text = "".join(e.delta for e in items if e.type == "response.output_text.delta")
    props = only(events)
    assert props["operation"] == "response"
    assert props["streaming"] is True and props["stream_completed"] == "completed"
    assert (props["input_tokens"], props["output_tokens"]) == (18, 79)
    assert props["tokens_estimated"] is False
    assert props["response_id"] == "resp_0fef0f8a68937870006911e9ecf124819491634b434678464a"
    assert props["response_model"] == "gpt-4.1-nano-2025-04-14"
    assert props["finish_reason"] == "completed"
    assert props["output_text"] == text
    assert 0 < props["time_to_first_token_ms"] <= props["latency_ms"]


def test_responses_stream_helper_one_event(events):
    with cassette(RESP_STREAM), sync_client().responses.stream(model="gpt-4.1-nano", input=STORY) as stream:
        deltas = [e.delta for e in stream if e.type == "response.output_text.delta"]
        final = stream.get_final_response()
    assert final.output_text == "".join(deltas)
    props = only(events)
    assert props["operation"] == "response"
    assert props["response_id"] == final.id
    assert (props["input_tokens"], props["output_tokens"]) == (18, 79)
    assert props["output_text"] == final.output_text
    assert props["streaming"] is True and props["stream_completed"] == "completed"


async def test_responses_stream_helper_async_one_event(events):
    with cassette(RESP_STREAM):
        async with async_client().responses.stream(model="gpt-4.1-nano", input=STORY) as stream:
            final = await stream.get_final_response()
    props = only(events)
    assert props["response_id"] == final.id
    assert (props["input_tokens"], props["output_tokens"]) == (18, 79)


def test_responses_parse(events):
    with cassette(RESP_STOP):
        result = sync_client().responses.parse(model="gpt-4.1-nano", input="Say hello in one word.")
    assert isinstance(result, openai.types.responses.ParsedResponse)
    assert result.output_text == "Hello!"
    props = only(events)
    assert props["operation"] == "response"
    assert props["response_id"] == result.id
    assert (props["input_tokens"], props["output_tokens"]) == (13, 3)
    assert props["output_text"] == "Hello!"


def test_responses_reasoning(events):
    with cassette(RESP_REASONING):
        result = sync_client().responses.create(
            model="gpt-5-nano", input="Count r's in strawberry", reasoning={"effort": "low", "summary": None}
        )
    props = only(events)
    assert [item.type for item in result.output] == ["reasoning", "message"]
    assert (props["input_tokens"], props["output_tokens"], props["reasoning_tokens"]) == (11, 327, 320)
    assert props["output_text"] == "3"
    assert props["tool_calls"] is None  # a reasoning item is not a tool call
    assert props["response_model"] == "gpt-5-nano-2025-08-07"
    assert isinstance(props["cost"], float) and props["cost"] > 0


def test_responses_mcp_call_is_a_named_tool_call(events):
    with cassette(RESP_MCP):
        result = sync_client().responses.create(
            model="gpt-4.1-mini", input="What is with_raw_response?",
            tools=[{"type": "mcp", "server_label": "deepwiki", "server_url": "https://mcp.deepwiki.com/mcp",
                    "require_approval": "never"}],
        )
    assert [item.type for item in result.output] == ["mcp_list_tools", "mcp_call", "message"]
    props = only(events)
    assert props["tool_calls"] == ["ask_question"]  # the MCP tool's own name, like a function call's
    assert props["output_text"] == "It returns the raw HTTP response."
    assert (props["input_tokens"], props["output_tokens"], props["cached_input_tokens"]) == (412, 35, 128)
    assert props["response_id"] == "resp_handwritten_mcp_0001"


# =================================================================================================
# 6. legacy completions
# =================================================================================================
def test_completion_non_stream(events):
    with cassette(COMPLETION):
        result = sync_client().completions.create(model="davinci-002", prompt="Tell me a joke about opentelemetry")
    assert type(result) is openai.types.Completion
    props = only(events)
    assert props["operation"] == "completion"
    assert props["model"] == "davinci-002" and props["response_model"] == "davinci:2023-07-21-v2"
    assert props["response_id"] == "cmpl-D9X89cRTstWEjnDiPLLT3gKVDUtd1"
    assert (props["input_tokens"], props["output_tokens"], props["total_tokens"]) == (8, 16, 24)
    assert props["finish_reason"] == "length"
    assert props["output_text"] == result.choices[0].text
    assert props["input_text"] == "Tell me a joke about opentelemetry"
    assert props["tokens_estimated"] is False
    # The response model is not in the price list; the requested one is (where genai-prices lists it at all:
    # the release installable on Python 3.9 does not).
    if genai_prices_knows("davinci-002"):
        assert isinstance(props["cost"], float) and props["cost"] > 0
    else:
        assert props["cost"] is None


def test_completion_stream(events):
    with cassette(COMPLETION_STREAM):
        stream = sync_client().completions.create(
            model="davinci-002", prompt="Tell me a joke about opentelemetry", stream=True
        )
        assert type(stream) is openai.Stream
        chunks = list(stream)
    assert len(chunks) == len(sse_payloads(COMPLETION_STREAM))
    assert all(type(c) is openai.types.Completion for c in chunks)
    text = "".join(c.choices[0].text for c in chunks)
    props = only(events)
    assert props["operation"] == "completion"
    assert props["output_text"] == text
    assert props["finish_reason"] == "length"
    assert props["response_id"] == "cmpl-DPUYBt15CHtILCiy8Xm2esGqlf4jU"
    assert props["streaming"] is True and props["stream_completed"] == "completed"
    assert props["tokens_estimated"] is True and props["output_tokens"] > 0


# =================================================================================================
# 7. embeddings
# =================================================================================================
def test_embeddings(events):
    with cassette(EMBEDDINGS):
        result = sync_client().embeddings.create(model="text-embedding-ada-002", input=JOKE[0]["content"])
    assert type(result) is openai.types.CreateEmbeddingResponse
    assert len(result.data[0].embedding) == 1536 and isinstance(result.data[0].embedding[0], float)
    props = only(events)
    assert props["operation"] == "embedding"
    assert props["model"] == "text-embedding-ada-002"
    assert props["input_tokens"] == 8
    assert props["output_tokens"] is None
    assert props["total_tokens"] == 8
    assert props["tokens_estimated"] is False
    assert_no_content_fields(props)
    assert props["finish_reason"] is None
    assert props["input_text"] == "Tell me a joke about opentelemetry"
    assert isinstance(props["cost"], float) and props["cost"] > 0


# =================================================================================================
# 8. Azure
# =================================================================================================
def azure_client() -> Any:
    return openai.AzureOpenAI(
        azure_endpoint="https://traceloop-stg.openai.azure.com", api_version="2024-02-01",
        api_key="azure-test-key", max_retries=0,
    )


def test_azure_chat(events):
    with cassette(AZURE_CHAT):
        result = azure_client().chat.completions.create(model="openllmetry-testing", messages=JOKE)
    assert type(result) is openai.types.chat.ChatCompletion
    props = only(events)
    assert props["provider"] == "azure_openai"
    assert props["model"] == "openllmetry-testing"
    assert props["response_model"] == "gpt-35-turbo"
    assert (props["input_tokens"], props["output_tokens"]) == (15, 24)
    assert props["response_id"] == "chatcmpl-9HpbZPf84KZFiQG6fdY0KVtIwHyIa"
    # The deployment name has no price; the answering model does.
    assert isinstance(props["cost"], float) and props["cost"] > 0


def test_azure_cost_is_priced_by_response_model(sink):
    tracker = autotrack.track(sink, providers=["openai"], pricing={
        "gpt-35-turbo": {"input": 1.0, "output": 2.0},
        "openllmetry-testing": {"input": 1000.0, "output": 1000.0},
    })
    with cassette(AZURE_CHAT):
        azure_client().chat.completions.create(model="openllmetry-testing", messages=JOKE)
    [props] = flushed(tracker, sink)
    assert props["cost"] == pytest.approx((15 * 1.0 + 24 * 2.0) / 1e6)


def test_azure_stream_gets_usage_injected(events):
    server = Recorder(lambda request: sse_response([*TEXT_CHUNKS, USAGE_CHUNK]))
    transport = hx.MockTransport(server)
    client = openai.AzureOpenAI(
        azure_endpoint="https://example-res.openai.azure.com", api_version="2024-10-21", api_key="k",
        max_retries=0, http_client=hx.Client(transport=transport),
    )
    chunks = list(client.chat.completions.create(model="my-deploy", messages=JOKE, stream=True))
    assert server.bodies[0]["stream_options"] == {"include_usage": True}
    assert len(chunks) == len(TEXT_CHUNKS)
    props = only(events)
    assert props["provider"] == "azure_openai" and props["model"] == "my-deploy"
    assert (props["input_tokens"], props["output_tokens"]) == (21, 7)


def test_azure_api_version_without_stream_options_is_left_alone(events):
    # Azure API versions before 2024-09-01 reject stream_options with a 400: never send it there.
    server = Recorder(lambda request: sse_response(TEXT_CHUNKS))
    client = openai.AzureOpenAI(
        azure_endpoint="https://example-res.openai.azure.com", api_version="2024-02-01", api_key="k",
        max_retries=0, http_client=hx.Client(transport=hx.MockTransport(server)),
    )
    chunks = list(client.chat.completions.create(model="my-deploy", messages=JOKE, stream=True))
    assert "stream_options" not in server.bodies[0]
    assert len(chunks) == len(TEXT_CHUNKS)
    props = only(events)
    assert props["provider"] == "azure_openai" and props["tokens_estimated"] is True


def test_azure_v1_api_through_plain_openai_client(events):
    with cassette(AZURE_V1_CHAT):
        client = sync_client(base_url="https://traceloop-stg.openai.azure.com/openai/v1/")
        result = client.chat.completions.create(model="openllmetry-testing", messages=JOKE)
    assert type(result) is openai.types.chat.ChatCompletion
    props = only(events)
    assert props["provider"] == "azure_openai"
    assert props["model"] == "openllmetry-testing"
    assert props["response_model"] == "gpt-4.1-mini-2025-04-14"
    assert (props["input_tokens"], props["output_tokens"]) == (16, 17)
    assert isinstance(props["cost"], float) and props["cost"] > 0


def test_azure_v1_api_stream_gets_usage_injected(events):
    server = Recorder(lambda request: sse_response([*TEXT_CHUNKS, USAGE_CHUNK]))
    client = server.client(base_url="https://example-res.openai.azure.com/openai/v1/")
    chunks = list(client.chat.completions.create(model="my-deploy", messages=JOKE, stream=True))
    assert server.bodies[0]["stream_options"] == {"include_usage": True}
    assert len(chunks) == len(TEXT_CHUNKS)
    props = only(events)
    assert props["provider"] == "azure_openai"
    assert (props["input_tokens"], props["output_tokens"]) == (21, 7)


# =================================================================================================
# 9. stream_options: OpenAI-compatible servers vs api.openai.com
# =================================================================================================
def test_compatible_server_is_never_sent_stream_options(events):
    chunks = [chat_chunk("Hi", model="llama3"), chat_chunk(" there", model="llama3"),
              chat_chunk(finish="stop", model="llama3")]
    server = Recorder(lambda request: sse_response(chunks))
    client = server.client(base_url="http://127.0.0.1:8000/v1")
    seen = list(client.chat.completions.create(model="llama3", messages=JOKE, stream=True))
    assert len(seen) == 3
    body = server.bodies[0]
    assert body["stream"] is True
    assert "stream_options" not in body
    props = only(events)
    assert props["provider"] == "openai"
    assert props["model"] == "llama3"
    assert props["output_text"] == "Hi there"
    assert props["tokens_estimated"] is True
    assert props["input_tokens"] > 0 and props["output_tokens"] > 0
    assert props["cost"] is None
    assert props["stream_completed"] == "completed"


# chat/legacy ``AsyncCompletions.create`` is a plain function (the SDK's ``@required_args``) returning a coroutine:
# every async chat test here also checks the engine sees it as async (real latency, response read, stream hooked).
SYNC_ASYNC = pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])


@SYNC_ASYNC
async def test_official_endpoint_gets_usage_and_user_never_sees_the_usage_chunk(events, is_async):
    server = Recorder(lambda request: sse_response([*TEXT_CHUNKS, USAGE_CHUNK]))
    client = server.client(is_async=is_async)
    stream = await maybe_await(client.chat.completions.create(model="gpt-4o-mini", messages=JOKE, stream=True))
    assert type(stream) is (openai.AsyncStream if is_async else openai.Stream)
    seen = await collect(stream)
    assert server.bodies[0]["stream_options"] == {"include_usage": True}
    assert dumps(seen) == dumps([openai.types.chat.ChatCompletionChunk.model_validate(c) for c in TEXT_CHUNKS])
    props = only(events)
    assert (props["input_tokens"], props["output_tokens"], props["total_tokens"]) == (21, 7, 28)
    assert (props["cached_input_tokens"], props["reasoning_tokens"]) == (5, 2)
    assert props["tokens_estimated"] is False
    assert props["output_text"] == "Hello"
    assert props["finish_reason"] == "stop"
    assert isinstance(props["cost"], float) and props["cost"] > 0


def test_explicit_include_usage_false_is_sent_unchanged(events):
    server = Recorder(lambda request: sse_response(TEXT_CHUNKS))
    seen = list(server.client().chat.completions.create(
        model="gpt-4o-mini", messages=JOKE, stream=True, stream_options={"include_usage": False}
    ))
    assert server.bodies[0]["stream_options"] == {"include_usage": False}
    assert len(seen) == len(TEXT_CHUNKS)
    props = only(events)
    assert props["tokens_estimated"] is True


def test_stream_usage_off_sends_nothing(sink):
    tracker = autotrack.track(sink, providers=["openai"], stream_usage="off")
    server = Recorder(lambda request: sse_response(TEXT_CHUNKS))
    list(server.client().chat.completions.create(model="gpt-4o-mini", messages=JOKE, stream=True))
    assert "stream_options" not in server.bodies[0]
    [props] = flushed(tracker, sink)
    assert props["tokens_estimated"] is True


def test_legacy_completion_stream_gets_usage_injected(events):
    def chunk(text: str, finish: Optional[str] = None) -> Dict[str, Any]:
        return {"id": "cmpl-handwritten1", "object": "text_completion", "created": 1, "model": "gpt-3.5-turbo-instruct",
                "choices": [{"text": text, "index": 0, "logprobs": None, "finish_reason": finish}]}

    usage_chunk = {"id": "cmpl-handwritten1", "object": "text_completion", "created": 1,
                   "model": "gpt-3.5-turbo-instruct", "choices": [],
                   "usage": {"prompt_tokens": 4, "completion_tokens": 2, "total_tokens": 6}}
    server = Recorder(lambda request: sse_response([chunk("a"), chunk("b", "stop"), usage_chunk]))
    seen = list(server.client().completions.create(model="gpt-3.5-turbo-instruct", prompt="hi", stream=True))
    assert server.bodies[0]["stream_options"] == {"include_usage": True}
    assert [c.choices[0].text for c in seen] == ["a", "b"]
    props = only(events)
    assert (props["input_tokens"], props["output_tokens"]) == (4, 2)
    assert props["output_text"] == "ab"
    assert props["tokens_estimated"] is False


@pytest.mark.parametrize("base_url", ["https://eu.api.openai.com/v1", "https://us.api.openai.com/v1"])
def test_regional_openai_endpoints_get_usage_injected(events, base_url):
    server = Recorder(lambda request: sse_response([*TEXT_CHUNKS, USAGE_CHUNK]))
    chunks = list(server.client(base_url=base_url).chat.completions.create(
        model="gpt-4o-mini", messages=JOKE, stream=True
    ))
    assert server.bodies[0]["stream_options"] == {"include_usage": True}
    assert len(chunks) == len(TEXT_CHUNKS)
    props = only(events)
    assert props["provider"] == "openai"
    assert (props["input_tokens"], props["output_tokens"]) == (21, 7)


@pytest.mark.parametrize("base_url", ["https://api.openai.com.evil.example/v1", "https://notapi.openai.com/v1"])
def test_lookalike_hosts_are_not_official(events, base_url):
    server = Recorder(lambda request: sse_response(TEXT_CHUNKS))
    list(server.client(base_url=base_url).chat.completions.create(model="gpt-4o-mini", messages=JOKE, stream=True))
    assert "stream_options" not in server.bodies[0]
    assert only(events)["tokens_estimated"] is True


@pytest.mark.skipif("data_residency" not in inspect.signature(openai.OpenAI.__init__).parameters,
                    reason="OpenAI(data_residency=...) exists in recent openai releases only")
def test_data_residency_client_gets_usage_injected(events):
    server = Recorder(lambda request: sse_response([*TEXT_CHUNKS, USAGE_CHUNK]))
    client = openai.OpenAI(api_key="sk-test", max_retries=0, data_residency="eu",
                           http_client=hx.Client(transport=hx.MockTransport(server)))
    list(client.chat.completions.create(model="gpt-4o-mini", messages=JOKE, stream=True))
    assert server.requests[0].url.host == "eu.api.openai.com"
    assert server.bodies[0]["stream_options"] == {"include_usage": True}
    assert only(events)["input_tokens"] == 21


async def test_async_legacy_completion(events):
    with cassette(COMPLETION):
        result = await async_client().completions.create(model="davinci-002", prompt="Tell me a joke")
    props = only(events)
    assert props["operation"] == "completion"
    assert props["response_id"] == result.id
    assert (props["input_tokens"], props["output_tokens"]) == (8, 16)


async def test_async_embeddings(events):
    with cassette(EMBEDDINGS):
        result = await async_client().embeddings.create(model="text-embedding-ada-002", input="Tell me a joke")
    assert type(result) is openai.types.CreateEmbeddingResponse
    props = only(events)
    assert props["operation"] == "embedding"
    assert (props["input_tokens"], props["output_tokens"]) == (8, None)


# =================================================================================================
# 10. errors
# =================================================================================================
def assert_error_event(props: Dict[str, Any], exc: BaseException) -> None:
    assert props["error"].startswith(type(exc).__name__ + ": ")
    assert props["latency_ms"] is not None and props["latency_ms"] > 0
    assert props["input_tokens"] is None and props["output_tokens"] is None
    assert props["cost"] is None
    assert props["output_text"] is None


def test_401_chat_cassette(events):
    with cassette(ERR_CHAT), pytest.raises(openai.AuthenticationError) as raised:
        sync_client().chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "Hello"}],
                                              max_tokens=15, temperature=0.1)
    exc = raised.value
    assert type(exc) is openai.AuthenticationError
    assert exc.status_code == 401 and exc.code == "invalid_api_key"
    assert exc.__cause__ is None  # not re-raised from inside autotrack
    props = only(events)
    assert props["error"].startswith("AuthenticationError")
    assert_error_event(props, exc)
    assert props["model"] == "gpt-4o-mini"
    assert props["operation"] == "chat_completion"
    assert props["ai_max_tokens"] == 15 and props["ai_temperature"] == 0.1
    assert props["response_id"] is None


async def test_401_responses_cassette_async(events):
    with cassette(ERR_RESPONSES), pytest.raises(openai.AuthenticationError) as raised:
        await async_client().responses.create(model="gpt-4.1", input="Hello world", user="ddtrace-test")
    assert type(raised.value) is openai.AuthenticationError
    props = only(events)
    assert props["error"].startswith("AuthenticationError")
    assert_error_event(props, raised.value)
    assert props["operation"] == "response"
    assert props["model"] == "gpt-4.1"


def test_401_legacy_completion_stream_cassette(events):
    with cassette(ERR_COMPLETION_STREAM), pytest.raises(openai.AuthenticationError) as raised:
        sync_client().completions.create(
            model="text-curie-001", prompt="how does openai tokenize prompts?", max_tokens=150, stream=True
        )
    assert type(raised.value) is openai.AuthenticationError
    props = only(events)
    assert props["error"].startswith("AuthenticationError")
    assert_error_event(props, raised.value)
    assert props["operation"] == "completion"
    assert props["streaming"] is True
    assert props["stream_completed"] is None  # no stream was ever handed out


def test_exception_identity_is_preserved():
    """The exception the SDK raises reaches the caller as the same object (seen from inside the SDK)."""
    raised_inside: List[BaseException] = []
    original = openai.OpenAI._make_status_error

    def spy(self: Any, *args: Any, **kwargs: Any) -> Any:
        err = original(self, *args, **kwargs)
        raised_inside.append(err)
        return err

    tracker = autotrack.track(lambda e: None, providers=["openai"])
    error = {"error": {"message": "bad key", "code": "invalid_api_key"}}
    server = Recorder(lambda request: hx.Response(401, json=error))
    client = server.client()
    client._make_status_error = spy.__get__(client)  # on the instance only: no SDK class is touched
    with pytest.raises(openai.AuthenticationError) as raised:
        client.chat.completions.create(model="gpt-4o-mini", messages=JOKE)
    tracker.stop()
    assert raised_inside and raised.value is raised_inside[-1]


@pytest.mark.parametrize(
    "status, error_type",
    [(429, openai.RateLimitError), (500, openai.InternalServerError)],
)
def test_status_errors(events, status, error_type):
    server = Recorder(lambda request: hx.Response(status, json={"error": {"message": f"status {status}"}}))
    with pytest.raises(error_type) as raised:
        server.client().chat.completions.create(model="gpt-4o-mini", messages=JOKE)
    assert type(raised.value) is error_type
    props = only(events)
    assert props["error"].startswith(f"{error_type.__name__}: ")
    assert f"status {status}" in props["error"]
    assert_error_event(props, raised.value)


def read_timeout(request: Any) -> Any:
    raise hx.ReadTimeout("timed out", request=request)


@SYNC_ASYNC
async def test_timeout_chat(events, is_async):
    server = Recorder(read_timeout)
    with pytest.raises(openai.APITimeoutError) as raised:
        await maybe_await(server.client(is_async=is_async).chat.completions.create(model="gpt-4o-mini", messages=JOKE))
    assert type(raised.value) is openai.APITimeoutError
    props = only(events)
    assert props["error"].startswith("APITimeoutError")
    assert_error_event(props, raised.value)


async def test_timeout_responses_async(events):
    server = Recorder(read_timeout)
    with pytest.raises(openai.APITimeoutError) as raised:
        await server.client(is_async=True).responses.create(model="gpt-4.1-nano", input="hi")
    props = only(events)
    assert props["error"].startswith("APITimeoutError")
    assert_error_event(props, raised.value)


def test_timeout_sync_stream(events):
    with pytest.raises(openai.APITimeoutError):
        Recorder(read_timeout).client().chat.completions.create(model="gpt-4o-mini", messages=JOKE, stream=True)
    props = only(events)
    assert props["error"].startswith("APITimeoutError")
    assert props["streaming"] is True and props["stream_completed"] is None


class BrokenBody(hx.SyncByteStream, hx.AsyncByteStream):
    """An SSE body that delivers ``good`` chunks, then the connection breaks."""

    def __init__(self, good: List[Dict[str, Any]]) -> None:
        self.parts = [f"data: {json.dumps(c)}\n\n".encode() for c in good]

    def __iter__(self) -> Iterator[bytes]:
        yield from self.parts
        raise hx.ReadError("connection reset by peer")

    async def __aiter__(self) -> Any:
        for part in self.parts:
            yield part
        raise hx.ReadError("connection reset by peer")


def broken_stream_response(request: Any) -> Any:
    return hx.Response(200, headers={"content-type": "text/event-stream"}, stream=BrokenBody(TEXT_CHUNKS[:2]))


@SYNC_ASYNC
async def test_mid_stream_break(events, is_async):
    client = Recorder(broken_stream_response).client(is_async=is_async)
    stream = await maybe_await(client.chat.completions.create(model="gpt-4o-mini", messages=JOKE, stream=True))
    seen: List[Any] = []
    with pytest.raises(Exception) as raised:
        if is_async:
            async for chunk in stream:
                seen.append(chunk)
        else:
            for chunk in stream:
                seen.append(chunk)
    assert len(seen) == 2
    assert isinstance(raised.value, (hx.ReadError, openai.APIConnectionError))
    props = only(events)
    assert props["streaming"] is True and props["stream_completed"] == "error"
    assert props["error"].startswith(type(raised.value).__name__ + ": ")
    assert props["latency_ms"] > 0


def test_mid_stream_error_event_cassette(events):
    with cassette(CHAT_STREAM_MIDSTREAM_ERROR):
        stream = sync_client().chat.completions.create(model="gpt-4o-mini", messages=JOKE, stream=True)
        seen: List[Any] = []
        with pytest.raises(openai.APIError) as raised:
            for chunk in stream:
                seen.append(chunk)
    assert [c.choices[0].delta.content for c in seen] == ["", "Why", " did"]
    assert "server had an error" in str(raised.value)
    props = only(events)
    assert props["stream_completed"] == "error"
    assert props["error"].startswith(type(raised.value).__name__ + ": ")
    assert "server had an error" in props["error"]


def test_mid_stream_error_keeps_what_arrived(events):
    with cassette(CHAT_STREAM_MIDSTREAM_ERROR):
        stream = sync_client().chat.completions.create(model="gpt-4o-mini", messages=JOKE, stream=True)
        with pytest.raises(openai.APIError):
            list(stream)
    props = only(events)
    assert props["response_id"] == "chatcmpl-handwrittenMidstreamErr"
    assert props["response_model"] == "gpt-4o-mini-2024-07-18"
    assert props["output_text"] == "Why did"


def test_stream_closed_early(events):
    server = Recorder(lambda request: sse_response([*TEXT_CHUNKS, USAGE_CHUNK]))
    stream = server.client().chat.completions.create(model="gpt-4o-mini", messages=JOKE, stream=True)
    first = next(iter(stream))
    stream.close()
    assert first.choices[0].delta.content == "Hel"
    props = only(events)
    assert props["stream_completed"] == "closed"
    assert props["output_text"] == "Hel"


def test_azure_client_level_deployment_is_the_model(events):
    """AzureOpenAI(azure_deployment=...) routes by the client's deployment, whatever model= says."""
    server = Recorder(lambda request: hx.Response(200, json={
        "id": "chatcmpl-az", "object": "chat.completion", "created": 1, "model": "gpt-4o-mini-2024-07-18",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 9, "completion_tokens": 1, "total_tokens": 10},
    }))
    client = openai.AzureOpenAI(
        azure_endpoint="https://example-res.openai.azure.com", azure_deployment="prod-chat", api_version="2024-10-21",
        api_key="k", max_retries=0, http_client=hx.Client(transport=hx.MockTransport(server)),
    )
    client.chat.completions.create(model="gpt-4o-mini", messages=JOKE)
    props = only(events)
    assert props["provider"] == "azure_openai"
    assert props["model"] == "prod-chat"
    assert props["response_model"] == "gpt-4o-mini-2024-07-18"
    assert props["cost"] is not None and props["cost"] > 0


def test_assistant_turns_that_only_called_tools_are_rendered(events):
    with cassette(CHAT):
        sync_client().chat.completions.create(model="gpt-3.5-turbo", messages=[
            {"role": "user", "content": "weather?"},
            {"role": "assistant", "content": None, "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}]},
            {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
        ])
    assert only(events)["input_text"] == "user: weather?\nassistant: [tool_call: get_weather]\ntool: sunny"
