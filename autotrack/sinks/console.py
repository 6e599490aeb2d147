"""One readable line per event on stderr."""

from __future__ import annotations

import sys
from typing import Any, Dict, Sequence


def _fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def format_line(event: Dict[str, Any]) -> str:
    p = event.get("event_properties") or {}
    cost = p.get("cost")
    parts = [
        f"[autotrack] {p.get('provider') or '?'} {p.get('operation') or '?'} {p.get('model') or '?'}",
        f"{_fmt(p.get('latency_ms'))}ms",
        f"tokens={_fmt(p.get('input_tokens'))}/{_fmt(p.get('output_tokens'))}"
        + ("~" if p.get("tokens_estimated") else ""),
        "cost=" + ("-" if cost is None else f"${cost:.6f}"),
    ]
    if p.get("streaming"):
        parts.append(f"stream={p.get('stream_completed')}")
    if p.get("error"):
        parts.append(f"error={p['error']!r}")
    return " ".join(parts)


class ConsoleSink:
    def __init__(self, stream: Any = None) -> None:
        self._stream = stream

    def emit(self, events: Sequence[Dict[str, Any]]) -> None:
        out = self._stream or sys.stderr
        out.write("".join(format_line(e) + "\n" for e in events))

    def flush(self) -> None:
        out = self._stream or sys.stderr
        out.flush()

    def close(self) -> None:
        self.flush()
