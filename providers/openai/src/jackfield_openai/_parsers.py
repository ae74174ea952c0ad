"""Body parsers (bytes in, fragments out) for chat responses: event stream, JSON, anything else."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import orjson

from jackfield import Fragment, MalformedStreamError
from jackfield.http import EventParser, UnexpectedBodyParser, WholeBodyParser, snippet
from jackfield.provider import (
    Limits,
    NDJSONDecoder,
    ServerSentEvent,
    SSEDecoder,
    error_from_payload,
)
from jackfield_openai._assembler import ChunkAssembler

__all__ = ["SSEParser", "choose_parser", "whole_body_parser"]

_EMPTY: tuple[Fragment, ...] = ()
DONE = "[DONE]"
"""The data of the event that ends an OpenAI stream."""
_DONE_BYTES = DONE.encode()


_UNREADABLE = object()


def _loads(data: str | bytes) -> object:
    """A chunk's JSON: orjson's strict reading, else the lenient one (a non-finite number as
    ``None``, a lone surrogate as U+FFFD, so one odd value does not cost the whole answer),
    else ``_UNREADABLE``."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        pass
    try:
        return NDJSONDecoder.lenient_loads(data)
    except ValueError:
        return _UNREADABLE


def _loads_or_text(data: str) -> object:
    payload = _loads(data)
    return data if payload is _UNREADABLE else payload


class SSEParser(EventParser):
    """``text/event-stream`` chat chunks through the WHATWG decoder and the assembler.

    The hot path: a chunk that is exactly one event of one data line (what servers send for
    nearly every token) skips the decoder (:meth:`~jackfield.provider.SSEDecoder.single_data`
    says when that is exact); a payload holding one text delta skips the general assembly
    (:meth:`ChunkAssembler.text_only` says when). Either answers ``None`` to send the chunk
    down the general path.

    ``[DONE]`` sets ``finished``: the answer is complete even if the server keeps the connection
    open, and whatever it sends after is ignored.
    """

    __slots__ = ("_assembler", "_single", "_sse", "_text_only")

    def __init__(self, assembler: ChunkAssembler, *, max_event_size: int) -> None:
        self._sse = SSEDecoder(
            max_line_size=max_event_size, max_event_size=max_event_size, extra_fields=("error",)
        )
        super().__init__(self._sse, self._event, self._end)
        self._assembler = assembler
        self._single = self._sse.single_data
        self._text_only = assembler.text_only

    def feed(self, chunk: bytes) -> Sequence[Fragment]:
        if self.finished:
            return _EMPTY  # after [DONE] (some servers keep talking)
        data = self._single(chunk)
        if data is None:
            return self.deliver(self._sse.feed(chunk))
        if data == _DONE_BYTES:
            self.progress += 1
            self.finished = True
            return _EMPTY
        try:
            payload = orjson.loads(data)
        except orjson.JSONDecodeError:  # the general path reads it leniently, or says why not
            return self.deliver(self._sse.feed(chunk))
        self.progress += 1
        if type(payload) is dict:
            text = self._text_only(payload)
            if text is not None:
                return [text]
        return self._assembler.chunk(payload)

    def _event(self, event: ServerSentEvent) -> Sequence[Fragment]:
        data = event.data
        if data == DONE:  # deliver() reads no event after this one
            self.finished = True
            return _EMPTY
        label = self._assembler.label
        if event.event == "error":  # llama.cpp's legacy "error:" field
            raise error_from_payload(_loads_or_text(data), label)
        payload = _loads(data)
        if payload is _UNREADABLE:
            raise MalformedStreamError(f"{label}: an event is not valid JSON: {snippet(data)!r}")
        return self._assembler.chunk(payload)

    def _end(self) -> Sequence[Fragment]:
        last = self._sse.unterminated
        # KoboldCpp ends with "data: [DONE]" and no blank line
        clean = self.finished or (last is not None and last.data.strip() == DONE)
        return self._assembler.finish(clean=clean)


def whole_body_parser(assembler: ChunkAssembler, *, limit: int) -> WholeBodyParser:
    """A whole ``chat.completion`` JSON body (non-streaming, or a server that ignored stream)."""
    label = assembler.label

    def assemble(body: bytes) -> Sequence[Fragment]:
        payload = _loads(body)
        if payload is _UNREADABLE:
            raise MalformedStreamError(
                f"{label}: the response is not valid JSON: {snippet(body)!r}"
            )
        if isinstance(payload, dict) and "choices" not in payload and "error" not in payload:
            raise MalformedStreamError(
                f"{label}: the response is JSON but not a chat completion: {snippet(body)!r}"
            )
        fragments = assembler.chunk(payload, whole=True)
        return [*fragments, *assembler.finish(clean=True)]

    return WholeBodyParser(assemble, limit=limit, label=label)


def choose_parser(
    headers: Mapping[str, str],
    assembler: ChunkAssembler,
    *,
    stream: bool,
    limits: Limits,
) -> SSEParser | WholeBodyParser | UnexpectedBodyParser:
    """Pick the parser from the response's content type (servers do not always obey)."""
    content_type = headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "text/event-stream" or (stream and not content_type):
        return SSEParser(assembler, max_event_size=limits.event_bytes)
    if content_type in ("application/json", "") or content_type.endswith("+json"):
        return whole_body_parser(assembler, limit=limits.body_bytes)
    return UnexpectedBodyParser(
        content_type,
        assembler.label,
        expected="a chat response",
        hint="is base_url pointing at the API?",
    )
