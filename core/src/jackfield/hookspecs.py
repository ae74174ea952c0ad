"""The hooks a jackfield plugin implements.

A plugin is a module (or any object) exposed through an entry point in the ``jackfield``
group, for example in the plugin's ``pyproject.toml``:

.. code-block:: toml

    [project.entry-points.jackfield]
    echo = "jackfield_echo"

and implementing hooks marked with :data:`hookimpl`::

    from jackfield.hookspecs import hookimpl


    @hookimpl
    def register_providers(register):
        register(
            "echo",
            factory="jackfield_echo._provider:EchoProvider",
            description="Answers with what it was told.",
        )

Keep the plugin module tiny: it is imported whenever providers are listed. The provider
implementation named by ``factory`` is imported only when the provider is first used.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

import pluggy

__all__ = [
    "PROJECT",
    "RegisterInstance",
    "RegisterProvider",
    "hookimpl",
    "hookspec",
    "register_instances",
    "register_providers",
]

PROJECT = "jackfield"
"""The pluggy project name, which is also the entry-point group plugins are found in."""

hookspec = pluggy.HookspecMarker(PROJECT)
"""Marks hook specifications (only this module defines them)."""

hookimpl = pluggy.HookimplMarker(PROJECT)
"""Marks a plugin's hook implementations: ``@hookimpl def register_providers(register): ...``."""


class RegisterProvider(Protocol):
    """The callback handed to :func:`register_providers`."""

    def __call__(
        self,
        name: str,
        *,
        factory: str,
        description: str = "",
        options: str | None = None,
    ) -> None:
        """Register one provider.

        :param name: the provider's name, lowercase ``[a-z][a-z0-9._-]*`` (``"openai-compatible"``).
        :param factory: import path ``"package.module:ProviderClass"`` of a
            :class:`jackfield.provider.Provider` subclass; imported on first use only.
        :param description: one line shown when providers are listed.
        :param options: import path of the attrs options class, when it is not the
            factory's ``options_class``.
        :raises ValueError: for an invalid name or import path (the plugin is then reported
            as a problem and its other providers still register).
        """


@hookspec
def register_providers(register: RegisterProvider) -> None:
    """Register the providers a plugin ships by calling ``register`` once for each.

    Called once per plugin whenever a registry is loaded, so it must be cheap: no imports of
    the implementation, no I/O. An exception raised here is recorded as that plugin's problem
    (``registry.problems``) and never breaks other plugins.

    :param register: the :class:`RegisterProvider` callback.
    :return: nothing; the return value is ignored.

    Not ``firstresult`` (every plugin is called) and not ``historic``.
    """


class RegisterInstance(Protocol):
    """The callback handed to :func:`register_instances`."""

    def __call__(
        self,
        name: str,
        *,
        provider: str,
        options: Mapping[str, Any] | None = None,
        description: str = "",
    ) -> None:
        """Register one ready-made provider instance.

        :param name: the instance name hosts select (``"lmstudio"`` in ``"lmstudio:qwen3"``),
            lowercase ``[a-z][a-z0-9._-]*``.
        :param provider: the name of the provider it instantiates (any plugin's).
        :param options: the instance's options, a layer merged over the provider's defaults.
        :param description: one line shown when instances are listed.
        :raises ValueError: for an invalid name or non-mapping options.
        """


@hookspec
def register_instances(register: RegisterInstance) -> None:
    """Register ready-made provider instances (presets) by calling ``register`` for each.

    A preset instance works with zero configuration: a host can select ``"lmstudio"`` without
    configuring it. Same rules as :func:`register_providers`: cheap, no I/O, failures are
    recorded as the plugin's problem.

    :param register: the :class:`RegisterInstance` callback.
    :return: nothing; the return value is ignored.

    Not ``firstresult`` and not ``historic``.
    """
