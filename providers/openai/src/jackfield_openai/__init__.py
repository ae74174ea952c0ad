"""jackfield's OpenAI-compatible provider: the plugin module.

Imported whenever providers are listed, so it only registers names. The implementation
(``jackfield_openai._provider``, which imports httpx) loads on first use.
"""

from __future__ import annotations

from typing import Any

from jackfield.hookspecs import hookimpl
from jackfield_openai._presets import PRESETS

__version__ = "0.2.0"

PROVIDER = "openai-compatible"


@hookimpl
def register_providers(register: Any) -> None:
    register(
        PROVIDER,
        factory="jackfield_openai._provider:OpenAIProvider",
        options="jackfield_openai._options:OpenAIOptions",
        description="Any server speaking /v1/chat/completions: llama.cpp, vLLM, SGLang, "
        "LM Studio, Ollama, text-generation-webui, TabbyAPI, KoboldCpp, LocalAI, OpenAI.",
    )


@hookimpl
def register_instances(register: Any) -> None:
    for preset in PRESETS.values():
        register(
            preset.name,
            provider=PROVIDER,
            options={"preset": preset.name},
            description=f"{preset.server} at {preset.base_url}",
        )
