"""The registry: discovery through (fake) entry points, isolation of broken plugins, lookup."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from jackfield import (
    DuplicateProviderError,
    OptionsError,
    PluginInfo,
    PluginProblem,
    ProviderLoadError,
    Registry,
    UnknownProviderError,
    load_registry,
)
from jackfield.hookspecs import hookimpl
from jackfield.testing import ScriptedProvider

SCRIPTED = "jackfield.testing:ScriptedProvider"


class FakeEntryPoint:
    def __init__(self, name: str, load: Callable[[], Any], dist: str | None = None) -> None:
        self.name = name
        self.value = f"{name}_module"
        self.group = "jackfield"
        self._load = load
        self.dist = SimpleNamespace(name=dist, version="1.0") if dist else None

    def load(self) -> Any:
        return self._load()


def plugin(*specs: dict[str, Any], fail: BaseException | None = None) -> Any:
    @hookimpl
    def register_providers(register: Any) -> None:
        for spec in specs:
            register(**spec)
        if fail is not None:
            raise fail

    return SimpleNamespace(register_providers=register_providers)


def spec(name: str, factory: str = SCRIPTED, **extra: Any) -> dict[str, Any]:
    return {"name": name, "factory": factory, **extra}


@pytest.fixture
def entry_points(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    monkeypatch.delenv("JACKFIELD_DISABLE_PLUGINS", raising=False)
    monkeypatch.delenv("JACKFIELD_LOAD_PLUGINS", raising=False)

    def install(*eps: FakeEntryPoint) -> None:
        def fake(group: str) -> list[FakeEntryPoint]:
            assert group == "jackfield"
            return list(eps)

        monkeypatch.setattr("jackfield._entry_points.entry_points", fake)

    return install


def ok(name: str, dist: str, *specs: dict[str, Any]) -> FakeEntryPoint:
    made = plugin(*specs)
    return FakeEntryPoint(name, lambda: made, dist)


def test_providers_are_discovered_through_entry_points(entry_points: Any) -> None:
    entry_points(
        ok("alpha", "jackfield-alpha", spec("alpha", description="A.")),
        ok("beta", "jackfield-beta", spec("beta-1"), spec("beta-2")),
    )
    registry = load_registry()
    assert registry.names() == ["alpha", "beta-1", "beta-2"]
    assert registry.problems == []
    assert registry.plugins == [
        PluginInfo("alpha", "jackfield-alpha", "1.0", ("alpha",)),
        PluginInfo("beta", "jackfield-beta", "1.0", ("beta-1", "beta-2")),
    ]
    assert registry.get("alpha").description == "A."
    assert registry.get("alpha").distribution == "jackfield-alpha"


def test_a_plugin_that_fails_to_import_is_a_problem_not_a_crash(entry_points: Any) -> None:
    def boom() -> Any:
        raise ImportError("No module named 'torch'")

    entry_points(FakeEntryPoint("broken", boom, "jackfield-broken"), ok("good", "g", spec("good")))
    registry = load_registry()
    assert registry.names() == ["good"]
    assert registry.problems == [
        PluginProblem(
            "broken",
            "jackfield-broken",
            "failed to import 'broken_module': ImportError: No module named 'torch'",
        )
    ]
    assert str(registry.problems[0]).startswith("plugin 'broken' from jackfield-broken: failed")


def test_a_plugin_whose_hook_raises_is_a_problem(entry_points: Any) -> None:
    bad = plugin(spec("half"), fail=RuntimeError("oops"))
    entry_points(FakeEntryPoint("bad", lambda: bad, "d"), ok("good", "g", spec("good")))
    registry = load_registry()
    assert registry.names() == ["good", "half"]
    assert registry.problems == [
        PluginProblem("bad", "d", "register_providers failed: RuntimeError: oops")
    ]


@pytest.mark.parametrize(
    ("bad_spec", "error"),
    [
        (spec("Bad Name"), "invalid provider name 'Bad Name'"),
        (spec("x", factory="not a path"), "factory must be an import path 'package.module:Name'"),
        (spec("x", options="mod"), "options must be an import path"),
        (spec("x", description=3), "description must be a string"),
        ({"name": "x"}, "missing 1 required keyword-only argument: 'factory'"),
    ],
)
def test_invalid_specs_are_problems(
    entry_points: Any, bad_spec: dict[str, Any], error: str
) -> None:
    entry_points(ok("bad", "d", bad_spec), ok("good", "g", spec("good")))
    registry = load_registry()
    assert registry.names() == ["good"]
    (problem,) = registry.problems
    assert problem.plugin == "bad"
    assert error in problem.error


def test_duplicate_names_are_reported_and_never_silently_chosen(entry_points: Any) -> None:
    entry_points(ok("one", "dist-one", spec("same")), ok("two", "dist-two", spec("same")))
    registry = load_registry()
    assert registry.names() == ["same"]
    (problem,) = registry.problems
    assert problem.distribution == "dist-two"
    assert "also registered by plugin 'one' (distribution dist-one 1.0)" in problem.error
    with pytest.raises(DuplicateProviderError) as info:
        registry.get("same")
    message = str(info.value)
    assert "dist-one" in message
    assert "dist-two" in message
    assert "JACKFIELD_DISABLE_PLUGINS" in message


def test_an_unknown_hook_is_reported_with_a_suggestion(entry_points: Any) -> None:
    @hookimpl
    def register_provider(register: Any) -> None:  # typo: missing "s"
        raise AssertionError("never called")

    typo = SimpleNamespace(register_provider=register_provider)
    entry_points(FakeEntryPoint("typo", lambda: typo, "d"))
    (problem,) = load_registry().problems
    assert problem.error == (
        "implements unknown hook 'register_provider'; did you mean 'register_providers'?"
    )


def test_a_hook_with_wrong_arguments_is_reported(entry_points: Any) -> None:
    @hookimpl
    def register_providers(callback: Any) -> None:
        raise AssertionError("never called")

    wrong = SimpleNamespace(register_providers=register_providers)
    entry_points(FakeEntryPoint("wrong", lambda: wrong, "d"), ok("good", "g", spec("good")))
    registry = load_registry()
    assert registry.names() == ["good"]
    (problem,) = registry.problems
    assert problem.error == (
        "cannot be registered: its register_providers takes 'callback', which the hook does "
        "not pass (it passes register)"
    )
    # pluggy refuses the same plugin for the same reason
    import pluggy

    with pytest.raises(pluggy.PluginValidationError, match="callback"):
        registry.plugin_manager.register(wrong, name="wrong")


def test_plugins_marked_with_pluggys_own_marker_register_the_same() -> None:
    import pluggy

    marker = pluggy.HookimplMarker("jackfield")

    @marker
    def register_providers(register: Any) -> None:
        register("via-pluggy", factory=SCRIPTED)

    registry = load_registry(
        autoload=False, plugins=[SimpleNamespace(register_providers=register_providers)]
    )
    assert registry.names() == ["via-pluggy"]
    assert registry.problems == []


def test_the_plugin_manager_holds_every_plugin_and_calls_the_same_hooks() -> None:
    registry = load_registry(autoload=False)
    registry.add_plugin(plugin(spec("one")), "first")
    registry.add_plugin(plugin(spec("two"), spec("three")), "second")
    assert registry.names() == ["one", "three", "two"]
    seen: list[str] = []
    registry.hook.register_providers(register=lambda name, **spec: seen.append(name))
    assert sorted(seen) == ["one", "three", "two"]
    manager = registry.plugin_manager
    assert manager is registry.plugin_manager  # built once
    assert sorted(name for name, _ in manager.list_name_plugin()) == ["first", "second"]
    late = plugin(spec("four"))
    registry.add_plugin(late, "late")  # a plugin added after the manager was built joins it
    assert manager.get_plugin("late") is late


def test_a_plugin_object_is_registered_once() -> None:
    once = plugin(spec("once"))
    registry = load_registry(autoload=False, plugins=[once, once])
    assert registry.names() == ["once"]
    (problem,) = registry.problems
    assert problem.error == "cannot be registered: it is registered already"


def test_disable_plugins_by_name_or_distribution(entry_points: Any, monkeypatch: Any) -> None:
    entry_points(
        ok("a", "dist-a", spec("a")), ok("b", "dist-b", spec("b")), ok("c", "dist-c", spec("c"))
    )
    monkeypatch.setenv("JACKFIELD_DISABLE_PLUGINS", "a, dist-c")
    registry = load_registry()
    assert registry.names() == ["b"]
    assert registry.disabled == ["a", "c"]


def test_disable_all_plugins(entry_points: Any, monkeypatch: Any) -> None:
    entry_points(ok("a", "dist-a", spec("a")))
    monkeypatch.setenv("JACKFIELD_DISABLE_PLUGINS", "all")
    assert load_registry().names() == []


def test_load_only_some_plugins(entry_points: Any, monkeypatch: Any) -> None:
    entry_points(ok("a", "dist-a", spec("a")), ok("b", "dist-b", spec("b")))
    monkeypatch.setenv("JACKFIELD_LOAD_PLUGINS", "dist-b")
    registry = load_registry()
    assert registry.names() == ["b"]
    assert registry.disabled == ["a"]


def test_no_autoload(entry_points: Any) -> None:
    entry_points(ok("a", "dist-a", spec("a")))
    assert load_registry(autoload=False).names() == []
    assert load_registry(autoload=False, plugins=[plugin(spec("mine"))]).names() == ["mine"]


def test_unknown_names_get_did_you_mean_and_the_known_list() -> None:
    registry = load_registry(
        autoload=False, plugins=[plugin(spec("openai-compatible"), spec("ollama"))]
    )
    with pytest.raises(UnknownProviderError) as info:
        registry.get("openai-compatable")
    assert str(info.value) == (
        "unknown provider 'openai-compatable'. Did you mean 'openai-compatible'? "
        "Known providers: ollama, openai-compatible."
    )
    assert isinstance(info.value, LookupError)
    assert info.value.suggestions == ("openai-compatible",)


def test_unknown_name_with_nothing_installed() -> None:
    with pytest.raises(
        UnknownProviderError, match=r"Known providers: none \(is a provider package installed\?\)"
    ):
        Registry().get("x")


def test_create_configures_an_instance() -> None:
    registry = load_registry(autoload=False, plugins=[plugin(spec("scripted"))])
    provider = registry.create("scripted", {"reply": "hey"}, instance="local")
    assert isinstance(provider, ScriptedProvider)
    assert provider.name == "local"
    assert provider.complete("hi").text == "hey"
    with pytest.raises(OptionsError) as info:
        registry.create("scripted", {"reply": 1}, instance="local")
    assert str(info.value) == (
        "invalid options for provider 'local':\n"
        "  $.reply: expected a string, got int 1 (set by layer 'instance:local')"
    )


@pytest.mark.parametrize(
    ("factory", "options", "error"),
    [
        (
            "no_such_module_xyz:Thing",
            None,
            "cannot be imported from 'no_such_module_xyz:Thing': ModuleNotFoundError",
        ),
        ("jackfield.testing:Nope", None, "AttributeError"),
        ("jackfield.testing:ScriptedOptions", None, "is not a jackfield Provider subclass"),
        (
            SCRIPTED,
            "jackfield._messages:Tool",
            "registered options class 'jackfield._messages:Tool' is not",
        ),
        (
            SCRIPTED,
            "jackfield.testing:nope",
            "options class 'jackfield.testing:nope' cannot be imported",
        ),
    ],
)
def test_load_errors_are_typed(factory: str, options: str | None, error: str) -> None:
    extra = {"options": options} if options else {}
    registry = load_registry(autoload=False, plugins=[plugin(spec("x", factory, **extra))])
    with pytest.raises(ProviderLoadError) as info:
        registry.load("x")
    assert error in str(info.value)
    assert isinstance(info.value, ImportError)


def test_options_class_without_importing_the_implementation(tmp_path: Path) -> None:
    package = tmp_path / "lazy_provider_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "options.py").write_text(
        "import attrs\n\n@attrs.define\nclass Opts:\n    model: str = 'm'\n"
    )
    (package / "impl.py").write_text(
        textwrap.dedent(
            """
            from lazy_provider_pkg.options import Opts
            from jackfield.testing import ScriptedProvider

            class Impl(ScriptedProvider):
                options_class = Opts
            """
        )
    )
    sys.path.insert(0, str(tmp_path))
    try:
        registry = load_registry(
            autoload=False,
            plugins=[
                plugin(
                    spec(
                        "lazy",
                        "lazy_provider_pkg.impl:Impl",
                        options="lazy_provider_pkg.options:Opts",
                    )
                )
            ],
        )
        assert registry.options_class("lazy").__name__ == "Opts"
        assert "lazy_provider_pkg.impl" not in sys.modules
        assert registry.load("lazy").__name__ == "Impl"
        assert "lazy_provider_pkg.impl" in sys.modules
    finally:
        sys.path.remove(str(tmp_path))
        for name in [m for m in sys.modules if m.startswith("lazy_provider_pkg")]:
            del sys.modules[name]


def test_repr() -> None:
    assert repr(load_registry(autoload=False, plugins=[plugin(spec("a"))])) == (
        "<Registry providers=['a'] problems=0>"
    )


@pytest.fixture(autouse=True)
def _no_leaked_modules() -> Iterator[None]:
    before = set(sys.modules)
    yield
    leaked = {m for m in set(sys.modules) - before if m.startswith("lazy_provider_pkg")}
    assert not leaked


def test_plugins_are_found_when_the_importlib_metadata_backport_replaced_the_finder(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The backport (opentelemetry-api 1.27 imports it) deletes
    ``PathFinder.find_distributions`` and finds distributions itself: listing providers must
    still work, through importlib.metadata."""
    import sys
    from importlib import metadata
    from importlib.machinery import PathFinder

    class Backport:
        @staticmethod
        def find_distributions(*args: Any, **kwargs: Any) -> Any:
            return metadata.MetadataPathFinder.find_distributions(*args, **kwargs)

    monkeypatch.delattr(PathFinder, "find_distributions")
    monkeypatch.setattr(sys, "meta_path", [*sys.meta_path, Backport()])
    from jackfield import _entry_points, load_registry

    assert _entry_points._ordinary() is False
    assert "openai-compatible" in load_registry().names()
