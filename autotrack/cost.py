"""USD cost of a call from genai-prices (its price data ships in the package; no network).

``genai_prices`` takes a few hundred milliseconds to import, so it is loaded on the worker
at the first lookup and each (provider, model) price is cached. An unknown model costs
``None``, never ``0``. ``pricing=`` overrides win over the database.
"""

from __future__ import annotations

import threading
from typing import Any, Dict, Mapping, Optional, Tuple

from .providers.base import Usage

_cache: Dict[Tuple[str, str], Any] = {}
_lock = threading.Lock()
_MISSING = object()

# Our provider ids as genai-prices names them.
_PRICE_PROVIDER = {"azure_openai": "azure"}


def _usage_dict(usage: Usage) -> Dict[str, int]:
    total_in = usage.input_tokens or 0
    cache_read = min(usage.cached_input_tokens or 0, total_in)
    cache_write = min(usage.cache_creation_input_tokens or 0, max(total_in - cache_read, 0))
    return {
        "input_tokens": total_in,
        "output_tokens": usage.output_tokens or 0,
        "cache_read_tokens": cache_read,
        "cache_write_tokens": cache_write,
    }


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
        price = found_model.get_prices(datetime.now(tz=timezone.utc))
    except (LookupError, ValueError):
        price = None
    with _lock:
        _cache[key] = price
    return price


def _override_price(prices: Mapping[str, float]) -> Any:
    from decimal import Decimal

    from genai_prices.types import ModelPrice

    def dec(key: str) -> Optional[Decimal]:
        value = prices.get(key)
        return None if value is None else Decimal(str(value))

    return ModelPrice(
        input_mtok=dec("input"),
        output_mtok=dec("output"),
        cache_read_mtok=dec("cached_input"),
        cache_write_mtok=dec("cache_write"),
    )


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
    price = _override_price(override) if override is not None else None
    if price is None:
        for model in models:
            if model:
                price = _model_price(provider, model)
                if price is not None:
                    break
    if price is None:
        return None
    result = price.calc_price(_usage_dict(usage))
    total = result["total_price"] if isinstance(result, Mapping) else getattr(result, "total_price", None)
    return None if total is None else float(total)
