"""A fast fake OpenAI-compatible server for the benchmark: plain asyncio, pre-encoded answers.

``python -m dev.bench.server [CPU]`` listens on a free 127.0.0.1 port, pins itself to CPU
when given (away from the client), prints ``port <n>`` and serves until killed. Each SSE event
goes out as one HTTP chunk of a chunked response, as llama.cpp sends them; the whole answer is
written at once, so the client, not the server, sets the pace.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from functools import lru_cache

from dev.bench.workload import chunks_of, events

HEAD = (
    b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
    b"transfer-encoding: chunked\r\ncache-control: no-cache\r\n\r\n"
)
MODELS = json.dumps({"object": "list", "data": [{"id": "bench", "object": "model"}]}).encode()


@lru_cache(maxsize=16)
def answer(n: int) -> bytes:
    body = b"".join(b"%x\r\n%s\r\n" % (len(e), e) for e in events(n))
    return HEAD + body + b"0\r\n\r\n"


def _json(body: bytes) -> bytes:
    return b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n%s" % (
        len(body),
        body,
    )


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            body = await reader.readexactly(length) if length else b""
            target = head.split(b" ", 2)[1]
            if target.endswith(b"/models"):
                writer.write(_json(MODELS))
            else:
                writer.write(answer(chunks_of(json.loads(body)["model"])))
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def main() -> None:
    server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=4096)
    port = server.sockets[0].getsockname()[1]
    print(f"port {port}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    if len(sys.argv) > 1 and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {int(sys.argv[1])})
    asyncio.run(main())
