#!/usr/bin/env python
"""autotrack's cost to the host app, measured on the real openai SDK, offline.

    python benchmarks/overhead.py              # the table (about 30-40 s on 2 cores)
    python benchmarks/overhead.py --profile    # and a cProfile of the tracked hot path

The SDK is the installed ``openai`` (1.x on httpx, or 2.x/3.x on httpx2); its HTTP is served
in-process by ``MockTransport`` (a fixed chat completion, or an SSE stream of chunks), so
what is timed is the SDK's own request building, response parsing and pydantic models,
with and without ``autotrack.track(<discarding sink>, providers=["openai"])``.

Method
------
* "untracked" means no tracker at all (the SDK's methods are the originals: checked after
  every ``stop()``); "tracked" means one active tracker with default options.
* The background work (the pipeline thread building events: tokens, cost, redaction; the
  delivery thread calling the sink) is kept out of the timed blocks: before a tracked block
  both are parked (the pipeline inside a ``redact=`` gate, the delivery thread inside the
  sink's ``emit``; each blocked on a ``threading.Event``, so neither holds the GIL) and they
  are released and flushed after the block. What the tables call "added" is therefore the
  cost on the caller's thread only. The background cost per event is printed separately.
* Timed blocks run with ``gc.disable()``; gc is re-enabled right after every block.
* Clock: ``time.perf_counter_ns``; every figure is a median (robust to the scheduler noise
  of a small machine); tracked and untracked blocks alternate, so drift hits both alike.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import tracemalloc
from pathlib import Path
from typing import Any, Callable, Dict, List, Sequence, Tuple

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # measure this checkout, installed or not

import autotrack  # noqa: E402

TARGET_CALL_US = 15.0
TARGET_CHUNK_US = 1.5
TARGET_IMPORT_MS = 50.0
HEAVY_MODULES = ("openai", "anthropic", "wrapt", "tiktoken", "genai_prices")

N_CHUNKS = 200  # the stream the brief asks about
N_CHUNKS_SHORT = 20  # the second length, for the per-chunk slope
MODEL = "gpt-4o-mini"
MESSAGES = [
    {"role": "system", "content": "You are a helpful assistant."},
    {"role": "user", "content": "Tell me a joke about opentelemetry, in one sentence please."},
]

_clock = time.perf_counter_ns


# -- the fake server ---------------------------------------------------------------------------
def _completion_body() -> bytes:
    return json.dumps(
        {
            "id": "chatcmpl-bench0000000000000000000000",
            "object": "chat.completion",
            "created": 1712345678,
            "model": "gpt-4o-mini-2024-07-18",
            "system_fingerprint": "fp_0123456789",
            "choices": [
                {
                    "index": 0,
                    "message": {
                        "role": "assistant",
                        "content": "Why did the span break up with the trace? It needed more context.",
                        "refusal": None,
                    },
                    "logprobs": None,
                    "finish_reason": "stop",
                }
            ],
            "usage": {
                "prompt_tokens": 31,
                "completion_tokens": 15,
                "total_tokens": 46,
                "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
                "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
            },
        }
    ).encode()


def _sse_body(n: int) -> bytes:
    """``n`` chat.completion.chunk events (one word each, the last with finish_reason) and [DONE].

    No usage chunk: the body is the same for both sides, although the tracked side asks for
    ``stream_options.include_usage`` (autotrack's default ``stream_usage="auto"``), so the
    tracked side pays its per-chunk "is this the injected usage chunk?" check on every chunk.
    """
    lines = []
    for i in range(n):
        last = i == n - 1
        chunk = {
            "id": "chatcmpl-bench0000000000000000000000",
            "object": "chat.completion.chunk",
            "created": 1712345678,
            "model": "gpt-4o-mini-2024-07-18",
            "system_fingerprint": "fp_0123456789",
            "choices": [
                {
                    "index": 0,
                    "delta": ({"role": "assistant", "content": ""} if i == 0 else {} if last else {"content": f" w{i}"}),
                    "logprobs": None,
                    "finish_reason": "stop" if last else None,
                }
            ],
        }
        lines.append(b"data: " + json.dumps(chunk).encode() + b"\n\n")
    lines.append(b"data: [DONE]\n\n")
    return b"".join(lines)


def _httpx_module() -> Any:
    """The HTTP library this openai uses: httpx2 for openai >= 2.x here, httpx for 1.x."""
    base = importlib.import_module("openai._base_client")
    for name in ("httpx2", "httpx"):
        module = getattr(base, name, None)
        if module is not None:
            return module
    return importlib.import_module("httpx")


def make_client(openai: Any, httpx: Any, body: bytes, content_type: str) -> Any:
    headers = {"content-type": content_type}

    def handler(request: Any) -> Any:
        return httpx.Response(200, content=body, headers=headers)

    http_client = httpx.Client(transport=httpx.MockTransport(handler))
    # api.openai.com, as in production: autotrack's stream_usage="auto" acts only on official endpoints.
    return openai.OpenAI(
        api_key="sk-test-key-0000000000000000", base_url="https://api.openai.com/v1", max_retries=0, http_client=http_client
    )


# -- the sink and the worker gate ---------------------------------------------------------------
class DiscardSink:
    """Discards events. While closed, the worker parks inside ``emit`` (no GIL held)."""

    def __init__(self) -> None:
        self._open = threading.Event()
        self._open.set()
        self._parked = threading.Event()
        self.events = 0

    def emit(self, events: Sequence[Dict[str, Any]]) -> None:
        self.events += len(events)
        if not self._open.is_set():
            self._parked.set()
            self._open.wait(30)

    def gate(self, text: str) -> str:
        """Passed as ``redact=``: runs on the pipeline thread, which parks here while closed."""
        if not self._open.is_set() and text == "park":
            self._parked.set()
            self._open.wait(30)
        return text

    def flush(self) -> None:
        return None

    def close(self) -> None:
        return None

    def park(self, tracker: Any) -> None:
        """Block ``tracker``'s worker inside emit(): records put now wait in the queue, unprocessed."""
        self._parked.clear()
        self._open.clear()
        tracker.record(autotrack.create_event(model="park", provider="bench", operation="park", input_data="park"))
        if not self._parked.wait(10):
            raise RuntimeError("the pipeline did not park")

    def release(self, tracker: Any) -> float:
        """Let the worker go and wait for it; returns the seconds it took to drain the queue."""
        t0 = time.perf_counter()
        self._open.set()
        if not tracker.flush(30):
            raise RuntimeError("flush timed out")
        return time.perf_counter() - t0


class Tracking:
    """track()/stop() with the worker parked around the timed block."""

    def __init__(self, originals: Dict[str, Any], owner: Any, **options: Any) -> None:
        self.sink = DiscardSink()
        self.options = options
        self.tracker: Any = None
        self._owner = owner
        self._originals = originals

    def __enter__(self) -> Any:
        self.tracker = autotrack.track(self.sink, providers=["openai"], redact=self.sink.gate, **self.options)
        self.sink.park(self.tracker)
        return self.tracker

    def __exit__(self, *exc: Any) -> None:
        self.drain_s = self.sink.release(self.tracker)
        self.tracker.stop()
        assert_unpatched(self._owner, self._originals)


def assert_unpatched(owner: Any, originals: Dict[str, Any]) -> None:
    for name, original in originals.items():
        if vars(owner)[name] is not original:
            raise RuntimeError(f"{owner.__name__}.{name} was not restored by tracker.stop()")


# -- timing helpers ---------------------------------------------------------------------------
def timed_calls(fn: Callable[[], Any], n: int) -> List[int]:
    """n per-call durations (ns), gc off for the block."""
    out = [0] * n
    clock = _clock
    gc.disable()
    try:
        for i in range(n):
            t0 = clock()
            fn()
            out[i] = clock() - t0
    finally:
        gc.enable()
    return out


def med(values: Sequence[float]) -> float:
    return statistics.median(values)


def quartiles(values: Sequence[float]) -> Tuple[float, float]:
    q = statistics.quantiles(values, n=4)
    return q[0], q[2]


# -- 3. import time, in fresh interpreters ---------------------------------------------------
IMPORT_PROBE = (
    "import sys, time, json; t = time.perf_counter(); import autotrack; dt = time.perf_counter() - t; "
    "print(json.dumps({'s': dt, 'heavy': sorted(m for m in %r if m in sys.modules), "
    "'file': autotrack.__file__}))" % (HEAVY_MODULES,)
)


def measure_import(runs: int = 9) -> Tuple[float, List[str], str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTOTRACK_")}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    times, heavy, where = [], set(), ""
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", IMPORT_PROBE], cwd=str(ROOT), env=env, capture_output=True, text=True, check=True
        )
        data = json.loads(out.stdout.strip().splitlines()[-1])
        times.append(data["s"])
        heavy.update(data["heavy"])
        where = data["file"]
    return med(times) * 1e3, sorted(heavy), where


# -- 1 & 4. non-streaming calls -----------------------------------------------------------------
def bench_calls(create: Callable[[], Any], tracking: Callable[[], Tracking], rounds: int, block: int) -> Dict[str, Any]:
    """Alternating blocks of ``block`` calls: untracked, tracked, untracked, tracked ...

    Gives two views of the same kind of data:
      * per-call medians over every call of each side (item 1, simple);
      * per-block means, paired with the neighbouring untracked block (item 4, the hot path
        with the noise of a 2-core machine averaged inside a block and the drift between
        blocks cancelled by pairing): median of (tracked block mean - untracked block mean).
    """
    untracked_calls: List[int] = []
    tracked_calls: List[int] = []
    untracked_means: List[float] = []
    tracked_means: List[float] = []
    drain: List[float] = []
    for r in range(rounds):
        order = (False, True) if r % 2 == 0 else (True, False)  # ABBA: no side always goes first
        for tracked in order:
            if tracked:
                t = tracking()
                with t:
                    samples = timed_calls(create, block)
                drain.append(t.drain_s / block)
                tracked_calls += samples
                tracked_means.append(sum(samples) / block)
            else:
                samples = timed_calls(create, block)
                untracked_calls += samples
                untracked_means.append(sum(samples) / block)
    paired = [t - u for t, u in zip(tracked_means, untracked_means)]
    return {
        "untracked_call": med(untracked_calls) / 1e3,
        "tracked_call": med(tracked_calls) / 1e3,
        "untracked_block": med(untracked_means) / 1e3,
        "tracked_block": med(tracked_means) / 1e3,
        "paired_added": med(paired) / 1e3,
        "paired_iqr": tuple(x / 1e3 for x in quartiles(paired)),
        "worker_us_per_event": med(drain) * 1e6,
        "calls": len(tracked_calls) + len(untracked_calls),
    }


# -- 2. streams ---------------------------------------------------------------------------------
def bench_streams(
    creates: Dict[int, Callable[[], Any]], tracking: Callable[[], Tracking], rounds: int, per_block: int
) -> Dict[str, Any]:
    """Whole-stream times (create + iterate to the end) for two lengths, tracked and not.

    Per chunk = (median T(200) - median T(20)) / 180 for each side: the slope, so the
    per-call costs (request, the wrapper, stream set-up and hand-over) cancel out. The
    fixed per-stream cost autotrack adds is the intercept difference, reported apart.
    """
    samples: Dict[Tuple[bool, int], List[int]] = {(t, n): [] for t in (False, True) for n in creates}
    clock = _clock

    def run(n: int) -> int:
        t0 = clock()
        for _ in creates[n]():
            pass
        return clock() - t0

    for r in range(rounds):
        order = (False, True) if r % 2 == 0 else (True, False)
        for tracked in order:
            t = tracking() if tracked else None
            if t is not None:
                t.__enter__()
            try:
                gc.disable()
                try:
                    for _ in range(per_block):
                        for n in creates:
                            samples[(tracked, n)].append(run(n))
                finally:
                    gc.enable()
            finally:
                if t is not None:
                    t.__exit__(None, None, None)
    long_n, short_n = max(creates), min(creates)
    m = {k: med(v) / 1e3 for k, v in samples.items()}
    slope = {t: (m[(t, long_n)] - m[(t, short_n)]) / (long_n - short_n) for t in (False, True)}
    intercept = {t: m[(t, long_n)] - slope[t] * long_n for t in (False, True)}
    return {"m": m, "slope": slope, "intercept": intercept, "long": long_n, "short": short_n}


class Isolated:
    """autotrack's own wrapper, exactly as installed on ``Completions.create``, around a trivial SDK method.

    While a tracker is active, the class attribute it installed is a ``wrapt.FunctionWrapper``
    whose wrapper function (``_self_wrapper``) is autotrack's closure for chat completions.
    Here that same closure wraps a stand-in ``create`` that returns a prepared SDK object at
    once: a real ``ChatCompletion``, or a real ``openai.Stream`` whose ``_iterator`` runs over
    chunks the SDK already parsed (``Stream.__iter__`` is the SDK's own). The untracked side
    calls the same stand-in unwrapped. What differs is autotrack's hot path and nothing else:
    the SDK's ~1-3 ms of request building and parsing, and its noise, are gone.
    """

    def __init__(self, openai: Any, client: Any, completion: Any, chunks: List[Any]) -> None:
        self.completion = completion
        self.chunks = chunks
        stream_cls = openai.Stream

        def fake_create(self_: Any, **kwargs: Any) -> Any:
            n = kwargs.get("n_chunks")
            if n is None:
                return completion
            stream = object.__new__(stream_cls)
            stream._iterator = iter(chunks[:n])
            return stream

        class Plain:
            create = fake_create

            def __init__(self) -> None:
                self._client = client  # what autotrack reads from the resource (the endpoint)

        self._fake = fake_create
        self._plain_cls = Plain
        self.plain = Plain()

    def wrapped(self, owner: Any) -> Any:
        """A resource whose ``create`` is wrapped by the tracker active now."""
        import wrapt

        installed = vars(owner)["create"]
        wrapper = installed._self_wrapper  # autotrack's closure for Completions.create

        class Tracked(self._plain_cls):  # type: ignore[name-defined, misc]
            create = wrapt.FunctionWrapper(self._fake, wrapper)

        return Tracked()


def bench_isolated(iso: Isolated, owner: Any, tracking: Callable[[], Tracking], rounds: int, block: int,
                   stream_lengths: Tuple[int, int], streams_per_block: int) -> Dict[str, Any]:
    """Interleaved blocks (ABBA) of ``block`` calls, and of whole fake streams of two lengths."""
    call_means: Dict[bool, List[float]] = {False: [], True: []}
    stream_t: Dict[Tuple[bool, int], List[int]] = {(t, n): [] for t in (False, True) for n in stream_lengths}
    clock = _clock
    kwargs = {"model": MODEL, "messages": MESSAGES, "temperature": 0.2}

    def one_block(resource: Any, tracked: bool) -> None:
        create = resource.create
        samples = timed_calls(lambda: create(**kwargs), block)
        call_means[tracked].append(sum(samples) / block)
        gc.disable()
        try:
            for _ in range(streams_per_block):
                for n in stream_lengths:
                    t0 = clock()
                    for _c in resource.create(model=MODEL, messages=MESSAGES, stream=True, n_chunks=n):
                        pass
                    stream_t[(tracked, n)].append(clock() - t0)
        finally:
            gc.enable()

    for r in range(rounds):
        for tracked in ((False, True) if r % 2 == 0 else (True, False)):
            if tracked:
                with tracking():
                    one_block(iso.wrapped(owner), True)
            else:
                one_block(iso.plain, False)
    paired = [t - u for t, u in zip(call_means[True], call_means[False])]
    long_n, short_n = max(stream_lengths), min(stream_lengths)
    m = {k: med(v) / 1e3 for k, v in stream_t.items()}
    slope = {t: (m[(t, long_n)] - m[(t, short_n)]) / (long_n - short_n) for t in (False, True)}
    intercept = {t: m[(t, long_n)] - slope[t] * long_n for t in (False, True)}
    return {
        "untracked": med(call_means[False]) / 1e3,
        "tracked": med(call_means[True]) / 1e3,
        "added": med(paired) / 1e3,
        "iqr": tuple(x / 1e3 for x in quartiles(paired)),
        "m": m, "slope": slope, "intercept": intercept, "long": long_n, "short": short_n,
    }


# -- 5. memory ----------------------------------------------------------------------------------
def _rss_bytes() -> int:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def bench_memory(make_create: Callable[[], Callable[[], Any]], calls: int, label: str,
                 use_tracemalloc: bool) -> Dict[str, Any]:
    """``calls`` tracked calls, the worker running freely (as in production), a discarding sink.

    ``make_create()`` is called with the tracker active (the isolated path needs the wrapper
    installed now). Reported: RSS growth and, with tracemalloc, the peak of Python
    allocations during the run and what is still allocated after flush + gc ("retained",
    relative to the start: a per-call leak shows here). The queue length is sampled.
    """
    sink = DiscardSink()
    tracker = autotrack.track(sink, providers=["openai"])
    create = make_create()
    for _ in range(100):
        create()
    tracker.flush(60)
    gc.collect()
    rss0 = _rss_bytes()
    if use_tracemalloc:
        tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0] if use_tracemalloc else 0
    max_queued = 0
    t0 = time.perf_counter()
    for i in range(calls):
        create()
        if i % 100 == 0:
            max_queued = max(max_queued, tracker.queued)
    elapsed = time.perf_counter() - t0
    tracker.flush(120)
    gc.collect()
    current, peak = tracemalloc.get_traced_memory() if use_tracemalloc else (0, 0)
    if use_tracemalloc:
        tracemalloc.stop()
    rss1 = _rss_bytes()
    stats = tracker.stats
    limit = tracker.options.max_queue_size
    tracker.stop()
    return {
        "label": label,
        "calls": calls,
        "elapsed_s": elapsed,
        "tracemalloc": use_tracemalloc,
        "peak_kib": (peak - base) / 1024,
        "retained_kib": (current - base) / 1024,
        "rss_growth_mib": (rss1 - rss0) / 2**20,
        "max_queued": max_queued,
        "limit": limit,
        "stats": stats,
    }


