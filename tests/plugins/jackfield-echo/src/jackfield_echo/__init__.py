"""The plugin module: tiny, imported whenever providers or tools are listed. It names where the
provider and the tool live; neither is imported until it is used."""

from __future__ import annotations

from jackfield.hookspecs import hookimpl

TYPE_CHECKING = False
if TYPE_CHECKING:
    from jackfield.hookspecs import RegisterProvider, RegisterTool


@hookimpl
def register_providers(register: RegisterProvider) -> None:
    register(
        "echo",
        factory="jackfield_echo._provider:EchoProvider",
        options="jackfield_echo._options:EchoOptions",
        description="Answers with the last user message (an example plugin).",
    )


@hookimpl
def register_tools(register: RegisterTool) -> None:
    register(
        "echo_reverse",
        function="jackfield_echo._tools:echo_reverse",
        description="Reverses a text (an example plugin's tool).",
    )
