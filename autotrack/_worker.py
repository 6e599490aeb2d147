"""One background thread per tracker: a bounded queue in, batches of events out.

The app's threads only append to a deque and, when it was empty, wake the worker; a full
queue drops and counts, it never blocks. The thread starts lazily and is re-created in a
forked child (the parent's thread does not exist there).
"""

from __future__ import annotations

import collections
import os
import threading
import weakref
from typing import Any, Callable, Deque, List, Optional

_BATCH = 256
_IDLE_WAIT = 0.5


class Worker:
    def __init__(self, name: str, handle: Callable[[List[Any]], None], max_size: int) -> None:
        self._name = name
        self._handle = handle
        self._max_size = max_size
        self._queue: Deque[Any] = collections.deque()
        self._wake = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._start_lock = threading.Lock()
        self._stopping = False
        self._pid = os.getpid()
        _workers.add(self)

    def put(self, item: Any) -> bool:
        """Queue ``item``; False (and nothing queued) when the queue is full. Never blocks."""
        queue = self._queue
        if len(queue) >= self._max_size:
            return False
        queue.append(item)
        if self._thread is None:  # first use, or a forked child (reset by the at-fork hook)
            self._start()
        if len(queue) == 1:
            self._wake.set()
        return True

    def _start(self) -> None:
        with self._start_lock:
            if self._pid != os.getpid():
                self._after_fork()
            if self._thread is None and not self._stopping:
                thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                thread.start()
                self._thread = thread

    def _after_fork(self) -> None:
        # What the parent queued is the parent's to deliver; the child starts empty.
        self._queue.clear()
        self._pid = os.getpid()
        self._thread = None
        self._wake = threading.Event()
        self._start_lock = threading.Lock()

    def _run(self) -> None:
        queue = self._queue
        while True:
            self._wake.wait(_IDLE_WAIT)
            self._wake.clear()
            while queue:
                batch: List[Any] = []
                while queue and len(batch) < _BATCH:
                    batch.append(queue.popleft())
                try:
                    self._handle(batch)
                except BaseException as exc:  # the thread must outlive anything its handler lets through
                    from ._guard import internal_error

                    for item in batch:
                        if type(item) is _Marker:
                            item.done.set()
                    try:
                        internal_error(f"{self._name}.handle", exc)
                    except BaseException:
                        pass
            if self._stopping and not queue:
                return

    def flush(self, timeout: Optional[float], closing: bool = False) -> bool:
        """Wait until everything queued before this call has been handled; False on timeout."""
        if self._stopping and (self._thread is None or not self._thread.is_alive()):
            return not self._queue  # stopped: nothing will run again, so nothing to wait for
        done = threading.Event()
        self._queue.append(_Marker(done, closing))  # markers bypass the size limit: flush never drops
        if self._thread is None or self._pid != os.getpid():
            self._start()
        self._wake.set()
        if self._thread is None:
            return not self._queue
        return done.wait(timeout)

    def stop(self, timeout: Optional[float]) -> bool:
        """Flush, let the handler close its sink on this thread, and end the thread."""
        ok = self.flush(timeout, closing=True)
        self._stopping = True
        self._wake.set()
        _workers.discard(self)
        return ok

    def __len__(self) -> int:
        return len(self._queue)


class _Marker:
    __slots__ = ("done", "closing")

    def __init__(self, done: threading.Event, closing: bool) -> None:
        self.done = done
        self.closing = closing


def is_marker(item: Any) -> bool:
    return type(item) is _Marker


def is_closing(item: Any) -> bool:
    return bool(item.closing)


def release_marker(item: Any) -> None:
    item.done.set()


_workers: weakref.WeakSet[Worker] = weakref.WeakSet()


def _reinit_after_fork() -> None:
    for worker in list(_workers):
        worker._after_fork()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reinit_after_fork)

