"""``transformers serve``'s own live checks (``JACKFIELD_LIVE=transformers``, see
tests/live/servers/transformers.py): two tool calls in one answer, reasoning streamed, a think
block inline from a model type it does not parse, what its model list says and how it refuses
a field it does not know."""

from __future__ import annotations

import time
from typing import Any

import pytest

from jackfield import BadRequestError
from tests.live.conftest import feature
from tests.live.servers import Live
from tests.live.servers import transformers as server
from tests.live.test_openai_compatible import PROMPT


@feature("reasoning field")
def test_streamed_reasoning_comes_apart_from_the_answer(live: Live, connect: Any) -> None:
    answer = connect().stream(PROMPT, temperature=0, **live.reasoning).collect()
    assert answer.thoughts == server.THOUGHT
    assert answer.text == server.CONSTRAINED


@feature("model listing")
def test_the_list_says_the_model_is_loaded(live: Live, connect: Any) -> None:
    (model,) = [m for m in connect().list_models() if m.id == live.model]
    assert model.loaded is True
    assert model.owned_by == "local"


@feature("errors")
def test_a_field_it_does_not_know_is_a_bad_request_not_retried(connect: Any) -> None:
    provider = connect(retries={"attempts": 2, "backoff": 2.0})
    started = time.monotonic()
    with pytest.raises(BadRequestError) as info:
        provider.complete(PROMPT, max_tokens=2, extra_body={"no_such_field": 1})
    assert info.value.status == 422
    assert "no_such_field" in str(info.value)
    assert time.monotonic() - started < 2.0
