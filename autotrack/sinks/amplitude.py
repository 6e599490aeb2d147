"""Events to an Amplitude client (anything with ``.track(BaseEvent)``, like ``amplitude.Amplitude``)."""

from __future__ import annotations

from typing import Any, Dict, Sequence

from ..event import default_device_id


def _plain(value: Any) -> Any:
    # Amplitude drops every property of an event holding one Decimal; keep values JSON-plain.
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    try:
        return float(value)
    except Exception:
        return str(value)


class AmplitudeSink:
    def __init__(self, client: Any) -> None:
        self.client = client

    def _base_event(self, event: Dict[str, Any]) -> Any:
        try:
            from amplitude import BaseEvent
        except ImportError:  # a duck-typed client without the SDK: hand it a plain dict
            BaseEvent = None
        props = {k: _plain(v) for k, v in (event.get("event_properties") or {}).items() if v is not None}
        fields = {
            "event_type": event.get("event_type", "ai_operation"),
            "user_id": event.get("user_id"),
            "device_id": event.get("device_id") or default_device_id(),
            "time": event.get("time"),
            "insert_id": event.get("insert_id"),
            "event_properties": props,
        }
        if BaseEvent is None:
            return fields
        return BaseEvent(**fields)

    def emit(self, events: Sequence[Dict[str, Any]]) -> None:
        for event in events:
            self.client.track(self._base_event(event))

    def flush(self) -> None:
        flush = getattr(self.client, "flush", None)
        if callable(flush):
            flush()

    def close(self) -> None:
        self.flush()

    def __repr__(self) -> str:
        return f"AmplitudeSink({type(self.client).__name__})"
