"""What ``jackfield chat`` sends besides the prompt (attached images, an answer schema), how
the answer is checked, and how it looks: colour and the waiting indicator, the summary line."""

from __future__ import annotations

import base64
import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jackfield import Host, load_registry
from jackfield._cli import inputs
from jackfield._cli.args import UsageError
from jackfield._cli.chat import _schema_options
from jackfield._cli.inputs import (
    compact_schema,
    image_type,
    load_attachments,
    load_schema,
)
from jackfield._cli.style import Style, Waiting, colour_allowed, summary
from jackfield._fragments import Completion, FinishReason, Usage
from jackfield._output import Output
from jackfield.testing import plugin
from tests.cli.conftest import jackfield
from tests.cli.test_cli import ANSWER, config_for
from tests.support.scripted_server import Reply, serving, sse

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 24
GIF = b"GIF89a" + b"\x01" * 24
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 24


def answering(text: str) -> Reply:
    return Reply(
        body=sse(
            {"choices": [{"index": 0, "delta": {"content": text}}]},
            {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
        )
    )


# --- attachments ------------------------------------------------------------------------------


def test_images_from_a_file_a_url_and_stdin_reach_the_server(
    write_config: Any, tmp_path: Path
) -> None:
    image = tmp_path / "picture.data"  # the type comes from the bytes, not the name
    image.write_bytes(PNG)
    with serving([Reply(body=ANSWER)]) as server:
        config = write_config(config_for(server.url))
        command = [sys.executable, "-m", "jackfield", "--config", str(config), "chat", "-m"]
        command += ["helper", "-a", str(image), "-a", "https://example.org/cat.jpg", "-a", "-"]
        result = subprocess.run(
            [*command, "What are these?"], input=GIF, capture_output=True, timeout=60
        )
        body = json.loads(server.requests[0].body)
    assert result.returncode == 0, result.stderr
    assert body["messages"][-1] == {
        "role": "user",
        "content": [
            {"type": "text", "text": "What are these?"},
            {
                "type": "image_url",
                "image_url": {"url": "data:image/png;base64," + base64.b64encode(PNG).decode()},
            },
            {"type": "image_url", "image_url": {"url": "https://example.org/cat.jpg"}},
            {
                "type": "image_url",
                "image_url": {"url": "data:image/gif;base64," + base64.b64encode(GIF).decode()},
            },
        ],
    }


def test_attachments_that_cannot_be_sent_are_usage_errors(tmp_path: Path) -> None:
    missing = tmp_path / "missing.png"
    result = jackfield("chat", "-m", "llamacpp", "--dry-run", "-a", str(missing), "hi")
    assert (result.code, result.err) == (2, f"jackfield: -a {missing}: no such file\n")
    notes = tmp_path / "notes.txt"
    notes.write_text("some text", encoding="utf-8")
    result = jackfield("chat", "-m", "llamacpp", "--dry-run", "-a", str(notes), "hi")
    assert result.code == 2
    assert f"-a {notes}: not an image" in result.err
    assert '"$(cat FILE)"' in result.err
    result = jackfield("chat", "-m", "llamacpp", "-a", "-", stdin="")
    assert result.code == 2
    assert "-a - reads the image from stdin, so the prompt must be an argument" in result.err


def test_image_types_are_sniffed() -> None:
    assert image_type(PNG) == "image/png"
    assert image_type(JPEG) == "image/jpeg"
    assert image_type(GIF) == "image/gif"
    assert image_type(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "image/webp"
    assert image_type(b"\x00\x00\x00\x1cftypavif\x00") == "image/avif"
    assert image_type(b"\x00\x00\x00\x1cftypheic\x00") == "image/heic"
    assert image_type(b"II*\x00rest") == "image/tiff"
    assert image_type(b"%PDF-1.7") is None
    assert image_type(b"hello") is None
    assert image_type(b"") is None


def test_load_attachments_checks_each_one(tmp_path: Path, monkeypatch: Any) -> None:
    (tmp_path / "a.png").write_bytes(PNG)
    images = load_attachments([str(tmp_path / "a.png"), "-"], io.BytesIO(JPEG))
    assert [(i.media_type, i.data) for i in images] == [("image/png", PNG), ("image/jpeg", JPEG)]
    assert load_attachments(["HTTPS://example.org/x.png"])[0].url == "HTTPS://example.org/x.png"
    monkeypatch.setattr(inputs, "MAX_IMAGE_BYTES", len(PNG) - 1)
    problems = {
        str(tmp_path / "a.png"): "larger than",
        str(tmp_path): "is a directory",
        "https://": "not a usable URL",
        "http://host/a b.png": "not a usable URL",
    }
    for item, problem in problems.items():
        with pytest.raises(UsageError, match=problem):
            load_attachments([item])
    (tmp_path / "empty.png").write_bytes(b"")
    with pytest.raises(UsageError, match="empty"):
        load_attachments([str(tmp_path / "empty.png")])
    with pytest.raises(UsageError, match="once"):
        load_attachments(["-", "-"], io.BytesIO(PNG))


# --- schemas ----------------------------------------------------------------------------------


def test_a_compact_schema_is_sent_and_the_answer_checked(write_config: Any) -> None:
    with serving([answering('```json\n{"name": "Ada", "age": 36, "height": 1.65}\n```')]) as ok:
        config = write_config(config_for(ok.url))
        result = jackfield(
            "chat",
            "-m",
            "helper",
            "--schema",
            "name, age int, height float: in m",
            "Who?",
            config=config,
        )
        body = json.loads(ok.requests[0].body)
    assert result.code == 0, result.err
    assert json.loads(result.out) == {"name": "Ada", "age": 36, "height": 1.65}
    assert result.out.startswith("{\n  ")  # printed as JSON, indented
    assert body["response_format"] == {
        "type": "json_schema",
        "json_schema": {
            "name": "answer",
            "schema": {
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    "age": {"type": "integer"},
                    "height": {"type": "number", "description": "in m"},
                },
                "required": ["name", "age", "height"],
                "additionalProperties": False,
            },
        },
    }


def test_an_answer_that_breaks_the_schema_fails_with_the_reason_and_the_text(
    write_config: Any,
) -> None:
    schema = '{"type": "object", "properties": {"age": {"type": "integer"}}, "required": ["age"]}'
    with serving([answering('{"age": "old"}')]) as server:
        config = write_config(config_for(server.url))
        result = jackfield("chat", "-m", "helper", "--schema", schema, "Age?", config=config)
    assert result.code == 1
    assert result.out == ""
    assert (
        'jackfield: the answer does not match the schema: $.age: expected integer, got string "old"'
        in result.err
    )
    assert 'the answer was:\n{"age": "old"}\n' in result.err


def test_a_schema_file_and_its_conflicts(tmp_path: Path) -> None:
    path = tmp_path / "person.json"
    path.write_text('{"type": "object", "title": "a person"}', encoding="utf-8")
    result = jackfield("chat", "-m", "vllm", "--dry-run", "--schema", f"@{path}", "hi")
    assert result.code == 0, result.err
    assert json.loads(result.out)["body"]["response_format"]["json_schema"] == {
        "name": "a_person",
        "schema": {"type": "object", "title": "a person"},
    }
    # llama.cpp is asked with its own json_schema field (see jackfield._output)
    result = jackfield("chat", "-m", "llamacpp", "--dry-run", "--schema", f"@{path}", "hi")
    assert result.code == 0, result.err
    body = json.loads(result.out)["body"]
    assert body["json_schema"] == {"type": "object", "title": "a person"}
    assert "response_format" not in body
    result = jackfield(
        "chat", "-m", "llamacpp", "--dry-run", "--schema", "a", "-o", "response_format=1", "hi"
    )
    assert result.code == 2
    assert "--schema and -o response_format=... both set the answer's format" in result.err
    result = jackfield("chat", "-m", "llamacpp", "--dry-run", "--schema", "age integer", "hi")
    assert result.code == 2
    assert "unknown type 'integer' (str, int, float or bool); did you mean 'int'?" in result.err


def test_load_schema_reads_json_inline_from_a_file_or_the_compact_form(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text('{"type": "array"}', encoding="utf-8")
    assert load_schema(str(path)) == {"type": "array"}
    assert load_schema(f"@{path}") == {"type": "array"}
    assert load_schema(' {"type": "string"} ') == {"type": "string"}
    assert load_schema("a")["properties"] == {"a": {"type": "string"}}
    for bad, problem in [
        ("{nope", "--schema: not valid JSON"),
        ("[1]", "'\\[1\\]' is not a name"),  # not a JSON object: the compact form
        (f"@{tmp_path / 'gone.json'}", "no such file"),
        (str(tmp_path / "gone.json"), "no such file"),
        ("@" + str(tmp_path), "cannot read"),
    ]:
        with pytest.raises(UsageError, match=problem):
            load_schema(bad)
    path.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(UsageError, match="a JSON Schema is an object, got list"):
        load_schema(str(path))


def test_the_schema_is_asked_for_the_way_the_provider_supports() -> None:
    schema = {"type": "object"}
    result = jackfield("chat", "-m", "ollama-native:m", "--dry-run", "--schema", "a", "hi")
    assert result.code == 0, result.err
    assert json.loads(result.out)["body"]["format"]["required"] == ["a"]
    result = jackfield(
        "chat", "-m", "llamacpp", "--dry-run", "--schema", "a", "--extra", "top_k=3", "hi"
    )
    assert result.code == 0, result.err
    body = json.loads(result.out)["body"]
    assert body["top_k"] == 3  # the schema joins extra_body, it does not replace it
    assert body["json_schema"]["required"] == ["a"]
    # A provider with no option for it: the schema goes into the system prompt.
    registry = load_registry(autoload=False, plugins=[plugin])
    host = Host.from_mapping({"providers": {"local": {"type": "scripted"}}}, registry=registry)
    with host:
        options: dict[str, Any] = {"temperature": 0}
        system = _schema_options(host.agent("local"), schema, options, "Be brief.")
    assert options == {"temperature": 0}
    assert system is not None
    assert system.startswith("Be brief.\n\nAnswer with one JSON value that follows this")
    assert system.endswith('\n{"type":"object"}')


names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True)
kinds = st.sampled_from([None, "str", "int", "float", "bool"])
words = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r,"), max_size=20
).map(str.strip)


