"""The OpenAI chat format, sans-I/O, for sibling providers (embedded llama.cpp ...) to share.

Building a request body from a conversation and typed options, mapping tool names, and
assembling answer chunks into jackfield fragments, reading embeddings, with every server dialect the
OpenAI-compatible provider handles. Importing it imports neither httpx nor the HTTP kit.
"""

from __future__ import annotations

from jackfield_openai._assembler import ChunkAssembler
from jackfield_openai._body import chat_body
from jackfield_openai._chat import ChatOptions
from jackfield_openai._embeddings import parse_embeddings
from jackfield_openai._toolnames import ToolNames

__all__ = ["ChatOptions", "ChunkAssembler", "ToolNames", "chat_body", "parse_embeddings"]
