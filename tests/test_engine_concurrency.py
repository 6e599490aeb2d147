"""Many threads, many tasks, a forked child: every call gives exactly one event with its own context."""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import threading
import traceback
from collections import Counter

import openai
import pytest

import autotrack
from tests.test_engine_support import chat_handler, client, sdk_httpx

N_THREADS = 32
# The brief asks for 200 calls per thread (6400 events). Each real SDK call costs ~2-5 ms of CPU under
# the GIL, so this one test dominates the suite; AUTOTRACK_STRESS_CALLS lowers it for quick local runs.
PER_THREAD = int(os.environ.get("AUTOTRACK_STRESS_CALLS", "200"))
OHX = sdk_httpx(openai)
EMBEDDING = {"object": "list", "data": [{"object": "embedding", "index": 0, "embedding": [0.5]}],
             "model": "text-embedding-3-small", "usage": {"prompt_tokens": 2, "total_tokens": 2}}


def test_32_threads_x_200_calls_give_6400_events_with_their_own_context():
    sink = autotrack.MemorySink()
    # embeddings: the cheapest real SDK call (chat's request transform costs twice as much)
    c = client(openai, lambda request: OHX.Response(200, json=EMBEDDING))
    # One untracked call first: the SDK's first use builds pydantic's deferred model schemas, and
    # doing that from 32 threads at once can fail inside the SDK (seen with openai 2.48 on Python
    # 3.9: PydanticUserError from a MockCoreSchema in _get_extra_fields_type). That race is not
    # ours; this test is about autotrack's own concurrency.
    c.embeddings.create(model="text-embedding-3-small", input="warm-up", encoding_format="float")
    barrier = threading.Barrier(N_THREADS)
    errors = []

    def work(i):
        try:
            barrier.wait(10)
            with autotrack.context(user_id=f"user-{i}", session_id=f"s-{i}"):
                for j in range(PER_THREAD):
                    c.embeddings.create(model="text-embedding-3-small", input=f"t{i} c{j}", encoding_format="float")
        except BaseException:  # pragma: no cover - reported below
            errors.append(traceback.format_exc())

    with autotrack.track(sink) as tracker:
        threads = [threading.Thread(target=work, args=(i,)) for i in range(N_THREADS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert tracker.flush(30)
        stats = tracker.stats
    total = N_THREADS * PER_THREAD
    assert errors == [], errors[0]
    assert len(sink.events) == total
    assert stats["emitted"] == total and stats["dropped"] == 0
    # each event's input came from the thread whose context it carries
    mismatched = [e for e in sink.events
                  if e["input_text"].split(" ")[0] != "t" + e["user_id"][5:] or e["session_id"] != "s-" + e["user_id"][5:]]
    assert mismatched == []
    per_user = Counter(e["user_id"] for e in sink.events)
    assert per_user == {f"user-{i}": PER_THREAD for i in range(N_THREADS)}
    assert len({e["input_text"] for e in sink.events}) == total


async def test_500_tasks_each_in_its_own_context():
    sink = autotrack.MemorySink()

    async def handler(request):
        return chat_handler()(request)

    c = client(openai, handler, is_async=True)

    async def one(i):
        with autotrack.context(user_id=f"task-{i}"):
            await asyncio.sleep(0)  # let the other tasks interleave inside their own contexts
            await c.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": f"n{i}"}])

    with autotrack.track(sink, include_outputs=False) as tracker:
        await asyncio.gather(*(one(i) for i in range(500)))
        assert tracker.flush(10)
    assert len(sink.events) == 500
    assert sorted(e["user_id"] for e in sink.events) == sorted(f"task-{i}" for i in range(500))
    assert all(e["input_text"] == f"user: n{e['user_id'][5:]}" for e in sink.events)


# -- fork -----------------------------------------------------------------------------------
def _child_call(tracker_holder, path_ok):
    # Runs in the forked child: the parent's tracker, sink and patches are inherited.
    tracker = tracker_holder[0]
    with autotrack.context(user_id="child", pid=os.getpid()):
        client(openai, chat_handler()).chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "from child"}])
    ok = tracker.flush(10)
    os._exit(0 if ok else 3)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_forked_child_still_emits_through_jsonl_sink(tmp_path):
    path = tmp_path / "events.jsonl"
    tracker = autotrack.track(f"jsonl:{path}")
    try:
        with autotrack.context(user_id="parent"):
            client(openai, chat_handler()).chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": "from parent"}])
        assert tracker.flush(5)
        ctx = multiprocessing.get_context("fork")
        proc = ctx.Process(target=_child_call, args=([tracker], True))
        proc.start()
        proc.join(30)
        if proc.is_alive():  # pragma: no cover - a deadlocked child must not hang the suite
            proc.kill()
            proc.join(5)
            pytest.fail("forked child hung")
        assert proc.exitcode == 0
    finally:
        tracker.stop()
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [(e["user_id"], e["event_properties"]["input_text"]) for e in lines] == [
        ("parent", "user: from parent"), ("child", "user: from child")]
    assert lines[1]["event_properties"]["pid"] == proc.pid


class _PerPidFile:
    """Writes one line per event with the writing process's pid; blocks in the parent until released."""

    def __init__(self, path, parent_pid):
        self.path, self.parent_pid = path, parent_pid
        self.entered, self.release = threading.Event(), threading.Event()

    def emit(self, events):
        if os.getpid() == self.parent_pid:
            self.entered.set()
            self.release.wait(30)
        with open(self.path, "a") as fh:
            for e in events:
                fh.write(json.dumps({"pid": os.getpid(), "text": e["event_properties"]["input_text"]}) + "\n")

    def flush(self):
        return None

    def close(self):
        return None


def _child_flush(tracker_holder):
    tracker = tracker_holder[0]
    client(openai, chat_handler()).chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "C"}])
    os._exit(0 if tracker.flush(10) else 3)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_forked_child_does_not_redeliver_the_parents_queue(tmp_path):
    path = tmp_path / "events.jsonl"
    sink = _PerPidFile(str(path), os.getpid())
    tracker = autotrack.track(sink)
    c = client(openai, chat_handler())
    try:
        c.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "A"}])
        assert sink.entered.wait(5)  # the parent's worker holds A inside emit()
        c.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "B"}])
        assert tracker.queued == 1  # B waits in the parent's queue
        proc = multiprocessing.get_context("fork").Process(target=_child_flush, args=([tracker],))
        proc.start()
        proc.join(30)
        if proc.is_alive():  # pragma: no cover
            proc.kill()
            proc.join(5)
            pytest.fail("forked child hung")
        assert proc.exitcode == 0
    finally:
        sink.release.set()
    assert tracker.flush(5)
    tracker.stop()
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    texts = Counter(e["text"] for e in lines)
    assert texts["user: C"] == 1
    assert texts == {"user: A": 1, "user: B": 1, "user: C": 1}
