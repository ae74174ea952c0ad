"""Each fast path of the core gives exactly what its general path gives, on generated input.

- ``Response.extend`` folds a text delta of a started choice inline; the general path is
  ``Response.add``.
- ``FragmentStream`` / ``AsyncFragmentStream`` fold a one-fragment batch inline; the general
  path is ``Response.extend`` of the batch (itself checked against ``add`` above).

The wire layer's fast path (``SSEDecoder.single_data``) is checked in test_sse.py; the OpenAI
provider's (``ChunkAssembler.text_only``, ``SSEParser.feed``) in its own tests.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jackfield import AsyncFragmentStream, Fragment, FragmentStream, Response, TextDelta
from jackfield.provider import Exchange
from tests.core.test_fragments import fragments

# Streams where text deltas of started choices abound (what the fast paths are for).
texts = st.builds(TextDelta, st.text(max_size=3), st.integers(0, 2))
streams = st.lists(st.one_of(texts, texts, texts, fragments), max_size=25)


def _general(stream: Sequence[Fragment]) -> Response:
    response = Response()
    for fragment in stream:
        response.add(fragment)
    return response


def _batches(stream: Sequence[Fragment], cuts: Sequence[int]) -> list[list[Fragment]]:
    points = sorted({c % (len(stream) + 1) for c in cuts})
    batches, start = [], 0
    for point in [*points, len(stream)]:
        if point > start:
            batches.append(list(stream[start:point]))
            start = point
    return batches


class Batches(Exchange):
    def __init__(self, batches: list[list[Fragment]]) -> None:
        self.batches = batches

    def __iter__(self) -> Iterator[list[Fragment]]:
        return iter(self.batches)

    async def _each(self) -> AsyncIterator[list[Fragment]]:
        for batch in self.batches:
            yield batch

    def __aiter__(self) -> AsyncIterator[list[Fragment]]:
        return self._each()


@given(streams, st.lists(st.integers(0, 30), max_size=8))
def test_extend_folds_as_add_does(stream: list[Fragment], cuts: list[int]) -> None:
    response = Response()
    for batch in _batches(stream, cuts):
        response.extend(batch)
    assert response == _general(stream)
    assert response.choices == _general(stream).choices


@given(streams, st.lists(st.integers(0, 30), max_size=8))
def test_a_stream_folds_and_yields_as_the_general_path(
    stream: list[Fragment], cuts: list[int]
) -> None:
    batches = _batches(stream, cuts) + [[f] for f in stream[:3]]  # one-fragment batches too
    flat = [f for batch in batches for f in batch]
    fragment_stream = FragmentStream(Batches(batches), "fast")
    assert list(fragment_stream) == flat
    assert fragment_stream.response == _general(flat)


@pytest.mark.anyio
@given(streams, st.lists(st.integers(0, 30), max_size=8))
async def test_an_async_stream_folds_and_yields_as_the_general_path(
    stream: list[Fragment], cuts: list[int]
) -> None:
    batches = _batches(stream, cuts) + [[f] for f in stream[:3]]
    flat = [f for batch in batches for f in batch]
    fragment_stream = AsyncFragmentStream(Batches(batches), "fast")
    got: list[Any] = [f async for f in fragment_stream]
    assert got == flat
    assert fragment_stream.response == _general(flat)
