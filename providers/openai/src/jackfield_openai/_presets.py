"""Where each OpenAI-compatible server listens by default, and how it wants its key.

Pure data, importable without httpx: the plugin module registers every preset as a ready-made
instance, so ``lmstudio:<model>`` works with zero configuration.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

__all__ = ["DEFAULT_BASE_URL", "PRESETS", "Preset"]

KeyHeader = Literal["authorization", "x-api-key", "both"]


class Preset(NamedTuple):
    """A server family's defaults (a named tuple: importing attrs here would slow listing)."""

    name: str
    server: str
    port: int
    scheme: str = "http"
    host: str = "127.0.0.1"
    path: str = "/v1"
    key_env: str | None = None
    key_required: bool = False
    key_header: KeyHeader = "authorization"
    notes: str = ""

    @property
    def base_url(self) -> str:
        """The preset's default base URL."""
        default_port = {"http": 80, "https": 443}[self.scheme]
        port = "" if self.port == default_port else f":{self.port}"
        return f"{self.scheme}://{self.host}{port}{self.path}"


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
