"""Configuration errors that teach (key, file, line, what to write), and a configuration that
survives a provider plugin that is not installed."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import jackfield
import jackfield_llamacpp
import jackfield_ollama
import jackfield_openai
from jackfield import ConfigError, ConfigFileError, Host, OptionsError
from jackfield._config import DisabledInstanceWarning, load_config, parse_config
from jackfield._config.plugins import (
    FIRST_PARTY_INSTANCES,
    FIRST_PARTY_PLUGINS,
    FIRST_PARTY_PROVIDERS,
    typo_of,
)
from jackfield._options import structure

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "docs" / "examples" / "jackfield.toml"


@pytest.fixture(scope="module")
def registry() -> jackfield.Registry:
    return jackfield.load_registry()


@pytest.fixture
def openai_only() -> jackfield.Registry:
    """What a user has after ``pip install jackfield jackfield-openai``."""
    return jackfield.load_registry(autoload=False, plugins=[jackfield_openai])


def load(tmp_path: Path, text: str, registry: jackfield.Registry) -> Any:
    path = tmp_path / "jackfield.toml"
    path.write_text(text, encoding="utf-8")
    return load_config(path, registry=registry)


def problems(tmp_path: Path, text: str, registry: jackfield.Registry) -> list[str]:
    """Each issue as ``LINE: key.path: message``."""
    with pytest.raises(ConfigFileError) as info:
        load(tmp_path, text, registry)
    return [f"{i.render(root='', source='')}".removeprefix(":") for i in info.value.issues]


LOCAL = '[providers.local]\ntype = "openai-compatible"\n'


# --- leaky errors: what each wrong value says -------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # timeouts is a table: say so, and how to write the number as one of its keys.
        (
            LOCAL + "timeouts = 5\n",
            "3: providers.local.timeouts: expected a table with the keys connect, first_byte, "
            "idle, total, keep_alive_is_progress; got int 5: set one of its keys, e.g. "
            "timeouts.total = 5",
        ),
        (
            LOCAL + "retries = 3\n",
            "3: providers.local.retries: expected a table with the keys attempts, backoff, "
            "max_backoff, max_retry_after; got int 3: set one of its keys, e.g. "
            "retries.attempts = 3",
        ),
        # A string is not a list of its characters: one issue, on the tools line.
        (
            '[agents.a]\nmodel = "llamacpp:x"\n\n\ntools = "none"\n',
            "5: agents.a.tools: expected a list, got str 'none'",
        ),
        (
            '[agents.a]\nmodel = "llamacpp:x"\ntools = { name = "x" }\n',
            "3: agents.a.tools: expected a list, got dict {'name': 'x'}: put it in brackets, "
            "[ ... ]",
        ),
        (
            '[agents.a]\nmodel = "llamacpp:x"\ntools = ["x"]\n',
            "3: agents.a.tools[0]: expected a table with the keys name, description, "
            "parameters, source; got str 'x': set one of its keys, e.g. { name = \"x\" }",
        ),
        # base_url without a scheme: caught at load, with what to write.
        (
            LOCAL + 'base_url = "localhost:8080"\n',
            "3: providers.local.base_url: must start with http:// or https://: write "
            "http://localhost:8080/v1",
        ),
        (
            LOCAL + 'options = { base_url = "gpu.lan/v1" }\n',
            "3: providers.local.options.base_url: must start with http:// or https://: write "
            "http://gpu.lan/v1",
        ),
        # A validator's complaint lands on its key, not on the table holding it.
        (
            LOCAL + "timeouts = { total = -1 }\n",
            "3: providers.local.timeouts.total: must be a number of seconds above 0, or null "
            "for no limit; got -1.0",
        ),
        (
            LOCAL + "[providers.local.retries]\nattempts = -1\n",
            "4: providers.local.retries.attempts: must be 0 or more; got -1",
        ),
        (
            "[providers.ollama]\nport = 99999\n",
            "2: providers.ollama.port: must be from 1 to 65535; got 99999",
        ),
        (
            LOCAL + 'preset = "llamacp"\n',
            "3: providers.local.preset: must be one of llamacpp, lmstudio, ollama, vllm, "
            "sglang, textgen-webui, tabbyapi, koboldcpp, localai, openai; got 'llamacp'; "
            "did you mean 'llamacpp'?",
        ),
        (
            LOCAL + 'headers = ["X-A"]\n',
            "3: providers.local.headers: expected a table, got list ['X-A']",
        ),
        (
            LOCAL + "verify = 1\n",
            "3: providers.local.verify: expected a string, or true or false, got int 1",
        ),
        (
            LOCAL + 'think_tags = "maybe"\n',
            "3: providers.local.think_tags: expected one of 'auto', 'open', 'off', got 'maybe'",
        ),
        (
            LOCAL + "stop = 5\n",
            "3: providers.local.stop: expected",
        ),
    ],
)
def test_wrong_values_name_key_line_and_what_to_write(
    tmp_path: Path, registry: jackfield.Registry, text: str, expected: str
) -> None:
    (found,) = problems(tmp_path, "# a comment\n" + text, registry)
    line, rest = expected.split(": ", 1)
    assert found.startswith(f"{int(line) + 1}: {rest}")


def test_no_message_leaks_python_internals(tmp_path: Path, registry: jackfield.Registry) -> None:
    wrong = {
        "timeouts": "5",
        "retries": "[1]",
        "limits": "true",
        "headers": '"x"',
        "query": "[1]",
        "extra_body": '"x"',
        "api_key": "5",
        "stop": "{ a = 1 }",
        "temperature": '"hot"',
        "max_tokens": "1.5",
        "port": '"80"',
        "learn_quirks": '"yes"',
    }
    text = LOCAL + "".join(f"{key} = {value}\n" for key, value in wrong.items())
    found = problems(tmp_path, text, registry)
    assert len(found) == len(wrong)
    for line in found:
        for leak in ("object has no attribute", "not iterable", "argument of type", "typing."):
            assert leak not in line, line


# --- the rules as pure functions ------------------------------------------------------------

hosts = st.from_regex(r"[a-z][a-z0-9-]{0,12}(\.[a-z]{2,5})?", fullmatch=True)


@given(hosts, st.one_of(st.none(), st.integers(1, 65535)), st.sampled_from(["", "/", "/v1"]))
def test_an_address_without_a_scheme_is_refused_with_one_that_works(
    host: str, port: int | None, path: str
) -> None:
    from jackfield.http import HTTPOptions  # noqa: F401 - the options' base
    from jackfield_openai._options import OpenAIOptions

    typed = f"{host}{f':{port}' if port else ''}{path}"
    with pytest.raises(OptionsError) as info:
        structure(OpenAIOptions, {"base_url": typed})
    (issue,) = info.value.issues
    assert issue.path == ("base_url",)
    written = issue.message.rsplit("write ", 1)[1]
    assert written.startswith("http://")
    assert written.endswith("/v1")
    # What it says to write is accepted.
    assert structure(OpenAIOptions, {"base_url": written}).base_url == written


@given(st.text(max_size=20))
def test_a_string_is_never_taken_for_a_list(text: str) -> None:
    from jackfield._config import AgentConfig
    from jackfield._converter import converter, validation_issues

    with pytest.raises(Exception) as info:  # noqa: PT011 - cattrs' own error, flattened below
        converter.structure({"model": "x", "tools": text}, AgentConfig)
    [(path, message)] = list(validation_issues(info.value, AgentConfig))
    assert path == ("tools",)
    assert message.startswith("expected a list, got str")


# --- a provider plugin that is not installed ----------------------------------------------------


def test_the_example_loads_without_the_optional_plugins(openai_only: jackfield.Registry) -> None:
    with pytest.warns(DisabledInstanceWarning) as caught:
        config = load_config(EXAMPLE, registry=openai_only)
    assert config.disabled == {
        "embedded": "the ready-made instance 'embedded' comes with jackfield-llamacpp, which "
        "is not installed: pip install jackfield-llamacpp",
        "ollama-native": "the ready-made instance 'ollama-native' comes with jackfield-ollama, "
        "which is not installed: pip install jackfield-ollama",
    }
    assert "embedded" not in config.instances
    assert {"gpu-box", "ollama", "openai"} <= set(config.instances)
    messages = sorted(str(w.message) for w in caught)
    text = EXAMPLE.read_text().splitlines()
    line = next(i for i, t in enumerate(text, 1) if t.startswith("[providers.ollama-native]"))
    assert messages[1] == (
        f"{EXAMPLE}:{line}: providers.ollama-native: disabled: the ready-made instance "
        "'ollama-native' comes with jackfield-ollama, which is not installed: "
        "pip install jackfield-ollama"
    )


def test_a_disabled_instance_says_why_when_used_and_the_rest_works(
    openai_only: jackfield.Registry,
) -> None:
    data = {
        "providers": {
            "native": {"type": "ollama", "keep_alive": "5m"},
            "local": {"type": "openai-compatible"},
        },
        "agents": {
            "on-native": {"model": "native:qwen3"},
            "on-preset": {"model": "ollama-native:qwen3"},
            "fine": {"model": "local:qwen3"},
        },
    }
    with pytest.warns(DisabledInstanceWarning, match="pip install jackfield-ollama"):
        host = Host.from_mapping(data, registry=openai_only)
    assert set(host.config.disabled) == {"native", "ollama-native"}
    assert "its provider 'ollama' comes with jackfield-ollama" in host.config.disabled["native"]
    assert "native" not in host.instance_names()
    assert host.agent("fine").dry_run("hi")["body"]["model"] == "qwen3"
    for use in (
        lambda: host.agent("on-native"),
        lambda: host.agent("native:qwen3"),
        lambda: host.provider("native"),
        lambda: host.agent("on-preset"),
    ):
        with pytest.raises(ConfigError, match=r"is disabled: .*pip install jackfield-ollama"):
            use()


def test_a_typo_of_an_installed_provider_is_an_error_not_a_missing_plugin(
    openai_only: jackfield.Registry, tmp_path: Path
) -> None:
    text = '[providers.local]\ntype = "openai-compatibel"\n'
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning: an error
        (found,) = problems(tmp_path, text, openai_only)
    assert found == (
        "2: providers.local.type: unknown provider 'openai-compatibel'; did you mean "
        "'openai-compatible'? (installed: openai-compatible)"
    )


def test_a_ready_made_instance_given_as_type_says_how_to_use_it(
    openai_only: jackfield.Registry, tmp_path: Path
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning: an error
        (found,) = problems(tmp_path, '[providers.local]\ntype = "openai"\n', openai_only)
    assert found == (
        "2: providers.local.type: 'openai' is a ready-made instance of 'openai-compatible', not "
        'a provider: write type = "openai-compatible" and preset = "openai", or name the '
        "section [providers.openai] without a type"
    )


def test_a_provider_named_like_an_installed_one_is_a_missing_plugin_not_a_typo(
    openai_only: jackfield.Registry,
) -> None:
    for name in ("openai-azure", "ollama-cloud", "llamacpp-server"):
        data = {"providers": {"mine": {"type": name}}}
        with pytest.warns(DisabledInstanceWarning):
            config = parse_config(data, registry=openai_only)
        assert config.disabled["mine"].startswith(f"no installed provider is named {name!r}")


def test_an_unknown_provider_is_a_plugin_that_is_not_installed(
    openai_only: jackfield.Registry,
) -> None:
    data = {"providers": {"mine": {"type": "bedrock", "region": "eu"}}}
    with pytest.warns(DisabledInstanceWarning) as caught:
        config = parse_config(data, registry=openai_only)
    reason = config.disabled["mine"]
    assert reason == (
        "no installed provider is named 'bedrock' (installed: openai-compatible); install the "
        "plugin that provides it"
    )
    assert str(caught[0].message) == f"<mapping>: providers.mine.type: disabled: {reason}"


def test_a_plugin_turned_off_or_broken_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JACKFIELD_DISABLE_PLUGINS", "ollama")
    monkeypatch.delenv("JACKFIELD_LOAD_PLUGINS", raising=False)
    registry = jackfield.load_registry()
    data = {"providers": {"ollama-native": {"keep_alive": "5m"}}}
    with pytest.warns(DisabledInstanceWarning):
        config = parse_config(data, registry=registry)
    assert (
        "jackfield-ollama, which is turned off (by JACKFIELD_DISABLE_PLUGINS"
        in (config.disabled["ollama-native"])
    )

    broken = jackfield.load_registry(autoload=False, plugins=[jackfield_openai])
    broken.problems.append(
        jackfield.PluginProblem("ollama", "jackfield-ollama", "ImportError: no httpx")
    )
    with pytest.warns(DisabledInstanceWarning):
        config = parse_config(data, registry=broken)
    assert "which failed to load (ImportError: no httpx)" in config.disabled["ollama-native"]


def test_a_provider_whose_options_cannot_be_imported_disables_its_instance() -> None:
    from types import SimpleNamespace

    from jackfield.hookspecs import hookimpl

    @hookimpl
    def register_providers(register: Any) -> None:
        register("broken", factory="nowhere.at_all:Provider", options="nowhere.at_all:Options")

    plugin = SimpleNamespace(__name__="broken-plugin", register_providers=register_providers)
    registry = jackfield.load_registry(autoload=False, plugins=[jackfield_openai, plugin])
    data = {
        "providers": {"b": {"type": "broken"}, "local": {"type": "openai-compatible"}},
        "agents": {"on-b": {"model": "b:m"}},
    }
    with pytest.warns(DisabledInstanceWarning, match="cannot be imported"):
        host = Host.from_mapping(data, registry=registry)
    assert set(host.config.disabled) == {"b"}
    assert "local" in host.instance_names()


def test_schema_and_explain_still_work_without_the_plugins(openai_only: jackfield.Registry) -> None:
    from jackfield._config import json_schema

    assert json_schema(openai_only)["$defs"]["instance"]["properties"]["type"]["enum"] == [
        "openai-compatible"
    ]
    with pytest.warns(DisabledInstanceWarning):
        host = Host.from_file(EXAMPLE, registry=openai_only)
    assert "agent:coder" in host.agent("coder").explain()


def test_the_first_party_table_matches_what_the_plugins_register() -> None:
    registry = jackfield.load_registry(
        autoload=False, plugins=[jackfield_openai, jackfield_ollama, jackfield_llamacpp]
    )
    by_module = {
        "jackfield_openai": "jackfield-openai",
        "jackfield_ollama": "jackfield-ollama",
        "jackfield_llamacpp": "jackfield-llamacpp",
    }
    providers = {}
    instances = {}
    for plugin in registry.plugins:
        distribution = by_module[plugin.name]
        providers.update(dict.fromkeys(plugin.providers, distribution))
        instances.update(dict.fromkeys(plugin.instances, distribution))
    assert providers == FIRST_PARTY_PROVIDERS
    assert instances == FIRST_PARTY_INSTANCES
    entry_points = {
        dist: plugin.name
        for plugin in jackfield.load_registry().plugins
        if (dist := plugin.distribution) in FIRST_PARTY_PLUGINS
    }
    assert entry_points == FIRST_PARTY_PLUGINS


@given(st.sampled_from(sorted(FIRST_PARTY_PROVIDERS)), st.lists(st.text(max_size=20)))
def test_a_first_party_provider_is_never_a_typo(name: str, installed: list[str]) -> None:
    assert typo_of(name, installed) is None


@given(st.sampled_from(["openai-compatible", "ollama", "echo"]), st.integers(0, 3), st.data())
def test_one_slip_of_an_installed_name_is_a_typo(name: str, index: int, data: Any) -> None:
    index = min(index, len(name) - 1)
    slipped = name[:index] + data.draw(st.sampled_from("xqz")) + name[index + 1 :]
    installed = ["openai-compatible", "ollama", "echo"]
    if slipped not in installed and slipped not in FIRST_PARTY_PROVIDERS:
        assert typo_of(slipped, installed) is not None


def test_a_section_named_like_a_ready_made_instance_gets_a_did_you_mean(
    registry: jackfield.Registry,
) -> None:
    with pytest.raises(ConfigFileError) as info:
        parse_config({"providers": {"olama": {"port": 1}}}, registry=registry)
    (issue,) = info.value.issues
    assert issue.path == ("providers", "olama", "type")
    assert issue.message.startswith("missing: which provider is this? One of: ")
    assert issue.message.endswith("; did you mean the ready-made instance 'ollama'?")
