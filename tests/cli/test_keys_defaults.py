"""Keys, the environment and the default model (issue 17, item 4).

The keys file is private and written whole; ``jackfield keys`` never shows a key; a stored key
is sent by the instance it is named after, after the configuration's and the preset's variable;
``OPENAI_BASE_URL``, ``OPENAI_API_KEY`` and ``OLLAMA_HOST`` move their presets, and ``explain``
names them; a call that names no model to a server that needs one fails before sending; the
default model is kept, checked, shown and cleared. Every server is scripted on 127.0.0.1; the
environment is set per test (monkeypatch) or per command (its subprocess).
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import jackfield
from jackfield import _keys
from jackfield._cli.args import UsageError
from jackfield._cli.defaults import default_model
from jackfield.hookspecs import hookimpl
from jackfield.http import server_url
from jackfield.testing import plugin as scripted_plugin
from jackfield_ollama._options import ollama_root as native_root
from jackfield_openai._presets import ollama_root
from tests.cli.conftest import jackfield as run
from tests.support.scripted_server import Reply, serving, sse

KEY = "sk-jackfield-test-0123456789abcdef"
ANSWER = sse(
    {"choices": [{"index": 0, "delta": {"content": "Hi."}}], "model": "m"},
    {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OLLAMA_HOST"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def env(**values: str) -> dict[str, str]:
    """A subprocess's environment: the three variables unset unless given."""
    return {"OPENAI_API_KEY": "", "OPENAI_BASE_URL": "", "OLLAMA_HOST": "", **values}


def home() -> Path:
    return Path(os.environ["JACKFIELD_HOME"])


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --- the keys file -------------------------------------------------------------------------------


def test_keys_are_kept_in_a_private_file_in_the_user_directory() -> None:
    path = _keys.set_key("openai", f"  {KEY}\n")  # a pasted newline is not part of the key
    assert path == home() / "keys.json"
    assert (mode(path), mode(path.parent)) == (0o600, 0o700)
    assert json.loads(path.read_text()) == {"openai": KEY}
    _keys.set_key("lmstudio", "lm-key")
    _keys.set_key("openai", "sk-replaced")
    assert _keys.load_keys() == {"lmstudio": "lm-key", "openai": "sk-replaced"}
    assert _keys.remove_key("openai") is True
    assert _keys.remove_key("openai") is False
    assert _keys.load_keys() == {"lmstudio": "lm-key"}
    assert mode(path) == 0o600
    assert sorted(p.name for p in path.parent.iterdir()) == [".keys.json.lock", "keys.json"]


def test_a_write_that_fails_leaves_the_old_keys_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    _keys.set_key("openai", KEY)

    def broken(source: Any, target: Any) -> None:
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as patched:
        patched.setattr(os, "replace", broken)
        with pytest.raises(OSError, match="No space left"):
            _keys.set_key("other", "sk-other")
    assert _keys.load_keys() == {"openai": KEY}
    assert sorted(p.name for p in home().iterdir()) == [".keys.json.lock", "keys.json"]


@pytest.mark.parametrize("bits", [0o644, 0o640, 0o604, 0o660, 0o602, 0o620, 0o606])
def test_a_keys_file_other_users_can_read_or_write_is_refused(bits: int) -> None:
    path = _keys.set_key("openai", KEY)
    path.chmod(bits)
    with pytest.raises(jackfield.ConfigError) as caught:
        _keys.load_keys()
    assert str(caught.value) == (
        f"refusing to read the keys file {path}: other users can read or write it "
        f"(mode {bits:o}); run: chmod 600 {path}"
    )
    with pytest.raises(jackfield.ConfigError, match="chmod 600"):
        _keys.set_key("other", "sk-other")  # nor is it rewritten with what it holds
    path.chmod(0o600)
    assert _keys.load_keys() == {"openai": KEY}


def test_a_keys_directory_other_users_can_write_is_refused() -> None:
    path = _keys.set_key("openai", KEY)
    path.parent.chmod(0o777)
    try:
        with pytest.raises(jackfield.ConfigError, match=f"run: chmod 700 {path.parent}"):
            _keys.load_keys()
    finally:
        path.parent.chmod(0o700)


