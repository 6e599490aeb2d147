"""Content: privacy switches, windowing, placeholders, redaction before truncation, huge and odd input."""

from __future__ import annotations

import json
import time

import anthropic
import openai
import pytest

import autotrack
from autotrack import content
from autotrack.content import TRUNCATION_MARKER
from tests.test_engine_support import API_KEY, anthropic_body, chat_body, client, sdk_httpx

OHX = sdk_httpx(openai)
AHX = sdk_httpx(anthropic)
SECRET_IN = "PROMPT-MARKER-q8Zx"
SECRET_OUT = "ANSWER-MARKER-w3Yv"


def _answer(text, status=200):
    return lambda request: OHX.Response(status, json=chat_body(text))


def _run(messages, answer="ok", **options):
    sink = autotrack.MemorySink()
    with autotrack.track(sink, **options) as tracker:
        client(openai, _answer(answer)).chat.completions.create(model="gpt-4o-mini", messages=messages)
        assert tracker.flush(10)
    [event] = sink.events
    return event


# -- include_inputs / include_outputs ---------------------------------------------------------
@pytest.mark.parametrize("stream", [False, True])
def test_no_content_anywhere_when_inputs_and_outputs_are_off(stream):
    def handler(request):
        if stream:
            chunks = [{"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o-mini",
                       "choices": [{"index": 0, "delta": {"content": SECRET_OUT}, "finish_reason": "stop"}]}]
            body = "".join(f"data: {json.dumps(c)}\n\n" for c in chunks) + "data: [DONE]\n\n"
            return OHX.Response(200, headers={"content-type": "text/event-stream"}, content=body.encode())
        return OHX.Response(200, json=chat_body(SECRET_OUT))

    sink = autotrack.MemorySink()
    with autotrack.track(sink, include_inputs=False, include_outputs=False) as tracker:
        c = client(openai, handler)
        result = c.chat.completions.create(model="gpt-4o-mini", stream=stream,
                                           messages=[{"role": "system", "content": SECRET_IN},
                                                     {"role": "user", "content": SECRET_IN}])
        if stream:
            list(result)
        tracker.record(autotrack.create_event(model="m", input_data=SECRET_IN, output_data=SECRET_OUT))
        assert tracker.flush(10)
    assert len(sink.events) == 2
    blob = json.dumps(sink.events)
    assert SECRET_IN not in blob and SECRET_OUT not in blob
    assert sink.events[0]["output_tokens"] is not None  # the event itself is still complete


def test_content_keys_are_absent_when_off():
    event = _run([{"role": "user", "content": "hi"}], include_inputs=False, include_outputs=False)
    assert "input_text" not in event["event_properties"]
    assert "output_text" not in event["event_properties"]


def test_only_inputs_off_keeps_outputs():
    event = _run([{"role": "user", "content": SECRET_IN}], answer=SECRET_OUT, include_inputs=False)
    assert SECRET_IN not in json.dumps(event)
    assert event["output_text"] == SECRET_OUT


# -- truncation, windowing, parts -------------------------------------------------------------
def test_truncation_marker():
    event = _run([{"role": "user", "content": "a" * 100}], answer="b" * 100, max_content_length=20)
    assert event["input_text"] == ("user: " + "a" * 100)[:20] + TRUNCATION_MARKER
    assert event["output_text"] == "b" * 20 + TRUNCATION_MARKER


def test_text_at_the_limit_is_not_marked():
    event = _run([{"role": "user", "content": "x"}], answer="c" * 20, max_content_length=20)
    assert event["output_text"] == "c" * 20


def test_max_messages_keeps_the_last_n():
    messages = [{"role": "user" if i % 2 == 0 else "assistant", "content": f"m{i}"} for i in range(10)]
    event = _run(messages, max_messages=3)
    assert event["input_text"] == "assistant: m7\nuser: m8\nassistant: m9"
    assert _run(messages, max_messages=0)["input_text"] == ""


