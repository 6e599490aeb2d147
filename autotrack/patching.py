"""Class-level patches: one wrapper per SDK method, shared by every active tracker.

Patch and unpatch walk the same rows (``Provider.methods``). An attribute is restored only
if it is still ours; if someone wrapped over us, our layer is switched off instead, so
their wrapper keeps working. SDKs imported after ``track()`` are patched by a post-import
hook. This module imports wrapt, so ``import autotrack`` does not load it.
"""

from __future__ import annotations

import functools
import importlib
import sys
import time
from types import CoroutineType
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Set, Tuple

import wrapt

from ._guard import internal_error
from ._locks import ForkSafeLock
from .context import current as _current_context
from .providers.base import Method, Provider
from .record import CallRecord, inside_tracked_call, snapshot

if TYPE_CHECKING:
    from .tracker import Tracker


class _Slot:
    """The trackers that want one provider; swapped whole, read without a lock on the hot path."""

    __slots__ = ("trackers", "stream_usage")

    def __init__(self) -> None:
        self.trackers: Tuple[Tracker, ...] = ()
        self.stream_usage = False  # some active tracker has stream_usage="auto"


class _Patch:
    __slots__ = ("owner", "attribute", "original", "wrapper", "enabled")

    def __init__(self, owner: Any, attribute: str, original: Any, wrapper: Any) -> None:
        self.owner = owner
        self.attribute = attribute
        self.original = original
        self.wrapper = wrapper
        self.enabled = True


_lock = ForkSafeLock(reentrant=True)
_slots: Dict[str, _Slot] = {}
_wanted: Dict[str, Provider] = {}
_patches: Dict[Tuple[str, str], _Patch] = {}
_hooked_modules: Set[str] = set()


def slot(name: str) -> _Slot:
    with _lock:
        found = _slots.get(name)
        if found is None:
            found = _slots[name] = _Slot()
        return found


def update(providers: Dict[str, Provider], trackers: Tuple[Tracker, ...]) -> None:
    """Make the patches match the active trackers: patch what is wanted, restore the rest."""
    with _lock:
        wanted: Dict[str, List[Tracker]] = {}
        for tracker in trackers:
            for name in tracker._provider_names:
                wanted.setdefault(name, []).append(tracker)
        for name, provider_trackers in wanted.items():
            target = slot(name)
            target.stream_usage = any(t.options.stream_usage == "auto" for t in provider_trackers)
            target.trackers = tuple(provider_trackers)
            _wanted[name] = providers[name]
        for name in list(_wanted):
            if name not in wanted:
                slot(name).trackers = ()
                _unpatch_provider(_wanted.pop(name))
        for provider in _wanted.values():
            _ensure_hook(provider)


def patched_count() -> int:
    with _lock:
        return sum(1 for p in _patches.values() if p.enabled)


def _ensure_hook(provider: Provider) -> None:
    if provider.module in sys.modules:
        _patch_provider(provider)
    if provider.module not in _hooked_modules:
        _hooked_modules.add(provider.module)
        wrapt.register_post_import_hook(_on_import, provider.module)


def _on_import(module: Any) -> None:
    # A hook that raises would break the user's own ``import openai``: guard all of it.
    try:
        with _lock:
            for provider in list(_wanted.values()):
                if provider.module == getattr(module, "__name__", None):
                    _patch_provider(provider)
    except Exception as exc:
        internal_error("patching.import_hook", exc)


def _resolve(path: str) -> Optional[Tuple[Any, str]]:
    module_name, _, dotted = path.partition(":")
    try:
        owner: Any = importlib.import_module(module_name)
    except Exception:
        return None
    *parents, attribute = dotted.split(".")
    for name in parents:
        owner = getattr(owner, name, None)
        if owner is None:
            return None
    if attribute not in vars(owner):
        return None
    return owner, attribute


WrapperFactory = Callable[[_Patch, Any], Callable[..., Any]]


def _rows(provider: Provider) -> List[Tuple[str, WrapperFactory]]:
    """Everything a provider patches: its method rows, and the enter/exit of its helper managers.

    Patch and unpatch both walk this one list.
    """
    rows: List[Tuple[str, WrapperFactory]] = []
    for method in provider.methods:
        rows.append((method.path, functools.partial(_make_wrapper, provider, method)))
    for manager in provider.helper_managers:
        for dunder in ("__enter__", "__exit__", "__aenter__", "__aexit__"):
            rows.append((f"{manager}.{dunder}", functools.partial(_helper_wrapper, dunder)))
    return rows


