"""``jackfield status`` and ``jackfield models`` tell the truth, briefly: which instances are
shown, which are probed (never a remote address without a key), the exit status, and advice
that fits the case. Servers are scripted on 127.0.0.1; a remote address is never contacted
(nor its name resolved)."""

from __future__ import annotations

import io
import json
import socket
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

import jackfield
from jackfield._cli import main
from jackfield.hookspecs import hookimpl
from tests.cli.conftest import jackfield as run_jackfield
from tests.support.scripted_server import Reply, serving

MODELS = {"object": "list", "data": [{"id": "tiny", "object": "model", "owned_by": "vllm"}]}
CLOUD = "https://cloud.invalid/v1"  # .invalid never resolves (RFC 6761); it is never asked


def models_reply(request: Any) -> Reply:
    if request.path != "/v1/models":
        return Reply(status=404, headers={"content-type": "text/plain"}, chunked=False)
    return Reply(
        headers={"content-type": "application/json"},
        body=[json.dumps(MODELS).encode()],
        chunked=False,
    )


def closed_port() -> str:
    """An API root on 127.0.0.1 where nothing listens."""
    with serving([Reply()]) as server:
        url = server.url
    return f"{url}/v1"


def registry_with(presets: dict[str, dict[str, Any]]) -> jackfield.Registry:
    """The OpenAI-compatible provider with only these ready-made instances: no preset at a
    default port of this machine, where anything might answer."""

    @hookimpl
    def register_providers(register: Any) -> None:
        register(
            "openai-compatible",
            factory="jackfield_openai._provider:OpenAIProvider",
            options="jackfield_openai._options:OpenAIOptions",
        )

    @hookimpl
    def register_instances(register: Any) -> None:
        for name, options in presets.items():
            register(name, provider="openai-compatible", options=options)

    plugin = SimpleNamespace(
        __name__="test-presets",
        register_providers=register_providers,
        register_instances=register_instances,
    )
    return jackfield.load_registry(autoload=False, plugins=[plugin])


class Run:
    """The command line run in this process, on a host made from ``presets`` and ``config``."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.monkeypatch = monkeypatch

    def __call__(
        self, presets: dict[str, dict[str, Any]], config: dict[str, Any], *argv: str
    ) -> tuple[int, str, str]:
        registry = registry_with(presets)

        def load_host(args: Any) -> jackfield.Host:
            return jackfield.Host.from_mapping(config, registry=registry)

        self.monkeypatch.setattr("jackfield._cli.status.load_host", load_host)
        self.monkeypatch.setattr("jackfield._cli.survey.load_host", load_host)
        out, err = io.StringIO(), io.StringIO()
        code = main([*argv, "--timeout", "5"], out, err)
        return code, out.getvalue(), err.getvalue()


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch) -> Run:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    return Run(monkeypatch)


@pytest.fixture
def lookups(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every host name this process resolves while the test runs."""
    asked: list[str] = []
    real = socket.getaddrinfo

    def recording(host: Any, *args: Any, **kwargs: Any) -> Any:
        asked.append(host.decode() if isinstance(host, bytes) else str(host))
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", recording)
    return asked


def local(url: str) -> dict[str, Any]:
    return {"providers": {"mine": {"type": "openai-compatible", "base_url": url}}}


def rows(out: str) -> dict[str, str]:
    """The first line of each instance's row, by instance."""
    return {line.split()[0]: line for line in out.splitlines() if line and not line[0].isspace()}


# --- what is shown, what is asked ---------------------------------------------------------------


def test_a_bare_status_shows_configured_instances_and_the_presets_that_answer(
    run: Run, lookups: list[str]
) -> None:
    with serving(models_reply) as server:
        presets = {
            "up": {"base_url": f"{server.url}/v1"},
            "down": {"base_url": closed_port()},
            "cloud": {"base_url": CLOUD},
        }
        code, out, err = run(presets, local(f"{server.url}/v1"), "status")
    assert code == 0, err
    assert set(rows(out)) == {"mine", "up"}
    assert rows(out)["up"].split()[:2] == ["up", "ok"]
    assert err == (
        "(1 ready-made instance did not answer; cloud not probed (no key): "
        "`jackfield status --all` lists them)\n"
    )
    assert "cloud.invalid" not in lookups


