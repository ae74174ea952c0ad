"""Helpers for the OpenAI-compatible provider's tests."""

from __future__ import annotations

from typing import Any

import pytest

from jackfield.testing.transcripts import ReplayTransport, Transcript
from jackfield_openai._provider import OpenAIProvider

FAST = {"retries": {"attempts": 0}, "timeouts": {"connect": 2, "first_byte": 5, "idle": 5}}


def replay_provider(
    *transcripts: Transcript, chunks: list[bytes] | None = None, **options: Any
) -> tuple[OpenAIProvider, ReplayTransport]:
    """A provider whose every request is answered by the transcripts, cut into ``chunks``."""
    transport = ReplayTransport(*transcripts, chunks=chunks)
    provider = OpenAIProvider.from_options(
        {"base_url": "http://127.0.0.1:9/v1", **FAST, **options},
        name="replay",
        transport=transport,
        async_transport=transport,
    )
    return provider, transport  # type: ignore[return-value]


def sse_transcript(
    *events: bytes | str, status: int = 200, content_type: str = "text/event-stream"
) -> Transcript:
    body = b"".join(e if isinstance(e, bytes) else f"data: {e}\n\n".encode() for e in events)
    return Transcript(status, (("content-type", content_type),), body)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
