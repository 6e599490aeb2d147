"""OpenAI (and Azure OpenAI, and OpenAI-compatible servers reached through ``base_url``).

Rows cover chat completions (create, parse; ``stream()`` builds on create), the Responses
API (create, parse; ``stream()`` builds on create), legacy completions and embeddings, sync
and async. ``with_raw_response`` / ``with_streaming_response`` reach the same methods.
"""

from __future__ import annotations

import json
import weakref
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from .base import Method, Provider, Request, Response, Usage, as_int, get, given

_CHAT = "openai.resources.chat.completions.completions"
_CHAT_OLD = "openai.resources.chat.completions"  # openai < 1.55 kept chat completions in one module
_BETA_CHAT = "openai.resources.beta.chat.completions"  # openai 1.x: beta.chat.completions.parse
_RESPONSES = "openai.resources.responses.responses"
_COMPLETIONS = "openai.resources.completions"
_EMBEDDINGS = "openai.resources.embeddings"

_OFFICIAL_HOSTS = ("api.openai.com",)
_OFFICIAL_HOST_SUFFIX = ".api.openai.com"
_RAW_RESPONSE_HEADER = "x-stainless-raw-response"  # openai._constants.RAW_RESPONSE_HEADER, lower-cased
_AZURE_SUFFIXES = (".openai.azure.com", ".cognitiveservices.azure.com", ".services.ai.azure.com")


# -- shared -------------------------------------------------------------------------------
def _is_azure(client: Any) -> bool:
    return any(cls.__name__ == "BaseAzureClient" for cls in type(client).__mro__)


def _host(client: Any) -> str:
    return str(getattr(getattr(client, "base_url", None), "host", "") or "").lower()


def _azure_host(host: str) -> bool:
    return host.endswith(_AZURE_SUFFIXES)


def _openai_host(host: str) -> bool:
    # api.openai.com and its regional / data-residency / mTLS names: eu.api.openai.com, mtls-us.api.openai.com...
    return host in _OFFICIAL_HOSTS or host.endswith(_OFFICIAL_HOST_SUFFIX)


def provider_id(instance: Any) -> str:
    client = getattr(instance, "_client", None)
    if client is None:
        return "openai"
    # AzureOpenAI, or a plain OpenAI client pointed at an Azure resource (Azure's /openai/v1 API).
    return "azure_openai" if _is_azure(client) or _azure_host(_host(client)) else "openai"


# Azure accepts stream_options from this API version on; older ones answer 400 to an unknown argument.
_AZURE_STREAM_OPTIONS_SINCE = "2024-09-01"


def _azure_accepts_stream_options(client: Any) -> bool:
    version = getattr(client, "_api_version", None)
    if not isinstance(version, str) or not version[:4].isdigit():
        return True  # no dated version: the v1 / preview API, which has it
    return version[:10] >= _AZURE_STREAM_OPTIONS_SINCE


def azure_deployment(instance: Any) -> Optional[str]:
    """``AzureOpenAI(azure_deployment=...)`` puts the deployment in the URL; the request's model is then unused."""
    client = getattr(instance, "_client", None)
    deployment = getattr(client, "_azure_deployment", None) if client is not None and _is_azure(client) else None
    return deployment if isinstance(deployment, str) and deployment else None


def _classify_endpoint(client: Any) -> bool:
    if _is_azure(client):
        return _azure_accepts_stream_options(client)
    host = _host(client)
    return _openai_host(host) or _azure_host(host)


# client -> (base_url it was classified with, answer): parsing the URL's host costs ~10 us per call.
_endpoint_cache: weakref.WeakKeyDictionary[Any, Tuple[Any, bool]] = weakref.WeakKeyDictionary()


def _official_endpoint(instance: Any) -> bool:
    client = getattr(instance, "_client", None)
    if client is None:
        return False
    url = getattr(client, "base_url", None)
    cached = _endpoint_cache.get(client)
    if cached is not None and cached[0] is url:
        return cached[1]
    answer = _classify_endpoint(client)
    try:
        _endpoint_cache[client] = (url, answer)
    except TypeError:
        pass
    return answer