def test_what_is_not_a_keys_file_is_refused_without_showing_it() -> None:
    path = home() / "keys.json"
    home().mkdir(parents=True, exist_ok=True)
    for text, message in [
        (f'{{"openai": "{KEY}"', "is not valid JSON"),
        (f'["{KEY}"]', "must hold one JSON object of names and keys"),
        (f'{{"openai": ["{KEY}"]}}', "must hold one JSON object of names and keys"),
        ("[" * 100_000 + f'"{KEY}"', "is not valid JSON"),  # nested past the recursion limit
    ]:
        path.write_text(text)
        path.chmod(0o600)
        with pytest.raises(jackfield.ConfigError, match=message) as caught:
            _keys.load_keys()
        assert KEY not in str(caught.value)
    path.unlink()
    os.mkfifo(path, 0o600)  # opening it must not wait for a writer
    with pytest.raises(jackfield.ConfigError, match="it is not a regular file"):
        _keys.load_keys()


def test_keys_set_at_once_by_many_processes_are_all_kept() -> None:
    code = (
        "import sys; from jackfield._keys import set_key; set_key(sys.argv[1], 'sk-' + sys.argv[1])"
    )
    processes = [
        subprocess.Popen([sys.executable, "-c", code, f"k{i}"], env=os.environ.copy())
        for i in range(8)
    ]
    assert [p.wait(timeout=60) for p in processes] == [0] * 8
    assert _keys.load_keys() == {f"k{i}": f"sk-k{i}" for i in range(8)}


NAMES = st.from_regex(r"[a-z][a-z0-9._-]{0,20}", fullmatch=True)
SENDABLE = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=80)


@given(name=NAMES, key=SENDABLE, padding=st.sampled_from(["", " ", "\n", "\r\n", "\t "]))
def test_a_sendable_key_comes_back_as_it_was_given(name: str, key: str, padding: str) -> None:
    path = home() / "property" / "keys.json"
    _keys.set_key(name, padding + key + padding, path)
    assert _keys.load_keys(path)[name] == key
    _keys.remove_key(name, path)


@given(
    head=SENDABLE,
    inside=st.sampled_from([" ", "\t", "\n", "\x00", "\x7f", "é", "\u2028"]),
    tail=SENDABLE,
)
def test_a_key_that_cannot_be_sent_is_refused_without_showing_it(
    head: str, inside: str, tail: str
) -> None:
    with pytest.raises(jackfield.ConfigError) as caught:
        _keys.check_key(head + inside + tail)
    assert head + inside + tail not in str(caught.value)
    assert "cannot be sent in a header" in str(caught.value)


@pytest.mark.parametrize("name", ["", "OpenAI", "1password", "a b", "x/y", "k" * 65])
def test_a_key_name_is_written_as_instance_names_are(name: str) -> None:
    with pytest.raises(jackfield.ConfigError, match="name it after its instance"):
        _keys.set_key(name, KEY)


# --- jackfield keys --------------------------------------------------------------------------------


def test_keys_commands_never_print_a_key() -> None:
    saved = run("keys", "set", "openai", stdin=KEY + "\n")
    assert (saved.code, saved.out) == (0, f"saved the key 'openai' in {home() / 'keys.json'}\n")
    listed = run("keys", "list")
    assert (listed.code, listed.out) == (0, "openai\n")
    assert run("keys", "path").out == f"{home() / 'keys.json'}\n"
    typo = run("keys", "set", "lmstudo", stdin="lm-key")
    assert typo.err == (
        "note: no instance is named 'lmstudo'; did you mean 'lmstudio'? An instance uses the "
        "key named after it, or after its preset.\n"
    )
    missing = run("keys", "remove", "nope")
    assert (missing.code, missing.err) == (
        2,
        "jackfield: no key named 'nope' is stored (stored: lmstudo, openai)\n",
    )
    removed = run("keys", "remove", "lmstudo")
    assert (removed.code, run("keys", "list").out) == (0, "openai\n")
    empty = run("keys", "set", "openai", stdin="  \n")
    assert (empty.code, empty.err) == (2, "jackfield: the key is empty\n")
    for result in (saved, listed, typo, missing, removed, empty):
        assert KEY not in result.out + result.err


def test_keys_set_on_a_terminal_reads_the_key_without_echoing_it() -> None:
    import pty

    pid, leader = pty.fork()  # the child's controlling terminal: getpass prompts on it
    if pid == 0:  # pragma: no cover - the child
        os.execv(sys.executable, [sys.executable, "-m", "jackfield", "keys", "set", "openai"])
    transcript = b""
    deadline = time.monotonic() + 30
    while b"input is hidden" not in transcript and time.monotonic() < deadline:
        transcript += os.read(leader, 1024)
    os.write(leader, KEY.encode() + b"\n")
    while time.monotonic() < deadline:
        try:
            chunk = os.read(leader, 1024)
        except OSError:  # the child is gone
            break
        if not chunk:
            break
        transcript += chunk
    _, status = os.waitpid(pid, 0)
    os.close(leader)
    assert os.waitstatus_to_exitcode(status) == 0, transcript
    assert b"Paste the key for openai (input is hidden): " in transcript
    assert b"saved the key 'openai'" in transcript
    assert KEY.encode() not in transcript
    assert _keys.load_keys() == {"openai": KEY}