def test_max_messages_keeps_the_openai_system_prompt_first():
    messages = [{"role": "system", "content": "be brief"}] + [
        {"role": "user", "content": f"m{i}"} for i in range(5)]
    event = _run(messages, max_messages=2)
    assert event["input_text"] == "system: be brief\nuser: m3\nuser: m4"


def test_max_messages_keeps_the_anthropic_system_prompt_first():
    sink = autotrack.MemorySink()
    with autotrack.track(sink, max_messages=2) as tracker:
        c = client(anthropic, lambda r: AHX.Response(200, json=anthropic_body()))
        c.messages.create(model="claude-3-5-haiku-20241022", max_tokens=5, system="be brief",
                          messages=[{"role": "user", "content": f"m{i}"} for i in range(5)])
        assert tracker.flush(10)
    assert sink.events[0]["input_text"] == "system: be brief\nuser: m3\nuser: m4"


def test_multipart_content_keeps_text_and_marks_images():
    messages = [{"role": "user", "content": [
        {"type": "text", "text": "what is this?"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64," + "A" * 5000}},
    ]}]
    event = _run(messages)
    assert event["input_text"] == "user: what is this?\n[image]"
    assert "base64" not in json.dumps(event)


# -- redaction -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text, expected",
    [
        ("mail me at jane.doe+x@example.co.uk now", "mail me at [EMAIL] now"),
        ("call +1 415-555-0132 today", "call [PHONE] today"),
        ("card 4111 1111 1111 1111 ok", "card [CARD] ok"),
        ("card 4111-1111-1111-1111 ok", "card [CARD] ok"),
        ("ssn 123-45-6789 ok", "ssn [SSN] ok"),
        ("key sk-proj-AbCdEfGhIjKlMnOpQrStUv123456 ok", "key [SECRET] ok"),
        ("key sk-ant-api03-AbCdEfGhIjKlMnOpQrSt_uv-123 ok", "key [SECRET] ok"),
        ("Authorization: Bearer abc.DEF-ghi_jkl~123 ok", "Authorization: [TOKEN] ok"),
    ],
)
def test_redaction(text, expected):
    assert content.clean(text, 500, True) == expected


def test_invalid_luhn_number_is_not_a_card():
    out = content.clean("order 4111 1111 1111 1112 shipped", 500, True)
    assert "[CARD]" not in out
    assert "4111" in out


def test_redaction_off_keeps_text():
    assert content.clean("jane@example.com", 500, False) == "jane@example.com"


@pytest.mark.parametrize("secret", [
    "sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789",
    "jane.doe.longer.address@example-company.com",
    "4111 1111 1111 1111",
])
@pytest.mark.parametrize("cut", [3, 10, 20])
def test_a_secret_straddling_the_cut_is_never_half_kept(secret, cut):
    prefix = "x" * 40 + " "
    limit = len(prefix) + cut
    out = content.clean(prefix + secret + " tail", limit, True)
    assert out.startswith(prefix + "[")  # the placeholder (maybe cut), never the secret's first characters
    assert secret[:3] not in out
    assert len(out) <= limit + len(TRUNCATION_MARKER)


def test_custom_redact_runs_after_builtin():
    seen = []

    def redact(text):
        seen.append(text)
        return text.replace("[EMAIL]", "<email>").replace("Acme", "ACME-CORP")

    event = _run([{"role": "user", "content": "Acme: write to bob@example.com"}], redact=redact)
    assert event["input_text"] == "user: ACME-CORP: write to <email>"
    assert any("[EMAIL]" in s for s in seen) and not any("bob@example.com" in s for s in seen)