@given(
    st.lists(st.tuples(names, kinds, words), min_size=1, max_size=6, unique_by=lambda f: f[0]),
    st.booleans(),
    st.sampled_from([", ", ",", " ,  "]),
)
def test_the_compact_form_means_what_it_says(
    fields: list[tuple[str, str | None, str]], lines: bool, comma: str
) -> None:
    rendered = [
        f"{name}{f' {kind}' if kind else ''}{f': {text}' if text else ''}"
        for name, kind, text in fields
    ]
    schema = compact_schema(("\n" if lines else comma).join(rendered))
    expected = {}
    for name, kind, text in fields:
        expected[name] = {"type": inputs.TYPES[kind or "str"]}
        if text:
            expected[name]["description"] = text
    assert schema == {
        "type": "object",
        "properties": expected,
        "required": [name for name, _, _ in fields],
        "additionalProperties": False,
    }


@given(st.text(max_size=40))
def test_the_compact_form_fails_only_with_usage_errors(text: str) -> None:
    try:
        schema: dict[str, Any] | None = compact_schema(text)
    except UsageError as exc:  # the only failure: one saying what is wrong with --schema
        schema, problem = None, str(exc)
    if schema is None:
        assert problem.startswith("--schema")
    else:
        assert schema["required"] == list(schema["properties"])
        assert all(inputs._NAME.match(name) for name in schema["properties"])


