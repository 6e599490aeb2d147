"""autotrack in one minute, offline: real recorded OpenAI and Anthropic responses are replayed.

    pip install -e ".[dev]" && python examples/quickstart.py

No API key and no network: the HTTP exchanges come from cassettes recorded against the real
APIs (tests/cassettes, see its README for their origin). Each call prints its event.
"""

from __future__ import annotations

import json
from pathlib import Path

import anthropic
import openai
import vcr

import autotrack

CASSETTES = Path(__file__).resolve().parent.parent / "tests" / "cassettes"
replay = vcr.VCR(record_mode="none", match_on=["method", "scheme", "host", "port", "path"])


def show(event: dict) -> None:
    props = {k: v for k, v in event["event_properties"].items() if v is not None}
    print(json.dumps({"event_type": event["event_type"], **props}, indent=2, ensure_ascii=False))


def main() -> None:
    tracker = autotrack.track(show)  # the one line; a callable sink prints each event

    with autotrack.context(user_id="user-42", plan="pro"):
        with replay.use_cassette(str(CASSETTES / "openllmetry/openai/test_chat/test_chat.yaml")):
            client = openai.OpenAI(api_key="sk-not-a-real-key", max_retries=0)
            reply = client.chat.completions.create(
                model="gpt-3.5-turbo",
                messages=[{"role": "user", "content": "Tell me a joke about opentelemetry"}],
            )
            print("app got:", reply.choices[0].message.content)
        tracker.flush()  # only so the printed event follows the app's output here

        path = "dd-trace-py/openai/chat_completion_stream_prompt_caching_cache_read.yaml"
        with replay.use_cassette(str(CASSETTES / path)):
            stream = client.chat.completions.create(
                model="gpt-4o",
                messages=[{"role": "user", "content": "How should I structure a database schema?"}],
                stream=True,
                stream_options={"include_usage": True},
            )
            text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
            print("app streamed", len(text), "characters")
        tracker.flush()

        path = "openllmetry/anthropic/test_messages/test_anthropic_message_create_legacy.yaml"
        with replay.use_cassette(str(CASSETTES / path)):
            claude = anthropic.Anthropic(api_key="sk-ant-not-a-real-key", max_retries=0)
            message = claude.messages.create(
                model="claude-3-opus-20240229",
                max_tokens=1024,
                messages=[{"role": "user", "content": "Tell me a joke about OpenTelemetry"}],
            )
            print("app got:", message.content[0].text[:80], "...")

    tracker.flush()
    print("stats:", tracker.stats)
    tracker.stop()


if __name__ == "__main__":
    main()
