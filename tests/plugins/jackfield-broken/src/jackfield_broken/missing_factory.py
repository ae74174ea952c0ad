"""A plugin that registers cleanly but whose implementation module does not exist."""

from jackfield.hookspecs import hookimpl


@hookimpl
def register_providers(register):  # type: ignore[no-untyped-def]
    register(
        "broken-factory",
        factory="jackfield_broken.not_written_yet:BrokenProvider",
        description="Registered, but its implementation cannot be imported.",
    )
