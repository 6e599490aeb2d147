"""Exactly one event per call per tracker; several trackers; stop() anywhere, from any thread."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading

import openai
import pytest

import autotrack
from autotrack import patching
from autotrack.tracker import active_trackers
from tests.test_engine_support import MESSAGES, chat_body, chat_handler, client, sdk_httpx

OHX = sdk_httpx(openai)
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _completions():
    from openai.resources.chat.completions import completions as module

    return module.Completions


def _call(c, **kwargs):
    return c.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, **kwargs)


def test_two_trackers_both_get_every_event_and_stop_restores_identity():
    cls = _completions()
    original = vars(cls)["create"]
    first, second = autotrack.MemorySink(), autotrack.MemorySink()
    c = client(openai, chat_handler())
    t1 = autotrack.track(first)
    t2 = autotrack.track(second)
    _call(c)
    _call(c)
    assert t1.flush(5) and t2.flush(5)
    assert (len(first.events), len(second.events)) == (2, 2)
    assert first.events[0] is not second.events[0]

    t1.stop()
    assert vars(cls)["create"] is not original
    _call(c)
    assert t2.flush(5)
    assert (len(first.events), len(second.events)) == (2, 3)

    assert t1.stop() is True  # idempotent
    t2.stop()
    t2.stop()
    assert vars(cls)["create"] is original
    assert active_trackers() == ()
    _call(c)
    assert (len(first.events), len(second.events)) == (2, 3)
    assert not t1.running and not t2.running


def test_context_manager_stops_and_unpatches():
    cls = _completions()
    original = vars(cls)["create"]
    sink = autotrack.MemorySink()
    with autotrack.track(sink) as tracker:
        assert tracker.running
        _call(client(openai, chat_handler()))
    assert not tracker.running
    assert vars(cls)["create"] is original
    assert len(sink.events) == 1  # stop() flushed


def test_track_and_stop_from_many_threads_at_once():
    cls = _completions()
    original = vars(cls)["create"]
    n_threads, rounds = 8, 5
    barrier = threading.Barrier(n_threads)
    own_counts = []
    errors = []
    lock = threading.Lock()

    def work(i):
        try:
            c = client(openai, chat_handler())
            barrier.wait(10)
            for r in range(rounds):
                sink = autotrack.MemorySink()
                tracker = autotrack.track(sink)
                with autotrack.context(user_id=f"u{i}-{r}"):
                    _call(c)
                tracker.stop()
                mine = [e for e in sink.events if e["user_id"] == f"u{i}-{r}"]
                with lock:
                    own_counts.append(len(mine))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert own_counts == [1] * (n_threads * rounds)
    assert active_trackers() == ()
    assert vars(cls)["create"] is original
    assert patching.patched_count() == 0


def test_repeated_track_stop_leaves_no_threads_or_patches():
    for _ in range(30):
        tracker = autotrack.track(autotrack.MemorySink())
        _call(client(openai, chat_handler()))
        tracker.stop()
    for thread in [t for t in threading.enumerate() if t.name == "autotrack-worker"]:
        thread.join(5)
    assert [t for t in threading.enumerate() if t.name == "autotrack-worker" and t.is_alive()] == []
    assert patching.patched_count() == 0


def test_stop_while_a_call_is_in_flight():
    cls = _completions()
    original = vars(cls)["create"]
    entered, release = threading.Event(), threading.Event()

    def handler(request):
        entered.set()
        assert release.wait(10)
        return OHX.Response(200, json=chat_body("late answer"))

    c = client(openai, handler)
    outcome = {}

    def run():
        try:
            outcome["result"] = _call(c)
        except BaseException as exc:  # pragma: no cover - reported below
            outcome["error"] = exc

    sink = autotrack.MemorySink()
    tracker = autotrack.track(sink)
    thread = threading.Thread(target=run)
    thread.start()
    try:
        assert entered.wait(10)
        assert tracker.stop() is True
        assert vars(cls)["create"] is original
    finally:
        release.set()
        thread.join(10)
    assert "error" not in outcome
    assert outcome["result"].choices[0].message.content == "late answer"
    assert tracker.stats["emitted"] == 0 and sink.events == []


def test_stopping_one_tracker_mid_call_keeps_the_other():
    entered, release = threading.Event(), threading.Event()

    def handler(request):
        entered.set()
        assert release.wait(10)
        return OHX.Response(200, json=chat_body())

    c = client(openai, handler)
    keep, drop = autotrack.MemorySink(), autotrack.MemorySink()
    kept = autotrack.track(keep)
    dropped = autotrack.track(drop)
    thread = threading.Thread(target=_call, args=(c,))
    thread.start()
    try:
        assert entered.wait(10)
        dropped.stop()
    finally:
        release.set()
        thread.join(10)
    assert kept.flush(5)
    assert len(keep.events) == 1 and drop.events == []
    kept.stop()


def test_stop_while_streaming_keeps_the_stream_working():
    sink = autotrack.MemorySink()
    tracker = autotrack.track(sink)
    stream = _call(client(openai, chat_handler()), stream=True)
    it = iter(stream)
    next(it)
    tracker.stop()
    rest = list(it)
    assert "".join(ch.choices[0].delta.content or "" for ch in rest if ch.choices) == "Hello world"


def _run(code):
    env = dict(os.environ)
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=60, env=env, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


_PRELUDE = """
    import json, sys
    import autotrack
    sink = autotrack.MemorySink()
    tracker = autotrack.track(sink, providers=["openai"])
    assert "openai" not in sys.modules
    import openai
    import openai._base_client as base
    hx = getattr(base, "httpx", None) or base.httpx2
    body = {"id": "c1", "object": "chat.completion", "created": 1, "model": "gpt-4o-mini",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}}
    c = openai.OpenAI(api_key="sk-x", max_retries=0,
                      http_client=hx.Client(transport=hx.MockTransport(lambda r: hx.Response(200, json=body))))
    def call():
        return c.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}])
"""


_SCRIPT = _PRELUDE + """
    # 1. the SDK was imported after track(): it must be patched
    call()
    assert tracker.flush(5)
    print(json.dumps({"after_import": [len(sink.events), sink.events[0]["model"]]}))
    sys.stdout.flush()
    # 2. another instrumentation wraps over us, we stop, they uninstrument, a new tracker starts
    from openai.resources.chat.completions import completions as module
    cls = module.Completions
    ours = vars(cls)["create"]
    def foreign(self, *a, **k):
        return ours(self, *a, **k)
    cls.create = foreign
    tracker.stop()                          # ours becomes a pass-through under theirs
    call()
    cls.create = ours.__wrapped__           # they uninstrument, restoring the SDK's own function
    s2 = autotrack.MemorySink()
    t2 = autotrack.track(s2, providers=["openai"])
    call()
    assert t2.flush(5)
    print(json.dumps({"foreign": [len(sink.events), len(s2.events)]}))
"""


@pytest.fixture(scope="module")
def subprocess_results():
    out = {}
    for line in _run(_SCRIPT).splitlines():
        out.update(json.loads(line))
    return out


def test_sdk_imported_after_track_is_patched(subprocess_results):
    assert subprocess_results["after_import"] == [1, "gpt-4o-mini"]


def test_foreign_wrapper_removed_later_then_new_tracker_still_tracks(subprocess_results):
    assert subprocess_results["foreign"] == [1, 1]
