"""The plugin module: tiny, imported whenever providers are listed."""

from __future__ import annotations

from jackfield.hookspecs import hookimpl

TYPE_CHECKING = False
if TYPE_CHECKING:
    from jackfield.hookspecs import RegisterProvider


@hookimpl
def register_providers(register: RegisterProvider) -> None:
    register(
        "echo",
        factory="jackfield_echo._provider:EchoProvider",
        options="jackfield_echo._options:EchoOptions",
        description="Answers with the last user message (an example plugin).",
    )
