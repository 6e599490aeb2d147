"""Every track() option in one typed object, built from keyword arguments or AUTOTRACK_* variables.

Validation lives here and only here, so a bad value fails at ``track()`` with a
:class:`~autotrack.errors.ConfigError` that names the option and what it accepts.
An explicit keyword argument wins over the environment; the environment wins over the default.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field, fields
from typing import Any, Callable, Dict, Mapping, Optional, Tuple

from .errors import ConfigError


class _Unset:
    """Marks a keyword the caller did not pass, where ``None`` is itself a meaningful value."""

    _instance: Optional[_Unset] = None

    def __new__(cls) -> _Unset:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNSET"

    def __bool__(self) -> bool:
        return False


UNSET: Any = _Unset()

STREAM_USAGE_MODES = ("auto", "off")
PRICE_KEYS = ("input", "output", "cached_input", "cache_write")


@dataclass(frozen=True)
class Options:
    """The resolved configuration of one tracker. Build it with :meth:`resolve`."""

    client: Any = None
    providers: Optional[Tuple[str, ...]] = None
    include_inputs: bool = True
    include_outputs: bool = True
    track_errors: bool = True
    max_content_length: int = 500
    max_messages: int = 6
    redact_pii: bool = True
    redact: Optional[Callable[[str], str]] = None
    sample_rate: float = 1.0
    pricing: Optional[Mapping[str, Mapping[str, float]]] = None
    stream_usage: str = "auto"
    on_error: Optional[Callable[[BaseException], Any]] = None
    max_queue_size: int = 10_000
    exit_flush_timeout: float = 2.0
    extra: Dict[str, Any] = field(default_factory=dict)

    @classmethod
    def resolve(cls, env: Optional[Mapping[str, str]] = None, **kwargs: Any) -> Options:
        """Merge keyword arguments (unset ones are ``UNSET``), the environment and the defaults, then validate."""
        environ = os.environ if env is None else env
        known = {f.name for f in fields(cls)} - {"extra"}
        unknown = sorted(set(kwargs) - known)
        if unknown:
            raise ConfigError(f"unknown option(s) {', '.join(unknown)}; accepted: {', '.join(sorted(known))}")
        values: Dict[str, Any] = {}
        for name in known:
            value = kwargs.get(name, UNSET)
            source = None
            if value is UNSET:
                raw = environ.get(_env_name(name))
                if raw is not None and raw.strip() != "":
                    value = _from_env(name, raw.strip())
                    source = f"{_env_name(name)}={raw.strip()!r}"
            if value is not UNSET:
                try:
                    values[name] = _validate(name, value)
                except ConfigError as exc:
                    if source is None:
                        raise
                    raise ConfigError(f"{source}: {exc}") from None
        return cls(**values)


def _env_name(option: str) -> str:
    return "AUTOTRACK_SINK" if option == "client" else f"AUTOTRACK_{option.upper()}"


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _from_env(name: str, raw: str) -> Any:
    var = _env_name(name)
    default = Options.__dataclass_fields__[name].default
    if name in ("redact", "on_error"):
        raise ConfigError(f"{var} cannot be set from the environment; pass {name}= to track()")
    if name == "providers":
        return [p.strip() for p in raw.split(",") if p.strip()]
    if name == "pricing":
        try:
            return json.loads(raw)
        except ValueError as exc:
            raise ConfigError(f"{var} must be a JSON object like {{\"model\": {{\"input\": 2.5}}}}: {exc}") from None
    if isinstance(default, bool):
        low = raw.lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
        raise ConfigError(f"{var}={raw!r} is not a boolean; accepted: {', '.join(sorted(_TRUE | _FALSE))}")
    if isinstance(default, int):
        try:
            return int(raw)
        except ValueError:
            raise ConfigError(f"{var}={raw!r} is not an integer") from None
    if isinstance(default, float):
        try:
            return float(raw)
        except ValueError:
            raise ConfigError(f"{var}={raw!r} is not a number") from None
    return raw


def _validate(name: str, value: Any) -> Any:
    if name in ("include_inputs", "include_outputs", "track_errors", "redact_pii"):
        if not isinstance(value, bool):
            raise ConfigError(f"{name} must be True or False, got {value!r}")
        return value
    if name in ("max_content_length", "max_messages", "max_queue_size"):
        minimum = 1 if name == "max_queue_size" else 0
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise ConfigError(f"{name} must be an integer >= {minimum}, got {value!r}")
        return value
    if name in ("sample_rate", "exit_flush_timeout"):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        if name == "sample_rate" and not (ok and 0.0 <= value <= 1.0):
            raise ConfigError(f"sample_rate must be a number from 0.0 to 1.0, got {value!r}")
        if name == "exit_flush_timeout" and not (ok and value >= 0):
            raise ConfigError(f"exit_flush_timeout must be a number of seconds >= 0, got {value!r}")
        return float(value)
    if name in ("redact", "on_error"):
        if value is not None and not callable(value):
            raise ConfigError(f"{name} must be a callable or None, got {type(value).__name__}")
        return value
    if name == "stream_usage":
        if value not in STREAM_USAGE_MODES:
            raise ConfigError(f"stream_usage must be one of {', '.join(map(repr, STREAM_USAGE_MODES))}, got {value!r}")
        return value
    if name == "providers":
        if value is None:
            return None
        if isinstance(value, str):
            value = [value]
        try:
            names = tuple(value)
        except TypeError:
            raise ConfigError(f"providers must be a list of provider names or None, got {value!r}") from None
        if not all(isinstance(n, str) and n for n in names):
            raise ConfigError(f"providers must be a list of provider names or None, got {value!r}")
        return names
    if name == "pricing":
        return _validate_pricing(value)
    return value


def _validate_pricing(value: Any) -> Optional[Mapping[str, Mapping[str, float]]]:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise ConfigError(f"pricing must be a dict of model name -> {{'input': usd_per_1M, ...}}, got {value!r}")
    checked: Dict[str, Dict[str, float]] = {}
    for model, prices in value.items():
        if not isinstance(model, str) or not isinstance(prices, Mapping):
            raise ConfigError(f"pricing[{model!r}] must be a dict with keys from {', '.join(PRICE_KEYS)}")
        entry: Dict[str, float] = {}
        for key, price in prices.items():
            if key not in PRICE_KEYS:
                raise ConfigError(f"pricing[{model!r}] has unknown key {key!r}; accepted: {', '.join(PRICE_KEYS)}")
            if isinstance(price, bool) or not isinstance(price, (int, float)) or not price >= 0:
                raise ConfigError(f"pricing[{model!r}][{key!r}] must be a number >= 0 (USD per 1M tokens)")
            entry[key] = float(price)
        checked[model] = entry
    return checked