def test_descriptions_may_hold_commas_when_fields_are_lines() -> None:
    schema = compact_schema("name: the full name, as written\nage int: in years\n\n")
    assert schema["properties"]["name"]["description"] == "the full name, as written"
    with pytest.raises(UsageError, match="a description goes after a colon"):
        compact_schema("name the full name")
    with pytest.raises(UsageError, match="given twice"):
        compact_schema("a, a int")
    with pytest.raises(UsageError, match="not a name"):
        compact_schema("2fast")
    with pytest.raises(UsageError, match="no field given"):
        compact_schema(" , ")


def test_an_answer_is_read_and_checked() -> None:
    answer = Output.of({"type": "object"}).read_text(' ```json\n{"a": 1}```')
    assert (answer.ok, answer.value) == (True, {"a": 1})
    answer = Output.of({}).read_text("Sure! Here it is: {")
    assert not answer.ok
    assert answer.message.startswith("the answer is not JSON")
    answer = Output.of({"type": "object"}).read_text("[]")
    expected = "the answer does not match the schema: $: expected object, got array []"
    assert answer.message == expected


# --- how it looks -----------------------------------------------------------------------------


def test_no_colour_and_no_indicator_for_pipes(write_config: Any) -> None:
    slow = Reply(body=ANSWER, header_delay=0.3)
    with serving([slow]) as server:
        config = write_config(config_for(server.url))
        environment = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "jackfield",
                "--config",
                str(config),
                "chat",
                "-m",
                "helper",
                "hi",
            ],
            capture_output=True,
            timeout=60,
            env={**environment, "TERM": "xterm-256color"},
        )
    assert result.returncode == 0, result.stderr
    assert result.stdout == b"Hello there.\n"
    assert b"\x1b" not in result.stderr
    assert b"waiting" not in result.stderr


