"""The wire layer: sans-I/O parsing of what servers send. Bytes in, events out.

Nothing here does I/O or imports httpx or the HTTP kit (a test imports this package with httpx
made unimportable), so in-process providers and any transport share it. Provider authors reach
these names through :mod:`jackfield.provider`.
"""

from jackfield._wire.errorbody import error_for_response, error_from_payload
from jackfield._wire.limits import Limits
from jackfield._wire.ndjson import NDJSONDecoder
from jackfield._wire.sse import ServerSentEvent, SSEDecoder
from jackfield._wire.thinking import ThinkSplitter, ThinkTags

__all__ = [
    "Limits",
    "NDJSONDecoder",
    "SSEDecoder",
    "ServerSentEvent",
    "ThinkSplitter",
    "ThinkTags",
    "error_for_response",
    "error_from_payload",
]
