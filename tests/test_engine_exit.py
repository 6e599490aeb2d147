"""Events queued when the interpreter exits are flushed, within a deadline, never hanging the exit."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

_APP = """
    import threading, autotrack, openai
    import openai._base_client as base
    hx = getattr(base, "httpx2", None) or base.httpx
    body = {"id": "c1", "object": "chat.completion", "created": 1, "model": "gpt-4o-mini",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}}
    c = openai.OpenAI(api_key="sk-x", max_retries=0,
                      http_client=hx.Client(transport=hx.MockTransport(lambda r: hx.Response(200, json=body))))
"""


def _run(code: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("AUTOTRACK_RAISE_INTERNAL_ERRORS", None)
    return subprocess.run([sys.executable, "-c", textwrap.dedent(_APP + code)], capture_output=True, text=True,
                          timeout=60, env=env, cwd=ROOT)


def test_queued_events_are_written_at_exit(tmp_path):
    out = tmp_path / "events.jsonl"
    proc = _run(f"""
    autotrack.track("jsonl:{out}", providers=["openai"])
    for _ in range(5):
        c.chat.completions.create(model="gpt-4o-mini", messages=[{{"role": "user", "content": "x"}}])
    # no flush, no stop: the exit hook delivers what is queued
    """)
    assert proc.returncode == 0, proc.stderr
    lines = out.read_text().splitlines()
    assert len(lines) == 5
    assert all(json.loads(line)["event_properties"]["model"] == "gpt-4o-mini" for line in lines)


def test_a_hanging_sink_does_not_hang_exit():
    started = time.monotonic()
    proc = _run("""
    forever = threading.Event()
    autotrack.track(lambda event: forever.wait(), providers=["openai"], exit_flush_timeout=0.5)
    c.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}])
    c.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}])
    print("app done")
    """)
    elapsed = time.monotonic() - started
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "app done"
    assert elapsed < 20  # the interpreter start dominates; without the deadline it would never end
