"""Reading ``/embeddings`` answers: one vector per text in the texts' order, or a clear error."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jackfield import MalformedStreamError, NotSupportedError
from jackfield_openai.wire import parse_embeddings

floats = st.floats(allow_nan=False, allow_infinity=False, width=32)


@given(st.lists(st.lists(floats, min_size=1, max_size=6), min_size=1, max_size=6), st.randoms())
def test_vectors_come_back_in_the_order_of_the_texts(vectors: list[list[float]], rnd: Any) -> None:
    entries = [{"object": "embedding", "index": i, "embedding": v} for i, v in enumerate(vectors)]
    rnd.shuffle(entries)
    data = {"object": "list", "data": entries, "model": "m", "usage": {"prompt_tokens": 3}}
    result = parse_embeddings(data, len(vectors), "x")
    assert result.vectors == tuple(tuple(v) for v in vectors)
    assert result.model == "m"
    assert result.usage is not None
    assert result.usage.prompt_tokens == 3


def test_one_vector_per_token_is_a_clear_error() -> None:
    # llama-cpp-python started without pooling (and LiteLLM relaying it): a list of token
    # vectors where a vector belongs.
    data = {
        "object": "list",
        "data": [{"object": "embedding", "index": 0, "embedding": [[0.1, 0.2], [0.3, 0.4]]}],
        "model": "gemma",
        "usage": {"prompt_tokens": 2, "total_tokens": 2},
    }
    with pytest.raises(NotSupportedError, match="one vector per token") as info:
        parse_embeddings(data, 1, "local")
    message = str(info.value)
    assert "2 vectors of 2 numbers for text 0" in message
    assert "--pooling mean" in message


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ({"data": []}, "returned 0 vectors for 1 texts"),
        ({"detail": "x"}, "returned no vectors"),
        ({"data": [{"index": 0}]}, "entry 0 has no vector"),
        ({"data": [{"index": 0, "embedding": ["a"]}]}, "other than numbers"),
    ],
)
def test_other_shapes_are_malformed(data: Any, problem: str) -> None:
    with pytest.raises(MalformedStreamError, match=problem):
        parse_embeddings(data, 1, "local")
