from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import Any, Callable, Iterator, List

import pytest
import vcr

import autotrack
from autotrack.tracker import active_trackers

CASSETTES = Path(__file__).parent / "cassettes"

# Our own bugs must fail the tests, not hide behind the guard (tests that check the guard unset it).
os.environ["AUTOTRACK_RAISE_INTERNAL_ERRORS"] = "1"

# Match on path, not query: the recorded files come from several SDK versions (see tests/cassettes/README.md).
replay = vcr.VCR(record_mode="none", match_on=["method", "scheme", "host", "port", "path"])



def sdk_httpx(sdk: Any) -> Any:
    """The HTTP library the installed SDK is built on (openai 3.x: httpx2; 1.x: httpx). ``sdk``: module or name."""
    name = sdk if isinstance(sdk, str) else sdk.__name__
    base = importlib.import_module(f"{name}._base_client")
    module = getattr(base, "httpx", None)
    if module is None or not hasattr(module, "MockTransport"):
        module = base.httpx2
    return module


def cassette(path: str) -> Any:
    return replay.use_cassette(str(CASSETTES / path))


@pytest.fixture(autouse=True)
def _no_leftover_trackers() -> Iterator[None]:
    yield
    for tracker in active_trackers():
        tracker.stop()


@pytest.fixture
def sink() -> autotrack.MemorySink:
    return autotrack.MemorySink()


@pytest.fixture
def tracker(sink: autotrack.MemorySink) -> Iterator[Any]:
    t = autotrack.track(sink)
    yield t
    t.stop()


@pytest.fixture
def events(tracker: Any, sink: autotrack.MemorySink) -> Callable[[], List[Any]]:
    """Flush the tracker and return the events delivered so far."""

    def read() -> List[Any]:
        assert tracker.flush(10)
        return list(sink.events)

    return read


def mock_client(sdk: Any, handler: Callable[[Any], Any], *, is_async: bool = False, **kwargs: Any) -> Any:
    """A real SDK client whose HTTP is served in-process by ``handler(request) -> httpx.Response``."""
    httpx = sdk_httpx(sdk)
    transport = httpx.MockTransport(handler)
    http_client = httpx.AsyncClient(transport=transport) if is_async else httpx.Client(transport=transport)
    if sdk.__name__ == "openai":
        cls = sdk.AsyncOpenAI if is_async else sdk.OpenAI
        kwargs.setdefault("base_url", "https://api.openai.com/v1")
    else:
        cls = sdk.AsyncAnthropic if is_async else sdk.Anthropic
        kwargs.setdefault("base_url", "https://api.anthropic.com")
    kwargs.setdefault("api_key", "sk-test-key-0000000000000000")
    kwargs.setdefault("max_retries", 0)
    return cls(http_client=http_client, **kwargs)