def bench_backpressure(make_create: Callable[[], Callable[[], Any]], max_queue: int) -> Dict[str, Any]:
    """The queue bound when the worker cannot keep up: worker parked, twice max_queue_size calls."""
    sink = DiscardSink()
    tracker = autotrack.track(sink, providers=["openai"], max_queue_size=max_queue, redact=sink.gate)
    create = make_create()
    sink.park(tracker)
    for _ in range(2 * max_queue):
        create()
    held = dict(tracker.stats, queued=tracker.queued)
    sink.release(tracker)
    tracker.stop()
    return {"limit": max_queue, "queued": held["queued"], "dropped": held["dropped"]}


# -- report -----------------------------------------------------------------------------------
def ok(value: float, target: float) -> str:
    return f"≤ {target:g} {'✅' if value <= target else '❌'}"


def profile_tracked(create: Callable[[], Any], stream_create: Callable[[], Any], originals: Any, owner: Any) -> None:
    import cProfile
    import pstats

    for label, fn, n in (("non-streaming call", create, 3000), ("200-chunk stream", lambda: [c for c in stream_create()], 100)):
        t = Tracking(originals, owner)
        with t:
            prof = cProfile.Profile()
            prof.enable()
            for _ in range(n):
                fn()
            prof.disable()
        stats = pstats.Stats(prof)
        print(f"\n### cProfile, tracked {label} x{n}: autotrack functions (tottime/cumtime per call, µs; "
              "cProfile inflates small functions)\n")
        rows = []
        for (file, line, name), (cc, nc, tt, ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
            if "/autotrack/" in file and "benchmarks" not in file:
                rows.append((ct, tt, nc, f"{Path(file).name}:{line}:{name}"))
        rows.sort(reverse=True)
        print("| function | calls | tottime µs/call | cumtime µs/call |\n|---|---|---|---|")
        for ct, tt, nc, where in rows[:15]:
            print(f"| {where} | {nc // n if nc >= n else f'{nc}/{n}'} | {tt / n * 1e6:.2f} | {ct / n * 1e6:.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds (a smoke test, noisier)")
    parser.add_argument("--profile", action="store_true", help="also print a cProfile of the tracked hot path")
    parser.add_argument("--memory-calls", type=int, default=20_000,
                        help="tracked calls in the memory run (isolated path; default 20000)")
    parser.add_argument("--memory-sdk-calls", type=int, default=300,
                        help="tracked calls through the SDK + MockTransport under tracemalloc (default 300; "
                             "~5 ms each under tracemalloc on a 2-core box)")
    args = parser.parse_args()
    scale = 0.25 if args.quick else 1.0
    os.environ.pop("AUTOTRACK_RAISE_INTERNAL_ERRORS", None)  # production behaviour
    started = time.perf_counter()
    phases: Dict[str, float] = {}

    def phase(name: str) -> None:
        phases[name] = time.perf_counter()

    phase("import")
    import_ms, heavy, where = measure_import(runs=5 if args.quick else 7)

    phase("setup")
    import openai

    httpx = _httpx_module()
    chat_module = ("openai.resources.chat.completions.completions"
                   if importlib.util.find_spec("openai.resources.chat.completions.completions")
                   else "openai.resources.chat.completions")
    owner = importlib.import_module(chat_module).Completions
    originals = {name: vars(owner)[name] for name in ("create", "parse") if name in vars(owner)}

    chat = make_client(openai, httpx, _completion_body(), "application/json")
    streams = {n: make_client(openai, httpx, _sse_body(n), "text/event-stream") for n in (N_CHUNKS, N_CHUNKS_SHORT)}

    def create() -> Any:
        return chat.chat.completions.create(model=MODEL, messages=MESSAGES, temperature=0.2)

    def stream_create(n: int) -> Callable[[], Any]:
        client = streams[n]
        return lambda: client.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True)

    stream_creates = {n: stream_create(n) for n in streams}

    # sanity: the mock answers as the real API would, and tracking yields one event per call
    completion = create()
    assert completion.choices[0].message.content
    chunks = list(stream_creates[N_CHUNKS]())
    assert len(chunks) == N_CHUNKS
    check = autotrack.MemorySink()
    with autotrack.track(check, providers=["openai"]) as tr:
        create()
        list(stream_creates[N_CHUNKS]())
        tr.flush(10)
    assert [e["event_properties"]["streaming"] for e in check.events] == [False, True], check.events
    assert check.events[1]["event_properties"]["stream_completed"] == "completed"
    assert_unpatched(owner, originals)

    def tracking() -> Tracking:
        return Tracking(originals, owner)

    iso = Isolated(openai, chat, completion, chunks)

    # warm-up, both sides (lazy imports, pydantic caches ...)
    timed_calls(create, 100)
    with tracking():
        timed_calls(create, 100)
        for _ in range(3):
            list(stream_creates[N_CHUNKS]())
        timed_calls(lambda: iso.wrapped(owner).create(model=MODEL, messages=MESSAGES), 500)
    for _ in range(3):
        list(stream_creates[N_CHUNKS]())

    phase("sdk calls")
    calls = bench_calls(create, tracking, rounds=max(4, int(12 * scale)), block=100)
    phase("sdk streams")
    sr = bench_streams(stream_creates, tracking, rounds=max(2, int(6 * scale)), per_block=2)
    phase("isolated")
    isr = bench_isolated(iso, owner, tracking, rounds=max(6, int(24 * scale)), block=300,
                         stream_lengths=(N_CHUNKS, N_CHUNKS_SHORT), streams_per_block=3)

    phase("memory")

    def isolated_create() -> Callable[[], Any]:
        resource = iso.wrapped(owner)
        return lambda: resource.create(model=MODEL, messages=MESSAGES, temperature=0.2)

    mem_iso = bench_memory(isolated_create, int(args.memory_calls * scale), "isolated wrapper", False)
    mem_sdk = bench_memory(lambda: create, int(args.memory_sdk_calls * scale), "SDK + MockTransport", True)
    bp = bench_backpressure(isolated_create, 500)
    phase("end")

    # -- the table --
    c = calls
    added_call = c["tracked_call"] - c["untracked_call"]
    L, S = sr["long"], sr["short"]
    m = sr["m"]
    per_chunk_u, per_chunk_t = sr["slope"][False], sr["slope"][True]
    added_chunk = per_chunk_t - per_chunk_u
    naive_chunk = (m[(True, L)] - m[(False, L)]) / L
    stream_fixed = sr["intercept"][True] - sr["intercept"][False]
    i_added_chunk = isr["slope"][True] - isr["slope"][False]
    i_naive_chunk = (isr["m"][(True, L)] - isr["m"][(False, L)]) / L
    i_fixed = isr["intercept"][True] - isr["intercept"][False]
    imp_ok = "✅" if import_ms <= TARGET_IMPORT_MS else "❌"

    def ratio(a: float, b: float) -> str:
        return f"{a / b:.3f}" if b > 0 else "n/a"

    print(f"\n## autotrack overhead: openai {openai.__version__} on {httpx.__name__} {httpx.__version__}, "
          f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}\n")
    print("| case | untracked | tracked | added | ratio | target |")
    print("|---|---|---|---|---|---|")
    print(f"| 1. `chat.completions.create` via SDK + MockTransport, median µs/call ({c['calls'] // 2} calls/side) | "
          f"{c['untracked_call']:.1f} | {c['tracked_call']:.1f} | {added_call:+.1f} | "
          f"{ratio(c['tracked_call'], c['untracked_call'])} | {ok(added_call, TARGET_CALL_US)} µs |")
    print(f"| 1b. same, interleaved blocks of 100: median of paired block means, µs/call (IQR of added "
          f"{c['paired_iqr'][0]:+.0f} … {c['paired_iqr'][1]:+.0f}) | {c['untracked_block']:.1f} | "
          f"{c['tracked_block']:.1f} | {c['paired_added']:+.1f} | {ratio(c['tracked_block'], c['untracked_block'])} | "
          f"{ok(c['paired_added'], TARGET_CALL_US)} µs |")
    print(f"| 2. SDK stream, µs/chunk (slope {S}→{L} chunks) | {per_chunk_u:.2f} | {per_chunk_t:.2f} | "
          f"{added_chunk:+.2f} | {ratio(per_chunk_t, per_chunk_u)} | {ok(added_chunk, TARGET_CHUNK_US)} µs |")
    print(f"| 2b. SDK stream, whole (create + {L} chunks), µs; added/{L} = {naive_chunk:+.2f} µs/chunk | "
          f"{m[(False, L)]:.0f} | {m[(True, L)]:.0f} | {m[(True, L)] - m[(False, L)]:+.0f} | "
          f"{ratio(m[(True, L)], m[(False, L)])} | {ok(naive_chunk, TARGET_CHUNK_US)} µs/chunk |")
    print(f"| 2c. SDK stream, fixed cost per stream (intercept), µs | {sr['intercept'][False]:.0f} | "
          f"{sr['intercept'][True]:.0f} | {stream_fixed:+.0f} | | |")
    print(f"| 4. hot path isolated: wrapper on a no-op `create`, interleaved blocks of 300, µs/call (IQR of added "
          f"{isr['iqr'][0]:+.2f} … {isr['iqr'][1]:+.2f}) | {isr['untracked']:.2f} | {isr['tracked']:.2f} | "
          f"{isr['added']:+.2f} | | {ok(isr['added'], TARGET_CALL_US)} µs |")
    print(f"| 4b. hot path isolated: `openai.Stream` over pre-parsed chunks, µs/chunk (slope {S}→{L}) | "
          f"{isr['slope'][False]:.3f} | {isr['slope'][True]:.3f} | {i_added_chunk:+.3f} | | "
          f"{ok(i_added_chunk, TARGET_CHUNK_US)} µs |")
    print(f"| 4c. hot path isolated: same, whole stream of {L}; added/{L} = {i_naive_chunk:+.3f} µs/chunk | "
          f"{isr['m'][(False, L)]:.0f} | {isr['m'][(True, L)]:.0f} | {isr['m'][(True, L)] - isr['m'][(False, L)]:+.0f} | | "
          f"{ok(i_naive_chunk, TARGET_CHUNK_US)} µs/chunk |")
    print(f"| 4d. hot path isolated: fixed cost per stream (intercept), µs | {isr['intercept'][False]:.1f} | "
          f"{isr['intercept'][True]:.1f} | {i_fixed:+.1f} | | |")
    print(f"| 3. `import autotrack`, fresh interpreter, median ms | | {import_ms:.1f} | | | ≤ {TARGET_IMPORT_MS:g} {imp_ok} ms |")
    for mem in (mem_iso, mem_sdk):
        bounded = mem["max_queued"] <= 2 * mem["limit"]  # two queues (pipeline, delivery), each bounded
        figures = (f"peak {mem['peak_kib']:.0f} KiB, retained {mem['retained_kib']:.0f} KiB, RSS {mem['rss_growth_mib']:+.1f} MiB"
                   if mem["tracemalloc"] else f"RSS {mem['rss_growth_mib']:+.1f} MiB")
        print(f"| 5. memory, {mem['calls']:,} tracked calls ({mem['label']}), after flush | | {figures} | | | "
              f"queues ≤ 2×{mem['limit']} {'✅' if bounded else '❌'} |")
    print(f"| info: worker time per event, drained after a block (background thread), µs | | "
          f"{c['worker_us_per_event']:.0f} | | | |")

    print()
    heavy_line = ", ".join(heavy) if heavy else "none"
    print(f"- import: `import autotrack` ({where}) loaded, of {', '.join(HEAVY_MODULES)}: **{heavy_line}** "
          f"{'✅' if not heavy else '❌'}")
    for mem in (mem_iso, mem_sdk):
        print(f"- memory ({mem['label']}): {mem['calls']:,} calls in {mem['elapsed_s']:.1f} s"
              f"{' under tracemalloc' if mem['tracemalloc'] else ''}; max tracker.queued sampled "
              f"{mem['max_queued']} (max_queue_size {mem['limit']}); stats after flush {mem['stats']}")
    print(f"- queue under back-pressure (worker parked, {2 * bp['limit']} calls, max_queue_size={bp['limit']}): "
          f"queued {bp['queued']}, dropped {bp['dropped']} {'✅' if bp['queued'] <= bp['limit'] else '❌'}")
    names = list(phases)
    spent = ", ".join(f"{a} {phases[b] - phases[a]:.0f}s" for a, b in zip(names, names[1:]))
    print(f"- time: total {time.perf_counter() - started:.0f} s ({spent})")

    if args.profile:
        profile_tracked(create, stream_creates[N_CHUNKS], originals, owner)

    bounded_all = all(mm["max_queued"] <= 2 * mm["limit"] for mm in (mem_iso, mem_sdk)) and bp["queued"] <= bp["limit"]
    if heavy or not bounded_all:
        sys.exit(1)


if __name__ == "__main__":
    main()
