"""The OpenAI chat wire format, for sibling providers (embedded llama.cpp ...) to share.

Everything here is sans-I/O: building a request body from a conversation and typed options,
mapping tool names, and assembling answer chunks into switchboard fragments, with every
server dialect the OpenAI-compatible provider handles. Importing it does not import httpx.
"""

from __future__ import annotations

from switchboard.http import error_from_payload
from switchboard_openai._assembler import ChunkAssembler
from switchboard_openai._options import ChatOptions
from switchboard_openai._request import chat_body
from switchboard_openai._toolnames import ToolNames

__all__ = ["ChatOptions", "ChunkAssembler", "ToolNames", "chat_body", "error_from_payload"]
