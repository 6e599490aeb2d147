"""Stream tracking, shared by every provider: the user keeps the SDK's own stream object.

Where the SDK's stream reads its chunks from an ``_iterator`` attribute (openai and
anthropic, every supported version), we hook that object in place: its ``_iterator`` is
replaced by a generator over the original, and ``close``/``aclose`` are shadowed on the
instance. ``type()``, ``isinstance`` (anthropic 0.x's metaclass refuses proxies) and
identity all stay the SDK's. Any other stream gets a ``wrapt.ObjectProxy``.

Per chunk the hook only keeps a reference and notes the first chunk's time. The record
is handed over exactly once: at exhaustion, ``close``/``with`` exit, an error, or when the
stream is garbage-collected unfinished.
"""

from __future__ import annotations

import inspect
import threading
import time
import weakref
from typing import Any, AsyncIterator, Callable, Iterator, List, Optional, Tuple

import wrapt

from ._guard import internal_error
from .record import CallRecord, inside_tracked_call

ChunkFilter = Callable[[Any], bool]


class StreamState:
    """What a stream has seen so far; shared by the hook and the garbage-collection finalizer."""

    __slots__ = ("record", "chunks", "times", "hide", "_once")

    def __init__(self, record: CallRecord, hide: Optional[ChunkFilter] = None) -> None:
        self.record = record
        self.chunks: List[Any] = []
        self.times: List[int] = []
        record.streaming = True
        record.chunks = self.chunks
        record.chunk_times = self.times
        self.hide = hide
        # list.pop() is atomic under the GIL: whoever pops first ends the stream, once.
        self._once = [True]

    def end(self, status: str, error: Optional[BaseException] = None) -> None:
        try:
            self._once.pop()
        except IndexError:
            return
        try:
            record = self.record
            record.stream_status = status
            record.finish(None, error)
            record.deliver()
        except Exception as exc:  # never raise from a finalizer or an iterator
            internal_error("stream.end", exc)
        # The stream object may live on in the app (its close() still refers to us): let go of
        # the chunks; the record handed to the worker keeps them only until its event is built.
        self.record = None  # type: ignore[assignment]
        self.chunks = []
        self.times = []


def _chunks(inner: Iterator[Any], state: StreamState) -> Iterator[Any]:
    chunks, times, hide = state.chunks, state.times, state.hide
    clock = time.perf_counter_ns
    try:
        for chunk in inner:
            times.append(clock())
            chunks.append(chunk)
            if hide is not None and hide(chunk):
                continue
            yield chunk
    except GeneratorExit:
        state.end("abandoned")
        raise
    except BaseException as exc:
        state.end("error", exc)
        raise
    state.end("completed")


async def _achunks(inner: AsyncIterator[Any], state: StreamState) -> AsyncIterator[Any]:
    chunks, times, hide = state.chunks, state.times, state.hide
    clock = time.perf_counter_ns
    try:
        async for chunk in inner:
            times.append(clock())
            chunks.append(chunk)
            if hide is not None and hide(chunk):
                continue
            yield chunk
    except GeneratorExit:
        state.end("abandoned")
        raise
    except BaseException as exc:
        state.end("error", exc)
        raise
    state.end("completed")


def _shadow_close(stream: Any, name: str, state: StreamState, is_async: bool) -> None:
    original = getattr(type(stream), name, None)
    if original is None:
        return
    ref = weakref.ref(stream)  # a strong reference here would keep the stream alive in a cycle

    if is_async:

        async def aclose() -> Any:
            target = ref()
            try:
                if target is not None:
                    return await original(target)
            finally:
                state.end("closed")

        setattr(stream, name, aclose)
    else:

        def close() -> Any:
            target = ref()
            try:
                if target is not None:
                    return original(target)
            finally:
                state.end("closed")

        setattr(stream, name, close)


def track_stream(stream: Any, state: StreamState, is_async: bool) -> Any:
    """Start tracking ``stream``; returns what the user should get (the stream itself when possible)."""
    inner: Any = getattr(stream, "_iterator", None)
    hookable = inner is not None and hasattr(stream, "__dict__") and (
        hasattr(inner, "__anext__") if is_async else hasattr(inner, "__next__")
    )
    if not hookable:
        proxy_type = AsyncStreamProxy if is_async else StreamProxy
        return proxy_type(stream, state)
    stream._iterator = _achunks(inner, state) if is_async else _chunks(inner, state)
    _shadow_close(stream, "close", state, is_async)
    if is_async:
        _shadow_close(stream, "aclose", state, True)
    weakref.finalize(stream, state.end, "abandoned")
    return stream


