"""The configuration file: parsing, locating problems, the JSON Schema, lookup."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

import jackfield
from jackfield import ConfigFileError
from jackfield._config import (
    find_config,
    json_schema,
    load_config,
    parse_config,
    split_model_reference,
    user_config_path,
)

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "docs" / "examples" / "jackfield.toml"


@pytest.fixture(scope="module")
def registry() -> jackfield.Registry:
    return jackfield.load_registry()


def test_the_documented_example_is_valid_and_covers_every_preset(
    registry: jackfield.Registry,
) -> None:
    config = load_config(EXAMPLE, registry=registry)
    assert set(registry.instance_names()) <= set(config.instances)
    assert config.instances["ollama"].preset == "ollama"
    assert config.instances["gpu-box"].options["max_tokens"] == 2048
    assert config.agents["weather"].tools[0].source == "weather-mcp"
    assert set(config.agents) == {"coder", "thinker", "weather"}


def test_shorthand_keys_and_the_options_table_merge(registry: jackfield.Registry) -> None:
    config = parse_config(
        {
            "providers": {
                "x": {"type": "openai-compatible", "port": 1, "options": {"temperature": 0.5}}
            }
        },
        registry=registry,
    )
    assert config.instances["x"].options == {"port": 1, "temperature": 0.5}


def test_model_references() -> None:
    assert split_model_reference("ollama:qwen3:8b") == ("ollama", "qwen3:8b")
    assert split_model_reference("local") == ("local", None)
    assert split_model_reference("local:") == ("local", None)


def test_every_problem_is_reported_with_its_line(
    registry: jackfield.Registry, tmp_path: Path
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(
        "[providers.a]\n"
        'type = "openai-compatible"\n'
        'options = { temperature = "hot", retries = { attemps = 2 } }\n'
        "\n"
        "[agents.b]\n"
        'model = "a:m"\n'
        "extra_body = { n = 1 }\n"
        "options = { max_tokens = 1.5 }\n"
    )
    with pytest.raises(ConfigFileError) as info:
        load_config(path, registry=registry)
    issues = [(i.line, i.path, i.message) for i in info.value.issues]
    assert issues == [
        (3, ("providers", "a", "options", "temperature"), "expected a number, got str 'hot'"),
        (
            3,
            ("providers", "a", "options", "retries", "attemps"),
            "unknown option 'attemps'; did you mean 'attempts'?",
        ),
        (8, ("agents", "b", "options", "max_tokens"), "expected an integer, got float 1.5"),
    ]
    assert str(info.value).splitlines()[0] == (
        f"{path}:3: providers.a.options.temperature: expected a number, got str 'hot'"
    )


def test_toml_syntax_errors_carry_the_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text('[providers.a]\ntype = "x\n')
    with pytest.raises(ConfigFileError) as info:
        load_config(path)
    (issue,) = info.value.issues
    assert issue.line == 2
    assert issue.message.startswith("not valid TOML")


def test_without_a_registry_only_the_shape_is_checked() -> None:
    config = parse_config(
        {"providers": {"x": {"type": "anything", "whatever": 1}}, "agents": {"a": {"model": "x:m"}}}
    )
    assert config.instances["x"].provider == "anything"
    with pytest.raises(ConfigFileError, match="missing: which provider is this"):
        parse_config({"providers": {"x": {}}})


def test_not_a_table() -> None:
    with pytest.raises(ConfigFileError, match="a configuration is a table"):
        parse_config([1, 2])  # type: ignore[arg-type]


def test_lookup_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    explicit = tmp_path / "explicit.toml"
    explicit.write_text("")
    from_env = tmp_path / "env.toml"
    from_env.write_text("")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("JACKFIELD_HOME")
    monkeypatch.setenv("JACKFIELD_CONFIG", str(from_env))
    assert find_config(explicit) == explicit
    assert find_config() == from_env
    monkeypatch.delenv("JACKFIELD_CONFIG")
    assert find_config() is None  # no file at all is normal
    user = user_config_path()
    assert user == tmp_path / "xdg" / "jackfield" / "config.toml"
    user.parent.mkdir(parents=True)
    user.write_text("")
    assert find_config() == user
    with pytest.raises(ConfigFileError, match=r"from --config\) does not exist"):
        find_config(tmp_path / "missing.toml")
    monkeypatch.setenv("JACKFIELD_HOME", str(tmp_path / "home"))  # wins over the platform's
    assert user_config_path() == tmp_path / "home" / "config.toml"


def _toml(path: Path) -> Any:
    import sys

    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    return tomllib.loads(path.read_text())


def test_the_schema_accepts_the_example_and_rejects_typos(registry: jackfield.Registry) -> None:
    schema = json_schema(registry)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    assert not list(validator.iter_errors(_toml(EXAMPLE)))
    bad = {
        "providers": {"x": {"type": "openai-compatible", "tempurature": 1}},
        "agents": {"a": {"model": 3}},
    }
    messages = sorted(e.message for e in validator.iter_errors(bad))
    assert any("tempurature" in m for m in messages)
    assert any("3 is not of type 'string'" in m for m in messages)


def test_the_schema_takes_a_header_as_a_string_or_a_secret_reference(
    registry: jackfield.Registry,
) -> None:
    validator = jsonschema.Draft202012Validator(json_schema(registry))

    def errors(headers: dict[str, object]) -> list[str]:
        config = {"providers": {"x": {"type": "openai-compatible", "headers": headers}}}
        return [e.message for e in validator.iter_errors(config)]

    assert errors({"X-Plain": "v", "X-Env": {"env": "VAR"}, "X-File": {"file": "~/t"}}) == []
    assert errors({"X-Bad": {"env": "VAR", "file": "p"}})  # one reference, not two
    assert errors({"X-Bad": 3})
    headers = json_schema(registry)["$defs"]["options:openai-compatible"]["properties"]["headers"]
    choices = headers["additionalProperties"]["anyOf"]
    assert len(choices) == len({json.dumps(c, sort_keys=True) for c in choices}) == 3