def _raw_requested(kwargs: Mapping[str, Any]) -> bool:
    """``with_raw_response`` / ``with_streaming_response``: the user may read the HTTP body themselves."""
    headers = given(kwargs.get("extra_headers"))
    if not isinstance(headers, Mapping):
        return False
    return any(isinstance(name, str) and name.lower() == _RAW_RESPONSE_HEADER for name in headers)


def request_stream_usage(instance: Any, kwargs: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    """Ask api.openai.com / Azure for the usage chunk when the user did not say either way."""
    if kwargs.get("stream") is not True:
        return None
    options = given(kwargs.get("stream_options"))
    if options is not None and (not isinstance(options, Mapping) or "include_usage" in options):
        return None
    extra = kwargs.get("extra_body")
    if isinstance(extra, Mapping) and "stream_options" in extra:
        return None
    if _raw_requested(kwargs):
        return None  # we could not hide the usage chunk from raw bytes the user reads (iter_lines...)
    if not _official_endpoint(instance):
        return None
    changed = dict(kwargs)
    changed["stream_options"] = {**(options or {}), "include_usage": True}
    return changed


def is_usage_only_chunk(chunk: Any) -> bool:
    # Runs on every chunk of a stream we asked usage for: plain attribute reads, no helpers.
    return getattr(chunk, "usage", None) is not None and not getattr(chunk, "choices", None)


def _messages(value: Any) -> Optional[Sequence[Any]]:
    value = given(value)
    return value if isinstance(value, (list, tuple)) else None


def _max_tokens(kwargs: Mapping[str, Any], *names: str) -> Optional[int]:
    for name in names:
        value = given(kwargs.get(name))
        if value is not None:
            return value
    return None


def _usage(usage: Any, prompt: str = "prompt_tokens", completion: str = "completion_tokens",
           prompt_details: str = "prompt_tokens_details",
           completion_details: str = "completion_tokens_details") -> Optional[Usage]:
    if usage is None:
        return None
    return Usage(
        input_tokens=as_int(get(usage, prompt)),
        output_tokens=as_int(get(usage, completion)),
        cached_input_tokens=as_int(get(usage, prompt_details, "cached_tokens")),
        reasoning_tokens=as_int(get(usage, completion_details, "reasoning_tokens")),
    )


def unwrap_raw(result: Any) -> Any:
    """The parsed body of a ``with_raw_response`` result, read from bytes we do not take from the user."""
    http_response = getattr(result, "http_response", None)
    if http_response is None or not callable(getattr(result, "parse", None)):
        return result
    try:
        body = http_response.content  # raises when the body was not read (streams, with_streaming_response)
    except Exception:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return None


# -- chat completions ------------------------------------------------------------------
def read_chat_request(kwargs: Mapping[str, Any]) -> Request:
    return Request(
        model=given(kwargs.get("model")),
        messages=_messages(kwargs.get("messages")),
        temperature=given(kwargs.get("temperature")),
        max_tokens=_max_tokens(kwargs, "max_completion_tokens", "max_tokens"),
        top_p=given(kwargs.get("top_p")),
        stream=given(kwargs.get("stream")) is True,
    )


def _tool_names(tool_calls: Any) -> List[str]:
    names: List[str] = []
    for call in tool_calls or ():
        name = get(call, "function", "name") or get(call, "custom", "name")
        if name:
            names.append(str(name))
    return names


def read_chat_response(response: Any) -> Response:
    choices = get(response, "choices") or []
    first = choices[0] if choices else None
    message = get(first, "message")
    text = get(message, "content")
    if text is None:
        text = get(message, "refusal")
    tool_calls: List[str] = []
    for choice in choices:
        tool_calls.extend(_tool_names(get(choice, "message", "tool_calls")))
        legacy = get(choice, "message", "function_call", "name")
        if legacy:
            tool_calls.append(str(legacy))
    return Response(
        model=get(response, "model"),
        id=get(response, "id"),
        output_text=text if isinstance(text, str) else None,
        finish_reason=get(first, "finish_reason"),
        tool_calls=tool_calls,
        usage=_usage(get(response, "usage")),
    )


def read_chat_chunks(chunks: Sequence[Any]) -> Response:
    out = Response()
    parts: List[str] = []
    tools: Dict[Any, str] = {}
    for index, chunk in enumerate(chunks):
        out.id = out.id or get(chunk, "id")
        out.model = out.model or get(chunk, "model")
        usage = get(chunk, "usage")
        if usage is not None:
            out.usage = _usage(usage)
        for choice in get(chunk, "choices") or ():
            if get(choice, "index", default=0) != 0:
                continue
            delta = get(choice, "delta")
            text = get(delta, "content") or get(delta, "refusal")
            if text:
                parts.append(text)
            calls = get(delta, "tool_calls")
            for call in calls or ():
                name = get(call, "function", "name")
                key = get(call, "index", default=len(tools))
                if name and key not in tools:
                    tools[key] = str(name)
            legacy = get(delta, "function_call", "name")
            if legacy and "function_call" not in tools:
                tools["function_call"] = str(legacy)
            if out.first_token_chunk is None and (text or calls or legacy):
                out.first_token_chunk = index
            reason = get(choice, "finish_reason")
            if reason:
                out.finish_reason = reason
    out.output_text = "".join(parts) if parts else None
    out.tool_calls = list(tools.values())
    return out


# -- legacy completions ------------------------------------------------------------------
def read_completion_request(kwargs: Mapping[str, Any]) -> Request:
    return Request(
        model=given(kwargs.get("model")),
        prompt=given(kwargs.get("prompt")),
        temperature=given(kwargs.get("temperature")),
        max_tokens=_max_tokens(kwargs, "max_tokens"),
        top_p=given(kwargs.get("top_p")),
        stream=given(kwargs.get("stream")) is True,
    )


def read_completion_response(response: Any) -> Response:
    choices = get(response, "choices") or []
    first = choices[0] if choices else None
    text = get(first, "text")
    return Response(
        model=get(response, "model"),
        id=get(response, "id"),
        output_text=text if isinstance(text, str) else None,
        finish_reason=get(first, "finish_reason"),
        usage=_usage(get(response, "usage")),
    )


def read_completion_chunks(chunks: Sequence[Any]) -> Response:
    out = Response()
    parts: List[str] = []
    for index, chunk in enumerate(chunks):
        out.id = out.id or get(chunk, "id")
        out.model = out.model or get(chunk, "model")
        if get(chunk, "usage") is not None:
            out.usage = _usage(get(chunk, "usage"))
        for choice in get(chunk, "choices") or ():
            if get(choice, "index", default=0) != 0:
                continue
            text = get(choice, "text")
            if text:
                parts.append(text)
                if out.first_token_chunk is None:
                    out.first_token_chunk = index
            if get(choice, "finish_reason"):
                out.finish_reason = get(choice, "finish_reason")
    out.output_text = "".join(parts) if parts else None
    return out


# -- embeddings ---------------------------------------------------------------------------
def read_embedding_request(kwargs: Mapping[str, Any]) -> Request:
    return Request(model=given(kwargs.get("model")), prompt=given(kwargs.get("input")))


def read_embedding_response(response: Any) -> Response:
    usage = get(response, "usage")
    return Response(
        model=get(response, "model"),
        usage=Usage(input_tokens=as_int(get(usage, "prompt_tokens"))) if usage is not None else None,
    )


# -- responses API --------------------------------------------------------------------------
def read_responses_request(kwargs: Mapping[str, Any]) -> Request:
    value = given(kwargs.get("input"))
    return Request(
        model=given(kwargs.get("model")),
        messages=value if isinstance(value, (list, tuple)) else None,
        prompt=value if isinstance(value, str) else None,
        system=given(kwargs.get("instructions")),
        temperature=given(kwargs.get("temperature")),
        max_tokens=_max_tokens(kwargs, "max_output_tokens"),
        top_p=given(kwargs.get("top_p")),
        stream=given(kwargs.get("stream")) is True,
    )


def _response_tool_name(item: Any) -> Optional[str]:
    kind = get(item, "type")
    if kind in ("function_call", "custom_tool_call", "mcp_call"):
        name = get(item, "name")
        return str(name) if name else None
    if isinstance(kind, str) and kind.endswith("_call"):
        return kind[: -len("_call")]
    return None


def read_responses_response(response: Any) -> Response:
    texts: List[str] = []
    tools: List[str] = []
    for item in get(response, "output") or ():
        if get(item, "type") == "message":
            for part in get(item, "content") or ():
                kind = get(part, "type")
                if kind == "output_text" and isinstance(get(part, "text"), str):
                    texts.append(get(part, "text"))
                elif kind == "refusal" and isinstance(get(part, "refusal"), str):
                    texts.append(get(part, "refusal"))
        name = _response_tool_name(item)
        if name:
            tools.append(name)
    reason = get(response, "incomplete_details", "reason") or get(response, "status")
    usage = get(response, "usage")
    return Response(
        model=get(response, "model"),
        id=get(response, "id"),
        output_text="".join(texts) if texts else None,
        finish_reason=reason,
        tool_calls=tools,
        usage=_usage(usage, "input_tokens", "output_tokens", "input_tokens_details", "output_tokens_details")
        if usage is not None
        else None,
    )


_FINAL_EVENTS = ("response.completed", "response.incomplete", "response.failed")
_CONTENT_EVENTS = ("response.output_text.delta", "response.refusal.delta", "response.function_call_arguments.delta")


def read_responses_chunks(chunks: Sequence[Any]) -> Response:
    final: Any = None
    started: Any = None
    parts: List[str] = []
    tools: List[str] = []
    first: Optional[int] = None
    for index, event in enumerate(chunks):
        kind = get(event, "type")
        if kind in _FINAL_EVENTS:
            final = get(event, "response")
        elif kind == "response.created":
            started = get(event, "response")
        elif kind in _CONTENT_EVENTS:
            if first is None:
                first = index
            if kind != "response.function_call_arguments.delta" and isinstance(get(event, "delta"), str):
                parts.append(get(event, "delta"))
        elif kind == "response.output_item.added":
            name = _response_tool_name(get(event, "item"))
            if name:
                tools.append(name)
                first = index if first is None else first
    if final is not None:
        out = read_responses_response(final)
    else:  # ended early: assemble what arrived
        out = Response(
            model=get(started, "model"),
            id=get(started, "id"),
            output_text="".join(parts) if parts else None,
            tool_calls=tools,
        )
    out.first_token_chunk = first
    return out


# -- the table ------------------------------------------------------------------------------
def _chat(path: str) -> Method:
    return Method(
        path,
        "chat_completion",
        read_chat_request,
        read_chat_response,
        read_chat_chunks,
        request_stream_usage=request_stream_usage,
        is_injected_usage_chunk=is_usage_only_chunk,
    )


def _responses(path: str) -> Method:
    return Method(path, "response", read_responses_request, read_responses_response, read_responses_chunks)


def _completion(path: str) -> Method:
    return Method(
        path,
        "completion",
        read_completion_request,
        read_completion_response,
        read_completion_chunks,
        request_stream_usage=request_stream_usage,
        is_injected_usage_chunk=is_usage_only_chunk,
    )


def _embedding(path: str) -> Method:
    return Method(path, "embedding", read_embedding_request, read_embedding_response)


METHODS = (
    *(_chat(f"{module}:{cls}.{attr}")
      for module in (_CHAT, _CHAT_OLD, _BETA_CHAT)
      for cls in ("Completions", "AsyncCompletions")
      for attr in ("create", "parse")),
    *(_responses(f"{_RESPONSES}:{cls}.{attr}")
      for cls in ("Responses", "AsyncResponses")
      for attr in ("create", "parse")),
    *(_completion(f"{_COMPLETIONS}:{cls}.create") for cls in ("Completions", "AsyncCompletions")),
    *(_embedding(f"{_EMBEDDINGS}:{cls}.create") for cls in ("Embeddings", "AsyncEmbeddings")),
)

provider = Provider(
    name="openai",
    module="openai",
    methods=METHODS,
    sync_stream_types=("openai._streaming:Stream",),
    async_stream_types=("openai._streaming:AsyncStream",),
    raw_response_types=(
        "openai._legacy_response:LegacyAPIResponse",
        "openai._response:APIResponse",
        "openai._response:AsyncAPIResponse",
    ),
    provider_id=provider_id,
    unwrap_raw=unwrap_raw,
    client_model=azure_deployment,
)
