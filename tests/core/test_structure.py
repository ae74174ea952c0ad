"""structure(): typed options through the shared converter, with path- and layer-naming errors."""

from __future__ import annotations

from typing import Any, Literal

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from jackfield import Issue, OptionsError, Secret
from jackfield._errors import format_path
from jackfield._options import merge_patch, resolve, structure
from tests.core.strategies import json_objects


@attrs.define
class Timeouts:
    connect: float = 5.0
    total: float | None = None


@attrs.define
class Options:
    base_url: str = "http://127.0.0.1:8080/v1"
    model: str | None = None
    temperature: float | None = None
    max_tokens: int | None = None
    stream: bool = True
    stop: str | list[str] | None = None
    mode: Literal["chat", "completion"] = "chat"
    api_key: Secret | None = None
    timeouts: Timeouts = attrs.field(factory=Timeouts)
    headers: dict[str, str] = attrs.field(factory=dict)
    extra_body: dict[str, Any] = attrs.field(factory=dict)


@attrs.define
class Required:
    path: str


def issues(options: Any, cls: type = Options) -> list[Issue]:
    with pytest.raises(OptionsError) as info:
        structure(cls, options)
    return list(info.value.issues)


def test_valid_options_structure_with_defaults() -> None:
    options = structure(Options, {"temperature": 1, "stop": ["a"], "timeouts": {"total": 30}})
    assert options.temperature == 1.0
    assert isinstance(options.temperature, float)
    assert options.stop == ["a"]
    assert options.timeouts == Timeouts(5.0, 30.0)
    assert options.extra_body == {}


@pytest.mark.parametrize(
    ("options", "path", "message"),
    [
        ({"temperature": "hot"}, "$.temperature", "expected a number, got str 'hot'"),
        ({"temperature": True}, "$.temperature", "expected a number, got a boolean"),
        ({"max_tokens": "1"}, "$.max_tokens", "expected an integer, got str '1'"),
        ({"max_tokens": 1.5}, "$.max_tokens", "expected an integer, got float 1.5"),
        ({"stream": 1}, "$.stream", "expected true or false, got int 1"),
        ({"base_url": 8080}, "$.base_url", "expected a string, got int 8080"),
        ({"stop": ["a", 2]}, "$.stop[1]", "expected a string, got int 2"),
        ({"mode": "edit"}, "$.mode", "expected one of 'chat', 'completion', got 'edit'"),
        ({"timeouts": {"connect": "x"}}, "$.timeouts.connect", "expected a number"),
        # The class's fields, not what the generated code raised ("'int' is not iterable"),
        # and how to write the value as one of them.
        (
            {"timeouts": 5},
            "$.timeouts",
            "expected a table with the keys connect, total; got int 5: set one of its keys, "
            "e.g. timeouts.total = 5",
        ),
        (
            {"timeouts": "5s"},
            "$.timeouts",
            "expected a table with the keys connect, total; got str '5s'",
        ),
        (
            {"timeouts": [5]},
            "$.timeouts",
            "expected a table with the keys connect, total; got list [5]",
        ),
        # A string is not a list of its characters, nor a list a table.
        ({"stop": 5}, "$.stop", "expected"),
        ({"headers": ["X-A"]}, "$.headers", "expected a table, got list ['X-A']"),
        ({"headers": {"X-A": 1}}, "$.headers.X-A", "expected a string, got int 1"),
        ({"api_key": 42}, "$.api_key", 'expected a string or a reference {"env": "VARIABLE"}'),
        ({"api_key": {"env": ""}}, "$.api_key", "expected a string or a reference"),
    ],
)
def test_bad_values_name_their_path(options: dict[str, Any], path: str, message: str) -> None:
    (issue,) = issues(options)
    assert format_path(issue.path) == path
    assert message in issue.message


def test_unknown_keys_are_errors_with_did_you_mean() -> None:
    (issue,) = issues({"temprature": 0.5})
    assert issue.path == ("temprature",)
    assert issue.message == "unknown option 'temprature'; did you mean 'temperature'?"


def test_unknown_nested_key() -> None:
    (issue,) = issues({"timeouts": {"conect": 1}})
    assert issue.path == ("timeouts", "conect")
    assert "did you mean 'connect'?" in issue.message


def test_unknown_key_without_a_close_match() -> None:
    (issue,) = issues({"zzz": 1})
    assert issue.message == "unknown option 'zzz'"


def test_missing_required_option() -> None:
    (issue,) = issues({}, Required)
    assert (issue.path, issue.message) == (("path",), "required option is missing")


