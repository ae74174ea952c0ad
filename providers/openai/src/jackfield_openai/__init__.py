"""jackfield's OpenAI-compatible provider: the plugin module.

Imported whenever providers are listed, so it only registers names and imports nothing else
(not even ``typing``). The implementation (``jackfield_openai._provider``, which imports
httpx) loads on first use; :mod:`jackfield_openai.wire` holds the sans-I/O chat format for
providers that reuse it.
"""

from __future__ import annotations

from jackfield.hookspecs import hookimpl
from jackfield_openai._presets import PRESETS

TYPE_CHECKING = False
if TYPE_CHECKING:
    from jackfield.hookspecs import RegisterInstance, RegisterProvider

__version__ = "0.2.0"

PROVIDER = "openai-compatible"
"""The provider's registered name."""


@hookimpl
def register_providers(register: RegisterProvider) -> None:
    """Register ``openai-compatible``."""
    register(
        PROVIDER,
        factory="jackfield_openai._provider:OpenAIProvider",
        options="jackfield_openai._options:OpenAIOptions",
        description="Any server speaking /v1/chat/completions: llama.cpp, vLLM, SGLang, "
        "LM Studio, Ollama, text-generation-webui, TabbyAPI, KoboldCpp, LocalAI, OpenAI.",
    )


@hookimpl
def register_instances(register: RegisterInstance) -> None:
    """Register a ready-made instance per preset (``llamacpp``, ``lmstudio``, ``ollama`` ...)."""
    for preset in PRESETS.values():
        register(
            preset.name,
            provider=PROVIDER,
            options={"preset": preset.name},
            description=f"{preset.server} at {preset.base_url}",
        )
