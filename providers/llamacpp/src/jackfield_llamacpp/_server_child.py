"""The child process of :class:`jackfield_llamacpp.server.LlamaServer`.

``python -m jackfield_llamacpp._server_child '<json config>'`` starts xllamacpp's server and
serves until stdin closes (the parent stopped or died) or SIGTERM arrives.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading


def _exit_when_orphaned() -> None:
    """The parent holds our stdin open; EOF means it stopped us or died."""
    try:
        sys.stdin.buffer.read()
    finally:
        os._exit(0)


def main() -> None:
    import xllamacpp

    from jackfield_llamacpp._params import common_params

    config = json.loads(sys.argv[1])
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    threading.Thread(target=_exit_when_orphaned, daemon=True).start()
    server = xllamacpp.Server(common_params(**config, endpoint_slots=True))
    print(f"jackfield: llama.cpp server listening on {server.listening_address}", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
