"""A plugin module whose import fails, as when a dependency was left out of its metadata."""

import jackfield_dependency_that_is_not_installed  # noqa: F401
