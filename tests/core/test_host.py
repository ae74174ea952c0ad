"""Host and agents: instances by name, layered options with provenance, sync and async."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import jackfield
from jackfield import ConfigError, Host, SystemMessage, UnknownProviderError, UserMessage
from jackfield._options import merge_patch
from jackfield.testing import ScriptedProvider, plugin

REGISTRY = jackfield.load_registry(autoload=False, plugins=[plugin])


def host(data: dict[str, Any]) -> Host:
    return Host.from_mapping(data, registry=REGISTRY)


CONFIG = {
    "providers": {
        "local": {"type": "scripted", "reply": "from local", "extra_body": {"a": 1, "b": {"c": 2}}},
        "other": {"type": "scripted", "options": {"reply": "from other", "temperature": 0.9}},
    },
    "agents": {
        "coder": {
            "model": "local:code-model",
            "system_prompt": "Be precise.",
            "options": {"temperature": 0.1},
            "extra_body": {"b": {"d": 3}, "a": None},
            "tools": [{"name": "run", "description": "Runs code.", "source": "sandbox"}],
        }
    },
}


def test_agents_stream_with_their_layers() -> None:
    with host(CONFIG) as h:
        agent = h.agent("coder")
        response = agent.complete("hi", max_tokens=5)
        provider = h.provider("local")
        assert isinstance(provider, ScriptedProvider)
        request = provider.requests[-1]
    assert response.text == "from local"
    assert request.conversation.messages == (SystemMessage("Be precise."), UserMessage("hi"))
    assert request.options.model == "code-model"
    assert request.options.temperature == 0.1
    assert request.options.max_tokens == 5
    assert request.options.extra_body == {"b": {"c": 2, "d": 3}}
    assert [(t.name, t.source) for t in request.tools] == [("run", "sandbox")]


def test_one_provider_per_instance_shared_by_agents_and_closed_with_the_host() -> None:
    h = host(CONFIG)
    assert h.provider("local") is h.agent("coder").provider
    assert h.provider("local") is h.agent("local:x").provider
    assert h.provider("other") is not h.provider("local")
    h.close()
    assert h.provider("local") is not None  # a closed host makes new ones on demand


def test_model_references_split_on_the_first_colon() -> None:
    with host(CONFIG) as h:
        agent = h.agent("local:qwen3:8b")
        assert (agent.instance, agent.options_for().model) == ("local", "qwen3:8b")
        assert h.agent("other").options_for().model == "scripted"  # the instance's own


def test_explain_names_every_layer() -> None:
    with host(CONFIG) as h:
        lines = h.agent("coder").explain(max_tokens=7, extra_body={"e": 5}).splitlines()
    table = {line.split("=")[0].strip(): line.rsplit("<- ", 1)[1] for line in lines}
    assert table["reply"] == "instance:local"
    assert table["model"] == "agent:coder"
    assert table["temperature"] == "agent:coder"
    assert table["max_tokens"] == "call"
    assert table["extra_body.b.c"] == "instance:local"
    assert table["extra_body.b.d"] == "agent:coder"
    assert table["extra_body.e"] == "call"
    assert "extra_body.a" not in table  # the agent deleted it
    assert table["chunk_size"] == "(default)"


def test_unknown_names() -> None:
    h = host(CONFIG)
    with pytest.raises(
        UnknownProviderError, match=r"unknown agent or instance 'codr'. Did you mean 'coder'\?"
    ):
        h.agent("codr")
    with pytest.raises(UnknownProviderError, match=r"unknown instance 'nope'"):
        h.provider("nope")
    with pytest.raises(ConfigError, match="an agent name or a model reference"):
        h.agent("")


def test_call_options_are_validated_and_blamed_on_the_call() -> None:
    with host(CONFIG) as h, pytest.raises(jackfield.OptionsError) as info:
        h.agent("coder").complete("hi", temperature="warm")
    assert "(set by layer 'call')" in str(info.value)


@pytest.mark.anyio
async def test_async_agents_and_host() -> None:
    async with host(CONFIG) as h:
        agent = h.agent("coder")
        fragments = [f async for f in agent.astream("hi")]
        assert (await agent.acomplete("hi")).text == "from local"
        assert jackfield.Response.fold(fragments).text == "from local"


def test_a_host_without_configuration_still_has_the_ready_made_instances() -> None:
    registry = jackfield.load_registry()
    h = Host(registry=registry)
    assert "ollama" in h.instance_names()
    assert h.agent("ollama:qwen3:8b").dry_run("hi")["body"]["model"] == "qwen3:8b"
    assert h.config.source == "<no configuration>"


def test_a_configured_instance_can_build_on_a_preset() -> None:
    h = Host.from_mapping({"providers": {"ollama": {"port": 11500}}})
    request = h.agent("ollama:qwen3:8b").dry_run("hi")
    assert request["url"] == "http://127.0.0.1:11500/v1/chat/completions"
    lines = h.agent("ollama:qwen3:8b").explain().splitlines()
    table = {line.split(" = ")[0].strip(): line.rsplit("<- ", 1)[1] for line in lines}
    assert table["preset"] == "preset:ollama"
    assert table["port"] == "instance:ollama"
    assert table["model"] == "agent:ollama:qwen3:8b"


# --- property: provenance names the last layer that set each leaf --------------------------------

values = st.integers(1, 9)
option_layers = st.fixed_dictionaries(
    {},
    optional={
        "temperature": st.floats(0, 1),
        "max_tokens": values,
        "extra_body": st.dictionaries(
            st.sampled_from(["x", "y", "z"]),
            values | st.dictionaries(st.sampled_from(["p", "q"]), values, min_size=1, max_size=2),
            min_size=1,
            max_size=3,
        ),
    },
)


@given(option_layers, option_layers, option_layers)
def test_explain_provenance_names_the_last_layer_that_set_each_leaf(
    instance: dict[str, Any], agent: dict[str, Any], call: dict[str, Any]
) -> None:
    config = {
        "providers": {"local": {"type": "scripted", "options": instance}},
        "agents": {
            "a": {
                "model": "local",
                "options": {k: v for k, v in agent.items() if k != "extra_body"},
                "extra_body": agent.get("extra_body", {}),
            }
        },
    }
    h = host(config)
    lines = h.agent("a").explain(**call).splitlines()
    shown = {line.split(" = ")[0].strip(): line.rsplit("<- ", 1)[1] for line in lines}
    layers = [("instance:local", instance), ("agent:a", agent), ("call", call)]
    merged: Any = {}
    for _, layer in layers:
        merged = merge_patch(merged, layer)

    def leaves(value: Any, prefix: str = "") -> list[str]:
        if isinstance(value, dict):
            return [leaf for k, v in value.items() for leaf in leaves(v, f"{prefix}{k}.")]
        return [prefix[:-1]]

    for leaf in leaves(merged):
        setters = [name for name, layer in layers if _sets(layer, leaf.split("."))]
        expected = setters[-1] if setters else "(default)"
        assert shown[leaf] == expected, (leaf, shown)


def _sets(layer: Any, path: list[str]) -> bool:
    for part in path:
        if not isinstance(layer, dict) or part not in layer:
            return False
        layer = layer[part]
    return not isinstance(layer, dict)