class FakeTerminal(io.StringIO):
    encoding = "utf-8"

    def isatty(self) -> bool:
        return True


def test_colour_is_for_terminals_without_no_color_or_a_dumb_term(monkeypatch: Any) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    assert colour_allowed(FakeTerminal())
    assert not colour_allowed(io.StringIO())
    assert not colour_allowed(FakeTerminal(), no_color=True)
    monkeypatch.setenv("NO_COLOR", "")  # set to anything, even nothing
    assert not colour_allowed(FakeTerminal())
    monkeypatch.delenv("NO_COLOR")
    monkeypatch.setenv("TERM", "dumb")
    assert not colour_allowed(FakeTerminal())
    assert Style(enabled=False).wrap("x", "bold") == "x"
    assert Style(enabled=True).wrap("x", "bold", "green") == "\x1b[1;32mx\x1b[0m"
    assert Style(enabled=True).prompt("you> ", "bold") == "\001\x1b[1m\002you> \001\x1b[0m\002"


def test_the_waiting_indicator_erases_itself_and_stops(monkeypatch: Any) -> None:
    monkeypatch.setattr(Waiting, "INTERVAL", 0.001)
    stream = FakeTerminal()
    waiting = Waiting(stream, "waiting for m…", enabled=True).start()
    deadline = time.monotonic() + 10
    while "waiting for m…" not in stream.getvalue() and time.monotonic() < deadline:
        time.sleep(0.005)
    waiting.stop()
    shown = stream.getvalue()
    assert "\x1b[2m⠋ waiting for m…\x1b[0m" in shown
    assert shown.endswith("\r\x1b[K")
    waiting.stop()  # again: nothing more
    assert stream.getvalue() == shown
    quiet = FakeTerminal()
    with Waiting(quiet, "waiting", enabled=False):
        pass
    assert quiet.getvalue() == ""


def test_the_summary_line() -> None:
    usage = Usage(prompt_tokens=12, completion_tokens=8, cached_tokens=4)
    measured = Completion(FinishReason.STOP, usage=usage, metrics={"predicted_per_second": 31.25})
    assert summary(measured, total=0.5, first_token=0.2) == (
        "finish: stop | tokens: 12 prompt (4 cached) + 8 completion | 31.2 tokens/s | "
        "first token after 0.20 s | total 0.50 s"
    )
    counted = Completion(FinishReason.LENGTH, usage=Usage(prompt_tokens=3, completion_tokens=10))
    assert summary(counted, total=2.5, first_token=0.5) == (
        "finish: length | tokens: 3 prompt + 10 completion | 5.0 tokens/s | "
        "first token after 0.50 s | total 2.50 s"
    )
    assert summary(counted, total=0.3, first_token=0.2).count("tokens/s") == 0  # too short
    bare = Completion(FinishReason.STOP)
    assert summary(bare, total=1.0) == "finish: stop | total 1.00 s"