def test_a_stored_key_is_sent_and_never_shown(write_config: Any) -> None:
    echoed = Reply(
        status=401,
        headers={"content-type": "application/json"},
        body=[json.dumps({"error": {"message": f"bad key {KEY}"}}).encode()],
        chunked=False,
    )
    with serving([Reply(body=ANSWER), echoed]) as server:
        config = write_config(
            f'[providers.local]\ntype = "openai-compatible"\nbase_url = "{server.url}/v1"\n'
            "retries = { attempts = 0 }\n"
        )
        assert run("keys", "set", "local", stdin=KEY).code == 0
        chat = run("chat", "-m", "local:tiny", "hi", config=config)
        refused = run("chat", "-m", "local:tiny", "hi", config=config)
        sent = [r.headers.get("authorization") for r in server.requests]
    explain = run("explain", "local:tiny", config=config)
    dry = run("chat", "-m", "local:tiny", "--dry-run", "hi", config=config)
    status = run("status", "local", "--timeout", "2", config=config)  # the server is gone
    assert chat.out == "Hi.\n"
    assert sent == [f"Bearer {KEY}", f"Bearer {KEY}"]
    assert refused.code == 1
    assert "bad key ********" in refused.err
    assert any(
        line.split() == ["api_key", "=", '"********"', "<-", "keys:local"]
        for line in explain.out.splitlines()
    )
    assert json.loads(dry.out)["headers"]["Authorization"] == "Bearer ********"
    assert "key: keys:local" in status.out
    for result in (chat, refused, explain, dry, status):
        assert KEY not in result.out + result.err


def test_a_stored_key_shows_in_no_repr_and_no_log(caplog: pytest.LogCaptureFixture) -> None:
    import logging

    _keys.set_key("local", KEY)
    with serving([Reply(body=ANSWER)]) as server:
        config = {"providers": {"local": {"type": "openai-compatible", "base_url": server.url}}}
        with caplog.at_level(logging.DEBUG), jackfield.Host.from_mapping(config) as host:
            agent = host.agent("local:tiny")
            assert agent.complete("hi").text == "Hi."
            shown = [
                repr(agent.provider),
                repr(agent.provider.options),
                repr(agent.provider.target),
                repr(agent.layers),
                agent.explain(),
                json.dumps(agent.dry_run("hi")),
            ]
        sent = server.requests[0].headers["authorization"]
    assert sent == f"Bearer {KEY}"
    assert caplog.records  # the HTTP client did log the exchange
    for text in [*shown, caplog.text]:
        assert KEY not in text
        assert KEY[:12] not in text


def _host(config: dict[str, Any] | None = None) -> jackfield.Host:
    return jackfield.Host.from_mapping(config or {})


def _key_of(host: jackfield.Host, instance: str) -> tuple[str | None, str | None]:
    """The key an instance would send, and the layer it came from."""
    provider = host.create(instance)
    secret = provider.target.secret()
    return secret, provider.resolved.source(("api_key",))


def test_which_key_an_instance_sends(clean_env: pytest.MonkeyPatch) -> None:
    _keys.set_key("openai", "sk-stored")
    assert _key_of(_host(), "openai") == ("sk-stored", "keys:openai")
    # An instance built on the preset finds the key named after it, else the preset's.
    work = {"providers": {"work": {"type": "openai-compatible", "preset": "openai"}}}
    assert _key_of(_host(work), "work") == ("sk-stored", "keys:openai")
    _keys.set_key("work", "sk-work")
    assert _key_of(_host(work), "work") == ("sk-work", "keys:work")
    # The preset's variable wins over the keys file; the configuration over both.
    clean_env.setenv("OPENAI_API_KEY", "sk-env")
    assert _key_of(_host(), "openai") == ("sk-env", "env:OPENAI_API_KEY")
    configured = {"providers": {"openai": {"api_key": "sk-config"}}}
    assert _key_of(_host(configured), "openai") == ("sk-config", "instance:openai")
    # An instance without a preset variable uses its stored key too, else none.
    _keys.set_key("lmstudio", "lm-stored")
    assert _key_of(_host(), "lmstudio") == ("lm-stored", "keys:lmstudio")
    assert _key_of(_host(), "vllm") == (None, None)


