"""Shared helpers for the engine tests (no tests here).

``client()`` builds a REAL openai/anthropic client whose HTTP is served in-process by a
MockTransport of the httpx flavour the installed SDK itself imports (openai 1.x needs
``httpx.Client``; openai 2+/3+ uses ``httpx2``), so these tests run in both venvs.
"""

from __future__ import annotations

import json
import socket
from typing import Any, Callable, Dict, Iterable, List, Optional

import openai

import autotrack
from tests.conftest import mock_client, sdk_httpx  # noqa: F401 - re-exported for the engine tests

API_KEY = "sk-test-key-0000000000000000"
ANT_KEY = "sk-ant-api03-secretsecretsecret0000000000"
MESSAGES = [{"role": "user", "content": "Say hello"}]


def client(sdk: Any, handler: Callable[[Any], Any], *, is_async: bool = False, **kwargs: Any) -> Any:
    kwargs.setdefault("api_key", API_KEY if sdk is openai else ANT_KEY)
    return mock_client(sdk, handler, is_async=is_async, **kwargs)


# -- OpenAI chat bodies ----------------------------------------------------------------------
def chat_body(content: str = "Hello there!", model: str = "gpt-4o-mini", rid: str = "chatcmpl-1",
              prompt_tokens: int = 12, completion_tokens: int = 3) -> Dict[str, Any]:
    return {
        "id": rid,
        "object": "chat.completion",
        "created": 1700000000,
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                  "total_tokens": prompt_tokens + completion_tokens},
    }


def chunk(rid: str, model: str, delta: Dict[str, Any], finish: Optional[str] = None) -> Dict[str, Any]:
    return {"id": rid, "object": "chat.completion.chunk", "created": 1700000000, "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}


def chat_chunks(words: Iterable[str] = ("Hel", "lo", " wor", "ld"), model: str = "gpt-4o-mini",
                include_usage: bool = False) -> List[Dict[str, Any]]:
    rid = "chatcmpl-s1"
    out = [chunk(rid, model, {"role": "assistant", "content": ""})]
    out += [chunk(rid, model, {"content": w}) for w in words]
    out.append(chunk(rid, model, {}, "stop"))
    if include_usage:
        out.append({"id": rid, "object": "chat.completion.chunk", "created": 1700000000, "model": model,
                    "choices": [], "usage": {"prompt_tokens": 9, "completion_tokens": 4, "total_tokens": 13}})
    return out


def sse_bytes(events: Iterable[Any], done: bool = True) -> bytes:
    data = b"".join(f"data: {json.dumps(e)}\n\n".encode() for e in events)
    return data + (b"data: [DONE]\n\n" if done else b"")


def request_json(request: Any) -> Dict[str, Any]:
    try:
        return json.loads(request.content or b"{}")
    except ValueError:
        return {}


def chat_handler(sdk: Any = openai, content: str = "Hello there!") -> Callable[[Any], Any]:
    """Answers chat completions: JSON, or SSE (with the usage chunk only when asked for)."""
    hx = sdk_httpx(sdk)

    def handle(request: Any) -> Any:
        body = request_json(request)
        if body.get("stream"):
            usage = bool((body.get("stream_options") or {}).get("include_usage"))
            return hx.Response(200, headers={"content-type": "text/event-stream"},
                               content=sse_bytes(chat_chunks(model=body.get("model", "gpt-4o-mini"),
                                                             include_usage=usage)))
        return hx.Response(200, json=chat_body(content, model=body.get("model", "gpt-4o-mini")))

    return handle


def anthropic_body(text: str = "Hi!", model: str = "claude-3-5-haiku-20241022") -> Dict[str, Any]:
    return {"id": "msg_1", "type": "message", "role": "assistant", "model": model,
            "content": [{"type": "text", "text": text}], "stop_reason": "end_turn", "stop_sequence": None,
            "usage": {"input_tokens": 10, "output_tokens": 2}}


def closed_port() -> int:
    """A 127.0.0.1 port nobody listens on (bound, then closed): connecting is refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def new_tracker(sink: Any = None, **options: Any) -> Any:
    return autotrack.track(sink if sink is not None else autotrack.MemorySink(), **options)


def props(event: Any) -> Dict[str, Any]:
    return dict(event["event_properties"])
