"""USD cost of a call from genai-prices (its price data ships in the package; no network).

``genai_prices`` takes a few hundred milliseconds to import, so it is loaded on the worker
at the first lookup and each (provider, model) price is cached. An unknown model costs
``None``, never ``0``. ``pricing=`` overrides win over the database.
"""

from __future__ import annotations

from typing import Any, Dict, Mapping, Optional, Tuple

from ._locks import ForkSafeLock
from .providers.base import Usage

_cache: Dict[Tuple[str, str], Any] = {}
_lock = ForkSafeLock()
_MISSING = object()

# Our provider ids as genai-prices names them.
_PRICE_PROVIDER = {"azure_openai": "azure"}


def _model_price(provider: str, model: str) -> Any:
    key = (provider, model)
    with _lock:
        found = _cache.get(key, _MISSING)
    if found is not _MISSING:
        return found
    price: Any = None
    try:
        from datetime import datetime, timezone

        from genai_prices.data_snapshot import get_snapshot

        snapshot = get_snapshot()
        provider_id = _PRICE_PROVIDER.get(provider, provider)
        try:
            _, found_model = snapshot.find_provider_model(model, None, provider_id, None)
        except LookupError:
            _, found_model = snapshot.find_provider_model(model, None, None, None)
        price = _Rates.from_model_price(found_model.get_prices(datetime.now(tz=timezone.utc)))
    except Exception:  # unknown model (LookupError) or a price-data oddity: no cost, never a wrong one
        price = None
    with _lock:
        _cache[key] = price
    return price


Tiers = Tuple[Tuple[int, float], ...]  # (applies above this many input tokens, USD per 1M), ascending


def _tiers(value: Any) -> Optional[Tiers]:
    """genai-prices' Decimal or TieredPrices as plain floats: computed once per model, not per event."""
    if value is None:
        return None
    base = getattr(value, "base", None)
    if base is None:
        return ((-1, float(value)),)
    steps = sorted((int(t.start), float(t.price)) for t in getattr(value, "tiers", ()))
    return ((-1, float(base)), *steps)


def _rate(tiers: Optional[Tiers], input_tokens: int) -> Optional[float]:
    if tiers is None:
        return None
    rate = tiers[0][1]
    for start, price in tiers[1:]:
        if input_tokens > start:  # crossing a tier prices every token at that tier (genai-prices' rule)
            rate = price
    return rate


class _Rates:
    """Per-1M-token prices of one model, priced with plain float arithmetic.

    genai-prices' own ``calc_price`` costs about half a millisecond per call (Decimal maths
    and lookups); on the worker that would hold the GIL for longer than the app's own call.
    """

    __slots__ = ("input", "output", "cache_read", "cache_write")

    def __init__(self, input: Optional[Tiers], output: Optional[Tiers], cache_read: Optional[Tiers],
                 cache_write: Optional[Tiers]) -> None:
        self.input = input
        self.output = output
        self.cache_read = cache_read
        self.cache_write = cache_write

    @classmethod
    def from_model_price(cls, price: Any) -> Optional[_Rates]:
        rates = cls(
            _tiers(getattr(price, "input_mtok", None)),
            _tiers(getattr(price, "output_mtok", None)),
            _tiers(getattr(price, "cache_read_mtok", None)),
            _tiers(getattr(price, "cache_write_mtok", None)),
        )
        return rates if rates.input is not None or rates.output is not None else None

    @classmethod
    def from_override(cls, prices: Mapping[str, float]) -> _Rates:
        def one(key: str) -> Optional[Tiers]:
            value = prices.get(key)
            return None if value is None else ((-1, float(value)),)

        return cls(one("input"), one("output"), one("cached_input"), one("cache_write"))

    def cost(self, usage: Usage) -> float:
        total_in = max(usage.input_tokens or 0, 0)
        cache_read = min(max(usage.cached_input_tokens or 0, 0), total_in)
        cache_write = min(max(usage.cache_creation_input_tokens or 0, 0), total_in - cache_read)
        read_rate = _rate(self.cache_read, total_in)
        write_rate = _rate(self.cache_write, total_in)
        input_rate = _rate(self.input, total_in) or 0.0
        # A cache part without its own price is billed as ordinary input.
        uncached = total_in
        uncached -= cache_read if read_rate is not None else 0
        uncached -= cache_write if write_rate is not None else 0
        micro_usd = uncached * input_rate
        micro_usd += cache_read * read_rate if read_rate is not None else 0.0
        micro_usd += cache_write * write_rate if write_rate is not None else 0.0
        micro_usd += max(usage.output_tokens or 0, 0) * (_rate(self.output, total_in) or 0.0)
        return micro_usd / 1_000_000


def _find_override(pricing: Optional[Mapping[str, Mapping[str, float]]], *models: Optional[str]) -> Any:
    if not pricing:
        return None
    for model in models:
        if model and model in pricing:
            return pricing[model]
    return None


def compute(
    provider: str,
    usage: Optional[Usage],
    models: Tuple[Optional[str], ...],
    pricing: Optional[Mapping[str, Mapping[str, float]]] = None,
) -> Optional[float]:
    """Cost in USD of ``usage``, trying each model name in turn (response model, then request model)."""
    if usage is None or (usage.input_tokens is None and usage.output_tokens is None):
        return None
    override = _find_override(pricing, *models)
    price = _Rates.from_override(override) if override is not None else None
    if price is None:
        for model in models:
            if model:
                price = _model_price(provider, model)
                if price is not None:
                    break
    if price is None:
        return None
    return round(price.cost(usage), 12)
