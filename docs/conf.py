"""Sphinx configuration of the jackfield documentation site (``nox -s docs``).

Pages are Markdown (MyST); the API reference comes from docstrings (autodoc). The build is
strict: ``-W --keep-going -n`` turns every warning, broken link and unresolved reference into
a failure. References to other projects' objects (``httpx.Client``, ``typing.Any``) are not
checked: this machine has no internet for their inventories, so only jackfield's own names
must resolve.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent / "_ext"))

project = "jackfield"
author = "the jackfield authors"
copyright = "2026, the jackfield authors"
release = version = __import__("jackfield").__version__

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.viewcode",
    "jackfield_docs",
]

source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "_ext", "examples"]
nitpicky = True
# Only jackfield's own names must resolve (see the module docstring).
nitpick_ignore_regex = [
    (r"py:.*", r"(?!jackfield).*"),
    # Type variables in generic signatures (Operation[T]) are not objects to document.
    (r"py:.*", r"jackfield\..*\.(T|T_co|OptionsT)"),
]

myst_heading_anchors = 3
myst_enable_extensions = ["deflist", "fieldlist"]

autodoc_member_order = "bysource"
autodoc_typehints_format = "short"
autodoc_default_options = {"members": True}  # the generated pages add :show-inheritance:

html_theme = "furo"
html_title = "jackfield"
html_static_path = ["_static"]
html_css_files = ["jackfield.css"]
html_theme_options = {"source_repository": "", "top_of_page_buttons": []}
pygments_style = "friendly"
pygments_dark_style = "monokai"
smartquotes = False  # "--api" stays two hyphens, quotes stay straight
