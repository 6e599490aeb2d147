"""Every bad option fails at track() with ConfigError naming it and what it accepts; env vs kwargs."""

from __future__ import annotations

import json

import openai
import pytest

import autotrack
from autotrack.tracker import active_trackers
from tests.test_engine_support import MESSAGES, chat_handler, client


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    import os

    for name in [n for n in os.environ if n.startswith("AUTOTRACK_") and n != "AUTOTRACK_RAISE_INTERNAL_ERRORS"]:
        monkeypatch.delenv(name)


def _completions_create():
    from openai.resources.chat.completions import completions as module

    return vars(module.Completions)["create"]


@pytest.mark.parametrize(
    "kwargs, pattern",
    [
        ({"sample_rate": 2}, r"sample_rate must be a number from 0\.0 to 1\.0, got 2"),
        ({"sample_rate": -0.1}, r"sample_rate .*0\.0 to 1\.0.*-0\.1"),
        ({"sample_rate": "x"}, r"sample_rate .*0\.0 to 1\.0.*'x'"),
        ({"sample_rate": float("nan")}, r"sample_rate"),
        ({"sample_rate": True}, r"sample_rate"),
        ({"max_content_length": -1}, r"max_content_length must be an integer >= 0, got -1"),
        ({"max_content_length": 2.5}, r"max_content_length .*integer"),
        ({"max_messages": "3"}, r"max_messages must be an integer >= 0, got '3'"),
        ({"max_queue_size": 0}, r"max_queue_size must be an integer >= 1"),
        ({"exit_flush_timeout": -1}, r"exit_flush_timeout .*>= 0"),
        ({"include_inputs": "yes"}, r"include_inputs must be True or False"),
        ({"track_errors": 1}, r"track_errors must be True or False"),
        ({"providers": ["nope"]}, r"nope.*available: .*anthropic.*openai|nope.*available: .*openai.*anthropic"),
        ({"providers": [3]}, r"providers must be a list of provider names"),
        ({"client": 42}, r"client=int .*accepted: .*Amplitude client.*callable.*'console'.*'jsonl:PATH'"),
        ({"client": "bogus"}, r"client='bogus' .*accepted: .*'console'.*'jsonl:PATH'"),
        ({"client": "jsonl:"}, r"client='jsonl:'"),
        ({"stream_usage": "maybe"}, r"stream_usage must be one of 'auto', 'off', got 'maybe'"),
        ({"pricing": "cheap"}, r"pricing must be a dict of model name"),
        ({"pricing": {"m": 3}}, r"pricing\['m'\] must be a dict with keys from input, output, cached_input, cache_write"),
        ({"pricing": {"m": {"inptu": 1}}}, r"pricing\['m'\] has unknown key 'inptu'; accepted: input, output"),
        ({"pricing": {"m": {"input": -1}}}, r"pricing\['m'\]\['input'\] must be a number >= 0"),
        ({"pricing": {"m": {"input": "1"}}}, r"pricing\['m'\]\['input'\] must be a number >= 0"),
        ({"redact": "not callable"}, r"redact must be a callable or None, got str"),
        ({"on_error": 5}, r"on_error must be a callable or None, got int"),
        ({"colour": "blue"}, r"unknown option\(s\) colour; accepted: .*sample_rate"),
    ],
)
def test_bad_option_is_config_error_naming_option_and_accepted_values(kwargs, pattern):
    before = _completions_create()
    sink = kwargs.pop("client", autotrack.MemorySink())
    with pytest.raises(autotrack.ConfigError, match=pattern):
        autotrack.track(sink, **kwargs)
    assert active_trackers() == ()
    assert _completions_create() is before  # nothing patched by a failed track()


def test_config_error_is_a_value_error():
    assert issubclass(autotrack.ConfigError, ValueError)
    assert issubclass(autotrack.ConfigError, autotrack.AutotrackError)


