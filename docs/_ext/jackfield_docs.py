"""The site's own Sphinx extension.

- ``output`` code blocks (what the example above them printed; tests/docs/test_examples.py)
  are highlighted as plain text.
- Protocol classes show no constructor signature (they are never instantiated).
- attrs classes show their factory defaults (``metrics: Mapping = {}``), not attrs'
  ``NOTHING`` marker.
- References to jackfield objects by a path other than where they are documented resolve
  to the documented one: ``jackfield.TextDelta`` (the re-export) and
  ``jackfield._stream.FragmentStream`` (a type hint naming a private module) both lead to
  the one documented object of that name. Only jackfield's own names are resolved this way,
  and only when the name is unambiguous; anything else stays an error of the strict build.
- A table whose cells (but its first column) are all kinds of proof (``live``, ``recorded``,
  ``transcript``, ``unverified``, ``n/a``: the compatibility matrix) gets the class
  ``proof-matrix`` and each cell ``proof proof-<kind>``, and so do the bold kinds of the legend
  on its page: jackfield.css draws them as coloured letters. The Markdown keeps the words.
"""

from __future__ import annotations

import re
from typing import Any

import attrs
from docutils import nodes
from pygments.lexers.special import TextLexer
from sphinx.addnodes import pending_xref
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.util.nodes import make_refnode

_PACKAGES = ("jackfield", "jackfield_openai", "jackfield_llamacpp", "jackfield_ollama")


def _resolve_alias(
    app: Sphinx, env: BuildEnvironment, node: pending_xref, contnode: nodes.TextElement
) -> nodes.reference | None:
    if node.get("refdomain") != "py":
        return None
    target = str(node.get("reftarget", ""))
    if target.split(".", 1)[0] not in _PACKAGES:
        return None
    domain: Any = env.get_domain("py")
    name = target.rsplit(".", 1)[-1]
    matches = {
        full
        for full, entry in domain.objects.items()
        if full.rsplit(".", 1)[-1] == name
        and full.split(".", 1)[0] in _PACKAGES
        and not entry.aliased
    }
    # A nested name (Class.method) must keep its parent: compare the last two parts then.
    if len(target.split(".")) > 2 and target.split(".")[-2][:1].isupper():
        tail = ".".join(target.split(".")[-2:])
        matches = {full for full in matches if full.endswith(f".{tail}")}
    else:
        matches = {full for full in matches if not full.split(".")[-2][:1].isupper()}
    if len(matches) != 1:
        return None
    (full,) = matches
    entry = domain.objects[full]
    return make_refnode(app.builder, node["refdoc"], entry.docname, entry.node_id, contnode, full)


def _factory_default(field: Any) -> str:
    made = field.default.factory(None) if field.default.takes_self else field.default.factory()
    if attrs.has(type(made)):
        return f"{type(made).__name__}()"
    return repr(made) if isinstance(made, (dict, list, tuple, set, str)) else "..."


def _attrs_defaults(
    app: Sphinx, what: str, name: str, obj: Any, options: Any, signature: str | None, returns: Any
) -> tuple[str | None, Any]:
    if what == "class" and getattr(obj, "_is_protocol", False):
        return "", None  # a Protocol is not instantiated: its __call__ is what matters
    if what != "class" or signature is None or not attrs.has(obj):
        return signature, returns
    for field in attrs.fields(obj):
        if isinstance(field.default, attrs.Factory):  # type: ignore[arg-type]
            pattern = rf"(\b{re.escape(field.alias or field.name)}: [^=]*)= NOTHING\b"
            signature = re.sub(pattern, rf"\1= {_factory_default(field)}", signature, count=1)
    return signature, returns


PROOFS = {
    "live": "live",
    "recorded": "recorded",
    "transcript": "transcript",
    "unverified": "unverified",
    "n/a": "na",
}
"""The kinds of proof of dev/docs/compat_matrix.py, and their CSS class suffix."""


def _mark_proofs(app: Sphinx, doctree: nodes.document) -> None:
    found = False
    for table in doctree.findall(nodes.table):
        cells = [
            entry
            for body in table.findall(nodes.tbody)
            for row in body.findall(nodes.row)
            for entry in row.children[1:]
        ]
        if not cells or any(entry.astext().strip() not in PROOFS for entry in cells):
            continue
        found = True
        table["classes"].append("proof-matrix")
        for entry in cells:
            entry["classes"] += ["proof", f"proof-{PROOFS[entry.astext().strip()]}"]
    if not found:
        return
    for strong in doctree.findall(nodes.strong):  # the legend: "- **live**: proven ..."
        item = strong.parent.parent if strong.parent else None
        if strong.astext() in PROOFS and isinstance(item, nodes.list_item):
            strong["classes"] += ["proof", f"proof-{PROOFS[strong.astext()]}"]


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_lexer("output", TextLexer)
    app.connect("autodoc-process-signature", _attrs_defaults)
    app.connect("missing-reference", _resolve_alias)
    app.connect("doctree-read", _mark_proofs)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
