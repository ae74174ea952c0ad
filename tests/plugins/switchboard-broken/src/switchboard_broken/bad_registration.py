"""A plugin whose hook raises: it registers a name switchboard refuses."""

from switchboard.hookspecs import hookimpl


@hookimpl
def register_providers(register):  # type: ignore[no-untyped-def]
    register("Not A Valid Name", factory="switchboard_broken.bad_registration:Nothing")
