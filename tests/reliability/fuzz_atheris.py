"""Coverage-guided fuzzing of the stream parser and assembler with atheris (libFuzzer), the
bodies plain or compressed and read by the pools' bounded decoder.

``nox -s fuzz`` runs it; by hand: ``python -m tests.reliability.fuzz_atheris SECONDS``. The
recorded transcripts' bodies seed the corpus. Any exception other than a
:class:`~jackfield.ProviderError` is a finding: libFuzzer stops and saves the input.
"""

from __future__ import annotations

import gzip
import sys
import tempfile
import zlib
from pathlib import Path

import atheris

with atheris.instrument_imports():
    from jackfield import MalformedStreamError, ProviderError, Response
    from jackfield.http._transport import CHUNK, decoded
    from jackfield.provider import Limits
    from jackfield_openai._assembler import ChunkAssembler
    from jackfield_openai._parsers import SSEParser

LIMITS = Limits(event_bytes=4096, choices=4, tool_calls=8, tool_argument_chars=512)
TRANSCRIPTS = Path(__file__).resolve().parents[1] / "providers" / "openai" / "transcripts"


def one(data: bytes) -> None:
    provider = atheris.FuzzedDataProvider(data)
    cuts = provider.ConsumeIntListInRange(provider.ConsumeIntInRange(0, 8), 1, 64)
    compressed = provider.ConsumeIntInRange(0, 3)
    raw = provider.ConsumeBytes(provider.remaining_bytes())
    if compressed:  # the same body, gzip- or deflate-compressed, read the bounded way
        raw = inflated(raw, compressed, cuts)
        if raw is None:
            return
    parser = SSEParser(ChunkAssembler(limits=LIMITS), max_event_size=LIMITS.event_bytes)
    fragments = []
    try:
        start = 0
        for size in [*cuts, len(raw)]:
            fragments += parser.feed(raw[start : start + size])
            start += size
            if parser.error is not None:
                raise parser.error
        fragments += parser.close()
    except ProviderError:
        return
    Response.fold(fragments)


def inflated(raw: bytes, how: int, cuts: list[int]) -> bytes | None:
    """``raw`` compressed (1: gzip, 2: deflate) or, 3, taken as a compressed body itself,
    then decoded by the pools' bounded decoder cut as the stream would be; a broken body is a
    zlib.error or MalformedStreamError (what the exchange reports), anything else a finding."""
    if how == 1:
        body, header = gzip.compress(raw), "gzip"
    elif how == 2:
        body, header = zlib.compress(raw), "deflate"
    else:
        body, header = raw, "gzip"
    pieces, start = [], 0
    for size in [*cuts, len(body)]:
        pieces.append(body[start : start + size])
        start += size
    try:
        out = list(decoded(pieces, header, "fuzz"))
    except (zlib.error, MalformedStreamError):
        return None
    assert all(len(piece) <= CHUNK for piece in out)
    if how in (1, 2):
        assert b"".join(out) == raw
    return b"".join(out)


def main(argv: list[str]) -> int:
    seconds = int(argv[1]) if len(argv) > 1 else 60
    corpus = Path(tempfile.mkdtemp(prefix="jackfield-fuzz-"))
    for i, path in enumerate(sorted(TRANSCRIPTS.rglob("*.http"))):
        body = path.read_bytes().partition(b"\r\n\r\n")[2]
        (corpus / f"seed-{i}").write_bytes(b"\x00\x00" + body)  # no cuts, plain, the body
        (corpus / f"seed-{i}-gzip").write_bytes(b"\x00\x01" + body)  # the same, gzip
    atheris.Setup([argv[0], f"-max_total_time={seconds}", "-max_len=8192", str(corpus)], one)
    atheris.Fuzz()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
