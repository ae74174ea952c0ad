"""The child process of :class:`jackfield.testing.llamacpp.LlamaServer`.

``python -m jackfield.testing._llamacpp_child '<json config>'`` starts xllamacpp's server and
serves until stdin closes (the parent stopped or died) or SIGTERM arrives.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from typing import Any

_FORMATS = {
    "none": "COMMON_REASONING_FORMAT_NONE",
    "auto": "COMMON_REASONING_FORMAT_AUTO",
    "deepseek-legacy": "COMMON_REASONING_FORMAT_DEEPSEEK_LEGACY",
    "deepseek": "COMMON_REASONING_FORMAT_DEEPSEEK",
}


def _set(target: Any, dotted: str, value: Any) -> None:
    *path, name = dotted.split(".")
    for part in path:
        target = getattr(target, part)
    setattr(target, name, value)


def _params(config: dict[str, Any]) -> Any:
    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = config["model"]
    params.model_alias = {config["alias"]}
    params.port = config["port"]
    params.hostnames = ["127.0.0.1"]
    params.n_parallel = config["n_parallel"]
    params.n_ctx = config["n_ctx"]
    params.cpuparams.n_threads = config["threads"]
    params.cpuparams_batch.n_threads = config["threads"]
    params.embedding = config["embedding"]
    params.endpoint_slots = True
    if config["api_keys"]:
        params.api_keys = config["api_keys"]
    if config["chat_template"]:
        params.use_jinja = True
        params.chat_template = config["chat_template"]
    if config["reasoning_format"]:
        params.reasoning_format = getattr(
            xllamacpp.common_reasoning_format, _FORMATS[config["reasoning_format"]]
        )
    for dotted, value in config["params"].items():
        _set(params, dotted, value)
    return params


def _exit_when_orphaned() -> None:
    """The parent holds our stdin open; EOF means it stopped us or died."""
    try:
        sys.stdin.buffer.read()
    finally:
        os._exit(0)


def main() -> None:
    import xllamacpp

    config = json.loads(sys.argv[1])
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    threading.Thread(target=_exit_when_orphaned, daemon=True).start()
    server = xllamacpp.Server(_params(config))
    print(f"jackfield: llama.cpp server listening on {server.listening_address}", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
