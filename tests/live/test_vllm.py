"""vLLM's own live checks (``JACKFIELD_LIVE=vllm``, see tests/live/servers/vllm.py): its
pooling server's model list, two forced tool calls in one answer, a think block inline when
the request does not turn thinking on, what its model list publishes and how it refuses a
request past the context."""

from __future__ import annotations

from typing import Any

import pytest

from jackfield import ContextLengthError
from tests.live.conftest import feature
from tests.live.servers import Live
from tests.live.servers import vllm as server


@feature("embeddings")
def test_the_pooling_server_lists_its_model_as_one_that_embeds(live: Live, connect: Any) -> None:
    pooling = connect(base_url=live.embedding_base_url, model=server.EMBEDDING_MODEL)
    (model,) = pooling.list_models()
    assert model.id == server.EMBEDDING_MODEL
    assert model.kind == "embedding"


@feature("model listing")
def test_the_list_gives_the_context_length_and_owner(live: Live, connect: Any) -> None:
    (model,) = [m for m in connect().list_models() if m.id == live.model]
    assert model.context_length == server.CONTEXT
    assert model.owned_by == "vllm"
    assert model.kind == "chat"


@feature("errors")
def test_a_prompt_past_the_context_is_a_context_length_error(connect: Any) -> None:
    provider = connect(retries={"attempts": 2, "backoff": 2.0})
    with pytest.raises(ContextLengthError) as info:
        provider.complete("sea " * (2 * server.CONTEXT), max_tokens=4)
    assert info.value.status == 400


@feature("errors")
def test_more_tokens_than_the_context_is_a_context_length_error(connect: Any) -> None:
    with pytest.raises(ContextLengthError) as info:
        connect().complete("Say something about the sea.", max_tokens=server.CONTEXT + 1)
    assert info.value.status == 400
