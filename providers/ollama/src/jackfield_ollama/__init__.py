"""jackfield's native Ollama provider: the plugin module (tiny; no httpx import)."""

from __future__ import annotations

from typing import Any

from jackfield.hookspecs import hookimpl

__version__ = "0.2.0"

PROVIDER = "ollama"


@hookimpl
def register_providers(register: Any) -> None:
    register(
        PROVIDER,
        factory="jackfield_ollama._provider:OllamaProvider",
        options="jackfield_ollama._options:OllamaOptions",
        description="Ollama's native API (/api/chat): thinking, tool calls, options, keep_alive.",
    )


@hookimpl
def register_instances(register: Any) -> None:
    register(
        "ollama-native",
        provider=PROVIDER,
        description="Ollama's native API at http://127.0.0.1:11434",
    )
