"""The callback types hooks receive (typing.Protocol classes, imported only when asked for:
``jackfield.hookspecs`` itself must stay free of ``typing``, since listing providers imports it)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

__all__ = ["RegisterInstance", "RegisterProvider", "RegisterTool"]


class RegisterProvider(Protocol):
    """The callback handed to :func:`~jackfield.hookspecs.register_providers`."""

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


class RegisterInstance(Protocol):
    """The callback handed to :func:`~jackfield.hookspecs.register_instances`."""

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


class RegisterTool(Protocol):
    """The callback handed to :func:`~jackfield.hookspecs.register_tools`."""

    def __call__(self, name: str, *, function: str, description: str = "") -> None:
        """Register one Python tool.

        :param name: the tool's name, as agents list it and the model calls it: letters,
            digits, ``_`` and ``-`` (``"word_count"``).
        :param function: import path ``"package.module:function"`` of the function (or of a
            :class:`jackfield.FunctionTool`); imported on first use only. Its type hints and
            docstring give the model the tool's description and parameters.
        :param description: one line shown when tools are listed (the model is told the
            function's docstring).
        :raises ValueError: for an invalid name or import path.
        """
