"""The ``jackfield`` command line, run as a subprocess against scripted loopback servers."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import jackfield
from tests.support.scripted_server import Pause, Reply, serving, sse

ANSWER = sse(
    {"choices": [{"index": 0, "delta": {"reasoning_content": "Let me think."}}], "model": "m"},
    {"choices": [{"index": 0, "delta": {"content": "Hello"}}]},
    {"choices": [{"index": 0, "delta": {"content": " there."}}]},
    {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
    {"choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}},
)


def config_for(url: str, extra: str = "") -> str:
    return f"""
[providers.local]
type = "openai-compatible"
base_url = "{url}/v1"
retries = {{ attempts = 0 }}

[agents.helper]
model = "local:tiny"
system_prompt = "Be brief."
options = {{ temperature = 0.2 }}
extra_body = {{ top_k = 10 }}
{extra}"""


def test_help_imports_nothing_heavy() -> None:
    code = (
        "import sys\n"
        "from jackfield._cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in sys.modules if m in ('importlib.metadata', 'sqlite3', 'readline')\n"
        "    or m.split('.')[0] in\n"
        "    ('httpx', 'httpcore', 'jackfield_openai', 'cattrs', 'attrs', 'pluggy')]\n"
        "print(heavy, file=sys.stderr)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert "usage: jackfield" in result.stdout
    assert result.stderr.strip() == "[]"


def test_version_names_jackfield_and_python() -> None:
    import platform

    from jackfield import __version__

    result = subprocess.run(
        [sys.executable, "-m", "jackfield", "--version"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"jackfield {__version__} (Python {platform.python_version()})\n"


def test_python_dash_m_works_too() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "jackfield", "--help"], capture_output=True, text=True
    )
    assert result.returncode == 0
    assert "chat" in result.stdout


def test_providers_lists_plugins_and_instances() -> None:
    result = jackfield("providers")
    assert result.code == 0
    assert "openai-compatible    jackfield-openai" in result.out
    assert "instances: llamacpp, lmstudio, ollama" in result.out
    assert "echo" in result.out


def test_chat_streams_the_answer_with_thoughts_apart(write_config: Any) -> None:
    with serving([Reply(body=ANSWER)]) as server:
        result = jackfield(
            "chat", "-m", "helper", "Say hello", config=write_config(config_for(server.url))
        )
        body = json.loads(server.requests[0].body)
    assert result.code == 0, result.err
    assert result.out == "Hello there.\n"
    assert "[thinking] Let me think." in result.err
    assert "[finish: stop | tokens: 5 prompt + 2 completion | " in result.err
    assert body["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Say hello"},
    ]
    assert (body["model"], body["temperature"], body["top_k"]) == ("tiny", 0.2, 10)


def test_no_thoughts(write_config: Any) -> None:
    with serving([Reply(body=ANSWER)]) as server:
        result = jackfield(
            "chat",
            "-m",
            "helper",
            "--no-thoughts",
            "hi",
            config=write_config(config_for(server.url)),
        )
    assert "thinking" not in result.err
    assert result.out == "Hello there.\n"


def test_prompt_from_stdin_and_options_from_the_command_line(write_config: Any) -> None:
    with serving([Reply(body=ANSWER)]) as server:
        result = jackfield(
            "chat",
            "-m",
            "local:other",
            "-o",
            "temperature=0",
            "-o",
            'stop=["x"]',
            "--extra",
            "cache_prompt=true",
            "--extra",
            "mode=instruct",
            "--extra",
            "stream_options.continuous_usage_stats=true",
            config=write_config(config_for(server.url)),
            stdin="from stdin\n",
        )
        body = json.loads(server.requests[0].body)
    assert result.code == 0, result.err
    assert body["messages"] == [{"role": "user", "content": "from stdin\n"}]
    assert body["model"] == "other"
    assert (body["temperature"], body["stop"], body["cache_prompt"], body["mode"]) == (
        0,
        ["x"],
        True,
        "instruct",
    )
    assert body["stream_options"] == {"include_usage": True, "continuous_usage_stats": True}


def test_json_output_is_one_fragment_per_line(write_config: Any) -> None:
    with serving([Reply(body=ANSWER)]) as server:
        result = jackfield(
            "chat", "-m", "helper", "--json", "hi", config=write_config(config_for(server.url))
        )
    lines = [json.loads(line) for line in result.out.splitlines()]
    assert [line["type"] for line in lines] == ["thought", "text", "text", "completion"]
    assert lines[-1]["usage"]["total_tokens"] == 7
    assert result.code == 0


def test_json_output_ends_with_an_error_line_on_failure(write_config: Any) -> None:
    broken = [ANSWER[1], b'data: {"error": {"message": "the slot crashed", "code": 500}}\n\n']
    with serving([Reply(body=broken)]) as server:
        result = jackfield(
            "chat", "-m", "helper", "--json", "hi", config=write_config(config_for(server.url))
        )
    lines = [json.loads(line) for line in result.out.splitlines()]
    assert lines[0]["type"] == "text"
    assert lines[-1] == {
        "type": "error",
        "error": "ServerError",
        "message": "local: the slot crashed",
    }
    assert "HTTP" not in lines[-1]["message"]  # it came inside a 200 stream
    assert result.code == 1


def test_dry_run_prints_the_request_with_secrets_masked(write_config: Any) -> None:
    text = config_for("http://127.0.0.1:9").replace(
        "retries = { attempts = 0 }", 'retries = { attempts = 0 }\napi_key = "sk-super-secret"'
    )
    config = write_config(text)
    result = jackfield("chat", "-m", "helper", "--dry-run", "hi", config=config)
    assert result.code == 0, result.err
    request = json.loads(result.out)
    assert request["url"] == "http://127.0.0.1:9/v1/chat/completions"
    assert request["headers"]["Authorization"] == "Bearer ********"
    assert request["body"]["top_k"] == 10
    assert "sk-super-secret" not in result.out + result.err


def test_a_server_error_is_one_line_and_exit_1(write_config: Any) -> None:
    failing = Reply(
        status=500,
        headers={"content-type": "application/json"},
        body=[b'{"error": {"message": "boom"}}'],
        chunked=False,
    )
    with serving([failing]) as server:
        result = jackfield(
            "chat", "-m", "helper", "hi", config=write_config(config_for(server.url))
        )
    assert result.code == 1
    assert result.err.strip().splitlines()[-1] == "jackfield: local: boom (HTTP 500)"
    assert "Traceback" not in result.err


def test_nothing_listening_is_exit_1_naming_the_url(write_config: Any) -> None:
    with serving([Reply()]) as server:
        url = server.url
    result = jackfield("chat", "-m", "helper", "hi", config=write_config(config_for(url)))
    assert result.code == 1
    assert f"cannot connect to {url}/v1/chat/completions" in result.err


def test_verbose_shows_the_traceback(write_config: Any) -> None:
    result = jackfield(
        "--verbose",
        "chat",
        "-m",
        "nowhere:x",
        "hi",
        config=write_config(config_for("http://127.0.0.1:9")),
    )
    assert result.code == 2
    assert "Traceback" in result.err


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[providers.local\n", "not valid TOML"),
        ("[provders.x]\n", ":1: provders: unknown section 'provders'; did you mean 'providers'?"),
        (
            '[providers.local]\ntype = "openai-compatable"\n',
            ":2: providers.local.type: unknown provider 'openai-compatable'; "
            "did you mean 'openai-compatible'?",
        ),
        (
            "[providers.local]\nbase_url = 'http://127.0.0.1:9/v1'\n",
            "providers.local.type: missing: which provider is this?",
        ),
        (
            '[providers.local]\ntype = "openai-compatible"\ntempurature = 1\n',
            ":3: providers.local.tempurature: unknown option 'tempurature'; "
            "did you mean 'temperature'?",
        ),
        (
            '[providers.local]\ntype = "openai-compatible"\noptions = { max_tokens = "lots" }\n',
            ":3: providers.local.options.max_tokens: expected an integer, got str 'lots'",
        ),
        (
            '[providers.local]\ntype = "openai-compatible"\n'
            "temperature = 1\noptions = { temperature = 2 }\n",
            "providers.local.temperature: set either here or in the options table, not both",
        ),
        (
            '[providers.Bad]\ntype = "openai-compatible"\n',
            "providers.Bad: names use lowercase letters",
        ),
        ("[agents.a]\nsystem_prompt = 'x'\n", "agents.a.model: required key is missing"),
        ("[agents.a]\nmodel = 'nowhere:x'\n", "agents.a.model: unknown instance 'nowhere'"),
        (
            "[agents.a]\nmodel = 'llamacpp'\nsystem_promt = 'x'\n",
            ":3: agents.a.system_promt: unknown key 'system_promt'; did you mean 'system_prompt'?",
        ),
        (
            "[agents.a]\nmodel = 'llamacpp'\noptions = { temperature = 'hot' }\n",
            ":3: agents.a.options.temperature: expected a number, got str 'hot'",
        ),
        (
            "[agents.a]\nmodel = 'llamacpp'\nextra_body = 5\n",
            "agents.a.extra_body: expected an object (mapping), got int",
        ),
        (
            "[agents.a]\nmodel = 'llamacpp'\ntools = [{ description = 'no name' }]\n",
            "agents.a.tools[0].name: required key is missing",
        ),
        ("agents = 3\n", "agents: expected a table, got int"),
    ],
)
def test_bad_config_files_are_usage_errors_naming_file_line_and_key(
    write_config: Any, text: str, message: str
) -> None:
    path = write_config(text)
    result = jackfield("explain", "llamacpp", config=path)
    assert result.code == 2, result.err
    assert message in result.err
    assert str(path) in result.err
    assert "Traceback" not in result.err


def test_a_missing_config_file(tmp_path: Path) -> None:
    result = jackfield("explain", "llamacpp", config=tmp_path / "nope.toml")
    assert result.code == 2
    assert "the configuration file (from --config) does not exist" in result.err


def test_config_from_the_environment_and_the_user_file(write_config: Any, tmp_path: Path) -> None:
    text = '[agents.helper]\nmodel = "llamacpp:from-env"\n'
    path = write_config(text)
    result = jackfield("explain", "helper", env={"JACKFIELD_CONFIG": str(path)})
    assert re.search(r'^model += "from-env"', result.out, re.MULTILINE)
    home = tmp_path / "xdg"
    (home / "jackfield").mkdir(parents=True)
    (home / "jackfield" / "config.toml").write_text(text.replace("from-env", "from-user-file"))
    env = {"XDG_CONFIG_HOME": str(home), "JACKFIELD_CONFIG": "", "JACKFIELD_HOME": ""}
    result = jackfield("explain", "helper", env=env)
    assert re.search(r'^model += "from-user-file"', result.out, re.MULTILINE)
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "config.toml").write_text(text.replace("from-env", "from-home"))
    result = jackfield("explain", "helper", env={**env, "JACKFIELD_HOME": str(tmp_path / "home")})
    assert re.search(r'^model += "from-home"', result.out, re.MULTILINE)


def test_a_missing_secret_variable_fails_only_the_instance_that_uses_it(write_config: Any) -> None:
    text = (
        config_for("http://127.0.0.1:9")
        + '\n[providers.cloud]\npreset = "openai"\ntype = "openai-compatible"\n'
        + 'api_key = { env = "SB_TEST_UNSET_KEY" }\n'
    )
    env = {"SB_TEST_UNSET_KEY": ""}
    assert jackfield("explain", "helper", config=write_config(text), env=env).code == 0
    result = jackfield("chat", "-m", "cloud:gpt-x", "hi", config=write_config(text), env=env)
    assert result.code == 2
    assert "instance 'cloud': environment variable SB_TEST_UNSET_KEY is not set" in result.err


def test_explain_shows_layers_including_inside_extra_body(write_config: Any) -> None:
    result = jackfield(
        "explain",
        "helper",
        "-o",
        "seed=1",
        "--extra",
        "min_p=0.1",
        config=write_config(config_for("http://127.0.0.1:9")),
    )
    assert result.code == 0
    lines = result.out.splitlines()
    assert lines[0] == "# agent 'helper' on instance 'local' (provider openai-compatible)"
    assert any(line.startswith("model ") and line.endswith("<- agent:helper") for line in lines)
    assert any(line.startswith("seed ") and line.endswith("<- call") for line in lines)
    assert any(
        line.startswith("extra_body.top_k ") and line.endswith("<- agent:helper") for line in lines
    )
    assert any(line.startswith("extra_body.min_p ") and line.endswith("<- call") for line in lines)
    assert any(
        line.startswith("base_url ") and line.endswith("<- instance:local") for line in lines
    )


def test_unknown_agent_or_instance_has_a_suggestion(write_config: Any) -> None:
    result = jackfield(
        "chat", "-m", "helpr", "hi", config=write_config(config_for("http://127.0.0.1:9"))
    )
    assert result.code == 2
    assert "unknown agent or instance 'helpr'. Did you mean 'helper'?" in result.err


def test_bad_command_line_options_are_usage_errors(write_config: Any) -> None:
    assert jackfield("chat").code == 2  # argparse: -m is required
    result = jackfield("chat", "-m", "llamacpp", "-o", "novalue", "hi")
    assert result.code == 2
    assert "-o expects KEY=VALUE, got 'novalue'" in result.err
    result = jackfield("chat", "-m", "llamacpp", "-o", "tempreature=1", "hi")
    assert result.code == 2
    assert result.err == (
        "jackfield: -o tempreature=1: unknown option 'tempreature'; did you mean 'temperature'?\n"
    )
    result = jackfield("chat", "-m", "llamacpp", stdin="   ")
    assert result.code == 2
    assert "the prompt is empty" in result.err


def test_models_and_status_against_a_scripted_server(write_config: Any) -> None:
    models = {
        "object": "list",
        "data": [{"id": "tiny", "object": "model", "owned_by": "vllm", "max_model_len": 2048}],
    }

    def reply(request: Any) -> Reply:
        return Reply(
            headers={"content-type": "application/json"},
            body=[json.dumps(models).encode()],
            chunked=False,
        )

    gone = '[providers.gone]\ntype = "openai-compatible"\nbase_url = "http://127.0.0.1:9/v1"\n'
    with serving(reply) as server:
        config = write_config(config_for(server.url, gone))
        listed = jackfield("models", "local", config=config)
        both = jackfield("models", "local", "gone", config=config)
        status = jackfield("status", "local", config=config)
        everything = jackfield("status", "--all", "--json", config=config)
    assert listed.code == 0
    assert listed.out.split() == ["local", "tiny", "context", "2048", "chat"]
    assert (both.code, both.out) == (1, listed.out)  # what answered is still listed
    assert "gone" in both.err
    assert "127.0.0.1:9" in both.err
    assert status.code == 0
    assert status.out.splitlines()[0].split()[:3] == ["local", "ok", "vllm"]
    data = {entry["instance"]: entry for entry in json.loads(everything.out)}
    assert data["local"]["connected"] is True
    assert {"lmstudio", "ollama", "llamacpp"} <= set(data)


def test_status_gives_advice(write_config: Any) -> None:
    unauthorized = Reply(
        status=401,
        headers={"content-type": "application/json"},
        body=[b'{"error": "Unauthorized"}'],
        chunked=False,
    )
    with serving([unauthorized]) as server:
        result = jackfield("status", "local", config=write_config(config_for(server.url)))
    assert result.code == 1
    assert "-> the server wants an API key: set api_key" in result.out


def test_status_names_the_unset_variable_of_a_configured_key(write_config: Any) -> None:
    unauthorized = Reply(
        status=401,
        headers={"content-type": "application/json"},
        body=[b'{"error": "Unauthorized"}'],
        chunked=False,
    )
    key = 'api_key = { env = "JACKFIELD_TEST_NEVER_SET" }\n'
    with serving([unauthorized]) as server:
        config = write_config(config_for(server.url).replace("retries =", key + "retries ="))
        result = jackfield("status", "local", config=config, env={"JACKFIELD_TEST_NEVER_SET": ""})
    assert result.code == 1
    assert "key: missing (env:JACKFIELD_TEST_NEVER_SET)" in result.out
    assert (
        "-> export JACKFIELD_TEST_NEVER_SET (the key's variable), or change api_key" in result.out
    )
    assert "set api_key, e.g." not in result.out


def _models_server(models: dict[str, Any], **headers: str) -> Any:
    def reply(request: Any) -> Reply:
        if request.path != "/v1/models":
            return Reply(status=404, headers={"content-type": "text/plain"}, chunked=False)
        return Reply(
            headers={"content-type": "application/json", **headers},
            body=[json.dumps(models).encode()],
            chunked=False,
        )

    return serving(reply)


def test_discover_names_servers_by_what_they_say_never_by_their_port(write_config: Any) -> None:
    anonymous = {"data": [{"id": "m1", "object": "model", "owned_by": "someone"}]}
    llama = {"data": [{"id": "gemma", "object": "model", "owned_by": "llamacpp"}]}
    with (
        _models_server(anonymous) as first,
        _models_server(anonymous) as second,
        _models_server(llama, server="llama.cpp") as third,
    ):
        urls = [f"{s.url}/v1" for s in (first, second, third)]
        result = jackfield("discover", *urls, "--timeout", "5")
        status = jackfield("status", "local", config=write_config(config_for(first.url)))
    assert result.code == 0, result.err
    out = result.out
    assert f"# found a server that does not say which it is at {urls[0]} (m1)" in out
    assert f'[providers.local]\ntype = "openai-compatible"\nbase_url = "{urls[0]}"' in out
    assert f"[providers.local-{second.port}]" in out  # two unknown servers: two names
    assert f"# found llama.cpp at {urls[2]} (gemma)\n[providers.llamacpp]" in out
    assert "vllm" not in out
    first_line = status.out.splitlines()[0].split()
    assert first_line[:3] == ["local", "ok", "unknown"]
    assert status.out.splitlines()[0].endswith("loaded: not reported")


def test_discover_says_when_nothing_answers() -> None:
    result = jackfield("discover", "http://127.0.0.1:9/v1", "--timeout", "2")
    assert result.code == 0
    assert result.out == "no server answers on the addresses given (1 probed)\n"


def test_sigint_stops_generation_and_exits_130(write_config: Any) -> None:
    endless = [piece for _ in range(500) for piece in (ANSWER[1], Pause(0.02))]
    with serving([Reply(body=endless)]) as server:
        config = write_config(config_for(server.url))
        process = subprocess.Popen(
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
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ},
        )
        assert process.stdout is not None
        assert process.stdout.read(5) == "Hello"  # it is streaming
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=20)
        assert server.wait_for(lambda: bool(server.disconnects))
    assert process.returncode == 130
    assert "[interrupted: generation stopped]" in err
    assert server.disconnects[0] < 400


def test_a_reader_that_goes_away_ends_the_chat_quietly(write_config: Any) -> None:
    endless = [piece for _ in range(500) for piece in (ANSWER[1], Pause(0.01))]
    with serving([Reply(body=endless)]) as server:
        config = write_config(config_for(server.url))
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "jackfield",
                "--config",
                str(config),
                "chat",
                "-m",
                "helper",
                "--json",
                "hi",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ},
        )
        assert process.stdout is not None
        assert process.stderr is not None
        assert b'"text": "Hello"' in process.stdout.readline()  # streaming
        process.stdout.close()  # `| head -1` has read its line
        err = process.stderr.read()
        process.stderr.close()
        process.wait(timeout=20)
        assert server.wait_for(lambda: bool(server.disconnects))
    assert process.returncode == 141
    assert err == b""
    assert server.disconnects[0] < 400


def test_interactive_chat_on_a_terminal(write_config: Any) -> None:
    import pty

    with serving([Reply(body=ANSWER)]) as server:
        config = write_config(config_for(server.url))
        leader, follower = pty.openpty()
        process = subprocess.Popen(
            [sys.executable, "-m", "jackfield", "--config", str(config), "chat", "-m", "helper"],
            stdin=follower,
            stdout=follower,
            stderr=follower,
        )
        os.close(follower)
        transcript = b""

        def read_until(marker: bytes, count: int, timeout: float = 20) -> None:
            """Read until ``marker`` has appeared ``count`` times."""
            nonlocal transcript
            deadline = time.monotonic() + timeout
            while transcript.count(marker) < count and time.monotonic() < deadline:
                try:
                    transcript += os.read(leader, 1024)
                except OSError:
                    break

        read_until(b"you> ", 1)
        os.write(leader, b"first question\n")
        read_until(b"you> ", 2)
        os.write(leader, b"second question\n")
        read_until(b"you> ", 3)
        os.write(leader, b"exit\n")
        process.wait(timeout=20)
        os.close(leader)
        second = json.loads(server.requests[1].body)
    assert process.returncode == 0
    assert transcript.count(b"Hello there.") == 2
    assert [m["role"] for m in second["messages"]] == ["system", "user", "assistant", "user"]
    assert second["messages"][2]["content"] == "Hello there."
