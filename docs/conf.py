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

if sys.version_info >= (3, 11):
    import tomllib
else:  # jackfield itself depends on tomli there
    import tomli as tomllib

sys.path.insert(0, str(Path(__file__).parent / "_ext"))

project = "jackfield"
author = "the jackfield authors"
copyright = "2026, the jackfield authors"
release = version = __import__("jackfield").__version__

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.viewcode",
    "sphinx_copybutton",
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
    (r"py:.*", r"jackfield\..*\.(T|T_co|OptionsT|F)"),
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

# The project's links, as core/pyproject.toml declares them ([project.urls]).
URLS = tomllib.loads((Path(__file__).parents[1] / "core" / "pyproject.toml").read_text("utf-8"))[
    "project"
]["urls"]
REPOSITORY, ISSUES = URLS["Repository"], URLS["Issues"]
# GitHub's mark and an issue's open circle, as furo's footer icons.
_GITHUB = (
    '<svg stroke="currentColor" fill="currentColor" stroke-width="0" viewBox="0 0 16 16">'
    '<path fill-rule="evenodd" d="M8 0C3.58 0 0 3.58 0 8c0 3.54 2.29 6.53 5.47 7.59.4.07.55-.17'
    ".55-.38 0-.19-.01-.82-.01-1.49-2.01.37-2.53-.49-2.69-.94-.09-.23-.48-.94-.82-1.13-.28-.15-.68"
    "-.52-.01-.53.63-.01 1.08.58 1.23.82.72 1.21 1.87.87 2.33.66.07-.52.28-.87.51-1.07-1.78-.2-3.64"
    "-.89-3.64-3.95 0-.87.31-1.59.82-2.15-.08-.2-.36-1.02.08-2.12 0 0 .67-.21 2.2.82.64-.18 1.32-.27"
    " 2-.27.68 0 1.36.09 2 .27 1.53-1.04 2.2-.82 2.2-.82.44 1.1.16 1.92.08 2.12.51.56.82 1.27.82 2.15"
    " 0 3.07-1.87 3.75-3.65 3.95.29.25.54.73.54 1.48 0 1.07-.01 1.93-.01 2.2 0 .21.15.46.55.38A8.013"
    ' 8.013 0 0016 8c0-4.42-3.58-8-8-8z"></path></svg>'
)
_ISSUE = (
    '<svg stroke="currentColor" fill="currentColor" stroke-width="0" viewBox="0 0 16 16">'
    '<path d="M8 9.5a1.5 1.5 0 1 0 0-3 1.5 1.5 0 0 0 0 3Z"></path><path d="M8 0a8 8 0 1 1 0 16A8'
    ' 8 0 0 1 8 0ZM1.5 8a6.5 6.5 0 1 0 13 0 6.5 6.5 0 0 0-13 0Z"></path></svg>'
)
html_theme_options = {
    # "Edit this page" and "View source" lead to the page's Markdown in the repository.
    "source_repository": f"{REPOSITORY}/",
    "source_branch": "main",
    "source_directory": "docs/",
    "top_of_page_buttons": ["view", "edit"],
    "footer_icons": [
        {"name": "Repository", "url": REPOSITORY, "html": _GITHUB, "class": ""},
        {"name": "Issues", "url": ISSUES, "html": _ISSUE, "class": ""},
    ],
}
html_context = {"repository": REPOSITORY, "issues": ISSUES}
templates_path = ["_ext/templates"]
# furo's sidebar, with the project's links (_ext/templates/sidebar/links.html) below the pages.
html_sidebars = {
    "**": [
        "sidebar/brand.html",
        "sidebar/search.html",
        "sidebar/scroll-start.html",
        "sidebar/navigation.html",
        "sidebar/links.html",
        "sidebar/ethical-ads.html",
        "sidebar/scroll-end.html",
        "sidebar/variant-selector.html",
    ]
}
pygments_style = "friendly"
pygments_dark_style = "monokai"
smartquotes = False  # "--api" stays two hyphens, quotes stay straight

# A copy button on every code block but the ``output`` ones (what an example printed); from a
# ``console`` block it copies the commands alone, without their ``$`` and the output below.
copybutton_selector = "div:not(.highlight-output) > div.highlight > pre"
copybutton_prompt_text = r"\$ |>>> "
copybutton_prompt_is_regexp = True
copybutton_only_copy_prompt_lines = True