def test_an_unsafe_keys_file_is_ignored_with_a_warning(clean_env: pytest.MonkeyPatch) -> None:
    _keys.set_key("openai", KEY).chmod(0o644)
    with pytest.warns(jackfield.SecurityWarning, match="chmod 600") as warned:
        provider = _host().create("openai")
    assert provider.target.key is None
    assert KEY not in str(warned[0].message)
    with pytest.raises(jackfield.ConfigError, match="needs an API key: set OPENAI_API_KEY"):
        provider.http_request("GET", f"{provider.base_url}/models")


# --- the environment -------------------------------------------------------------------------------


def _explained(host: jackfield.Host, agent: str, key: str) -> str:
    lines = host.agent(agent).explain().splitlines()
    (found,) = [line for line in lines if line.split()[0] == key]
    return found


def test_openai_base_url_and_key_come_from_the_environment(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/proxy/v1/")
    clean_env.setenv("OPENAI_API_KEY", f"{KEY}\n")
    host = _host()
    dry = host.agent("openai:gpt-4o-mini").dry_run("hi")
    assert dry["url"] == "http://127.0.0.1:9/proxy/v1/chat/completions"
    assert dry["headers"]["Authorization"] == "Bearer ********"
    assert _explained(host, "openai:m", "base_url").endswith("<- env:OPENAI_BASE_URL")
    assert _explained(host, "openai:m", "api_key").split() == [
        "api_key",
        "=",
        '{"env":',
        '"OPENAI_API_KEY"}',
        "<-",
        "env:OPENAI_API_KEY",
    ]
    assert host.create("openai").target.secret() == KEY
    # Only the openai preset reads them; the configuration wins over them.
    assert _host().create("vllm").base_url == "http://127.0.0.1:8000/v1"
    configured = _host({"providers": {"openai": {"base_url": "http://127.0.0.1:7/v1"}}})
    assert configured.create("openai").base_url == "http://127.0.0.1:7/v1"
    assert _explained(configured, "openai:m", "base_url").endswith("<- instance:openai")
    # Without a host (a provider made by hand), the provider reads them itself.
    from jackfield_openai._provider import OpenAIProvider

    bare = OpenAIProvider.from_options({"preset": "openai"})
    assert (bare.base_url, bare.target.secret()) == ("http://127.0.0.1:9/proxy/v1", KEY)


def test_a_bad_openai_base_url_is_named_with_its_variable(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("OPENAI_BASE_URL", "localhost:8080")
    with pytest.raises(jackfield.OptionsError, match="set by layer 'env:OPENAI_BASE_URL'"):
        _host().agent("openai:m").explain()


@pytest.mark.parametrize(
    ("value", "root"),
    [
        ("gpu-box", "http://gpu-box:11434"),
        ("gpu-box:8000", "http://gpu-box:8000"),
        ("http://gpu-box:8000", "http://gpu-box:8000"),
        ("https://ollama.example", "https://ollama.example"),
        ("http://gpu-box", "http://gpu-box"),  # Ollama's client: port 80 after http://
        ("0.0.0.0", "http://127.0.0.1:11434"),
        ("0.0.0.0:11500", "http://127.0.0.1:11500"),
        (":11500", "http://127.0.0.1:11500"),
        ("[::]:11500", "http://[::1]:11500"),
        ("  '127.0.0.1:11434'  ", "http://127.0.0.1:11434"),
        ("gpu-box:notaport", "http://gpu-box:11434"),
        ("proxy.lan/ollama/", "http://proxy.lan:11434/ollama"),
    ],
)
def test_ollama_host_moves_both_ollama_instances(
    clean_env: pytest.MonkeyPatch, value: str, root: str
) -> None:
    clean_env.setenv("OLLAMA_HOST", value)
    host = _host()
    assert host.create("ollama").base_url == f"{root}/v1"
    assert host.create("ollama-native").base_url == root
    assert host.agent("ollama-native:m").dry_run("hi")["url"] == f"{root}/api/chat"
    for agent in ("ollama:m", "ollama-native:m"):
        assert _explained(host, agent, "base_url").endswith("<- env:OLLAMA_HOST")
    # A configured address wins; other presets never read it.
    assert _host({"providers": {"ollama": {"port": 11500}}}).create("ollama").base_url == (
        "http://127.0.0.1:11500/v1"
    )
    assert host.create("llamacpp").base_url == "http://127.0.0.1:8080/v1"


def test_without_ollama_host_ollama_is_on_this_machine(clean_env: pytest.MonkeyPatch) -> None:
    host = _host()
    assert host.create("ollama").base_url == "http://127.0.0.1:11434/v1"
    assert host.create("ollama-native").base_url == "http://127.0.0.1:11434"


@given(st.text(max_size=60))
def test_both_ollama_providers_read_ollama_host_with_the_core_reading(value: str) -> None:
    assert ollama_root(value) == native_root(value) == server_url(value, default_port=11434)


HOSTS = st.from_regex(r"[a-z][a-z0-9-]{0,15}(\.[a-z][a-z0-9-]{0,10}){0,2}", fullmatch=True)


@given(
    host=HOSTS,
    port=st.integers(1, 65535),
    scheme=st.sampled_from(["", "http://", "https://"]),
    quote=st.sampled_from(["", '"', "'"]),
)
def test_ollama_host_keeps_the_host_and_port_it_is_given(
    host: str, port: int, scheme: str, quote: str
) -> None:
    from urllib.parse import urlsplit

    root = ollama_root(f" {quote}{scheme}{host}:{port}{quote} ")
    parts = urlsplit(root)
    assert (parts.scheme, parts.hostname) == (scheme.removesuffix("://") or "http", host)
    assert parts.port in (port, None)
    assert parts.port is not None or port == {"http": 80, "https": 443}[parts.scheme]
    assert ollama_root(root) == root  # read again, it names the same server


@given(address=st.sampled_from(["0.0.0.0", "", "[::]", "::"]), port=st.integers(1, 65535))
def test_an_address_listening_everywhere_means_this_machine(address: str, port: int) -> None:
    from urllib.parse import urlsplit

    given = f"{address}:{port}" if address != "::" else address  # a bare "::" has no port
    parts = urlsplit(ollama_root(given))
    assert parts.hostname in ("127.0.0.1", "::1")
    effective = parts.port or {"http": 80, "https": 443}[parts.scheme]  # :80 may be left out
    assert effective == (port if address != "::" else 11434)


def test_status_asks_the_ollama_that_ollama_host_names() -> None:
    def ollama(request: Any) -> Reply:
        bodies = {
            "/api/version": {"version": "0.12.0"},
            "/api/tags": {"models": [{"name": "qwen3:8b"}]},
            "/api/ps": {"models": []},
        }
        return Reply(
            headers={"content-type": "application/json"},
            body=[json.dumps(bodies.get(request.path, {})).encode()],
            chunked=False,
        )

    with serving(ollama) as server:
        address = server.url.removeprefix("http://")
        result = run("status", "ollama-native", env=env(OLLAMA_HOST=address))
    assert result.code == 0, result.out + result.err
    assert result.out.splitlines()[:2] == [
        "ollama-native  ok     ollama         key: none         loaded: none",
        f"               {server.url}",
    ]


# --- a model is needed -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("instance", "variable", "suffix", "server"),
    [
        ("openai", "OPENAI_BASE_URL", "/v1", "OpenAI"),
        ("ollama", "OLLAMA_HOST", "", "Ollama"),
        ("ollama-native", "OLLAMA_HOST", "", "Ollama"),
    ],
)
def test_a_call_without_a_model_fails_before_sending(
    clean_env: pytest.MonkeyPatch, instance: str, variable: str, suffix: str, server: str
) -> None:
    clean_env.setenv("OPENAI_API_KEY", KEY)
    with serving([Reply(body=ANSWER)]) as scripted:
        value = scripted.url + suffix if suffix else scripted.url.removeprefix("http://")
        clean_env.setenv(variable, value)
        with _host() as host:
            agent = host.agent(instance)
            for call in (lambda: agent.complete("hi"), lambda: list(agent.stream("hi"))):
                with pytest.raises(jackfield.ConfigError) as caught:
                    call()
                assert str(caught.value) == (
                    f"instance {instance!r} names no model, and {server} needs one: write "
                    f"-m {instance}:<model> on the command line, or set model (in the call, the "
                    f"agent or the instance's configuration); `jackfield models {instance}` "
                    "lists the models"
                )
            if instance == "openai":  # named, the model goes out as asked
                assert agent.complete("hi", model="m").text == "Hi."
        asked = [r.path for r in scripted.requests]
    assert asked == (["/v1/chat/completions"] if instance == "openai" else [])


def test_chat_m_openai_says_how_to_name_the_model() -> None:
    with serving([Reply(body=ANSWER)]) as server:
        result = run(
            "chat",
            "-m",
            "openai",
            "hi",
            env=env(OPENAI_BASE_URL=f"{server.url}/v1", OPENAI_API_KEY=KEY),
        )
        asked = list(server.requests)
    assert result.code == 2
    assert "write -m openai:<model> on the command line" in result.err
    assert "`jackfield models openai` lists the models" in result.err
    assert asked == []


# --- the default model -----------------------------------------------------------------------------


def test_models_default_is_set_shown_checked_and_cleared() -> None:
    without_embedded = {"JACKFIELD_DISABLE_PLUGINS": "llamacpp-embedded"}
    none = run("models", "default", env=without_embedded)
    assert (none.code, none.out) == (2, "")
    assert none.err == (
        "jackfield: no model given, and no default model: pass -m <agent> or -m "
        "<instance>:<model>, or set a default: jackfield models default <instance>:<model> "
        "(`jackfield models` lists the models that answer)\n"
    )
    unknown = run("models", "default", "lmstudo:qwen")
    assert unknown.code == 2
    assert "unknown agent or instance 'lmstudo:qwen'. Did you mean 'lmstudio'?" in unknown.err
    assert not (home() / "default-model").exists()
    chosen = run("models", "default", "lmstudio:qwen3-8b")
    assert chosen.out == "the default model is now lmstudio:qwen3-8b (instance 'lmstudio')\n"
    assert (home() / "default-model").read_text() == "lmstudio:qwen3-8b\n"
    shown = run("models", "default", env=without_embedded)
    assert (shown.code, shown.out, shown.err) == (0, "lmstudio:qwen3-8b\n", "")
    cleared = run("models", "default", "--clear")
    assert (cleared.code, cleared.out) == (0, "the default model is cleared\n")
    assert run("models", "default", "--clear").out == "no default model was set\n"
    assert run("models", "default", "a", "b").code == 2
    assert run("models", "--clear").code == 2


def test_models_default_accepts_agents(write_config: Any) -> None:
    config = write_config('[agents.helper]\nmodel = "llamacpp:tiny"\n')
    result = run("models", "default", "helper", config=config)
    assert result.out == "the default model is now helper (agent 'helper' on instance 'llamacpp')\n"


def _registry(embedded: dict[str, Any] | None) -> jackfield.Registry:
    """The scripted provider, and an ``embedded`` instance when ``embedded`` says how."""

    @hookimpl
    def register_instances(register: Any) -> None:
        if embedded is not None:
            register("embedded", **embedded)

    instances = SimpleNamespace(__name__="test-embedded", register_instances=register_instances)
    return jackfield.load_registry(autoload=False, plugins=[scripted_plugin, instances])


def test_without_a_default_the_packaged_model_is_used_when_it_answers() -> None:
    answering = jackfield.Host(registry=_registry({"provider": "scripted"}))
    assert default_model(answering) == "embedded"
    with pytest.raises(UsageError, match="no model given, and no default model: pass -m"):
        default_model(jackfield.Host(registry=_registry(None)))


def test_a_packaged_model_that_cannot_run_is_not_the_default() -> None:
    from jackfield_openai import register_providers

    registry = _registry(
        {"provider": "openai-compatible", "options": {"base_url": "http://127.0.0.1:9/v1"}}
    )
    registry.add_plugin(SimpleNamespace(__name__="openai", register_providers=register_providers))
    with pytest.raises(UsageError) as caught:
        default_model(jackfield.Host(registry=registry))
    assert "(the packaged model cannot be used: " in str(caught.value)
    assert "cannot connect to http://127.0.0.1:9/v1/models" in str(caught.value)


def test_a_stored_default_wins_and_a_stale_one_says_what_to_do() -> None:
    (home()).mkdir(parents=True, exist_ok=True)
    (home() / "default-model").write_text("embedded:other\n")
    host = jackfield.Host(registry=_registry({"provider": "scripted"}))
    assert default_model(host) == "embedded:other"
    (home() / "default-model").write_text("gone:model\n")
    with pytest.raises(UsageError) as caught:
        default_model(host)
    assert str(caught.value).startswith("the default model 'gone:model' cannot be used: unknown ")
    assert "`jackfield models default --clear`" in str(caught.value)
