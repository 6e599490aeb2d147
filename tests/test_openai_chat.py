from __future__ import annotations

import openai
import pytest

import autotrack
from tests.conftest import cassette

CHAT = "openllmetry/openai/test_chat/test_chat.yaml"
STREAM_USAGE = "dd-trace-py/openai/chat_completion_stream_prompt_caching_cache_read.yaml"
STREAM_NO_USAGE = (
    "openllmetry/openai/test_finish_reasons/"
    "TestChatCompletionsFinishReasons.test_chat_streaming_sets_top_level_finish_reasons.yaml"
)
JOKE = [{"role": "user", "content": "Tell me a joke about opentelemetry"}]


def test_sync_create_emits_one_event(events):
    with cassette(CHAT):
        client = openai.OpenAI(api_key="sk-test", max_retries=0)
        result = client.chat.completions.create(model="gpt-3.5-turbo", messages=JOKE, temperature=0.2)
    assert type(result).__name__ == "ChatCompletion"
    assert result.id == "chatcmpl-908MD9ivBBLb6EaIjlqwFokntayQK"
    [event] = events()
    props = event["event_properties"]
    assert event["event_type"] == "ai_operation"
    assert props["provider"] == "openai"
    assert props["operation"] == "chat_completion"
    assert props["model"] == "gpt-3.5-turbo"
    assert props["response_model"] == "gpt-3.5-turbo-0125"
    assert (props["input_tokens"], props["output_tokens"], props["total_tokens"]) == (15, 19, 34)
    assert props["tokens_estimated"] is False
    assert props["cost"] is not None and props["cost"] > 0
    assert props["ai_temperature"] == 0.2
    assert props["finish_reason"] == "stop"
    assert props["response_id"] == result.id
    assert props["input_text"] == "user: Tell me a joke about opentelemetry"
    assert props["output_text"] == result.choices[0].message.content
    assert props["streaming"] is False
    assert props["latency_ms"] > 0
    assert props["ai_sdk_version"] == f"autotrack-{autotrack.__version__}"
    assert props["provider_sdk_version"] == openai.__version__


def test_stream_with_usage_keeps_chunks_and_type(events):
    with cassette(STREAM_USAGE):
        client = openai.OpenAI(api_key="sk-test", max_retries=0)
        stream = client.chat.completions.create(
            model="gpt-4o", messages=JOKE, stream=True, stream_options={"include_usage": True}
        )
        assert isinstance(stream, openai.Stream)
        assert type(stream) is openai.Stream
        chunks = list(stream)
    assert chunks[-1].usage is not None and chunks[-1].choices == []
    [event] = events()
    props = event["event_properties"]
    assert props["streaming"] is True
    assert props["stream_completed"] == "completed"
    assert (props["input_tokens"], props["output_tokens"], props["cached_input_tokens"]) == (1420, 100, 1280)
    assert props["tokens_estimated"] is False
    assert props["time_to_first_token_ms"] is not None
    assert 0 < props["time_to_first_token_ms"] <= props["latency_ms"]
    assert props["finish_reason"] == "length"


def test_stream_without_usage_is_estimated(events):
    with cassette(STREAM_NO_USAGE):
        client = openai.OpenAI(api_key="sk-test", max_retries=0)
        text = "".join(
            c.choices[0].delta.content or ""
            for c in client.chat.completions.create(model="gpt-3.5-turbo", messages=JOKE, stream=True)
            if c.choices
        )
    [event] = events()
    props = event["event_properties"]
    assert props["output_text"] == text
    assert props["tokens_estimated"] is True
    assert props["output_tokens"] > 0 and props["input_tokens"] > 0


def test_stop_restores_original_identity(sink):
    from openai.resources.chat.completions import completions as module

    original = vars(module.Completions)["create"]
    tracker = autotrack.track(sink, providers=["openai"])
    assert vars(module.Completions)["create"] is not original
    tracker.stop()
    assert vars(module.Completions)["create"] is original
    assert module.Completions.create is original


def test_unknown_provider_is_config_error():
    with pytest.raises(autotrack.ConfigError, match="available: .*openai"):
        autotrack.track(lambda e: None, providers=["nope"])
