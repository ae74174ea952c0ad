"""The plugin module: tiny, imported whenever providers are listed."""

from jackfield.hookspecs import hookimpl


@hookimpl
def register_providers(register):  # type: ignore[no-untyped-def]
    register(
        "echo",
        factory="jackfield_echo._provider:EchoProvider",
        options="jackfield_echo._options:EchoOptions",
        description="Answers with the last user message (an example plugin).",
    )
