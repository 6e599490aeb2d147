"""The one place autotrack's own failures go: counted, logged once per site, never raised.

Set ``AUTOTRACK_RAISE_INTERNAL_ERRORS=1`` (our own test suite does) to re-raise instead,
so a bug cannot hide behind the guard.
"""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING, Iterable, Optional, Set

from ._locks import ForkSafeLock

if TYPE_CHECKING:
    from .tracker import Tracker

logger = logging.getLogger("autotrack")

_logged_sites: Set[str] = set()
_lock = ForkSafeLock()


def _raise_internal() -> bool:
    return os.environ.get("AUTOTRACK_RAISE_INTERNAL_ERRORS", "") == "1"


def internal_error(site: str, exc: BaseException, trackers: Optional[Iterable[Tracker]] = None) -> None:
    """Record a failure inside autotrack. Call it from an ``except Exception`` block."""
    try:
        if trackers is None:
            from .tracker import active_trackers

            trackers = active_trackers()
        for tracker in trackers:
            tracker._report_error("internal_errors", exc)
        with _lock:
            first = site not in _logged_sites
            _logged_sites.add(site)
        if first:
            logger.warning("autotrack: internal error at %s (logged once, counted in tracker.stats)", site,
                           exc_info=exc)
        else:
            logger.debug("autotrack: internal error at %s: %r", site, exc)
    except Exception:  # the guard itself must never raise
        pass
    if _raise_internal():
        raise exc
