"""Where each OpenAI-compatible server listens by default, and how it wants its key.

Pure data, imported whenever providers are listed (the plugin module registers every preset as
a ready-made instance, so ``lmstudio:<model>`` works with zero configuration): it imports
nothing, not even ``typing``.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from jackfield.http import KeyHeader

__all__ = ["DEFAULT_BASE_URL", "PRESETS", "Preset"]

_DEFAULT_PORTS = {"http": 80, "https": 443}


class Preset:
    """A server family's defaults."""

    __slots__ = (
        "host",
        "key_env",
        "key_header",
        "key_required",
        "name",
        "notes",
        "path",
        "port",
        "scheme",
        "server",
    )

    def __init__(
        self,
        name: str,
        server: str,
        port: int,
        *,
        scheme: str = "http",
        host: str = "127.0.0.1",
        path: str = "/v1",
        key_env: str | None = None,
        key_required: bool = False,
        key_header: KeyHeader = "authorization",
        notes: str = "",
    ) -> None:
        self.name = name
        self.server = server
        self.port = port
        self.scheme = scheme
        self.host = host
        self.path = path
        self.key_env = key_env
        self.key_required = key_required
        self.key_header: KeyHeader = key_header
        self.notes = notes

    @property
    def base_url(self) -> str:
        """The preset's default base URL."""
        port = "" if self.port == _DEFAULT_PORTS[self.scheme] else f":{self.port}"
        return f"{self.scheme}://{self.host}{port}{self.path}"

    def __repr__(self) -> str:
        return f"<Preset {self.name} {self.base_url}>"


PRESETS: dict[str, Preset] = {
    preset.name: preset
    for preset in (
        Preset("llamacpp", "llama.cpp (llama-server)", 8080),
        Preset("lmstudio", "LM Studio", 1234),
        Preset("ollama", "Ollama (OpenAI-compatible /v1)", 11434, notes="the API key is ignored"),
        Preset("vllm", "vLLM", 8000),
        Preset("sglang", "SGLang", 30000),
        Preset(
            "textgen-webui",
            "text-generation-webui (started with --api)",
            5000,
            notes="answers only for the loaded model",
        ),
        Preset(
            "tabbyapi",
            "TabbyAPI",
            5000,
            key_header="both",
            notes="authentication is on by default",
        ),
        Preset("koboldcpp", "KoboldCpp", 5001),
        Preset("localai", "LocalAI", 8080),
        Preset(
            "openai",
            "OpenAI",
            443,
            scheme="https",
            host="api.openai.com",
            key_env="OPENAI_API_KEY",
            key_required=True,
        ),
    )
}

DEFAULT_BASE_URL = "http://127.0.0.1:8080/v1"
"""Without a preset or a base URL, the provider talks to a local server on llama.cpp's port."""
