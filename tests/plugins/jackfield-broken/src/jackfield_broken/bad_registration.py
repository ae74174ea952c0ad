"""A plugin whose hook raises: it registers a name jackfield refuses."""

from jackfield.hookspecs import hookimpl


@hookimpl
def register_providers(register):  # type: ignore[no-untyped-def]
    register("Not A Valid Name", factory="jackfield_broken.bad_registration:Nothing")
