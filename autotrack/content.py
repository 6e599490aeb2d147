"""Content pipeline: flatten messages to text, keep the last N, redact PII, truncate.

Pure functions of data, run on the worker. Redaction happens before truncation so a
placeholder is never cut in half, and works on a bounded window of the text so its cost
stays linear in what is kept, not in what the app sent.
"""

from __future__ import annotations

import re
from typing import Any, Callable, Iterable, List, Optional, Sequence

from .providers.base import get

TRUNCATION_MARKER = "…[truncated]"
_REDACT_MARGIN = 256

# Ordered: secrets first (an sk- key holds digit runs that look like phone numbers),
# then e-mail, SSN and cards before the looser phone pattern. Each rule names the
# lower-case substrings without which it cannot match: a cheap `in` test skips the regex.
_SECRET_RULES = [
    (("bearer",), re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/=-]{8,}"), "[TOKEN]"),
    (("sk-ant-",), re.compile(r"\bsk-ant-[A-Za-z0-9_-]{10,}"), "[SECRET]"),
    (("sk-", "pk-", "rk-"), re.compile(r"\b(?:sk|pk|rk)-(?:[A-Za-z0-9_-]{2,32}-)?[A-Za-z0-9_-]{16,}"), "[SECRET]"),
    (("akia", "asia"), re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"), "[SECRET]"),
    (("ghp_", "gho_", "ghu_", "ghs_", "ghr_"), re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}\b"), "[SECRET]"),
    (("xox",), re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}"), "[SECRET]"),
    (("eyj",), re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"), "[TOKEN]"),
    (
        ("key", "secret", "passw", "token"),
        re.compile(r"(?i)\b(api[_-]?key|secret|password|passwd|token)(\s*[:=]\s*)(['\"]?)[^\s'\"]{6,}"),
        r"\1\2\3[SECRET]",
    ),
]
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})*\.[A-Za-z]{2,24}")
_SSN = re.compile(r"\b(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}\b")
_CARD = re.compile(r"\b\d(?:[ -]?\d){12,18}\b")
_PHONE = re.compile(
    r"(?<![\w+])(?<!\d[\s.-])(?:\+\d{1,3}[\s.-]?)?(?:\(\d{2,4}\)[\s.-]?|\d{2,4}[\s.-])\d{3,4}[\s.-]?\d{3,4}(?![\s.-]?\d)(?!\w)"
)


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _card(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    return "[CARD]" if 13 <= len(digits) <= 19 and _luhn_ok(digits) else match.group(0)


_TRIGGERS = re.compile("|".join(sorted({re.escape(t) for triggers, _, _ in _SECRET_RULES for t in triggers})))
# A run that could hold a phone, card or SSN: the three patterns then only look inside runs.
_DIGIT_RUN = re.compile(r"[+(]?\d[\d().\s-]{5,}\d")


def _redact_digits(match: re.Match[str]) -> str:
    run = match.group(0)
    return _PHONE.sub("[PHONE]", _CARD.sub(_card, _SSN.sub("[SSN]", run)))


def redact_pii(text: str) -> str:
    """Replace e-mails, phones, Luhn-valid card numbers, US SSNs and secrets with typed placeholders."""
    found = set(_TRIGGERS.findall(text.lower()))
    if found:
        for triggers, pattern, replacement in _SECRET_RULES:
            if not found.isdisjoint(triggers):
                text = pattern.sub(replacement, text)
    if "@" in text:
        text = _EMAIL.sub("[EMAIL]", text)
    if any(digit in text for digit in "0123456789"):  # ten C-speed scans beat one regex scan
        text = _DIGIT_RUN.sub(_redact_digits, text)
    return text


_SPACE = re.compile(r"\s")
_MAX_TOKEN_SCAN = 16_384


def _cut_at(text: str, window: int) -> int:
    """Where to cut ``text`` near ``window`` without splitting a word (a key, an e-mail, a token)."""
    if window >= len(text):
        return len(text)
    space = _SPACE.search(text, window, window + _MAX_TOKEN_SCAN)
    return space.start() if space else window + _MAX_TOKEN_SCAN


def clean(
    text: Optional[str],
    limit: int,
    pii: bool,
    custom: Optional[Callable[[str], str]] = None,
) -> Optional[str]:
    """Redact then truncate ``text`` to ``limit`` characters, looking at no more of it than needed."""
    if text is None:
        return None
    if not isinstance(text, str):
        text = str(text)
    window = limit + _REDACT_MARGIN
    while True:
        part = text[: _cut_at(text, window)]
        redacted = redact_pii(part) if pii else part
        if custom is not None:
            redacted = str(custom(redacted))
        # Redaction can shorten the text; widen the window until what we keep is all redacted.
        # (Leaving the loop with only part of the text means more than ``limit`` was redacted.)
        if len(part) == len(text) or len(redacted) > limit + _REDACT_MARGIN // 2:
            break
        window *= 2
    if len(redacted) > limit:
        return redacted[:limit] + TRUNCATION_MARKER
    return redacted


def part_text(part: Any) -> str:
    """The text of one content part; a placeholder for images, audio and files."""
    if isinstance(part, str):
        return part
    kind = get(part, "type")
    text = get(part, "text")
    if isinstance(text, str):
        return text
    if kind in ("image_url", "image", "input_image"):
        return "[image]"
    if kind in ("input_audio", "audio", "output_audio"):
        return "[audio]"
    if kind in ("file", "input_file", "document"):
        return "[file]"
    if kind == "tool_use":
        return f"[tool_use: {get(part, 'name', default='')}]"
    if kind == "tool_result":
        return content_text(get(part, "content"))
    if kind:
        return f"[{kind}]"
    return ""


def content_text(content: Any) -> str:
    """Text of a message's content: a string, or a list of parts (text kept, media as placeholders)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, (list, tuple)):
        return "\n".join(t for t in (part_text(p) for p in content) if t)
    return part_text(content)


_SYSTEM_ROLES = ("system", "developer")


def messages_text(messages: Iterable[Any], max_messages: int, system: Any = None) -> str:
    """Render chat input as ``role: text`` lines, the system prompt first, then the last N messages."""
    items: List[Any] = list(messages) if messages is not None else []
    # Leading system/developer messages are the prompt itself: kept first, outside the window.
    head = 0
    while head < len(items) and not isinstance(items[head], str) and get(items[head], "role") in _SYSTEM_ROLES:
        head += 1
    prompt, items = items[:head], items[head:]
    if max_messages >= 0:
        items = items[-max_messages:] if max_messages else []
    items = prompt + items
    lines: List[str] = []
    if system is not None:
        system_text = content_text(system)
        if system_text:
            lines.append(f"system: {system_text}")
    for message in items:
        if isinstance(message, str):
            lines.append(message)
            continue
        role = get(message, "role", default="user")
        text = content_text(get(message, "content"))
        if not text and get(message, "type"):
            text = part_text(message)
        calls = [get(c, "function", "name") for c in get(message, "tool_calls") or ()]
        if any(calls):  # an assistant turn that only called tools still says what it did
            text = " ".join([text, *(f"[tool_call: {name}]" for name in calls if name)]).strip()
        lines.append(f"{role}: {text}")
    return "\n".join(lines)


def prompt_text(prompt: Any) -> Optional[str]:
    """Text of a plain prompt: a string, a list of strings, or token ids (which have no text)."""
    if prompt is None:
        return None
    if isinstance(prompt, str):
        return prompt
    if isinstance(prompt, Sequence):
        texts = [p for p in prompt if isinstance(p, str)]
        return "\n".join(texts) if texts else None
    return None
