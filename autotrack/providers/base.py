"""What a provider is: data (the methods it wraps) plus small readers of the SDK's objects.

A provider never times, iterates, catches or emits; the engine does that once for all.
Readers run on the background worker, receive plain SDK objects (pydantic models, dicts
or ``None``) and must tolerate odd shapes: :func:`get` reads attributes and keys alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

_MISSING = object()


def get(obj: Any, *path: str, default: Any = None) -> Any:
    """Follow ``path`` through attributes or mapping keys; ``default`` where anything is missing."""
    for name in path:
        if obj is None:
            return default
        if isinstance(obj, dict):
            obj = obj.get(name, _MISSING)
        else:
            found = getattr(obj, name, _MISSING)
            if found is _MISSING and isinstance(obj, Mapping):
                found = obj.get(name, _MISSING)
            obj = found
        if obj is _MISSING:
            return default
    return default if obj is None else obj


def as_int(value: Any) -> Optional[int]:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def given(value: Any) -> Any:
    """``None`` for the SDKs' NOT_GIVEN / Omit sentinels, the value otherwise."""
    if value is None:
        return None
    name = type(value).__name__
    if name in ("NotGiven", "Omit", "_Omit", "_NotGiven"):
        return None
    return value


@dataclass
class Usage:
    """Token counts with one meaning across providers (OpenTelemetry GenAI conventions).

    ``input_tokens`` is everything the model read, cached reads and cache writes included;
    ``cached_input_tokens`` and ``cache_creation_input_tokens`` are parts of it.
    """

    input_tokens: Optional[int] = None
    output_tokens: Optional[int] = None
    cached_input_tokens: Optional[int] = None
    cache_creation_input_tokens: Optional[int] = None
    reasoning_tokens: Optional[int] = None


@dataclass
class Request:
    """What the call asked for, read from its keyword arguments."""

    model: Optional[str] = None
    messages: Optional[Sequence[Any]] = None  # chat-style input: dicts or SDK objects with role/content
    prompt: Any = None  # plain text input (str, list of str, or token ids)
    system: Any = None  # a system prompt passed apart from the messages
    temperature: Optional[float] = None
    max_tokens: Optional[int] = None
    top_p: Optional[float] = None
    stream: bool = False


@dataclass
class Response:
    """What came back, read from the response object or assembled from stream chunks."""

    model: Optional[str] = None
    id: Optional[str] = None
    output_text: Optional[str] = None
    finish_reason: Optional[str] = None
    tool_calls: List[str] = field(default_factory=list)
    usage: Optional[Usage] = None
    # Streams: index of the first chunk that carried generated content (for time to first token).
    first_token_chunk: Optional[int] = None


@dataclass(frozen=True)
class Method:
    """One wrapped SDK method: a row of the provider's table.

    ``path`` is ``"module:Class.attribute"``. Patch and unpatch both walk these rows. A row
    whose module or attribute does not exist in the installed SDK version is skipped.
    """

    path: str
    operation: str
    read_request: Callable[[Mapping[str, Any]], Request]
    read_response: Callable[[Any], Response]
    read_chunks: Optional[Callable[[Sequence[Any]], Response]] = None
    # Hot path, for stream_usage="auto": given (resource instance, kwargs), return new kwargs that ask
    # the server to report usage in the stream, or None to leave the call alone. Must be cheap.
    request_stream_usage: Optional[Callable[[Any, Dict[str, Any]], Optional[Dict[str, Any]]]] = None
    # For helpers that post on their own and return a context manager (anthropic messages.stream):
    # given the object the helper yields on enter, return the SDK stream inside it.
    helper_stream: Optional[Callable[[Any], Any]] = None
    # A chunk the user must not see when usage was requested by us (OpenAI's usage-only chunk).
    is_injected_usage_chunk: Optional[Callable[[Any], bool]] = None


@dataclass(frozen=True)
class Provider:
    """A provider: its name, the SDK module it instruments, and its method rows."""

    name: str
    module: str
    methods: Tuple[Method, ...]
    # "module:Class" of the SDK's stream types; a result of one of these is tracked as a stream.
    sync_stream_types: Tuple[str, ...] = ()
    async_stream_types: Tuple[str, ...] = ()
    # "module:Class" of what ``with_raw_response`` / ``with_streaming_response`` return: tracked without
    # reading the body for the user (see streams.track_raw_response).
    raw_response_types: Tuple[str, ...] = ()
    # "module:Class" of helper managers that make their request on enter (anthropic MessageStreamManager):
    # their __enter__/__exit__ (and async twins) are patched so the manager stays the SDK's own object.
    helper_managers: Tuple[str, ...] = ()
    # Worker side: the provider id of one call (``openai`` or ``azure_openai``...) from the resource instance.
    provider_id: Optional[Callable[[Any], str]] = None
    # Worker side: unwrap what ``with_raw_response`` returned into the parsed object, or None.
    unwrap_raw: Optional[Callable[[Any], Any]] = None
    # Worker side: a model the client itself fixes, whatever the request says (an Azure deployment).
    client_model: Optional[Callable[[Any], Optional[str]]] = None

    def model_for(self, instance: Any) -> Optional[str]:
        if self.client_model is None:
            return None
        try:
            return self.client_model(instance)
        except Exception:
            return None

    def id_for(self, instance: Any) -> str:
        if self.provider_id is None:
            return self.name
        try:
            return self.provider_id(instance) or self.name
        except Exception:
            return self.name