def _helper_wrapper(dunder: str, patch: _Patch, original: Any) -> Callable[..., Any]:
    from .streams import HELPER_DUNDERS

    hook = HELPER_DUNDERS[dunder]

    def wrapper(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
        if not patch.enabled:
            return wrapped(*args, **kwargs)
        return hook(wrapped, instance, args, kwargs)

    return wrapper


def _patch_provider(provider: Provider) -> None:
    for path, factory in _rows(provider):
        key = (provider.name, path)
        existing = _patches.get(key)
        if existing is not None:
            existing.enabled = True
            if vars(existing.owner).get(existing.attribute) is existing.original:
                # The layer someone put over ours is gone and the SDK's own method is back.
                setattr(existing.owner, existing.attribute, existing.wrapper)
            continue
        try:
            found = _resolve(path)
            if found is None:
                continue  # not in this SDK version: skipped, not an error
            owner, attribute = found
            if any(p.owner is owner and p.attribute == attribute for p in _patches.values()):
                continue  # the same class reached through another module path: patch once
            original = vars(owner)[attribute]
            patch = _Patch(owner, attribute, original, None)
            patch.wrapper = wrapt.FunctionWrapper(original, factory(patch, original))
            setattr(owner, attribute, patch.wrapper)
            _patches[key] = patch
        except Exception as exc:
            internal_error(f"patching.{path}", exc)


def _unpatch_provider(provider: Provider) -> None:
    for path, _ in _rows(provider):
        key = (provider.name, path)
        patch = _patches.get(key)
        if patch is None:
            continue
        if vars(patch.owner).get(patch.attribute) is patch.wrapper:
            setattr(patch.owner, patch.attribute, patch.original)
            del _patches[key]
        else:
            # Someone wrapped over us: keep their layer, make ours a pass-through.
            patch.enabled = False


def _load_types(paths: Tuple[str, ...]) -> frozenset:
    found = set()
    for path in paths:
        module_name, _, name = path.partition(":")
        try:
            found.add(getattr(importlib.import_module(module_name), name))
        except Exception:
            continue
    return frozenset(found)


def _make_wrapper(provider: Provider, method: Method, patch: _Patch, original: Any) -> Callable[..., Any]:
    provider_slot = slot(provider.name)
    sync_streams = _load_types(provider.sync_stream_types)
    async_streams = _load_types(provider.async_stream_types)
    raw_types = _load_types(provider.raw_response_types)

    def stream_kind(result: Any) -> Optional[bool]:
        """True for an async stream, False for a sync one, None for anything else."""
        for cls in type(result).__mro__:
            if cls in sync_streams:
                return False
            if cls in async_streams:
                return True
        return None
    prepare = method.request_stream_usage
    inside = inside_tracked_call
    current_context = _current_context

    def begin(instance: Any, args: Any, kwargs: Dict[str, Any]) -> Tuple[Optional[CallRecord], Dict[str, Any]]:
        try:
            record = CallRecord(provider, method, instance, args, kwargs, current_context(), provider_slot.trackers)
            if prepare is not None and provider_slot.stream_usage:
                changed = prepare(instance, kwargs)
                if changed is not None:
                    kwargs = changed
                    record.kwargs = snapshot(changed)
                    record.usage_injected = True
            return record, kwargs
        except Exception as exc:
            internal_error(f"wrapper.{method.path}", exc)
            return None, kwargs

    def handoff(record: CallRecord, result: Any) -> Any:
        try:
            if method.helper_stream is not None:
                from .streams import expect_helper

                if expect_helper(result, record, method.helper_stream):
                    return result  # the event starts when the manager is entered
            hide = method.is_injected_usage_chunk if record.usage_injected else None
            is_async = stream_kind(result)
            if is_async is not None:
                from .streams import StreamState, track_stream

                return track_stream(result, StreamState(record, hide), is_async)
            if raw_types and type(result) in raw_types:
                from .streams import track_raw_response

                return track_raw_response(result, record, hide, stream_kind)
            record.finish(result)
            record.deliver()
        except Exception as exc:
            internal_error(f"wrapper.{method.path}", exc)
        return result

    def failed(record: CallRecord, exc: BaseException) -> None:
        try:
            record.finish(None, exc)
            record.deliver()
        except Exception as inner:
            internal_error(f"wrapper.{method.path}", inner)

    async def run_async(awaitable: Any, record: CallRecord) -> Any:
        # Helpers may create the coroutine long before awaiting it: the call starts now.
        record.start_wall_ns = time.time_ns()
        record.start_ns = time.perf_counter_ns()
        token = inside.set(True)
        try:
            result = await awaitable
        except BaseException as exc:
            failed(record, exc)
            raise
        finally:
            inside.reset(token)
        return handoff(record, result)

    def wrapper(wrapped: Any, instance: Any, args: Any, kwargs: Dict[str, Any]) -> Any:
        if not provider_slot.trackers or not patch.enabled or inside.get():
            return wrapped(*args, **kwargs)
        record, kwargs = begin(instance, args, kwargs)
        if record is None:
            return wrapped(*args, **kwargs)
        token = inside.set(True)
        try:
            result = wrapped(*args, **kwargs)
        except BaseException as exc:
            failed(record, exc)
            raise
        finally:
            inside.reset(token)
        # Async SDK methods are often plain functions returning a coroutine (behind a decorator):
        # the call happens when the caller awaits, so the record is finished there.
        if type(result) is CoroutineType:
            return run_async(result, record)
        return handoff(record, result)

    return wrapper