def test_status_all_gives_every_instance_one_line_when_it_does_not_answer(
    run: Run, lookups: list[str]
) -> None:
    down = {f"down{i}": {"base_url": closed_port()} for i in range(8)}
    with serving(models_reply) as server:
        presets = {"up": {"base_url": f"{server.url}/v1"}, "cloud": {"base_url": CLOUD}, **down}
        code, out, err = run(presets, {}, "status", "--all")
    assert code == 0, err
    lines = out.splitlines()
    for name, options in down.items():
        (line,) = [line for line in lines if line.split()[0] == name]
        assert line.split()[1:3] == ["down", options["base_url"]]
    (cloud,) = [line for line in lines if line.startswith("cloud ")]
    assert cloud.split(None, 1)[1] == (
        "not probed: no key (run `jackfield keys set cloud`, or set its api_key)"
    )
    assert len(lines) <= 8 + 1 + 4  # the eight down, the cloud, and the one that answered
    assert err == ""
    assert "cloud.invalid" not in lookups


def test_nothing_answered_is_exit_1_with_what_to_do(run: Run) -> None:
    presets = {"llamacpp": {"base_url": closed_port()}, "cloud": {"base_url": CLOUD}}
    code, out, err = run(presets, {}, "status")
    assert code == 1
    assert out == ""
    assert err.splitlines()[-1].startswith("nothing answered: start a local server")
    code, out, err = run(presets, {}, "models")
    assert (code, out) == (1, "")
    assert err == "no instance answered; `jackfield status --all` says why\n"
    code, out, err = run(presets, {}, "status", "--json")
    assert (code, json.loads(out)) == (1, [])


def test_exit_status_for_configured_and_named_instances(run: Run) -> None:
    gone = closed_port()
    with serving(models_reply) as server:
        up = {"up": {"base_url": f"{server.url}/v1"}}
        both = {"providers": {"gone": {"type": "openai-compatible", "base_url": gone}}}
        # A configured instance that is down fails status; models still lists what answered.
        assert run(up, both, "status")[0] == 1
        code, out, err = run(up, both, "models")
        assert (code, out.split()[:2]) == (0, ["up", "tiny"])
        assert (
            err == f"jackfield: gone: cannot connect to {gone}/models: connection refused "
            "(is the server running?)\n"
        )
        # Named: each must answer.
        assert run(up, {}, "status", "up")[0] == 0
        assert run({**up, "down": {"base_url": gone}}, {}, "status", "up", "down")[0] == 1
        code, out, err = run({**up, "cloud": {"base_url": CLOUD}}, {}, "models", "up", "cloud")
    assert code == 1
    assert out.split()[:2] == ["up", "tiny"]
    assert "jackfield: cloud: not probed: no key (run `jackfield keys set cloud`" in err


def test_json_says_which_instances_were_not_probed(run: Run) -> None:
    with serving(models_reply) as server:
        presets = {"up": {"base_url": f"{server.url}/v1"}, "cloud": {"base_url": CLOUD}}
        code, out, _ = run(presets, {}, "status", "--all", "--json")
    data = {entry["instance"]: entry for entry in json.loads(out)}
    assert code == 0
    assert (data["up"]["probed"], data["up"]["connected"]) == (True, True)
    assert (data["cloud"]["probed"], data["cloud"]["connected"]) == (False, False)
    assert data["cloud"]["error"].startswith("not probed: no key")


# --- a remote address is probed only with a key --------------------------------------------------


def _provider(presets: dict[str, dict[str, Any]], config: dict[str, Any], name: str) -> Any:
    return jackfield.Host.from_mapping(config, registry=registry_with(presets)).create(name)


