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


def _argument(kwargs: Mapping[str, Any], name: str) -> Any:
    """A request field given as a keyword argument, else in ``extra_body``.

    anthropic 2.x dropped ``temperature`` / ``top_p`` / ``top_k`` from the method signatures:
    callers who still send them do so through ``extra_body``.
    """
    value = given(kwargs.get(name))
    if value is None:
        extra = given(kwargs.get("extra_body"))
        if isinstance(extra, Mapping):
            value = given(extra.get(name))
    return value


def read_request(kwargs: Mapping[str, Any]) -> Request:
    messages = given(kwargs.get("messages"))
    return Request(
        model=given(kwargs.get("model")),
        messages=messages if isinstance(messages, (list, tuple)) else None,
        system=_argument(kwargs, "system"),
        temperature=_number(_argument(kwargs, "temperature")),
        max_tokens=as_int(_argument(kwargs, "max_tokens")),
        top_p=_number(_argument(kwargs, "top_p")),
        stream=given(kwargs.get("stream")) is True,
    )


def _number(value: Any) -> Optional[float]:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return value


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
    final_output = False  # whether a message_delta reported the output count
    for index, event in enumerate(events):
        kind = get(event, "type")
        if kind == "message_start":
            message = get(event, "message")
            out.id = get(message, "id")
            out.model = get(message, "model")
            for key, value in _usage_items(get(message, "usage")):
                usage_fields[key] = value
        elif kind == "content_block_start":
            block = get(event, "content_block")
            name = _tool_name(block)
            text = get(block, "text") if get(block, "type") == "text" else None
            if isinstance(text, str) and text:
                parts.append(text)  # a text block may open with text (the SDK's snapshot starts from it)
            if name or (isinstance(text, str) and text):
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
                final_output = final_output or key == "output_tokens"
    if not final_output:
        # message_start's output_tokens is a placeholder (1-5), not a count: a stream that ended before
        # its message_delta (closed early, failed) has no reported output count.
        usage_fields.pop("output_tokens", None)
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
    helper_managers=(
        "anthropic.lib.streaming._messages:MessageStreamManager",
        "anthropic.lib.streaming._messages:AsyncMessageStreamManager",
        "anthropic.lib.streaming._beta_messages:BetaMessageStreamManager",
        "anthropic.lib.streaming._beta_messages:BetaAsyncMessageStreamManager",
    ),
)
