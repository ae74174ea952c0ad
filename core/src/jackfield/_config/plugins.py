"""Which package a provider or a ready-made instance comes with, and why one is missing.

A configuration names providers (``type = "ollama"``) and ready-made instances
(``[providers.ollama-native]``) that plugins register. When the plugin is not installed, the
section is not wrong: the instance is disabled, and the reason says which package to install.
The first-party plugins are known by name here (a test checks this table against what they
register); any other name gets the list of installed providers instead.
"""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING

from jackfield._errors import DisabledInstanceWarning

if TYPE_CHECKING:
    from jackfield._registry import Registry

__all__ = [
    "FIRST_PARTY_INSTANCES",
    "FIRST_PARTY_PLUGINS",
    "FIRST_PARTY_PROVIDERS",
    "DisabledInstanceWarning",
    "missing_instance",
    "missing_provider",
    "typo_of",
]


FIRST_PARTY_PROVIDERS = {
    "openai-compatible": "jackfield-openai",
    "ollama": "jackfield-ollama",
    "llamacpp-embedded": "jackfield-llamacpp",
}
"""The providers the first-party distributions register, and the distribution of each."""

FIRST_PARTY_PLUGINS = {dist: provider for provider, dist in FIRST_PARTY_PROVIDERS.items()}
"""Each first-party distribution and the name of its ``jackfield`` entry point (each is named
after the one provider it registers)."""

FIRST_PARTY_INSTANCES = {
    **dict.fromkeys(
        (
            "llamacpp",
            "lmstudio",
            "ollama",
            "vllm",
            "sglang",
            "textgen-webui",
            "tabbyapi",
            "koboldcpp",
            "localai",
            "openai",
        ),
        "jackfield-openai",
    ),
    "ollama-native": "jackfield-ollama",
    "embedded": "jackfield-llamacpp",
}
"""The ready-made instances the first-party distributions register, and the distribution of
each."""


def _why_absent(distribution: str, registry: Registry) -> str:
    """``distribution``, and why its plugin registered nothing: turned off, failed to load, or
    not installed (then what to install)."""
    entry_point = FIRST_PARTY_PLUGINS.get(distribution)
    if entry_point in registry.disabled:
        return (
            f"{distribution}, which is turned off (by JACKFIELD_DISABLE_PLUGINS or "
            "JACKFIELD_LOAD_PLUGINS)"
        )
    for problem in registry.problems:
        if distribution in (problem.distribution, problem.plugin) or (
            entry_point is not None and problem.plugin == entry_point
        ):
            return f"{distribution}, which failed to load ({problem.error})"
    return f"{distribution}, which is not installed: pip install {distribution}"


def missing_provider(provider: str, registry: Registry) -> str:
    """Why no installed plugin provides ``provider`` (which is not a typo: see
    :func:`typo_of`), saying what to install."""
    distribution = FIRST_PARTY_PROVIDERS.get(provider)
    if distribution is not None:
        return f"its provider {provider!r} comes with {_why_absent(distribution, registry)}"
    installed = ", ".join(registry.names()) or "none"
    return (
        f"no installed provider is named {provider!r} (installed: {installed}); "
        "install the plugin that provides it"
    )


def missing_instance(name: str, registry: Registry) -> str | None:
    """Why the ready-made instance ``name`` is absent, if a first-party plugin registers it
    (``None``: no plugin jackfield knows of does)."""
    distribution = FIRST_PARTY_INSTANCES.get(name)
    if distribution is None:
        return None
    return f"the ready-made instance {name!r} comes with {_why_absent(distribution, registry)}"


def typo_of(word: str, installed: list[str]) -> str | None:
    """The installed name ``word`` is most likely a typo of (a slip of a letter or two:
    ``openai-compatibel``); ``None`` when it looks like a name of its own, such as a
    third-party provider's whose package is missing (``openai-azure`` is not a typo of
    ``openai-compatible``). A first-party provider's name is never a typo either."""
    if word in FIRST_PARTY_PROVIDERS or len(word) > 100:
        return None
    close = difflib.get_close_matches(word, installed, n=1, cutoff=0.72)  # one slip of 4+ letters
    return close[0] if close else None
