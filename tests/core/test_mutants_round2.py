"""Tests that kill mutants which survived the first suite (issue 16, "Test strength"): rules of
the core that were tested one step short of where a small bug would show.

- A ready-made instance (preset) registered twice must be refused wherever a name is resolved,
  never resolved silently to the first registration.
- Deleting an option with ``null`` in a later layer must forget where it came from.
"""

from __future__ import annotations

import ast
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import jackfield
from jackfield import ConfigError, DuplicateProviderError, Host, Registry
from jackfield._config import parse_config
from jackfield._options import resolve
from jackfield.hookspecs import hookimpl
from tests.core.strategies import json_objects

# --- duplicate ready-made instances --------------------------------------------------------------


def instances_plugin(*specs: dict[str, Any]) -> Any:
    @hookimpl
    def register_instances(register: Any) -> None:
        for spec in specs:
            register(**spec)

    return SimpleNamespace(register_instances=register_instances)


def registry_with_two_presets_named(name: str) -> Registry:
    """The real providers, plus two plugins that both register the instance ``name``."""
    registry = jackfield.load_registry()
    one = instances_plugin(
        {
            "name": name,
            "provider": "openai-compatible",
            "options": {"base_url": "http://127.0.0.1:1/v1"},
        }
    )
    two = instances_plugin(
        {
            "name": name,
            "provider": "openai-compatible",
            "options": {"base_url": "http://127.0.0.1:2/v1"},
        }
    )
    registry.add_plugin(one, "plugin-one", distribution="dist-one")
    registry.add_plugin(two, "plugin-two", distribution="dist-two")
    return registry


def refused(call: Any) -> str:
    """The message of the error ``call()`` raises: it must be a refusal naming both plugins."""
    with pytest.raises((DuplicateProviderError, ConfigError)) as info:
        call()
    message = str(info.value)
    assert "dist-one" in message, message
    assert "dist-two" in message, message
    return message


def test_a_preset_registered_twice_is_reported_and_refused_everywhere() -> None:
    registry = registry_with_two_presets_named("twin")
    (problem,) = [p for p in registry.problems if "twin" in p.error]
    assert problem.distribution == "dist-two"
    assert "instance 'twin' is also registered by plugin 'plugin-one'" in problem.error
    assert "twin" in registry.instance_names()  # listed, so the user sees it exists

    message = refused(lambda: registry.instance("twin"))
    assert "instance 'twin' is registered by more than one plugin" in message
    refused(lambda: registry.instance_layers("twin"))
    refused(lambda: registry.create_instance("twin"))

    host = Host(registry=registry)
    refused(lambda: host.instance("twin"))
    refused(lambda: host.layers("twin"))
    refused(lambda: host.create("twin"))
    refused(lambda: host.provider("twin"))
    refused(lambda: host.agent("twin:some-model").provider)
    # a configuration file that builds on it (no type: the preset's provider) is refused too
    refused(lambda: parse_config({"providers": {"twin": {}}}, source="t.toml", registry=registry))
    refused(
        lambda: parse_config(
            {"agents": {"a": {"model": "twin:m"}}}, source="t.toml", registry=registry
        )
    )


def test_one_plugin_registering_a_preset_twice_is_refused_too() -> None:
    registry = jackfield.load_registry(autoload=False)
    twice = instances_plugin(
        {"name": "twin", "provider": "openai-compatible"},
        {"name": "twin", "provider": "openai-compatible", "description": "again"},
    )
    registry.add_plugin(twice, "plugin-one", distribution="dist-one")
    assert any("'twin'" in p.error for p in registry.problems)
    with pytest.raises(DuplicateProviderError):
        registry.instance("twin")


def test_the_openai_presets_have_unique_names() -> None:
    """``PRESETS`` is a dict built from a list of ``Preset(...)``: a second preset with the same
    name would silently replace the first. Every ``Preset("name", ...)`` in the source is kept."""
    from jackfield_openai import _presets
    from jackfield_openai._presets import PRESETS

    source = Path(_presets.__file__)
    names = [
        node.args[0].value
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8")))
        if isinstance(node, ast.Call)
        and getattr(node.func, "id", None) == "Preset"
        and node.args
        and isinstance(node.args[0], ast.Constant)
    ]
    assert len(names) > 5
    assert sorted(names) == sorted(PRESETS), "a preset name is given twice in _presets.py"
    registry = jackfield.load_registry()
    (plugin,) = [p for p in registry.plugins if p.name == "openai-compatible"]
    assert sorted(plugin.instances) == sorted(names)
    assert not [p for p in registry.problems if "also registered" in p.error]


# --- provenance after a null delete --------------------------------------------------------------


def test_a_null_delete_forgets_where_the_value_came_from() -> None:
    resolved = resolve(
        ("preset:x", {"temperature": 0.5, "extra_body": {"top_k": 40, "min_p": 0.1}}),
        ("instance:y", {"temperature": None, "extra_body": {"top_k": None}}),
    )
    assert resolved.value == {"extra_body": {"min_p": 0.1}}
    assert dict(resolved.provenance) == {
        ("extra_body",): "preset:x",
        ("extra_body", "min_p"): "preset:x",
    }
    assert resolved.source(["temperature"]) is None
    whole = resolve(("preset:x", {"extra_body": {"top_k": 40}}), ("call", {"extra_body": None}))
    assert whole.value == {}
    assert dict(whole.provenance) == {}
    # set again after the delete: the new layer, and only it
    again = resolve(
        ("preset:x", {"extra_body": {"top_k": 40}}),
        ("agent:a", {"extra_body": None}),
        ("call", {"extra_body": {"seed": 1}}),
    )
    assert dict(again.provenance) == {("extra_body",): "call", ("extra_body", "seed"): "call"}


def _present(value: Any, path: tuple[Any, ...]) -> bool:
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return False
        value = value[key]
    return True


@given(
    st.lists(
        st.tuples(st.sampled_from(["preset", "instance", "agent", "call"]), json_objects),
        max_size=5,
    )
)
def test_provenance_names_only_paths_that_exist(layers: list[tuple[str, dict[str, Any]]]) -> None:
    """Every path in the provenance is a path of the merged value: nothing deleted (by a
    ``null``, or by replacing an object) leaves a stale entry behind."""
    resolved = resolve(*layers)
    stale = [path for path in resolved.provenance if not _present(resolved.value, path)]
    assert not stale, stale