def test_which_remote_addresses_are_probed(monkeypatch: pytest.MonkeyPatch) -> None:
    from jackfield._cli.status import not_probed

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    cloud = {"cloud": {"base_url": CLOUD}}
    assert not_probed(_provider(cloud, {}, "cloud"), "cloud") is not None
    # With a key at hand (the configuration's, a variable's, the keys file's), it is probed.
    keyed = {"providers": {"cloud": {"api_key": "sk-test"}}}
    assert not_probed(_provider(cloud, keyed, "cloud"), "cloud") is None
    monkeypatch.setenv("JACKFIELD_TEST_KEY", "sk-test")
    by_variable = {"providers": {"cloud": {"api_key": {"env": "JACKFIELD_TEST_KEY"}}}}
    assert not_probed(_provider(cloud, by_variable, "cloud"), "cloud") is None
    monkeypatch.setenv("JACKFIELD_TEST_KEY", "")
    assert not_probed(_provider(cloud, by_variable, "cloud"), "cloud") is not None
    from jackfield._keys import set_key

    set_key("cloud", "sk-stored")
    assert not_probed(_provider(cloud, {}, "cloud"), "cloud") is None
    # An address configured by hand for a server that needs no key (a machine on the
    # network) is the user's choice: probed.
    lan = {"providers": {"lan": {"type": "openai-compatible", "base_url": "http://gpu-box.lan/v1"}}}
    assert not_probed(_provider({}, lan, "lan"), "lan") is None
    # ... unless the server needs a key, which is missing.
    proxy = {
        "providers": {
            "work": {
                "type": "openai-compatible",
                "preset": "openai",
                "base_url": "https://proxy.invalid/v1",
            }
        }
    }
    assert not_probed(_provider({}, proxy, "work"), "work") == (
        "not probed: no key (set OPENAI_API_KEY or run `jackfield keys set work`)"
    )
    # This machine is always probed.
    assert not_probed(_provider({"up": {"base_url": closed_port()}}, {}, "up"), "up") is None


def test_a_bare_status_never_contacts_api_openai_com(tmp_path: Path) -> None:
    """The real command, with every proxy variable pointing at a trap: a request for
    api.openai.com would reach it (the trap fails the test by being asked at all)."""
    with serving([Reply(status=599)]) as trap:
        proxy = trap.url
        env = {
            "OPENAI_API_KEY": "",
            "OPENAI_BASE_URL": "",
            "HTTPS_PROXY": proxy,
            "HTTP_PROXY": proxy,
            "ALL_PROXY": proxy,
            "https_proxy": proxy,
            "http_proxy": proxy,
            "all_proxy": proxy,
            "NO_PROXY": "",
            "no_proxy": "",
            "JACKFIELD_DISABLE_PLUGINS": "llamacpp-embedded",
        }
        status = run_jackfield("status", "--all", "--timeout", "3", env=env)
        models = run_jackfield("models", "--all", "--timeout", "3", env=env)
        named = run_jackfield("status", "openai", "--timeout", "3", env=env)
        assert trap.requests == []
    line = (
        "openai         not probed: no key (set OPENAI_API_KEY or run `jackfield keys set openai`)"
    )
    assert line in status.out.splitlines()
    assert "openai: not probed: no key" in models.err
    assert (named.code, named.out.strip()) == (1, line)


# --- advice that fits the case ------------------------------------------------------------------


def test_a_local_server_that_is_down_says_how_to_start_it(tmp_path: Path) -> None:
    gone = closed_port()
    port = gone.rsplit(":", 1)[1].split("/")[0]
    config = tmp_path / "jackfield.toml"
    config.write_text(f'[providers.llamacpp]\nbase_url = "{gone}"\n', encoding="utf-8")
    result = run_jackfield("status", "llamacpp", config=config)
    assert result.code == 1
    assert result.out.splitlines()[-1] == (
        f"               -> start the server: llama-server -m MODEL.gguf --port {port} "
        "(or point base_url at where it runs)"
    )


def test_a_key_the_preset_needs_is_named_with_its_variable(run: Run) -> None:
    unauthorized = Reply(
        status=401,
        headers={"content-type": "application/json"},
        body=[b'{"error": "Unauthorized"}'],
        chunked=False,
    )
    with serving([unauthorized]) as server:
        config = {
            "providers": {
                "work": {
                    "type": "openai-compatible",
                    "preset": "openai",
                    "base_url": f"{server.url}/v1",
                }
            }
        }
        code, out, _ = run({}, config, "status", "work")
        sent = server.requests[0].headers
    assert code == 1
    assert "key: missing" in rows(out)["work"]
    assert "-> it needs an API key: export OPENAI_API_KEY, or run `jackfield keys set work`" in out
    assert "authorization" not in sent  # the probe went without a key it does not have


def test_a_web_page_where_the_api_should_be(run: Run) -> None:
    page = Reply(
        headers={"content-type": "text/html; charset=utf-8"},
        body=[b"<!doctype html><title>Router</title>"],
        chunked=False,
    )
    with serving([page]) as server:
        code, out, _ = run({}, local(server.url), "status", "mine")
    assert code == 1
    assert "-> a web page answers there, not the API: point base_url at the API's root" in out
