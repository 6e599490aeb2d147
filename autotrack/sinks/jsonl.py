"""One JSON object per line, appended to a file."""

from __future__ import annotations

import json
import os
import threading
from typing import Any, Dict, Optional, Sequence, TextIO


def _default(value: Any) -> Any:
    try:
        return float(value)
    except Exception:
        return str(value)


class JsonlSink:
    def __init__(self, path: str) -> None:
        self.path = os.path.expanduser(path)
        self._file: Optional[TextIO] = None
        self._lock = threading.Lock()

    def _open(self) -> TextIO:
        if self._file is None or self._file.closed:
            directory = os.path.dirname(self.path)
            if directory:
                os.makedirs(directory, exist_ok=True)
            self._file = open(self.path, "a", encoding="utf-8")
        return self._file

    def emit(self, events: Sequence[Dict[str, Any]]) -> None:
        lines = "".join(json.dumps(e, default=_default, ensure_ascii=False) + "\n" for e in events)
        with self._lock:
            fh = self._open()
            fh.write(lines)
            fh.flush()

    def flush(self) -> None:
        with self._lock:
            if self._file is not None and not self._file.closed:
                self._file.flush()

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None

    def __repr__(self) -> str:
        return f"JsonlSink({self.path!r})"
