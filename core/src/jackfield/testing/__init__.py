"""Helpers for testing hosts and providers without a real backend.

:class:`ScriptedProvider` streams fragments you give it (or that a function of the request
returns), and records every request it receives. Register it by name with
``load_registry(plugins=[jackfield.testing.plugin])``, which adds the provider
``"scripted"``. :mod:`jackfield.testing.conformance` is the kit of tests every provider
passes, :mod:`jackfield.testing.transcripts` replays recorded HTTP responses. Runtime code never
imports this package.
"""

from __future__ import annotations

from types import SimpleNamespace

from jackfield.testing._scripted import (
    ScriptedExchange,
    ScriptedOptions,
    ScriptedProvider,
    Step,
    register_providers,
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

plugin = SimpleNamespace(__name__="jackfield.testing", register_providers=register_providers)
"""A plugin object registering the ``"scripted"`` provider: ``load_registry(plugins=[plugin])``."""
