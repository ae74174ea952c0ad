"""LiteLLM proxy's own live check (beside those every server runs), with llama-cpp-python
behind it: the unpooled embeddings it passes on."""

from __future__ import annotations

from typing import Any

import pytest

from jackfield import NotSupportedError
from tests.live.conftest import feature
from tests.live.servers.llama_cpp_python import PER_TOKEN_MODEL


@feature("embeddings")
def test_embeddings_without_pooling_behind_it_are_refused_clearly(connect: Any) -> None:
    provider = connect(model=PER_TOKEN_MODEL)
    with pytest.raises(NotSupportedError, match="one vector per token"):
        provider.embed(["the sea", "the sky"])