def test_every_problem_is_reported_at_once() -> None:
    found = issues({"temperature": "x", "max_tokens": "y", "bogus": 1})
    assert [i.path for i in found] == [("temperature",), ("max_tokens",), ("bogus",)]


def test_extra_body_accepts_any_json_and_rejects_the_rest() -> None:
    body = {"samplers": ["top_k", {"min_p": 0.05}], "grammar": "root ::= x", "stop": [None]}
    assert structure(Options, {"extra_body": body}).extra_body == body
    (issue,) = issues({"extra_body": {"samplers": ["a", "b", {1, 2}]}})
    assert issue.path == ("extra_body", "samplers", 2)
    assert issue.message == "set is not a JSON value"
    (issue,) = issues({"extra_body": {"x": float("nan")}})
    assert (issue.path, issue.message) == (("extra_body", "x"), "nan is not a JSON number")
    (issue,) = issues({"extra_body": {"x": {3: 1}}})
    assert issue.path == ("extra_body", "x")
    assert issue.message == "option keys must be strings, got 3"
    (issue,) = issues({"extra_body": [1]})
    assert (issue.path, issue.message) == (
        ("extra_body",),
        "expected an object (mapping), got list",
    )


def test_extra_body_is_copied_not_shared() -> None:
    body: dict[str, Any] = {"a": [1]}
    options = structure(Options, {"extra_body": body})
    options.extra_body["a"].append(2)
    assert body == {"a": [1]}


def test_errors_name_the_layer_that_supplied_the_bad_value() -> None:
    resolved = resolve(
        ("defaults", {"temperature": 0.7}),
        ("host:local", {"extra_body": {"samplers": ["top_k", "min_p", {"x"}]}}),
        ("agent:coder", {"temperature": "cold", "timeouts": {"conect": 1}}),
    )
    with pytest.raises(OptionsError) as info:
        structure(Options, resolved, target="provider 'local'")
    assert list(info.value.issues) == [
        Issue(("temperature",), "expected a number, got str 'cold'", "agent:coder"),
        Issue(
            ("timeouts", "conect"),
            "unknown option 'conect'; did you mean 'connect'?",
            "agent:coder",
        ),
        Issue(("extra_body", "samplers", 2), "set is not a JSON value", "host:local"),
    ]
    assert str(info.value) == (
        "invalid options for provider 'local':\n"
        "  $.temperature: expected a number, got str 'cold' (set by layer 'agent:coder')\n"
        "  $.timeouts.conect: unknown option 'conect'; did you mean 'connect'? "
        "(set by layer 'agent:coder')\n"
        "  $.extra_body.samplers[2]: set is not a JSON value (set by layer 'host:local')"
    )


def test_missing_key_inside_an_object_is_attributed_to_the_layer_that_gave_the_object() -> None:
    @attrs.define
    class Outer:
        inner: Required

    resolved = resolve(("agent", {"inner": {}}))
    with pytest.raises(OptionsError) as info:
        structure(Outer, resolved)
    assert list(info.value.issues) == [
        Issue(("inner", "path"), "required option is missing", "agent")
    ]


def test_options_error_is_a_value_error_and_a_jackfield_error() -> None:
    from jackfield import ConfigError, JackfieldError

    with pytest.raises(OptionsError) as info:
        structure(Options, {"temperature": "x"})
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, ConfigError)
    assert isinstance(info.value, JackfieldError)


def test_secrets_structure_from_literals_and_references() -> None:
    assert structure(Options, {"api_key": "sk-1"}).api_key == Secret("sk-1")
    assert structure(Options, {"api_key": {"env": "KEY"}}).api_key == Secret.from_env("KEY")
    assert structure(Options, {"api_key": {"file": "/k"}}).api_key == Secret.from_file("/k")


def test_a_plain_mapping_is_one_layer_so_null_means_unset() -> None:
    options = structure(Options, {"temperature": None, "extra_body": {"n_probs": None, "k": 1}})
    assert options.temperature is None
    assert options.extra_body == {"k": 1}


@given(json_objects)
def test_any_json_object_is_accepted_in_extra_body(body: dict[str, Any]) -> None:
    assert structure(Options, {"extra_body": body}).extra_body == merge_patch({}, body)


@given(st.one_of(st.text(), st.integers(), st.lists(st.integers()), st.booleans()))
def test_structuring_never_raises_anything_but_options_error(value: Any) -> None:
    for key in ("temperature", "max_tokens", "stop", "timeouts", "headers", "mode", "api_key"):
        problems: tuple[Issue, ...] = ()
        try:
            structure(Options, {key: value})
        except OptionsError as exc:
            problems = exc.issues
            assert problems, "an OptionsError always lists its issues"
        assert all(issue.path[:1] == (key,) for issue in problems)
