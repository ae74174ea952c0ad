"""Every client the benchmark measures, each written the way its users would write it.

A client builds its handle with ``make(base_url)`` (the ``/v1`` URL) and consumes one whole
stream with ``run(handle, n)`` (or ``arun``), returning a :class:`Got`: the time the first
content arrived, the text, the number of content pieces and the completion tokens reported.
Imports happen in ``load()``, so timing can leave them out.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

import attrs

from dev.bench.workload import PROMPT, model

perf = time.perf_counter


@attrs.define
class Got:
    first: float
    text: str
    pieces: int
    tokens: int | None


@attrs.define
class Client:
    name: str
    label: str
    is_async: bool
    load: Callable[[], Any]
    make: Callable[[str], Any]
    run: Callable[..., Any]
    close: Callable[[Any], Any] = lambda handle: None
    optional: bool = False  # left out when its package is not installed


def _body(n: int) -> dict[str, Any]:
    return {
        "model": model(n),
        "messages": PROMPT,
        "stream": True,
        "stream_options": {"include_usage": True},
    }


# --- jackfield: registry -> provider -> typed fragments ---------------------------------------


def _sb_load() -> Any:
    # Everything the first create() and stream() import on demand is imported here, so the
    # "cold" figure counts construction and the first request, as it does for every client.
    import httpcore  # noqa: F401
    import httpx  # noqa: F401

    import jackfield
    import jackfield._converter
    import jackfield_openai._provider  # noqa: F401

    return jackfield


def _sb_make(base: str) -> Any:
    import jackfield

    return jackfield.load_registry().create("openai-compatible", {"base_url": base})


def _sb_run(provider: Any, n: int) -> Got:
    from jackfield import Completion, TextDelta

    first = 0.0
    parts: list[str] = []
    tokens = None
    for fragment in provider.stream(PROMPT, model=model(n)):
        kind = type(fragment)
        if kind is TextDelta:
            if not first:
                first = perf()
            parts.append(fragment.text)
        elif kind is Completion:
            tokens = fragment.usage.completion_tokens
    return Got(first, "".join(parts), len(parts), tokens)


async def _sb_arun(provider: Any, n: int) -> Got:
    from jackfield import Completion, TextDelta

    first = 0.0
    parts: list[str] = []
    tokens = None
    async for fragment in provider.astream(PROMPT, model=model(n)):
        kind = type(fragment)
        if kind is TextDelta:
            if not first:
                first = perf()
            parts.append(fragment.text)
        elif kind is Completion:
            tokens = fragment.usage.completion_tokens
    return Got(first, "".join(parts), len(parts), tokens)


async def _sb_aclose(provider: Any) -> None:
    await provider.aclose()


# --- the openai SDK -------------------------------------------------------------------------------


def _openai_load() -> Any:
    import httpcore  # noqa: F401 - httpx imports it when the first client is built
    import openai

    return openai


def _openai_make(base: str) -> Any:
    import openai

    return openai.OpenAI(base_url=base, api_key="bench", max_retries=0)


def _openai_amake(base: str) -> Any:
    import openai

    return openai.AsyncOpenAI(base_url=base, api_key="bench", max_retries=0)


def _openai_run(client: Any, n: int) -> Got:
    first = 0.0
    parts: list[str] = []
    tokens = None
    stream = client.chat.completions.create(
        model=model(n), messages=PROMPT, stream=True, stream_options={"include_usage": True}
    )
    for chunk in stream:
        if chunk.choices:
            content = chunk.choices[0].delta.content
            if content:
                if not first:
                    first = perf()
                parts.append(content)
        if chunk.usage:
            tokens = chunk.usage.completion_tokens
    return Got(first, "".join(parts), len(parts), tokens)


async def _openai_arun(client: Any, n: int) -> Got:
    first = 0.0
    parts: list[str] = []
    tokens = None
    stream = await client.chat.completions.create(
        model=model(n), messages=PROMPT, stream=True, stream_options={"include_usage": True}
    )
    async for chunk in stream:
        if chunk.choices:
            content = chunk.choices[0].delta.content
            if content:
                if not first:
                    first = perf()
                parts.append(content)
        if chunk.usage:
            tokens = chunk.usage.completion_tokens
    return Got(first, "".join(parts), len(parts), tokens)


async def _aclose(client: Any) -> None:
    await client.close()


# --- litellm --------------------------------------------------------------------------------------


def _litellm_load() -> Any:
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no network at import
    import litellm

    return litellm


def _litellm_run(base: str, n: int) -> Got:
    import litellm

    first = 0.0
    parts: list[str] = []
    tokens = None
    stream = litellm.completion(
        model=f"openai/{model(n)}",
        api_base=base,
        api_key="bench",
        messages=PROMPT,
        stream=True,
        stream_options={"include_usage": True},
    )
    for chunk in stream:
        if chunk.choices:
            content = chunk.choices[0].delta.content
            if content:
                if not first:
                    first = perf()
                parts.append(content)
        usage = getattr(chunk, "usage", None)
        if usage:
            tokens = usage.completion_tokens
    return Got(first, "".join(parts), len(parts), tokens)


# --- httpx + httpx-sse + json.loads -------------------------------------------------------------


def _httpx_load() -> Any:
    import httpcore  # noqa: F401 - httpx imports it when the first client is built
    import httpx
    import orjson  # noqa: F401

    return httpx


def _httpx_make(base: str) -> Any:
    import httpx

    return (httpx.Client(limits=httpx.Limits(max_connections=None), timeout=None), base)


def _httpx_amake(base: str) -> Any:
    import httpx

    return (httpx.AsyncClient(limits=httpx.Limits(max_connections=None), timeout=None), base)


def _sse_load() -> Any:
    import httpx_sse

    return _httpx_load(), httpx_sse


def _sse_run(handle: Any, n: int) -> Got:
    import json

    from httpx_sse import connect_sse

    client, base = handle
    first = 0.0
    parts: list[str] = []
    tokens = None
    with connect_sse(client, "POST", f"{base}/chat/completions", json=_body(n)) as events:
        for event in events.iter_sse():
            if event.data == "[DONE]":
                break
            data = json.loads(event.data)
            choices = data["choices"]
            if choices:
                content = choices[0]["delta"].get("content")
                if content:
                    if not first:
                        first = perf()
                    parts.append(content)
            usage = data.get("usage")
            if usage:
                tokens = usage["completion_tokens"]
    return Got(first, "".join(parts), len(parts), tokens)


async def _sse_arun(handle: Any, n: int) -> Got:
    import json

    from httpx_sse import aconnect_sse

    client, base = handle
    first = 0.0
    parts: list[str] = []
    tokens = None
    async with aconnect_sse(client, "POST", f"{base}/chat/completions", json=_body(n)) as events:
        async for event in events.aiter_sse():
            if event.data == "[DONE]":
                break
            data = json.loads(event.data)
            choices = data["choices"]
            if choices:
                content = choices[0]["delta"].get("content")
                if content:
                    if not first:
                        first = perf()
                    parts.append(content)
            usage = data.get("usage")
            if usage:
                tokens = usage["completion_tokens"]
    return Got(first, "".join(parts), len(parts), tokens)


# --- the minimal hand loop: iter_raw, split on blank lines, loads ------------------------------


def _minimal(loads_name: str) -> tuple[Callable[..., Got], Callable[..., Any]]:
    def loads() -> Callable[[bytes], Any]:
        if loads_name == "orjson":
            import orjson

            return orjson.loads
        import json

        return json.loads

    def run(handle: Any, n: int) -> Got:
        client, base = handle
        parse = loads()
        first = 0.0
        parts: list[str] = []
        tokens = None
        with client.stream("POST", f"{base}/chat/completions", json=_body(n)) as response:
            held = b""
            for data in response.iter_raw():
                *events, held = (held + data).split(b"\n\n")
                for event in events:
                    if not event.startswith(b"data: ") or event == b"data: [DONE]":
                        continue
                    chunk = parse(event[6:])
                    choices = chunk["choices"]
                    if choices:
                        content = choices[0]["delta"].get("content")
                        if content:
                            if not first:
                                first = perf()
                            parts.append(content)
                    usage = chunk.get("usage")
                    if usage:
                        tokens = usage["completion_tokens"]
        return Got(first, "".join(parts), len(parts), tokens)

    async def arun(handle: Any, n: int) -> Got:
        client, base = handle
        parse = loads()
        first = 0.0
        parts: list[str] = []
        tokens = None
        async with client.stream("POST", f"{base}/chat/completions", json=_body(n)) as response:
            held = b""
            async for data in response.aiter_raw():
                *events, held = (held + data).split(b"\n\n")
                for event in events:
                    if not event.startswith(b"data: ") or event == b"data: [DONE]":
                        continue
                    chunk = parse(event[6:])
                    choices = chunk["choices"]
                    if choices:
                        content = choices[0]["delta"].get("content")
                        if content:
                            if not first:
                                first = perf()
                            parts.append(content)
                    usage = chunk.get("usage")
                    if usage:
                        tokens = usage["completion_tokens"]
        return Got(first, "".join(parts), len(parts), tokens)

    return run, arun


_min_json, _min_ajson = _minimal("json")
_min_orjson, _min_aorjson = _minimal("orjson")


def _raw_run(handle: Any, n: int) -> Got:
    """Bytes only: the floor below which no parsing client can go."""
    client, base = handle
    first = 0.0
    size = 0
    with client.stream("POST", f"{base}/chat/completions", json=_body(n)) as response:
        for data in response.iter_raw():
            if not first:
                first = perf()
            size += len(data)
    return Got(first, "", size, None)


def _close(handle: Any) -> None:
    handle[0].close()


async def _aclose_pair(handle: Any) -> None:
    await handle[0].aclose()


CLIENTS = {
    c.name: c
    for c in [
        Client(
            "jackfield",
            "jackfield (sync)",
            False,
            _sb_load,
            _sb_make,
            _sb_run,
            lambda p: p.close(),
        ),
        Client(
            "jackfield-async",
            "jackfield (async)",
            True,
            _sb_load,
            _sb_make,
            _sb_arun,
            _sb_aclose,
        ),
        Client(
            "openai",
            "openai SDK (sync)",
            False,
            _openai_load,
            _openai_make,
            _openai_run,
            lambda c: c.close(),
            optional=True,
        ),
        Client(
            "openai-async",
            "openai SDK (async)",
            True,
            _openai_load,
            _openai_amake,
            _openai_arun,
            _aclose,
            optional=True,
        ),
        Client(
            "litellm",
            "litellm",
            False,
            _litellm_load,
            lambda base: base,
            _litellm_run,
            optional=True,
        ),
        Client(
            "httpx-sse",
            "httpx + httpx-sse + json",
            False,
            _sse_load,
            _httpx_make,
            _sse_run,
            _close,
            optional=True,
        ),
        Client(
            "httpx-sse-async",
            "httpx + httpx-sse + json (async)",
            True,
            _sse_load,
            _httpx_amake,
            _sse_arun,
            _aclose_pair,
            optional=True,
        ),
        Client(
            "minimal-json", "minimal loop, json", False, _httpx_load, _httpx_make, _min_json, _close
        ),
        Client(
            "minimal", "minimal loop, orjson", False, _httpx_load, _httpx_make, _min_orjson, _close
        ),
        Client(
            "minimal-async",
            "minimal loop, orjson (async)",
            True,
            _httpx_load,
            _httpx_amake,
            _min_aorjson,
            _aclose_pair,
        ),
        Client(
            "raw", "httpx iter_raw, no parsing", False, _httpx_load, _httpx_make, _raw_run, _close
        ),
    ]
}


def available(name: str) -> bool:
    try:
        CLIENTS[name].load()
    except ImportError:
        return False
    return True
