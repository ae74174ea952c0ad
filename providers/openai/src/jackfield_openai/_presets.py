"""Where each OpenAI-compatible server listens by default, how it wants its key, which
environment variables move it, and how it is started.

Pure data and pure functions, imported whenever providers are listed (the plugin module
registers every preset as a ready-made instance, so ``lmstudio:<model>`` works with zero
configuration): it imports nothing, not even ``typing``.

The environment, read only where the configuration says nothing (see :func:`from_environment`):
``OPENAI_API_KEY`` and ``OPENAI_BASE_URL`` for the ``openai`` preset, as the openai SDK reads
them; ``OLLAMA_HOST`` for the ``ollama`` preset, read as Ollama's own client reads it
(:func:`ollama_root`).
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

    from jackfield.http import KeyHeader

__all__ = [
    "ADDRESS_FIELDS",
    "DEFAULT_BASE_URL",
    "PRESETS",
    "Preset",
    "from_environment",
    "ollama_root",
]

_DEFAULT_PORTS = {"http": 80, "https": 443}


class Preset:
    """A server family's defaults."""

    __slots__ = (
        "address_env",
        "health",
        "host",
        "key_env",
        "key_header",
        "key_required",
        "model_required",
        "name",
        "notes",
        "path",
        "port",
        "scheme",
        "server",
        "start",
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
        address_env: str | None = None,
        model_required: bool = False,
        start: str | None = None,
        health: str | None = None,
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
        self.address_env = address_env
        """The environment variable that replaces the default address (``OPENAI_BASE_URL``)."""
        self.model_required = model_required
        """Whether the server refuses a chat that names no model (no default model)."""
        self.start = start
        """The command that starts the server, ``{port}`` standing for its port."""
        self.health = health
        """The server's health check, from its root (``/health``); ``None``: none known."""

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
        Preset(
            "llamacpp",
            "llama.cpp (llama-server)",
            8080,
            start="llama-server -m MODEL.gguf --port {port}",
            health="/health",
        ),
        Preset("lmstudio", "LM Studio", 1234, start="lms server start --port {port}"),
        Preset(
            "ollama",
            "Ollama (OpenAI-compatible /v1)",
            11434,
            notes="the API key is ignored",
            address_env="OLLAMA_HOST",
            model_required=True,
            start="ollama serve",
            health="/api/version",
        ),
        Preset("vllm", "vLLM", 8000, start="vllm serve MODEL --port {port}", health="/health"),
        Preset(
            "sglang",
            "SGLang",
            30000,
            start="python -m sglang.launch_server --model-path MODEL --port {port}",
            health="/health_generate",
        ),
        Preset(
            "textgen-webui",
            "text-generation-webui (started with --api)",
            5000,
            notes="answers only for the loaded model",
            start="python server.py --api --api-port {port} (text-generation-webui)",
        ),
        Preset(
            "tabbyapi",
            "TabbyAPI",
            5000,
            key_header="both",
            notes="authentication is on by default",
            start="python main.py (TabbyAPI; port {port} in config.yml)",
        ),
        Preset("koboldcpp", "KoboldCpp", 5001, start="koboldcpp --model MODEL.gguf --port {port}"),
        Preset("localai", "LocalAI", 8080, start="local-ai run --address :{port}"),
        Preset(
            "openai",
            "OpenAI",
            443,
            scheme="https",
            host="api.openai.com",
            key_env="OPENAI_API_KEY",
            key_required=True,
            address_env="OPENAI_BASE_URL",
            model_required=True,
        ),
    )
}

DEFAULT_BASE_URL = "http://127.0.0.1:8080/v1"
"""Without a preset or a base URL, the provider talks to a local server on llama.cpp's port."""


ADDRESS_FIELDS = ("base_url", "host", "port")
"""The options that say where an instance is: when one is set, the environment is not read."""


def from_environment(
    preset: Preset | None, environ: Mapping[str, str], *, address: bool, key: bool
) -> list[tuple[str, dict[str, object]]]:
    """What the environment says about an instance built on ``preset``, as ``(variable,
    options)`` pairs: the address from ``preset.address_env`` unless ``address`` (the
    instance sets ``base_url``, ``host`` or ``port``), the key from ``preset.key_env`` (as a
    reference, read when first used) unless ``key`` (it sets ``api_key``). An unset or blank
    variable says nothing."""
    if preset is None:
        return []
    found: list[tuple[str, dict[str, object]]] = []
    variable = preset.address_env
    if not address and variable and environ.get(variable, "").strip():
        value = environ[variable].strip()
        if variable == "OLLAMA_HOST":
            value = ollama_root(value) + preset.path
        found.append((variable, {"base_url": value}))
    variable = preset.key_env
    if not key and variable and environ.get(variable, "").strip():
        found.append((variable, {"api_key": {"env": variable}}))
    return found


def ollama_root(value: str) -> str:
    """The server ``OLLAMA_HOST`` names, read as Ollama's client reads it (see
    :func:`jackfield.http.server_url`; no port: 11434)."""
    from jackfield.http import server_url  # only when the variable is set: this module is data

    return server_url(value, default_port=11434)
