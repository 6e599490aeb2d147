"""The ``ai_operation`` event: one schema, one place. Sinks format from it, providers fill it.

An event is a plain JSON-serialisable dict, so every sink writes the same thing::

    {"event_type": "ai_operation", "schema_version": 1, "time": <ms>, "insert_id": "...",
     "user_id": ..., "device_id": ..., "event_properties": {...the fields of PROPERTIES...}}

``event["model"]`` is a shortcut for ``event["event_properties"]["model"]``.
"""

from __future__ import annotations

import hashlib
import socket
import time
import uuid
from typing import Any, Dict, Mapping, Optional

from ._version import SDK_NAME

EVENT_TYPE = "ai_operation"
SCHEMA_VERSION = 1

# Every property an ai_operation event carries, in order, with its meaning (the README table is built from it).
PROPERTIES: Dict[str, str] = {
    "model": "Model the call asked for (Azure: the deployment), else the response's model",
    "provider": "openai, azure_openai, anthropic, or a plugin's id",
    "operation": "chat_completion, response, completion, embedding",
    "latency_ms": "Wall time of the call; for streams, until the stream ended",
    "input_tokens": "Everything the model read, cached reads and cache writes included",
    "output_tokens": "Tokens generated, reasoning tokens included",
    "total_tokens": "input_tokens + output_tokens",
    "cost": "USD from genai-prices (or your pricing=); None when the model's price is unknown",
    "error": "None, or 'ErrorClass: message' when the SDK raised",
    "input_text": "Input after windowing, redaction and truncation; absent with include_inputs=False",
    "output_text": "Output after redaction and truncation; absent with include_outputs=False",
    "ai_temperature": "temperature argument, if given",
    "ai_max_tokens": "max_tokens / max_completion_tokens / max_output_tokens argument, if given",
    "ai_top_p": "top_p argument, if given",
    "ai_sdk_version": "autotrack-<version>",
    "provider_sdk_version": "Version of the instrumented SDK package",
    "streaming": "True when the call streamed",
    "stream_completed": "Streams: completed, closed, abandoned (garbage-collected unfinished) or error",
    "time_to_first_token_ms": "Streams: time from the call to the first chunk",
    "finish_reason": "stop, length, tool_calls, end_turn... as the provider said it",
    "response_id": "The provider's id of the response",
    "response_model": "The model that answered, as the response names it",
    "cached_input_tokens": "Part of input_tokens read from the prompt cache",
    "cache_creation_input_tokens": "Part of input_tokens written to the prompt cache",
    "reasoning_tokens": "Part of output_tokens spent on reasoning",
    "tool_calls": "Names of the tools/functions the model called",
    "tokens_estimated": "True when counts are not the provider's reported usage",
    "user_id": "From autotrack.context",
    "session_id": "From autotrack.context",
}

_CONTENT_KEYS = ("input_text", "output_text")
_DEVICE_ID: Optional[str] = None


def default_device_id() -> str:
    """A stable per-host id, so a sink that needs an id (Amplitude) never rejects an event."""
    global _DEVICE_ID
    if _DEVICE_ID is None:
        try:
            host = socket.gethostname()
        except Exception:
            host = "unknown"
        _DEVICE_ID = "autotrack-" + hashlib.sha256(f"{host}:{uuid.getnode()}".encode()).hexdigest()[:16]
    return _DEVICE_ID


class Event(Dict[str, Any]):
    """An ``ai_operation`` event. A dict; unknown keys are looked up in ``event_properties``."""

    def __missing__(self, key: str) -> Any:
        props = dict.get(self, "event_properties")
        if isinstance(props, dict) and key in props:
            return props[key]
        raise KeyError(key)

    def get(self, key: str, default: Any = None) -> Any:
        try:
            return self[key]
        except KeyError:
            return default

    def __contains__(self, key: object) -> bool:
        if dict.__contains__(self, key):
            return True
        props = dict.get(self, "event_properties")
        return isinstance(props, dict) and key in props

    @property
    def event_type(self) -> str:
        return str(dict.get(self, "event_type", EVENT_TYPE))

    @property
    def properties(self) -> Dict[str, Any]:
        props = dict.get(self, "event_properties")
        return props if isinstance(props, dict) else {}

    event_properties = properties

    @property
    def user_id(self) -> Optional[str]:
        return dict.get(self, "user_id")

    @property
    def device_id(self) -> Optional[str]:
        return dict.get(self, "device_id")


def make_event(
    properties: Dict[str, Any],
    context: Mapping[str, Any],
    time_ms: Optional[int] = None,
    event_type: str = EVENT_TYPE,
) -> Event:
    # Content keys are absent, not None, when content is off: "no content at all".
    props = {key: properties.get(key) for key in PROPERTIES if key not in _CONTENT_KEYS or key in properties}
    props.update({k: v for k, v in properties.items() if k not in props})
    for key, value in context.items():
        # Context adds the ids and its own properties; it never sets a schema field (content included).
        if key in ("user_id", "session_id") or (key not in PROPERTIES and key != "device_id" and key not in props):
            props[key] = value
    props.setdefault("ai_sdk_version", SDK_NAME)
    if props.get("ai_sdk_version") is None:
        props["ai_sdk_version"] = SDK_NAME
    return Event(
        event_type=event_type,
        schema_version=SCHEMA_VERSION,
        time=int(time.time() * 1000) if time_ms is None else time_ms,
        insert_id=str(uuid.uuid4()),
        user_id=context.get("user_id"),
        device_id=context.get("device_id"),
        event_properties=props,
    )


def create_event(
    model: Optional[str] = None,
    provider: Optional[str] = None,
    operation: Optional[str] = None,
    input_data: Any = None,
    output_data: Any = None,
    latency_ms: Optional[float] = None,
    input_tokens: Optional[int] = None,
    output_tokens: Optional[int] = None,
    cost: Optional[float] = None,
    error: Any = None,
    metadata: Optional[Mapping[str, Any]] = None,
) -> Event:
    """Build an ``ai_operation`` event by hand, for calls autotrack cannot see; send it with ``tracker.record``.

    Content, redaction and truncation rules are applied when the tracker records it.
    """
    from .context import current

    if isinstance(error, BaseException):
        error = f"{type(error).__name__}: {error}"
    total = None
    if input_tokens is not None or output_tokens is not None:
        total = (input_tokens or 0) + (output_tokens or 0)
    properties: Dict[str, Any] = {
        "model": model,
        "provider": provider,
        "operation": operation,
        "latency_ms": latency_ms,
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "total_tokens": total,
        "cost": cost,
        "error": error,
        "input_text": input_data,
        "output_text": output_data,
        "tokens_estimated": False if total is not None else None,
    }
    properties.update(metadata or {})
    return make_event(properties, current())
