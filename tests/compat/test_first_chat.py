"""A stranger's first chat: the packaged model answers a simple question, briefly, and stops.

The packaged gemma-3 270M is a base model. These tests ask it what a new user would, through
the command line (the in-process engine, ``-m embedded``), through llama.cpp's own server
started with no options (the ``llamacpp`` instance), and through the one-line Python call, and
check the answers are on topic, one short line, free of template tokens, and ended by the
model's own format (finish ``stop``) rather than by a token limit.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator

import pytest

import jackfield
from jackfield_llamacpp.server import LlamaServer

pytestmark = pytest.mark.compat

# Questions the packaged model answers correctly at temperature 0, and a word the answer must
# contain: checked, not assumed (a change of template or stop strings shows up here).
QUESTIONS = {
    "What is the capital of France?": "paris",
    "What do bees make?": "honey",
    "What is water made of?": "hydrogen",
}
TEMPLATE_TOKENS = re.compile(
    r"<\|?/?(im_start|im_end|start_of_turn|end_of_turn|eos|bos)\|?>|User:|Assistant:"
)


def chat(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "jackfield", "chat", *args],
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "NO_COLOR": "1"},
    )


def check_answer(text: str, word: str | None) -> None:
    answer = text.strip()
    assert answer, "the model said nothing"
    assert TEMPLATE_TOKENS.search(answer) is None, answer
    assert "\n" not in answer, answer  # one line: the model stopped at the end of its turn
    assert len(answer) < 200, answer
    if word is not None:
        assert word in answer.lower(), answer


@pytest.mark.parametrize(("question", "word"), QUESTIONS.items())
def test_the_command_line_answers_on_topic_and_stops(question: str, word: str) -> None:
    result = chat("-m", "embedded", "--json", "-o", "temperature=0", question)
    assert result.returncode == 0, result.stderr
    fragments = [json.loads(line) for line in result.stdout.splitlines()]
    text = "".join(f["text"] for f in fragments if f["type"] == "text")
    check_answer(text, word)
    assert fragments[-1]["type"] == "completion"
    assert fragments[-1]["finish_reason"] == "stop"  # the format ended it, not a limit


def test_with_default_sampling_the_answer_still_stops_clean() -> None:
    # What a user types first: no options at all (llama.cpp's default sampling, random seed).
    result = chat("-m", "embedded", "What is the capital of France?")
    assert result.returncode == 0, result.stderr
    check_answer(result.stdout, None)
    assert "[finish: stop" in result.stderr


@pytest.fixture(scope="module")
def default_server() -> Iterator[LlamaServer]:
    with LlamaServer(context=1024) as server:  # the packaged model, no options
        yield server


def test_llama_server_started_with_no_options_answers_through_the_preset(
    default_server: LlamaServer,
) -> None:
    host = jackfield.Host.from_mapping(
        {"providers": {"llamacpp": {"base_url": default_server.base_url}}}
    )
    with host:
        answer = host.agent("llamacpp").complete("What is the capital of France?", temperature=0)
    check_answer(str(answer), "paris")
    assert answer.finish_reason is jackfield.FinishReason.STOP


def test_answers_are_capped_when_the_call_sets_no_limit() -> None:
    # A prompt the transcript does not end (the call's own stop string replaces the format's):
    # the engine's max_output ends it, and a call's max_tokens overrides the cap.
    registry = jackfield.load_registry()
    with registry.create_instance("embedded", {"context": 512, "max_output": 24}) as provider:
        question = "Count from one to a thousand, in words."
        capped = provider.complete(question, temperature=0, stop=["\u2603"])
        longer = provider.complete(question, temperature=0, stop=["\u2603"], max_tokens=40)
    assert capped.finish_reason is jackfield.FinishReason.LENGTH, capped.text
    assert capped.usage is not None
    assert capped.usage.completion_tokens == 24
    assert longer.usage is not None
    assert longer.usage.completion_tokens == 40


def test_the_one_line_call_answers() -> None:
    answer = jackfield.complete("embedded", "What do bees make?", temperature=0)
    check_answer(str(answer), "honey")
    try:
        stream = jackfield.stream("embedded", "What is the capital of France?", temperature=0)
        texts = list(stream.text_stream)
    finally:
        jackfield.default_host().close()  # unload the model now, not at exit
    check_answer("".join(texts), "paris")
    assert stream.response.finish_reason is jackfield.FinishReason.STOP
