"""Worker side: turn a call record into an ``ai_operation`` event.

provider readers → content (window, redact, truncate) → tokens (usage, else counted) → cost → event.
Runs on the tracker's background thread, never on the caller's.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, Dict, Mapping, Optional, Tuple

from . import content, cost, tokens
from .event import Event, make_event
from .providers.base import Request, Response, Usage, given

if TYPE_CHECKING:
    from .options import Options
    from .record import CallRecord


def describe_error(error: Optional[BaseException]) -> Optional[str]:
    if error is None:
        return None
    message = str(error)
    return f"{type(error).__name__}: {message}" if message else type(error).__name__


def _sdk_version(module: str) -> Optional[str]:
    sdk = sys.modules.get(module)
    version = getattr(sdk, "__version__", None) if sdk is not None else None
    return version if isinstance(version, str) else None


def read(record: CallRecord) -> tuple[Request, Response]:
    """Run the provider's readers over the record: what was asked and what came back."""
    method = record.method
    request = method.read_request(record.kwargs)
    if record.chunks is not None:  # a stream, also one that failed: keep what the user received
        if method.read_chunks is None:
            return request, Response()
        return request, method.read_chunks(record.chunks)
    if record.error is not None:
        return request, Response()
    result = record.result
    unwrap = record.provider.unwrap_raw
    if unwrap is not None:
        result = unwrap(result)
    if result is None:
        return request, Response()
    return request, method.read_response(result)


def _input_text(request: Request, options: Options) -> Optional[str]:
    if request.messages is not None:
        return content.messages_text(request.messages, options.max_messages, request.system)
    text = content.prompt_text(request.prompt)
    if request.system is not None:
        system = content.content_text(request.system)
        text = f"system: {system}\n{text or ''}" if system else text
    return text


def _full_input_text(request: Request) -> Optional[str]:
    if request.messages is not None:
        return content.messages_text(request.messages, -1, request.system)
    return content.prompt_text(request.prompt)


def _complete_usage(record: CallRecord, request: Request, response: Response) -> Tuple[Optional[Usage], bool]:
    """The provider's usage, with what it left out counted; and whether anything was counted by us.

    A stream that ended early (abandoned, closed, failed) still consumed tokens, so its
    missing counts are estimated; a call that failed before any response has none.
    """
    usage = response.usage
    if record.error is not None and not record.chunks:
        return usage, False
    model = response.model or request.model
    if usage is None or (usage.input_tokens is None and usage.output_tokens is None):
        input_count, _ = tokens.count(_full_input_text(request), model)
        output_count, _ = tokens.count(response.output_text, model)
        return Usage(input_tokens=input_count, output_tokens=output_count), True
    if usage.output_tokens is None and response.output_text:
        usage.output_tokens, _ = tokens.count(response.output_text, model)
        return usage, True
    return usage, False


def _ttft(record: CallRecord, response: Response) -> Optional[float]:
    if not record.chunk_times:
        return None
    index = response.first_token_chunk
    return record.time_to_chunk_ms(0 if index is None else index)


def build_event(record: CallRecord, options: Options) -> Event:
    request, response = read(record)
    provider_id = record.provider.id_for(record.instance)
    model = record.provider.model_for(record.instance) or request.model or response.model
    usage, estimated = _complete_usage(record, request, response)
    total = None
    if usage is not None and (usage.input_tokens is not None or usage.output_tokens is not None):
        total = (usage.input_tokens or 0) + (usage.output_tokens or 0)
    price = None
    if usage is not None:
        price = cost.compute(provider_id, usage, (response.model, model, request.model), options.pricing)

    limit, pii, custom = options.max_content_length, options.redact_pii, options.redact
    props: Dict[str, Any] = {
        "model": model,
        "provider": provider_id,
        "operation": record.method.operation,
        "latency_ms": record.latency_ms,
        "input_tokens": usage.input_tokens if usage else None,
        "output_tokens": usage.output_tokens if usage else None,
        "total_tokens": total,
        "cost": price,
        "error": content.clean(describe_error(record.error), max(limit, 200), pii, custom),
        "ai_temperature": given(request.temperature),
        "ai_max_tokens": given(request.max_tokens),
        "ai_top_p": given(request.top_p),
        "provider_sdk_version": _sdk_version(record.provider.module),
        "streaming": record.streaming or bool(request.stream),
        "stream_completed": record.stream_status,
        "time_to_first_token_ms": _ttft(record, response),
        "finish_reason": response.finish_reason,
        "response_id": response.id,
        "response_model": response.model,
        "cached_input_tokens": usage.cached_input_tokens if usage else None,
        "cache_creation_input_tokens": usage.cache_creation_input_tokens if usage else None,
        "reasoning_tokens": usage.reasoning_tokens if usage else None,
        "tool_calls": list(response.tool_calls) or None,
        "tokens_estimated": estimated if usage is not None else None,
    }
    if options.include_inputs:
        props["input_text"] = content.clean(_input_text(request, options), limit, pii, custom)
    if options.include_outputs:
        props["output_text"] = content.clean(response.output_text, limit, pii, custom)
    return make_event(props, clean_context(record.context, options), time_ms=record.start_wall_ns // 1_000_000)


_IDS = ("user_id", "device_id", "session_id")


def _clean_value(value: Any, options: Options) -> Any:
    if isinstance(value, str):
        return content.clean(value, options.max_content_length, options.redact_pii, options.redact)
    return value


def clean_context(context: Mapping[str, Any], options: Options) -> Mapping[str, Any]:
    """Context properties are the app's data too: redacted and truncated like content (ids excepted)."""
    if not context:
        return context
    return {key: value if key in _IDS else _clean_value(value, options) for key, value in context.items()}


def prepare_manual(event: Event, options: Options) -> Event:
    """Apply the content rules to an event made with ``create_event``."""
    props = event.properties
    limit, pii, custom = options.max_content_length, options.redact_pii, options.redact
    for key, include in (("input_text", options.include_inputs), ("output_text", options.include_outputs)):
        value = props.get(key)
        if not include:
            props.pop(key, None)
        elif value is not None:
            if not isinstance(value, str):
                value = content.messages_text(value, options.max_messages) if isinstance(value, list) else str(value)
            props[key] = content.clean(value, limit, pii, custom)
    if isinstance(props.get("error"), str):
        props["error"] = content.clean(props["error"], max(limit, 200), pii, custom)
    schema = ("input_text", "output_text", "error", "model", "provider", "operation", "response_id", "response_model")
    for key, value in props.items():
        if key not in schema and key not in _IDS:
            props[key] = _clean_value(value, options)
    return event