def _body_read(raw: Any) -> bool:
    try:
        raw.http_response.content  # noqa: B018 - raises when the body has not been read
    except Exception:
        return False
    return True


def track_raw_response(
    raw: Any,
    record: CallRecord,
    hide: Optional[ChunkFilter],
    stream_types: Callable[[Any], Optional[bool]],
) -> Any:
    """Track a ``with_raw_response`` / ``with_streaming_response`` result without reading it for the user.

    A body already read is handed over now (the worker parses the bytes). Otherwise we wait
    for the user: their ``parse()`` gives us the parsed object (a stream is then tracked as
    any other), and if they never parse, the record goes when the response is collected.
    """
    if not record.streaming_requested and _body_read(raw):
        record.finish(raw)
        record.deliver()
        return raw
    original = getattr(type(raw), "parse", None)
    if original is None or not hasattr(raw, "__dict__"):
        record.finish(raw)
        record.deliver()
        return raw
    once = [True]

    def settle(parsed: Any) -> Any:
        try:
            once.pop()
        except IndexError:
            return parsed
        try:
            is_async = stream_types(parsed)
            if is_async is not None:
                return track_stream(parsed, StreamState(record, hide), is_async)
            record.finish(parsed)
            record.deliver()
        except Exception as exc:
            internal_error("raw.parse", exc)
        return parsed

    def abandoned(body: _ReadLater, target_record: CallRecord = record) -> None:
        try:
            once.pop()
        except IndexError:
            return
        try:
            target_record.stream_status = "abandoned" if target_record.streaming_requested else None
            target_record.finish(body)
            target_record.deliver()
        except Exception as exc:
            internal_error("raw.abandoned", exc)

    if inspect.iscoroutinefunction(original):

        async def parse_async(*args: Any, **kwargs: Any) -> Any:
            target = ref()
            return settle(await original(target, *args, **kwargs))

        raw.parse = parse_async
    else:

        def parse(*args: Any, **kwargs: Any) -> Any:
            target = ref()
            return settle(original(target, *args, **kwargs))

        raw.parse = parse
    ref = weakref.ref(raw)
    # The finalizer may keep the HTTP response (the body the user read), never ``raw`` itself.
    weakref.finalize(raw, abandoned, _ReadLater(getattr(raw, "http_response", None)))
    return raw


class _ReadLater:
    """Stands in for a raw response collected unparsed: the worker reads the body if the user did."""

    __slots__ = ("http_response",)

    def __init__(self, http_response: Any) -> None:
        self.http_response = http_response

    def parse(self) -> None:
        return None


class _StreamProxyBase(wrapt.ObjectProxy):
    """Fallback for streams we cannot hook in place: forwards everything, ``isinstance`` holds."""

    def __init__(self, wrapped: Any, state: StreamState) -> None:
        super().__init__(wrapped)
        self._self_state = state
        weakref.finalize(self, state.end, "abandoned")

    def _self_keep(self, chunk: Any) -> bool:
        state = self._self_state
        state.times.append(time.perf_counter_ns())
        state.chunks.append(chunk)
        return state.hide is not None and bool(state.hide(chunk))


class StreamProxy(_StreamProxyBase):
    def __iter__(self) -> StreamProxy:
        return self

    def __next__(self) -> Any:
        while True:
            try:
                chunk = self.__wrapped__.__next__()
            except StopIteration:
                self._self_state.end("completed")
                raise
            except BaseException as exc:
                self._self_state.end("error", exc)
                raise
            if not self._self_keep(chunk):
                return chunk

    def __enter__(self) -> StreamProxy:
        self.__wrapped__.__enter__()
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> Any:
        try:
            return self.__wrapped__.__exit__(exc_type, exc, tb)
        finally:
            self._self_state.end("closed")

    def close(self) -> Any:
        try:
            return self.__wrapped__.close()
        finally:
            self._self_state.end("closed")


