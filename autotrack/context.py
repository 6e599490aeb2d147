"""Ids and properties attached to every event made inside ``with autotrack.context(...)``."""

from __future__ import annotations

import contextvars
from contextlib import contextmanager
from types import MappingProxyType
from typing import Any, Iterator, Mapping, Optional

_EMPTY: Mapping[str, Any] = MappingProxyType({})
_current: contextvars.ContextVar[Mapping[str, Any]] = contextvars.ContextVar("autotrack_context", default=_EMPTY)

ID_KEYS = ("user_id", "device_id", "session_id")


def current() -> Mapping[str, Any]:
    """The merged context in effect here: cheap enough for the hot path (one ContextVar read)."""
    return _current.get()


@contextmanager
def context(
    *,
    user_id: Optional[str] = None,
    device_id: Optional[str] = None,
    session_id: Optional[str] = None,
    **properties: Any,
) -> Iterator[Mapping[str, Any]]:
    """Attach ids and properties to the events of every tracked call made inside the block.

    Works across threads started inside the block only if they copy the context
    (``contextvars.copy_context()``), and across asyncio tasks, which copy it themselves.
    Nested blocks add to (and override) the outer one.
    """
    merged = dict(_current.get())
    for key, value in (("user_id", user_id), ("device_id", device_id), ("session_id", session_id)):
        if value is not None:
            merged[key] = value
    merged.update(properties)
    frozen = MappingProxyType(merged)
    token = _current.set(frozen)
    try:
        yield frozen
    finally:
        _current.reset(token)
