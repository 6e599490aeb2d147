"""Exceptions autotrack raises into the caller's code.

Only configuration is ever reported by raising; everything that goes wrong later is
counted in ``tracker.stats`` and logged once on the ``autotrack`` logger.

    AutotrackError
    └── ConfigError   # a track() option or AUTOTRACK_* variable we cannot use
"""

from __future__ import annotations


class AutotrackError(Exception):
    """Base class of every exception autotrack raises."""


class ConfigError(AutotrackError, ValueError):
    """A track() option or AUTOTRACK_* environment variable has a value we cannot use."""