class AsyncStreamProxy(_StreamProxyBase):
    def __aiter__(self) -> AsyncStreamProxy:
        return self

    async def __anext__(self) -> Any:
        while True:
            try:
                chunk = await self.__wrapped__.__anext__()
            except StopAsyncIteration:
                self._self_state.end("completed")
                raise
            except BaseException as exc:
                self._self_state.end("error", exc)
                raise
            if not self._self_keep(chunk):
                return chunk

    async def __aenter__(self) -> AsyncStreamProxy:
        await self.__wrapped__.__aenter__()
        return self

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> Any:
        try:
            return await self.__wrapped__.__aexit__(exc_type, exc, tb)
        finally:
            self._self_state.end("closed")

    async def close(self) -> Any:
        try:
            return await self.__wrapped__.close()
        finally:
            self._self_state.end("closed")


# -- helpers that post on enter (anthropic ``messages.stream(...)``) ------------------------------
# The helper's manager object is returned to the user untouched; the record waits here, keyed
# weakly by the manager, until the manager's class-level __enter__ (patched) picks it up. A
# manager never entered made no request and leaves no event.
_helper_lock = threading.Lock()
_pending: weakref.WeakKeyDictionary[Any, Tuple[CallRecord, Callable[[Any], Any]]] = weakref.WeakKeyDictionary()
_entered: weakref.WeakKeyDictionary[Any, StreamState] = weakref.WeakKeyDictionary()


def expect_helper(manager: Any, record: CallRecord, inner_stream: Callable[[Any], Any]) -> bool:
    """Park ``record`` until ``manager`` is entered; False if the manager cannot be weakly keyed."""
    try:
        with _helper_lock:
            _pending[manager] = (record, inner_stream)
    except TypeError:
        return False
    return True


def _begin_helper(manager: Any) -> Optional[Tuple[StreamState, Callable[[Any], Any]]]:
    try:
        with _helper_lock:
            pending = _pending.pop(manager, None)
        if pending is None:
            return None
        record, inner_stream = pending
        record.start_wall_ns = time.time_ns()  # the request is made now, on enter
        record.start_ns = time.perf_counter_ns()
        return StreamState(record), inner_stream
    except Exception as exc:
        internal_error("helper.enter", exc)
        return None


def _hook_helper(manager: Any, helper_stream: Any, state: StreamState, inner_stream: Callable[[Any], Any],
                 is_async: bool) -> None:
    try:
        with _helper_lock:
            _entered[manager] = state
        raw = inner_stream(helper_stream)
        if raw is not None and getattr(raw, "_iterator", None) is not None:
            track_stream(raw, state, is_async)
        else:
            weakref.finalize(helper_stream, state.end, "abandoned")
    except Exception as exc:
        internal_error("helper.enter", exc)


def _end_helper(manager: Any) -> None:
    try:
        with _helper_lock:
            state = _entered.pop(manager, None)
        if state is not None:
            state.end("closed")
    except Exception as exc:
        internal_error("helper.exit", exc)


def helper_enter(wrapped: Any, manager: Any, args: Any, kwargs: Any) -> Any:
    """Class-level ``__enter__`` of a helper manager: time the request, hook the SDK stream inside."""
    begun = _begin_helper(manager)
    if begun is None:
        return wrapped(*args, **kwargs)
    state, inner_stream = begun
    token = inside_tracked_call.set(True)
    try:
        helper_stream = wrapped(*args, **kwargs)
    except BaseException as exc:
        state.end("error", exc)
        raise
    finally:
        inside_tracked_call.reset(token)
    _hook_helper(manager, helper_stream, state, inner_stream, False)
    return helper_stream


async def helper_aenter(wrapped: Any, manager: Any, args: Any, kwargs: Any) -> Any:
    begun = _begin_helper(manager)
    if begun is None:
        return await wrapped(*args, **kwargs)
    state, inner_stream = begun
    token = inside_tracked_call.set(True)
    try:
        helper_stream = await wrapped(*args, **kwargs)
    except BaseException as exc:
        state.end("error", exc)
        raise
    finally:
        inside_tracked_call.reset(token)
    _hook_helper(manager, helper_stream, state, inner_stream, True)
    return helper_stream


def helper_exit(wrapped: Any, manager: Any, args: Any, kwargs: Any) -> Any:
    try:
        return wrapped(*args, **kwargs)
    finally:
        _end_helper(manager)


async def helper_aexit(wrapped: Any, manager: Any, args: Any, kwargs: Any) -> Any:
    try:
        return await wrapped(*args, **kwargs)
    finally:
        _end_helper(manager)


HELPER_DUNDERS = {
    "__enter__": helper_enter,
    "__aenter__": helper_aenter,
    "__exit__": helper_exit,
    "__aexit__": helper_aexit,
}
