"""The OpenAI chat wire format, for sibling providers (embedded llama.cpp ...) to share.

Everything here is sans-I/O: building a request body from a conversation and typed options,
mapping tool names, and assembling answer chunks into jackfield fragments, with every
server dialect the OpenAI-compatible provider handles. Importing it does not import httpx.
"""

from __future__ import annotations

from jackfield.http import error_from_payload
from jackfield_openai._assembler import ChunkAssembler
from jackfield_openai._options import ChatOptions
from jackfield_openai._request import chat_body
from jackfield_openai._toolnames import ToolNames

__all__ = ["ChatOptions", "ChunkAssembler", "ToolNames", "chat_body", "error_from_payload"]
