"""Helpers for testing hosts and providers without a real backend.

:class:`ScriptedProvider` streams fragments you give it (or that a function of the request
returns), and records every request it receives. Register it by name with
``load_registry(plugins=[switchboard.testing.plugin])``, which adds the provider
``"scripted"``.
"""

from __future__ import annotations

from switchboard.testing._scripted import (
    ScriptedExchange,
    ScriptedOptions,
    ScriptedProvider,
    Step,
    plugin,
    reply_fragments,
)

__all__ = [
    "ScriptedExchange",
    "ScriptedOptions",
    "ScriptedProvider",
    "Step",
    "plugin",
    "reply_fragments",
]
