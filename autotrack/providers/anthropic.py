"""Anthropic: messages (create, parse, and the ``stream()`` helper), stable and beta, sync and async.

``messages.stream`` posts on its own (it never reaches ``create``), so it is a row of its
own: the engine hooks the SDK stream inside the helper's ``MessageStream`` on enter.
"""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Sequence

from .base import Method, Provider, Request, Response, Usage, as_int, get, given
from .openai import unwrap_raw

_MESSAGES = "anthropic.resources.messages.messages"
_MESSAGES_OLD = "anthropic.resources.messages"  # before the messages package split
_BETA = "anthropic.resources.beta.messages.messages"


def read_request(kwargs: Mapping[str, Any]) -> Request:
    messages = given(kwargs.get("messages"))
    return Request(
        model=given(kwargs.get("model")),
        messages=messages if isinstance(messages, (list, tuple)) else None,
        system=given(kwargs.get("system")),
        temperature=given(kwargs.get("temperature")),
        max_tokens=given(kwargs.get("max_tokens")),
        top_p=given(kwargs.get("top_p")),
        stream=given(kwargs.get("stream")) is True,
    )


def read_usage(usage: Any) -> Optional[Usage]:
    """Anthropic reports cache reads and writes apart from ``input_tokens``; we add them in."""
    if usage is None:
        return None
    uncached = as_int(get(usage, "input_tokens"))
    cache_read = as_int(get(usage, "cache_read_input_tokens"))
    cache_write = as_int(get(usage, "cache_creation_input_tokens"))
    total = None
    if uncached is not None or cache_read is not None or cache_write is not None:
        total = (uncached or 0) + (cache_read or 0) + (cache_write or 0)
    return Usage(
        input_tokens=total,
        output_tokens=as_int(get(usage, "output_tokens")),
        cached_input_tokens=cache_read,
        cache_creation_input_tokens=cache_write,
    )


def _tool_name(block: Any) -> Optional[str]:
    if get(block, "type") in ("tool_use", "server_tool_use", "mcp_tool_use"):
        name = get(block, "name")
        return str(name) if name else None
    return None


def read_response(message: Any) -> Response:
    texts: List[str] = []
    tools: List[str] = []
    for block in get(message, "content") or ():
        if get(block, "type") == "text" and isinstance(get(block, "text"), str):
            texts.append(get(block, "text"))
        name = _tool_name(block)
        if name:
            tools.append(name)
    return Response(
        model=get(message, "model"),
        id=get(message, "id"),
        output_text="".join(texts) if texts else None,
        finish_reason=get(message, "stop_reason"),
        tool_calls=tools,
        usage=read_usage(get(message, "usage")),
    )


def read_chunks(events: Sequence[Any]) -> Response:
    out = Response()
    parts: List[str] = []
    tools: List[str] = []
    usage_fields: Dict[str, Any] = {}
    for index, event in enumerate(events):
        kind = get(event, "type")
        if kind == "message_start":
            message = get(event, "message")
            out.id = get(message, "id")
            out.model = get(message, "model")
            for key, value in _usage_items(get(message, "usage")):
                usage_fields[key] = value
        elif kind == "content_block_start":
            name = _tool_name(get(event, "content_block"))
            if name:
                tools.append(name)
                out.first_token_chunk = index if out.first_token_chunk is None else out.first_token_chunk
        elif kind == "content_block_delta":
            delta = get(event, "delta")
            text = get(delta, "text")
            if isinstance(text, str):
                parts.append(text)
            if out.first_token_chunk is None:
                out.first_token_chunk = index
        elif kind == "message_delta":
            reason = get(event, "delta", "stop_reason")
            if reason:
                out.finish_reason = reason
            # The final message_delta carries cumulative counts; newer APIs repeat input counts there too.
            for key, value in _usage_items(get(event, "usage")):
                usage_fields[key] = value
    out.output_text = "".join(parts) if parts else None
    out.tool_calls = tools
    out.usage = read_usage(usage_fields) if usage_fields else None
    return out


_USAGE_KEYS = ("input_tokens", "output_tokens", "cache_read_input_tokens", "cache_creation_input_tokens")


def _usage_items(usage: Any) -> List[Any]:
    if usage is None:
        return []
    return [(key, get(usage, key)) for key in _USAGE_KEYS if as_int(get(usage, key)) is not None]


def helper_stream(message_stream: Any) -> Any:
    """The ``anthropic.Stream`` under a ``MessageStream`` (what ``messages.stream()`` yields)."""
    return getattr(message_stream, "_raw_stream", None)


def _create(path: str) -> Method:
    return Method(path, "chat_completion", read_request, read_response, read_chunks)


def _stream(path: str) -> Method:
    return Method(path, "chat_completion", read_request, read_response, read_chunks, helper_stream=helper_stream)


METHODS = tuple(
    method
    for module in (_MESSAGES, _MESSAGES_OLD, _BETA)
    for cls in ("Messages", "AsyncMessages")
    for method in (
        _create(f"{module}:{cls}.create"),
        _create(f"{module}:{cls}.parse"),
        _stream(f"{module}:{cls}.stream"),
    )
)

provider = Provider(
    name="anthropic",
    module="anthropic",
    methods=METHODS,
    sync_stream_types=("anthropic._streaming:Stream",),
    async_stream_types=("anthropic._streaming:AsyncStream",),
    raw_response_types=(
        "anthropic._legacy_response:LegacyAPIResponse",
        "anthropic._response:APIResponse",
        "anthropic._response:AsyncAPIResponse",
    ),
    unwrap_raw=unwrap_raw,
)