@pytest.mark.parametrize(
    "var, value, pattern",
    [
        ("AUTOTRACK_SAMPLE_RATE", "abc", r"AUTOTRACK_SAMPLE_RATE='abc' is not a number"),
        ("AUTOTRACK_INCLUDE_INPUTS", "maybe", r"AUTOTRACK_INCLUDE_INPUTS='maybe' is not a boolean; accepted: .*false.*true"),
        ("AUTOTRACK_MAX_MESSAGES", "many", r"AUTOTRACK_MAX_MESSAGES='many' is not an integer"),
        ("AUTOTRACK_PRICING", "{not json", r"AUTOTRACK_PRICING must be a JSON object"),
        ("AUTOTRACK_REDACT", "x", r"AUTOTRACK_REDACT cannot be set from the environment"),
    ],
)
def test_bad_env_value_names_the_variable(monkeypatch, var, value, pattern):
    monkeypatch.setenv(var, value)
    with pytest.raises(autotrack.ConfigError, match=pattern):
        autotrack.track(autotrack.MemorySink())
    assert active_trackers() == ()


@pytest.mark.parametrize(
    "var, value",
    [
        ("AUTOTRACK_SAMPLE_RATE", "2"),
        ("AUTOTRACK_MAX_CONTENT_LENGTH", "-5"),
        ("AUTOTRACK_STREAM_USAGE", "maybe"),
        ("AUTOTRACK_PRICING", '{"m": 3}'),
    ],
)
def test_env_value_failing_validation_names_the_variable(monkeypatch, var, value):
    monkeypatch.setenv(var, value)
    with pytest.raises(autotrack.ConfigError, match=var):
        autotrack.track(autotrack.MemorySink())


def test_env_values_are_used_and_explicit_kwargs_win(monkeypatch):
    monkeypatch.setenv("AUTOTRACK_MAX_CONTENT_LENGTH", "5")
    monkeypatch.setenv("AUTOTRACK_INCLUDE_OUTPUTS", "false")
    monkeypatch.setenv("AUTOTRACK_SAMPLE_RATE", "abc")  # never read: the kwarg wins
    sink = autotrack.MemorySink()
    with autotrack.track(sink, sample_rate=1.0, include_outputs=True) as tracker:
        assert tracker.options.max_content_length == 5
        assert tracker.options.include_outputs is True
        client(openai, chat_handler()).chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    [event] = sink.events
    assert event["input_text"] == "user:…[truncated]"
    assert event["output_text"] == "Hello…[truncated]"
    sink2 = autotrack.MemorySink()
    with autotrack.track(sink2, max_content_length=500, sample_rate=1.0):
        client(openai, chat_handler()).chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert sink2.events[0]["input_text"] == "user: Say hello"
    assert sink2.events[0]["event_properties"].get("output_text") is None  # env include_outputs=false applies


def test_env_sink_jsonl_used_when_client_is_none(monkeypatch, tmp_path):
    path = tmp_path / "sub" / "events.jsonl"
    monkeypatch.setenv("AUTOTRACK_SINK", f"jsonl:{path}")
    with autotrack.track(None):
        client(openai, chat_handler()).chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    with autotrack.track():  # no client at all: the same
        client(openai, chat_handler()).chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [e["event_properties"]["model"] for e in lines] == ["gpt-4o-mini", "gpt-4o-mini"]


def test_explicit_client_wins_over_env_sink(monkeypatch, tmp_path):
    path = tmp_path / "events.jsonl"
    monkeypatch.setenv("AUTOTRACK_SINK", f"jsonl:{path}")
    sink = autotrack.MemorySink()
    with autotrack.track(sink):
        client(openai, chat_handler()).chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert len(sink.events) == 1
    assert not path.exists()


def test_env_providers_and_booleans(monkeypatch):
    monkeypatch.setenv("AUTOTRACK_PROVIDERS", "openai")
    monkeypatch.setenv("AUTOTRACK_TRACK_ERRORS", "off")
    with autotrack.track(autotrack.MemorySink()) as tracker:
        assert tracker.providers == ("openai",)
        assert tracker.options.track_errors is False
