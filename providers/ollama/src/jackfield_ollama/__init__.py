"""jackfield's native Ollama provider: the plugin module (tiny: it imports nothing else)."""

from __future__ import annotations

from jackfield.hookspecs import hookimpl

TYPE_CHECKING = False
if TYPE_CHECKING:
    from jackfield.hookspecs import RegisterInstance, RegisterProvider

__version__ = "0.2.0"

PROVIDER = "ollama"
"""The provider's registered name."""


@hookimpl
def register_providers(register: RegisterProvider) -> None:
    """Register ``ollama``."""
    register(
        PROVIDER,
        factory="jackfield_ollama._provider:OllamaProvider",
        options="jackfield_ollama._options:OllamaOptions",
        description="Ollama's native API (/api/chat): thinking, tool calls, options, keep_alive.",
    )


@hookimpl
def register_instances(register: RegisterInstance) -> None:
    """Register ``ollama-native``, Ollama on this machine's default port."""
    register(
        "ollama-native",
        provider=PROVIDER,
        description="Ollama's native API at http://127.0.0.1:11434",
    )