def test_five_megabyte_prompt_is_handled_and_bounded():
    big = ("lorem ipsum dolor sit amet jane@example.com 4111 1111 1111 1111 " * 80000)[:5_000_000]
    started = time.monotonic()
    event = _run([{"role": "user", "content": big}], max_content_length=300)
    assert time.monotonic() - started < 30  # loose: it completes
    assert len(event["input_text"]) <= 300 + len(TRUNCATION_MARKER)
    assert event["input_text"].endswith(TRUNCATION_MARKER)
    assert "jane@example.com" not in event["input_text"] and "[EMAIL]" in event["input_text"]
    assert event["input_tokens"] == 12  # the provider's reported usage: the prompt was never tokenised


def test_none_and_odd_content_never_raise():
    messages = [
        {"role": "user", "content": None},
        {"role": "user", "content": 123},
        {"role": "user", "content": {"nested": {"a": [1, {"b": None}]}}},
        {"role": "user", "content": [None, 5, {"type": "mystery"}, {"text": 7}]},
        {"content": "no role"},
        "a bare string",
    ]
    event = _run(messages, max_messages=10)
    assert isinstance(event["input_text"], str)
    assert "no role" in event["input_text"] and "a bare string" in event["input_text"]


@pytest.mark.parametrize("value", [None, 0, 3.5, {"a": {"b": [1, 2]}}, ["x", {"role": "user", "content": "y"}],
                                   object()])
def test_manual_events_with_odd_values(value):
    sink = autotrack.MemorySink()
    with autotrack.track(sink) as tracker:
        tracker.record(autotrack.create_event(model="m", input_data=value, output_data=value))
        assert tracker.flush(5)
    [event] = sink.events
    assert event["input_text"] is None or isinstance(event["input_text"], str)


# -- credentials never leak ---------------------------------------------------------------
def test_no_event_ever_contains_the_api_key_or_auth_header():
    def handler(request):
        assert request.headers["authorization"] == f"Bearer {API_KEY}"
        body = json.loads(request.content)
        if body["messages"][0]["content"] == "fail":
            return OHX.Response(401, json={"error": {"message": f"Incorrect API key provided: {API_KEY}.",
                                                     "type": "invalid_request_error"}})
        return OHX.Response(200, json=chat_body(f"echo: your key is {API_KEY}"))

    sink = autotrack.MemorySink()
    with autotrack.track(sink) as tracker:
        c = client(openai, handler)
        c.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
        with pytest.raises(openai.AuthenticationError):
            c.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "fail"}])
        c.chat.completions.create(model="gpt-4o-mini", messages=[
            {"role": "user", "content": f"debug: curl -H 'Authorization: Bearer {API_KEY}'"}])
        assert tracker.flush(10)
    assert len(sink.events) == 3
    blob = json.dumps(sink.events)
    assert API_KEY not in blob
    assert "Bearer sk-" not in blob
    assert "Authorization" not in json.dumps(sink.events[:2])


# -- create_event + record ----------------------------------------------------------------
def test_manual_event_goes_through_redaction_truncation_and_context():
    sink = autotrack.MemorySink()
    with autotrack.track(sink, max_content_length=30) as tracker:
        with autotrack.context(user_id="u-manual", plan="pro"):
            event = autotrack.create_event(
                model="my-model", provider="custom", operation="chat_completion",
                input_data="contact jane@example.com about the long contract renewal please",
                output_data=[{"role": "assistant", "content": "ok"}],
                latency_ms=12.5, input_tokens=10, output_tokens=5, cost=0.001,
                error=RuntimeError("token=supersecretvalue"), metadata={"feature": "search"})
        tracker.record(event)
        assert tracker.flush(5)
    [got] = sink.events
    assert got["event_type"] == "ai_operation" and got["user_id"] == "u-manual"
    p = got["event_properties"]
    assert p["input_text"] == "contact [EMAIL] about the long"[:30] + TRUNCATION_MARKER
    assert p["output_text"] == "assistant: ok"
    assert p["error"] == "RuntimeError: token=[SECRET]"
    assert (p["total_tokens"], p["cost"], p["feature"], p["plan"]) == (15, 0.001, "search", "pro")
