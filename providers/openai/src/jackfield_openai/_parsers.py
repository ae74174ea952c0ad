"""Body parsers (bytes in, fragments out) for chat responses: event stream, JSON, anything else."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import orjson

from jackfield import (
    MalformedStreamError,
    ProviderError,
    StreamLimitError,
    TruncatedStreamError,
)
from jackfield.fragments import Fragment
from jackfield.http import Limits, error_from_payload
from jackfield.sse import SSEDecoder
from jackfield_openai._assembler import ChunkAssembler

__all__ = ["JSONBodyParser", "SSEParser", "UnexpectedBodyParser", "choose_parser"]

_EMPTY: tuple[Fragment, ...] = ()


def _loads_or_text(data: str) -> object:
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return data


def _snippet(data: str | bytes, size: int = 120) -> str:
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    return text if len(text) <= size else text[: size - 3] + "..."


class SSEParser:
    """``text/event-stream`` chat chunks through the WHATWG decoder and the assembler."""

    __slots__ = ("_assembler", "_done", "_single", "_sse", "_text_only", "error", "progress")

    def __init__(self, assembler: ChunkAssembler, *, max_event_size: int) -> None:
        self._assembler = assembler
        self._sse = SSEDecoder(
            max_line_size=max_event_size, max_event_size=max_event_size, extra_fields=("error",)
        )
        self._single = self._sse.single_data
        self._text_only = assembler._text_only
        self._done = False
        self.progress = 0
        self.error: ProviderError | None = None

    def feed(self, chunk: bytes) -> Sequence[Fragment]:
        # The hot path: a chunk that is one event of one data line, holding one text delta.
        data = self._single(chunk)
        if data is None or self._done:
            return self._feed(chunk)
        if data == b"[DONE]":
            self.progress += 1
            self._done = True
            return _EMPTY
        try:
            payload = orjson.loads(data)
        except orjson.JSONDecodeError:
            return self._feed(chunk)  # the general path says what is wrong with it
        self.progress += 1
        if type(payload) is dict:
            text = self._text_only(payload)
            if text is not None:
                return [text]
        return self._assembler.chunk(payload)

    def _feed(self, chunk: bytes) -> Sequence[Fragment]:
        events = self._sse.feed(chunk)
        if not events:
            return _EMPTY
        out: list[Fragment] = []
        assemble = self._assembler.chunk
        for event in events:
            self.progress += 1
            data = event.data
            if self._done:
                continue  # after [DONE] (some servers keep talking)
            if data == "[DONE]":
                self._done = True
                continue
            try:
                if event.event == "error":  # llama.cpp's legacy "error:" field
                    raise error_from_payload(_loads_or_text(data), self._assembler.label)
                try:
                    payload = orjson.loads(data)
                except orjson.JSONDecodeError:
                    raise MalformedStreamError(
                        f"{self._assembler.label}: an event is not valid JSON: {_snippet(data)!r}"
                    ) from None
                out += assemble(payload)
            except ProviderError as exc:
                if not out:
                    raise
                self.error = exc  # deliver what came before it first; the caller raises it
                break
        return out

    def close(self) -> Sequence[Fragment]:
        self._sse.close()
        last = self._sse.unterminated
        if not self._done and last is not None and last.data.strip() == "[DONE]":
            self._done = True  # KoboldCpp ends with "data: [DONE]" and no blank line
        return self._assembler.finish(clean=self._done)


class JSONBodyParser:
    """A whole ``chat.completion`` JSON body (non-streaming, or a server that ignored stream)."""

    __slots__ = ("_assembler", "_body", "_limit", "error", "progress")

    def __init__(self, assembler: ChunkAssembler, *, max_size: int) -> None:
        self._assembler = assembler
        self._body = bytearray()
        self._limit = max_size
        self.progress = 0
        self.error: ProviderError | None = None

    def feed(self, chunk: bytes) -> Sequence[Fragment]:
        self.progress += 1
        self._body += chunk
        if len(self._body) > self._limit:
            raise StreamLimitError(
                f"{self._assembler.label}: the response is larger than {self._limit} bytes"
            )
        return _EMPTY

    def close(self) -> Sequence[Fragment]:
        label = self._assembler.label
        if not self._body.strip():
            raise TruncatedStreamError(f"{label}: the response body is empty")
        try:
            payload = orjson.loads(self._body)
        except orjson.JSONDecodeError:
            raise MalformedStreamError(
                f"{label}: the response is not valid JSON: {_snippet(bytes(self._body))!r}"
            ) from None
        if isinstance(payload, dict) and "choices" not in payload and "error" not in payload:
            raise MalformedStreamError(
                f"{label}: the response is JSON but not a chat completion: "
                f"{_snippet(bytes(self._body))!r}"
            )
        fragments = self._assembler.chunk(payload, whole=True)
        return [*fragments, *self._assembler.finish(clean=True)]


class UnexpectedBodyParser:
    """A body of a type no chat server sends (an HTML page from a proxy, say): a clear error."""

    __slots__ = ("_body", "_content_type", "_label", "error", "progress")

    def __init__(self, content_type: str, label: str) -> None:
        self._content_type = content_type
        self._label = label
        self._body = bytearray()
        self.progress = 0
        self.error: ProviderError | None = None

    def feed(self, chunk: bytes) -> Sequence[Fragment]:
        self.progress += 1
        self._body += chunk[: 2048 - len(self._body)]
        if len(self._body) >= 2048:  # enough to show; an endless body is not read on
            self.error = self._error()
        return _EMPTY

    def close(self) -> Sequence[Fragment]:
        raise self._error()

    def _error(self) -> MalformedStreamError:
        return MalformedStreamError(
            f"{self._label}: expected a chat response but the server sent "
            f"{self._content_type or 'a body without a content type'}: "
            f"{_snippet(bytes(self._body))!r} (is base_url pointing at the API?)"
        )


def choose_parser(
    headers: Mapping[str, str],
    assembler: ChunkAssembler,
    *,
    stream: bool,
    limits: Limits,
) -> SSEParser | JSONBodyParser | UnexpectedBodyParser:
    """Pick the parser from the response's content type (servers do not always obey)."""
    content_type = headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "text/event-stream" or (stream and not content_type):
        return SSEParser(assembler, max_event_size=limits.event_bytes)
    if content_type in ("application/json", "") or content_type.endswith("+json"):
        return JSONBodyParser(assembler, max_size=limits.body_bytes)
    return UnexpectedBodyParser(content_type, assembler.label)
