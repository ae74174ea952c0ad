"""llama-cpp-python's own live checks (beside those every server runs): its 500 for a request
it refuses, its unpooled embeddings, and the developer role it refuses, learned."""

from __future__ import annotations

import time
from typing import Any

import pytest

from jackfield import (
    BadRequestError,
    NotSupportedError,
    SystemMessage,
    UserMessage,
)
from tests.live.conftest import feature
from tests.live.servers.llama_cpp_python import PER_TOKEN_MODEL
from tests.live.test_openai_compatible import PROMPT


@feature("errors")
def test_a_request_it_refuses_with_a_500_is_a_typed_error_and_no_retry_loop(connect: Any) -> None:
    # llama-cpp-python answers every request-validation error with HTTP 500.
    provider = connect(retries={"attempts": 2, "backoff": 2.0})
    started = time.monotonic()
    with pytest.raises(BadRequestError) as info:
        provider.complete(PROMPT, max_tokens=2, extra_body={"max_tokens": "lots"})
    spent = time.monotonic() - started
    assert info.value.status == 500
    assert "validation error" in str(info.value)
    assert spent < 2.0, f"an answer that cannot change was retried ({spent:.1f} s)"


@feature("embeddings")
def test_embeddings_without_pooling_are_refused_clearly(connect: Any) -> None:
    provider = connect(model=PER_TOKEN_MODEL)
    with pytest.raises(NotSupportedError, match="one vector per token"):
        provider.embed(["the sea", "the sky"])


def test_the_developer_role_it_refuses_is_learned_once(connect: Any) -> None:
    # It answers the developer role with a 500 validation report ("'input': 'developer'"):
    # the provider sends the message as system instead, and from then on at once.
    provider = connect(system_role="developer", max_tokens=4)
    conversation = [SystemMessage("Be brief."), UserMessage("Hi")]
    assert provider.complete(conversation).done
    assert list(provider.learned().values()) == [["the developer role sent as system"]]
    assert provider.dry_run(conversation)["body"]["messages"][0]["role"] == "system"
    assert provider.complete(conversation).done
    with pytest.raises(BadRequestError, match="validation error"):
        connect(system_role="developer", learn_quirks=False).complete(conversation, max_tokens=4)
