"""The rest of the command line: embed, shell completion, did-you-mean for commands, global
flags after the command, flag-named option errors, and a configuration with a missing plugin."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.cli.conftest import jackfield
from tests.support.scripted_server import Reply, serving

JSON = {"content-type": "application/json"}
ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "docs" / "examples" / "jackfield.toml"


def vectors(*rows: list[float]) -> Reply:
    data = {
        "data": [{"index": i, "embedding": row} for i, row in enumerate(rows)],
        "model": "embedder",
        "usage": {"prompt_tokens": 4, "total_tokens": 4},
    }
    return Reply(headers=JSON, body=[json.dumps(data).encode()], chunked=False)


def local(url: str) -> str:
    return f"""
[providers.local]
type = "openai-compatible"
base_url = "{url}/v1"
retries = {{ attempts = 0 }}

[agents.helper]
model = "local:tiny"
"""


# --- embed -----------------------------------------------------------------------------------


def test_embed_prints_one_vector_per_text(write_config: Any) -> None:
    with serving([vectors([0.5, -1.0], [0.25, 2.0])]) as server:
        result = jackfield(
            "embed", "-m", "local:embedder", "first", "second",
            config=write_config(local(server.url)),
        )  # fmt: skip
        request = server.requests[0]
    assert result.code == 0, result.err
    assert result.out == "[0.5, -1.0]\n[0.25, 2.0]\n"
    assert request.path == "/v1/embeddings"
    assert json.loads(request.body) == {
        "input": ["first", "second"],
        "encoding_format": "float",
        "model": "embedder",
    }


def test_embed_reads_stdin_lines_and_json_gives_everything(write_config: Any) -> None:
    with serving([vectors([1.0], [2.0])]) as server:
        result = jackfield(
            "embed", "-m", "local:embedder", "--json",
            config=write_config(local(server.url)),
            stdin="one\n\ntwo\n",
        )  # fmt: skip
        sent = json.loads(server.requests[0].body)["input"]
    assert result.code == 0, result.err
    assert sent == ["one", "two"]  # empty lines skipped
    data = json.loads(result.out)
    assert (data["texts"], data["vectors"], data["model"]) == (
        ["one", "two"],
        [[1.0], [2.0]],
        "embedder",
    )
    assert (data["usage"]["prompt_tokens"], data["usage"]["total_tokens"]) == (4, 4)


def test_embed_without_text_or_with_a_failing_server(write_config: Any) -> None:
    result = jackfield("embed", "-m", "llamacpp", stdin="\n\n")
    assert (result.code, result.err) == (
        2,
        "jackfield: stdin held no text to embed (empty lines are skipped)\n",
    )
    failing = Reply(status=404, headers=JSON, body=[b'{"error": {"message": "no such model"}}'])
    with serving([failing]) as server:
        result = jackfield("embed", "-m", "helper", "x", config=write_config(local(server.url)))
    assert result.code == 1
    assert "no such model" in result.err


# --- did-you-mean, global flags, flag-named errors -------------------------------------------


def test_a_mistyped_command_gets_a_did_you_mean() -> None:
    result = jackfield("chta")
    assert result.code == 2
    assert result.err.endswith("jackfield: error: unknown command 'chta'; did you mean 'chat'?\n")
    result = jackfield("frobnicate")
    assert result.code == 2
    assert "unknown command 'frobnicate' (commands: providers, models, " in result.err
    assert "__complete" not in result.err


def test_global_flags_work_after_the_command(write_config: Any) -> None:
    path = write_config(local("http://127.0.0.1:9"))
    result = jackfield("chat", "--config", str(path), "-v", "-m", "helper", "--dry-run", "hi")
    assert result.code == 0, result.err
    assert json.loads(result.out)["body"]["model"] == "tiny"
    result = jackfield("status", "--config", str(path.parent / "absent.toml"))
    assert result.code == 2
    assert "absent.toml: the configuration file (from --config) does not exist" in result.err
    # Given after the command, --verbose shows the traceback; given before, it still counts.
    for words in (["explain", "nobody", "-v"], ["-v", "explain", "nobody"]):
        result = jackfield(*words, config=path)
        assert result.code == 2
        assert "Traceback" in result.err


def test_option_errors_name_the_flag_as_typed(write_config: Any) -> None:
    path = write_config(local("http://127.0.0.1:9"))
    result = jackfield(
        "chat", "-m", "helper", "--dry-run", "-o", "max_tokens=lots", "hi", config=path
    )
    assert (result.code, result.err) == (
        2,
        "jackfield: -o max_tokens=lots: expected an integer, got str 'lots'\n",
    )
    result = jackfield("explain", "helper", "-o", 'timeouts={"total": -1}', config=path)
    assert result.err == (
        'jackfield: -o timeouts={"total": -1}: timeouts.total: must be a number of seconds '
        "above 0, or null for no limit; got -1.0\n"
    )
    result = jackfield("explain", "helper", "-o", "base_url=localhost:8080", config=path)
    assert result.err == (
        "jackfield: -o base_url=localhost:8080: must start with http:// or https://: write "
        "http://localhost:8080/v1\n"
    )


# --- completion ------------------------------------------------------------------------------


def complete(*words: str, config: Path | None = None) -> list[str]:
    before = ["--config", str(config)] if config else []
    result = jackfield("__complete", "--", *before, *words)
    assert result.code == 0, result.err
    return result.out.splitlines()


def test_completion_scripts_are_valid_and_call_the_hidden_command() -> None:
    for shell in ("bash", "zsh", "fish"):
        result = jackfield("completion", shell)
        assert result.code == 0
        assert "jackfield __complete -- " in result.out
    script = jackfield("completion", "bash").out
    checked = subprocess.run(["bash", "-n"], input=script, capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    if shutil.which("zsh"):
        zsh = jackfield("completion", "zsh").out
        checked = subprocess.run(["zsh", "-n"], input=zsh, capture_output=True, text=True)
        assert checked.returncode == 0, checked.stderr
    assert "__complete" not in jackfield("--help").out


def test_commands_flags_and_choices_complete() -> None:
    assert complete("ch") == ["chat"]
    assert "embed" in complete("")
    assert "__complete" not in complete("")
    flags = complete("chat", "--")
    assert {"--model", "--dry-run", "--config", "--verbose", "--json"} <= set(flags)
    assert complete("completion", "") == ["bash", "fish", "zsh"]
    assert complete("chat", "--config", "") == []  # a file: the shell completes it


def test_names_complete_from_the_configuration_given(write_config: Any) -> None:
    path = write_config(local("http://127.0.0.1:9"))
    assert complete("chat", "-m", "he", config=path) == ["helper"]
    models = complete("chat", "-m", "", config=path)
    assert models[0] == "helper"  # agents first, then instances
    assert {"local", "llamacpp", "ollama"} <= set(models)
    assert complete("status", "lo", config=path) == ["local", "localai"]
    assert complete("explain", "h", config=path) == ["helper"]
    # --config after the command counts too; an unreadable configuration completes nothing.
    assert complete("chat", "--config", str(path), "-m", "he") == ["helper"]
    broken = write_config("[providers", name="broken.toml")
    assert complete("chat", "-m", "", config=broken) == []


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_bash_completes_through_the_script(write_config: Any, tmp_path: Path) -> None:
    path = write_config(local("http://127.0.0.1:9"))
    script = tmp_path / "jackfield.bash"
    script.write_text(jackfield("completion", "bash").out)
    shim = tmp_path / "bin" / "jackfield"  # the command the script calls, whatever PATH holds
    shim.parent.mkdir()
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m jackfield "$@"\n')
    shim.chmod(0o755)
    run = (
        f'PATH="{shim.parent}:$PATH"\n'
        f"source {script}\n"
        f'COMP_WORDS=(jackfield --config "{path}" chat -m he); COMP_CWORD=5\n'
        "_jackfield_complete\n"
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
        "COMP_WORDS=(jackfield em); COMP_CWORD=1\n"
        "_jackfield_complete\n"
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    done = subprocess.run(["bash", "-c", run], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["helper", "embed"]


# --- a configuration whose plugin is missing ---------------------------------------------------


def test_the_example_config_works_with_a_plugin_turned_off() -> None:
    env = {"JACKFIELD_DISABLE_PLUGINS": "ollama"}
    result = jackfield("explain", "coder", config=EXAMPLE, env=env)
    assert result.code == 0, result.err
    assert "<- agent:coder" in result.out
    assert result.err.startswith(f"jackfield: warning: {EXAMPLE}:")
    assert "providers.ollama-native: disabled: the ready-made instance 'ollama-native' " in (
        result.err
    )
    result = jackfield("chat", "-m", "ollama-native:qwen3", "hi", config=EXAMPLE, env=env)
    assert result.code == 2
    assert result.err.splitlines()[-1] == (
        f"jackfield: instance 'ollama-native' (in {EXAMPLE}) is disabled: the ready-made "
        "instance 'ollama-native' comes with jackfield-ollama, which is turned off (by "
        "JACKFIELD_DISABLE_PLUGINS or JACKFIELD_LOAD_PLUGINS)"
    )
    assert jackfield("schema", config=EXAMPLE, env=env).code == 0
    status = jackfield("status", "--json", "--timeout", "2", config=EXAMPLE, env=env)
    rows = {row["instance"]: row for row in json.loads(status.out)}
    assert rows["ollama-native"]["probed"] is False
    assert "comes with jackfield-ollama" in rows["ollama-native"]["disabled"]
    text = jackfield("status", "--timeout", "2", config=EXAMPLE, env=env).out
    assert re.search(r"^ollama-native +off +the ready-made instance", text, re.MULTILINE), text


# --- pure rules ----------------------------------------------------------------------------------

keys = st.lists(st.from_regex(r"[a-z_]{1,8}", fullmatch=True), min_size=1, max_size=3)


@given(st.lists(st.tuples(keys, st.text(max_size=8)), min_size=1, max_size=5), st.data())
def test_an_option_error_is_pinned_on_the_flag_that_set_it(
    given_options: list[tuple[list[str], str]], data: Any
) -> None:
    from argparse import Namespace

    from jackfield._cli.args import flag_for

    items = [f"{'.'.join(key)}={value}" for key, value in given_options]
    args = Namespace(option=items, extra=[f"{items[0]}"])
    key, _ = data.draw(st.sampled_from(given_options))
    deeper = [*key, *data.draw(st.lists(st.sampled_from(["a", "b"]), max_size=2))]
    flag = flag_for(deeper, args)
    # The last -o whose key path is a prefix of the (or the of it) set it.
    expected = next(
        item
        for item, (other, _) in zip(reversed(items), reversed(given_options), strict=True)
        if other[: len(deeper)] == deeper[: len(other)]
    )
    assert flag == f"-o {expected}"
    assert flag_for(["extra_body", *given_options[0][0]], args) == f"--extra {items[0]}"
