"""The servers of the live suites, one module each, and what a live suite knows of its server.

A module ``tests/live/servers/<name>.py`` has:

- ``SERVER``: its column in docs/compatibility.md (a key of ``dev.docs.compat_matrix.SERVERS``);
- ``NOT_APPLICABLE``: ``{feature: reason}`` for what the server cannot do at all;
- ``ELSEWHERE`` (optional): ``{feature: suite}`` for what another live suite proves (its checks
  are left out here and no evidence is written for them);
- ``UNVERIFIED`` (optional): ``{feature: reason}`` for what the server can do but no request can
  make it do on demand (its checks are left out, the cell stays unverified, and the run ends
  by saying why);
- ``serve()``: a context manager that installs nothing (its nox session did), makes or finds a
  model, starts the server on 127.0.0.1 on a free port, yields a :class:`Live` and stops it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs


@attrs.frozen
class Live:
    """A running server, as the checks see it."""

    base_url: str
    """The OpenAI-compatible API root, ``http://127.0.0.1:<port>/v1``."""
    model: str
    """The model to ask for (as the server lists it)."""
    kind: str
    """What ``status().server_kind`` must say: the server, told from what it says itself."""
    options: Mapping[str, Any] = attrs.field(factory=dict)
    """Provider options every check uses (timeouts for a slow CPU server, say)."""
    api_key: str | None = None
    """The key the server was started with, if it checks one."""
    constrain: Mapping[str, Any] = attrs.field(factory=dict)
    """Call options that make the server answer exactly ``constrained`` (a grammar, a regex,
    structured outputs): the extras pass-through check."""
    constrained: str = ""
    """The answer ``constrain`` forces."""
    tool_call: Mapping[str, Any] = attrs.field(factory=dict)
    """Call options that make the server call the ``get_weather`` tool (``tool_choice`` and
    whatever the server needs to force valid arguments), or empty when it cannot."""
    two_calls: Mapping[str, Any] = attrs.field(factory=dict)
    """Call options that make the server call ``get_weather`` twice in one answer, for Paris then
    Rome, or empty when nothing can force it."""
    inline_think: Mapping[str, Any] = attrs.field(factory=dict)
    """Call options that make the server answer ``<think>{thought}</think>{constrained}`` with the
    block inline in the answer's text (no reasoning parser of its own splits it off)."""
    thought: str = ""
    """The thought ``inline_think`` forces."""
    reasoning: Mapping[str, Any] = attrs.field(factory=dict)
    """Call options that make the server answer with reasoning apart (in a reasoning field), or
    empty when it cannot."""
    embedding_model: str | None = None
    """A model the server embeds with, or ``None``."""
    embedding_base_url: str | None = None
    """Where that model is served, when not at ``base_url`` (vLLM serves embeddings from a
    server of their own)."""
    streamed_usage: bool = True
    """The server reports usage at the end of a stream when asked (llama-cpp-python ignores
    ``stream_options``: its streams carry none)."""
    any_model_name: bool = False
    """The server answers with the one model it loaded whatever model is asked for (llama.cpp):
    an unknown model is then not an error."""
    process: Any = None
    """The server process (its log helps when a check fails)."""
