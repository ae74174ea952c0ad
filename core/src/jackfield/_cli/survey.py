"""The commands that look without chatting: providers, models, status, discover, explain, schema."""

from __future__ import annotations

import argparse
import json
import os
from typing import TYPE_CHECKING, Any, TextIO

from jackfield._cli.args import call_options
from jackfield._cli.report import FAILED, OK

if TYPE_CHECKING:
    from jackfield._host import Host

__all__ = [
    "cmd_discover",
    "cmd_explain",
    "cmd_models",
    "cmd_providers",
    "cmd_schema",
    "cmd_status",
    "load_host",
]


def load_host(args: argparse.Namespace) -> Host:
    from jackfield._host import Host

    return Host.load(args.config)


def cmd_providers(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from jackfield._errors import JackfieldError
    from jackfield._registry import load_registry

    registry = load_registry()
    plugins = {p.name: p for p in registry.plugins}
    for name in registry.names():
        try:
            spec = registry.get(name)
        except JackfieldError as exc:
            out.write(f"{name:<20} unusable: {exc}\n")
            continue
        plugin = plugins.get(spec.plugin)
        dist = f"{spec.distribution} {spec.version}" if spec.distribution else "(no distribution)"
        out.write(f"{name:<20} {dist:<28} {spec.description}\n")
        if plugin and plugin.instances:
            out.write(f"{'':<20} instances: {', '.join(plugin.instances)}\n")
    if not registry.names():
        out.write("no providers are installed (pip install jackfield-openai)\n")
    for entry in registry.disabled:
        out.write(f"disabled: {entry}\n")
    for problem in registry.problems:
        out.write(f"problem: {problem}\n")
    return OK


PROBE = {"timeouts": {"connect": 1.0, "first_byte": 5.0}, "retries": {"attempts": 0}}


def _probe(host: Host, name: str) -> Any:
    """A provider for one quick look: short timeouts and no retries when it has them."""
    import attrs

    options_class = host.registry.options_class(host.instance(name).provider)
    fields = {field.name for field in attrs.fields(options_class)}
    return host.create(name, {k: v for k, v in PROBE.items() if k in fields})


def cmd_models(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    import asyncio

    from jackfield._errors import JackfieldError

    host = load_host(args)
    named = bool(args.instances)
    names = args.instances or host.instance_names()

    async def one(name: str) -> tuple[str, Any]:
        provider = _probe(host, name)
        try:
            return name, await provider.alist_models()
        except JackfieldError as exc:
            return name, exc
        finally:
            await provider.aclose()

    async def run() -> list[tuple[str, Any]]:
        return list(await asyncio.gather(*(one(name) for name in names)))

    rows, failures = [], []
    for name, result in asyncio.run(run()):
        if isinstance(result, Exception):
            failures.append((name, result))
            continue
        rows += [(name, m) for m in result]
        if not result and named:
            err.write(f"{name}: no models ({getattr(result, 'reason', None) or 'empty list'})\n")
    if args.json:
        from jackfield._converter import converter

        data = [{"instance": n, **converter.unstructure(m)} for n, m in rows]
        out.write(json.dumps(data, default=str) + "\n")
    else:
        for name, model in rows:
            context = model.context_length or "?"
            out.write(f"{name:<16} {model.id:<48} context {context:<8} {model.kind}\n")
    if named and failures:
        for _, failure in failures:
            err.write(f"jackfield: {failure}\n")
        return FAILED
    if not named and not rows:
        err.write("no instance answered; `jackfield status` says why\n")
    return OK


def _advice(status: Any, key: str) -> str:
    if not status.connected:
        return "nothing answers there: start the server, or set base_url for this instance"
    error = (status.error or "").lower()
    if "api key" in error or "401" in error or "unauthorized" in error:
        return 'the server wants an API key: set api_key, e.g. api_key = { env = "MY_KEY" }'
    if "not set" in error and "variable" in error:
        return "export the variable named above, or change api_key"
    if "loading" in error or "not ready" in error:
        return "the server is loading its model: try again shortly"
    if status.error:
        return "see the error above"
    if not status.loaded_models:
        if status.models:
            return "no model is in memory yet: the first chat loads one"
        return "the server answers but lists no model"
    return ""


def cmd_status(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    import asyncio

    host = load_host(args)
    names = args.instances or host.instance_names()
    configured = set(host.config.instances) | set(args.instances)

    async def one(name: str) -> tuple[str, Any, str]:
        provider = _probe(host, name)
        try:
            return name, await provider.astatus(), _key_state(provider)
        finally:
            await provider.aclose()

    async def run() -> list[tuple[str, Any, str]]:
        return list(await asyncio.gather(*(one(name) for name in names)))

    results = asyncio.run(run())
    failed = False
    if args.json:
        from jackfield._converter import converter

        data = [{"instance": n, "key": k, **converter.unstructure(s)} for n, s, k in results]
        out.write(json.dumps(data, default=str) + "\n")
    for name, status, key in results:
        healthy = status.connected and not status.error
        if not healthy and name in configured:
            failed = True
        if args.json:
            continue
        state = "ok" if healthy else ("down" if not status.connected else "error")
        kind = status.server_kind or "-"
        where = status.details.get("base_url", "") if isinstance(status.details, dict) else ""
        loaded = ", ".join(status.loaded_models) if status.loaded_models else "-"
        out.write(f"{name:<14} {state:<6} {kind:<14} key: {key:<12} loaded: {loaded}\n")
        if where:
            out.write(f"{'':<14} {where}\n")
        if status.error:
            out.write(f"{'':<14} {status.error.splitlines()[0]}\n")
        advice = _advice(status, key)
        if advice:
            out.write(f"{'':<14} -> {advice}\n")
    return FAILED if failed else OK


def _key_state(provider: Any) -> str:
    key = getattr(provider.options, "api_key", None)
    if key is None:
        return "none"
    reference = key.reference
    if reference.startswith("env:") and not os.environ.get(reference[4:]):
        return f"missing ({reference})"
    return "set" if reference == "literal" else reference


def cmd_discover(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    import asyncio

    from jackfield._registry import load_registry

    registry = load_registry()
    candidates: dict[str, str] = {}
    for name in registry.instance_names():
        provider = registry.create_instance(name)
        base = getattr(provider, "base_url", None)
        if isinstance(base, str) and "127.0.0.1" in base:
            candidates.setdefault(base, name)
        provider.close()

    async def probe(base: str, name: str) -> tuple[str, str, Any]:
        provider = registry.create_instance(
            name,
            {
                "timeouts": {"connect": args.timeout, "first_byte": args.timeout * 2},
                "retries": {"attempts": 0},
            },
        )
        try:
            return base, name, await provider.astatus()
        finally:
            await provider.aclose()

    async def run() -> list[tuple[str, str, Any]]:
        return list(await asyncio.gather(*(probe(b, n) for b, n in candidates.items())))

    found = [(b, n, s) for b, n, s in asyncio.run(run()) if s.connected]
    if not found:
        out.write(f"no server answers on the default local ports ({len(candidates)} probed)\n")
        return OK
    for base, name, status in found:
        kind = status.server_kind or "an OpenAI-compatible server"
        instance = {"llama.cpp": "llamacpp"}.get(
            status.server_kind or "", status.server_kind or name
        )
        models = ", ".join(status.models[:3]) or "no models listed"
        out.write(f"# found {kind} at {base} ({models})\n")
        out.write(f'[providers.{instance}]\ntype = "openai-compatible"\nbase_url = "{base}"\n')
        if status.error:
            out.write(f"# note: {status.error.splitlines()[0]}\n")
        out.write("\n")
    return OK


def cmd_explain(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    host = load_host(args)
    agent = host.agent(args.agent)
    provider = host.instance(agent.instance).provider
    out.write(f"# agent {agent.name!r} on instance {agent.instance!r} (provider {provider})\n")
    out.write(agent.explain(**call_options(args)) + "\n")
    host.close()
    return OK


def cmd_schema(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from jackfield._config import json_schema
    from jackfield._registry import load_registry

    out.write(json.dumps(json_schema(load_registry()), indent=2) + "\n")
    return OK
