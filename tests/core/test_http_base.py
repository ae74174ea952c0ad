"""The HTTP provider base: what every HTTP provider gets from it, checked on both shipped ones
(and on the command line): base URLs and headers checked with the instance named, keys never
shown, one target per call options, limits for all."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

import jackfield
from jackfield import ConfigError
from jackfield._cli import main
from jackfield.http import HTTPOptions, HTTPProvider
from jackfield.provider import Limits

PROVIDERS = ["openai-compatible", "ollama"]


def create(provider: str, **options: Any) -> Any:
    return jackfield.load_registry().create(provider, options, instance="box")


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize(
    ("options", "problem"),
    [
        ({"base_url": "http://127.0.0.1:80a/v1"}, "Port could not be cast to integer value"),
        ({"base_url": "127.0.0.1:8080"}, "it must start with http:// or https://"),
        ({"base_url": "http:///v1"}, "it names no host"),
        ({"base_url": "http://a b:1/v1"}, "a space or a control character"),
        ({"host": "10.0.0.1", "port": 99999}, "Port out of range"),
    ],
)
def test_a_malformed_address_is_a_config_error_naming_the_instance(
    provider: str, options: dict[str, Any], problem: str
) -> None:
    with pytest.raises(ConfigError) as info:
        create(provider, **options)
    path = "/v1" if provider == "openai-compatible" else ""  # the API root each suggests
    early = {  # every HTTP provider validates these with its options (a file names the line)
        "it must start with http:// or https://": "$.base_url: must start with http:// or "
        f"https://: write http://127.0.0.1:8080{path}",
        "Port out of range": "$.port: must be from 1 to 65535; got 99999",
    }
    if problem in early:
        assert early[problem] in str(info.value)
        return
    assert str(info.value).startswith("instance 'box': ")
    assert problem in str(info.value)
    assert "write it as http" in str(info.value)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_malformed_address_given_per_call_fails_that_call_alone(provider: str) -> None:
    with create(provider, base_url="http://127.0.0.1:1") as instance:
        for call in (
            lambda: list(instance.stream("hi", base_url="http://127.0.0.1:80a")),
            lambda: instance.dry_run("hi", base_url="http://127.0.0.1:80a"),
            lambda: instance.embed("hi", base_url="http://127.0.0.1:80a"),
        ):
            with pytest.raises(ConfigError, match="instance 'box': base_url"):
                call()
        assert instance.dry_run("hi")["url"].startswith("http://127.0.0.1:1/")


@pytest.mark.parametrize("command", ["chat", "models", "status"])
def test_every_command_names_the_instance_and_the_file(tmp_path: Path, command: str) -> None:
    config = tmp_path / "jackfield.toml"
    config.write_text(
        '[providers.box]\ntype = "openai-compatible"\nbase_url = "http://127.0.0.1:80a/v1"\n'
    )
    args = {"chat": ["chat", "-m", "box", "hi"], "models": ["models", "box"]}
    out, err = io.StringIO(), io.StringIO()
    status = main(["--config", str(config), *args.get(command, [command, "box"])], out, err)
    assert status == 2, err.getvalue()
    assert "instance 'box': base_url 'http://127.0.0.1:80a/v1' is not a valid URL" in err.getvalue()
    assert "Traceback" not in err.getvalue()


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize(
    "key", ["sk-secret\n", "sk-\r\nX-Evil: 1", "sk-clé-secrète", "sk-tab\tbed"]
)
def test_a_key_that_cannot_be_sent_is_refused_and_never_shown(provider: str, key: str) -> None:
    with create(provider, base_url="https://box.lan/v1", api_key=key) as instance:
        for call in (
            lambda: list(instance.stream("hi")),
            lambda: instance.list_models(),
        ):
            with pytest.raises(ConfigError) as info:
                call()
            shown = str(info.value)
            assert "instance 'box'" in shown
            assert "cannot be sent" in shown
            assert "sk-" not in shown
        assert "sk-" not in repr(instance)
        assert "sk-" not in str(instance.dry_run("hi"))


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_header_that_cannot_be_sent_is_refused_naming_only_the_header(provider: str) -> None:
    instance = create(provider, headers={"api-key": "secret\nvalue"})
    with instance, pytest.raises(ConfigError) as info:
        list(instance.stream("hi"))
    assert "the value of the api-key header" in str(info.value)
    assert "secret" not in str(info.value).replace("the value of", "")


@pytest.mark.parametrize("provider", PROVIDERS)
def test_every_http_provider_has_the_shared_options(provider: str) -> None:
    options_class = jackfield.load_registry().options_class(provider)
    assert issubclass(options_class, HTTPOptions)
    with create(provider, limits={"choices": 3}) as instance:
        assert isinstance(instance, HTTPProvider)
        assert instance.options.limits == Limits(choices=3)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_calls_that_repeat_options_share_one_target_and_one_pool(provider: str) -> None:
    with create(provider, base_url="http://127.0.0.1:1") as instance:
        first = instance.options_for(temperature=0.5)
        again = instance.options_for(temperature=0.5)
        assert first is again
        assert instance.target_for(first) is instance.target  # the address did not change
        moved = instance.options_for(base_url="http://127.0.0.1:2")
        assert instance.target_for(moved).base_url.startswith("http://127.0.0.1:2")
        assert instance.target_for(first) is instance.target
