"""The hooks a jackfield plugin implements.

A plugin is a module (or any object) exposed through an entry point in the ``jackfield``
group, for example in the plugin's ``pyproject.toml``:

.. code-block:: toml

    [project.entry-points.jackfield]
    echo = "jackfield_echo"

and implementing hooks marked with :data:`hookimpl`::

    from __future__ import annotations

    from typing import TYPE_CHECKING

    from jackfield.hookspecs import hookimpl

    if TYPE_CHECKING:
        from jackfield.hookspecs import RegisterProvider


    @hookimpl
    def register_providers(register: RegisterProvider) -> None:
        register(
            "echo",
            factory="jackfield_echo._provider:EchoProvider",
            description="Answers with what it was told.",
        )

Keep the plugin module tiny: it is imported whenever providers are listed. The provider
implementation named by ``factory`` is imported only when the provider is first used.

The markers are pluggy's, for the project ``jackfield``: :data:`hookimpl` marks a function the
way ``pluggy.HookimplMarker("jackfield")`` does (a plugin may use either), and the registry's
pluggy ``PluginManager`` (:attr:`jackfield.Registry.plugin_manager`) calls the hooks. Listing
providers calls the two registration hooks without importing pluggy, so this module imports
nothing at all: the callback types below are loaded when first asked for.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, TypeVar

    from jackfield._hooktypes import RegisterInstance as RegisterInstance
    from jackfield._hooktypes import RegisterProvider as RegisterProvider
    from jackfield._hooktypes import RegisterTool as RegisterTool

    F = TypeVar("F", bound=Callable[..., Any])

__all__ = [
    "PROJECT",
    "RegisterInstance",
    "RegisterProvider",
    "RegisterTool",
    "hookimpl",
    "hookspec",
    "register_instances",
    "call_attempt",
    "call_failed",
    "call_failed_over",
    "call_finished",
    "call_first_chunk",
    "call_headers",
    "call_retried",
    "call_started",
    "register_providers",
    "register_tools",
]

PROJECT = "jackfield"
"""The pluggy project name, which is also the entry-point group plugins are found in."""


class _HookspecMarker:
    """``pluggy.HookspecMarker("jackfield")``, without importing pluggy."""

    attribute = PROJECT + "_spec"

    def __call__(self, function: F, *, firstresult: bool = False, historic: bool = False) -> F:
        if firstresult and historic:
            raise ValueError("a hook cannot be both historic and firstresult")
        options = {
            "firstresult": firstresult,
            "historic": historic,
            "warn_on_impl": None,
            "warn_on_impl_args": None,
        }
        setattr(function, self.attribute, options)
        return function


class _HookimplMarker:
    """``pluggy.HookimplMarker("jackfield")``, without importing pluggy: sets the same
    attribute with the same options, so pluggy reads a plugin marked with either."""

    attribute = PROJECT + "_impl"

    def __call__(
        self,
        function: F | None = None,
        *,
        hookwrapper: bool = False,
        optionalhook: bool = False,
        tryfirst: bool = False,
        trylast: bool = False,
        specname: str | None = None,
        wrapper: bool = False,
    ) -> Any:
        options = {
            "wrapper": wrapper,
            "hookwrapper": hookwrapper,
            "optionalhook": optionalhook,
            "tryfirst": tryfirst,
            "trylast": trylast,
            "specname": specname,
        }

        def mark(func: F) -> F:
            setattr(func, self.attribute, options)
            return func

        return mark if function is None else mark(function)


hookspec = _HookspecMarker()
"""Marks hook specifications (only this module defines them)."""

hookimpl = _HookimplMarker()
"""Marks a plugin's hook implementations: ``@hookimpl def register_providers(register): ...``;
``@hookimpl(tryfirst=True)`` and pluggy's other options work as in pluggy."""


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


@hookspec
def register_tools(register: RegisterTool) -> None:
    """Register Python tools (functions the model may call) by calling ``register`` for each.

    Agents name them in their ``functions`` list and ``jackfield chat -T <name>`` adds one for
    a run; ``jackfield tools`` lists them. Same rules as :func:`register_providers`: cheap (the
    function is imported only when a run first needs it), no I/O, failures are recorded as the
    plugin's problem.

    :param register: the :class:`RegisterTool` callback.
    :return: nothing; the return value is ignored.

    Not ``firstresult`` and not ``historic``.
    """


# --- observers: a chat call's progress, for every provider --------------------------------------
# A plugin implementing any of these is told of every chat call of every provider a registry
# creates (jackfield-otel turns them into OpenTelemetry spans and metrics). ``call`` is a
# jackfield._observe.Call: provider, instance, model, stream, request_id, server, started,
# first_chunk, attempts, and ``data``, a dict for the plugin's own state. They must be cheap
# and must not raise (a hook that raises is warned about once and left out of that call).
# Not firstresult, not historic; return values are ignored (but call_headers').


@hookspec
def call_headers(call: Any) -> Any:
    """Headers to send with the call's requests (a W3C ``traceparent``, say), as a mapping;
    every plugin's are merged. Called once per call, before its first request."""


@hookspec
def call_started(call: Any) -> None:
    """The call is about to send its first request."""


@hookspec
def call_attempt(call: Any, url: str) -> None:
    """A request of the call goes to ``url`` (the first, a retry's, a failover's)."""


@hookspec
def call_retried(call: Any, error: Any, delay: float) -> None:
    """An attempt failed with ``error``; the next one is sent after ``delay`` seconds."""


@hookspec
def call_failed_over(call: Any, error: Any, url: str) -> None:
    """The endpoint ``url`` of a pool failed with ``error`` before answering; another endpoint
    is tried at once."""


@hookspec
def call_first_chunk(call: Any) -> None:
    """The first chunk of the answer arrived (``call.first_chunk`` holds when)."""


@hookspec
def call_finished(call: Any, response: Any) -> None:
    """The answer ended; ``response`` is all of it (text, usage, finish reason, model)."""


@hookspec
def call_failed(call: Any, error: Any, response: Any) -> None:
    """The call failed with ``error`` (a ``ProviderError``, or ``GeneratorExit`` /
    ``CancelledError`` when the stream was closed early); ``response`` holds what arrived."""


def __getattr__(name: str) -> Any:
    if name in ("RegisterInstance", "RegisterProvider", "RegisterTool"):
        from jackfield import _hooktypes

        return getattr(_hooktypes, name)
    raise AttributeError(f"module 'jackfield.hookspecs' has no attribute {name!r}")
