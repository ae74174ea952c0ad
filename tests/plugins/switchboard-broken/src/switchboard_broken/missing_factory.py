"""A plugin that registers cleanly but whose implementation module does not exist."""

from switchboard.hookspecs import hookimpl


@hookimpl
def register_providers(register):  # type: ignore[no-untyped-def]
    register(
        "broken-factory",
        factory="switchboard_broken.not_written_yet:BrokenProvider",
        description="Registered, but its implementation cannot be imported.",
    )
