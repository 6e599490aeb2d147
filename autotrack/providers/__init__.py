"""Provider discovery through the ``autotrack.providers`` entry-point group.

Built-in providers are registered in autotrack's own pyproject.toml and found by the same
path as third-party ones. Each entry point is loaded in its own ``try``: a provider the
user named that cannot be used raises ``ConfigError``; one found automatically is skipped.
"""

from __future__ import annotations

import importlib.util
import logging
import sys
from typing import Any, Dict, Iterable, Optional, Sequence

from ..errors import ConfigError
from .base import Method, Provider, Request, Response, Usage, get

__all__ = ["Method", "Provider", "Request", "Response", "Usage", "get", "available", "load"]

GROUP = "autotrack.providers"
logger = logging.getLogger("autotrack")


def _entry_points() -> Dict[str, Any]:
    if sys.version_info >= (3, 10):
        from importlib.metadata import entry_points
    else:  # pragma: no cover - the backport has the same selectable API
        from importlib_metadata import entry_points
    found: Dict[str, Any] = {}
    for ep in entry_points(group=GROUP):
        found.setdefault(ep.name, ep)
    return found


def available() -> Sequence[str]:
    """Names of every provider registered under the ``autotrack.providers`` entry-point group."""
    return sorted(_entry_points())


def _sdk_installed(provider: Provider) -> bool:
    if provider.module in sys.modules:
        return True
    try:
        return importlib.util.find_spec(provider.module) is not None
    except (ImportError, ValueError):
        return False


def load(names: Optional[Iterable[str]]) -> Dict[str, Provider]:
    """Load the named providers (all discovered ones when ``names`` is None)."""
    points = _entry_points()
    explicit = names is not None
    wanted = list(names) if names is not None else sorted(points)
    if explicit:
        unknown = [n for n in wanted if n not in points]
        if unknown:
            raise ConfigError(
                f"providers: unknown provider(s) {', '.join(map(repr, unknown))}; "
                f"available: {', '.join(sorted(points)) or '(none installed)'}"
            )
    loaded: Dict[str, Provider] = {}
    for name in wanted:
        try:
            provider = points[name].load()
            if callable(provider) and not isinstance(provider, Provider):
                provider = provider()
            if not isinstance(provider, Provider):
                raise TypeError(f"entry point {name!r} gave {type(provider).__name__}, not autotrack.Provider")
        except Exception as exc:
            if explicit:
                raise ConfigError(f"providers: provider {name!r} failed to load: {exc}") from exc
            logger.debug("autotrack: skipping provider %r: %r", name, exc)
            continue
        if not _sdk_installed(provider):
            if explicit:
                raise ConfigError(f"providers: {name!r} needs the {provider.module!r} package, which is not installed")
            logger.debug("autotrack: skipping provider %r: %s is not installed", name, provider.module)
            continue
        loaded[name] = provider
    return loaded
