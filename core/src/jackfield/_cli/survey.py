"""The commands that look without chatting: providers, discover, explain, schema (``models``
and ``status`` are in :mod:`jackfield._cli.status`)."""

from __future__ import annotations

import argparse
import contextlib
import json
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any, TextIO, TypeVar
from urllib.parse import urlsplit

from jackfield._cli.args import call_options
from jackfield._cli.report import OK
from jackfield._secret import mask_url

if TYPE_CHECKING:
    from jackfield._host import Host

T = TypeVar("T")

__all__ = [
    "cmd_discover",
    "cmd_explain",
    "cmd_providers",
    "cmd_schema",
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


async def _bounded(work: Awaitable[T], seconds: float, name: str) -> T:
    """``work``'s result, or a :class:`~jackfield.ServiceTimeoutError` once ``seconds`` have
    passed (a server sending its answer a byte at a time keeps every per-read deadline happy:
    only a bound on the whole probe ends it)."""
    import asyncio

    from jackfield._errors import ServiceTimeoutError

    try:
        return await asyncio.wait_for(work, seconds)
    except asyncio.TimeoutError:
        raise ServiceTimeoutError(
            f"{name}: no complete answer within {seconds:g} s: the server is too slow, or "
            "sends its answer a trickle at a time (--timeout sets the limit)",
            phase="total",
        ) from None


async def _close(provider: Any) -> None:
    with contextlib.suppress(Exception):  # closing never costs an instance its row
        await provider.aclose()


def cmd_discover(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    import asyncio

    from jackfield._registry import load_registry

    registry = load_registry()
    probe_options = {
        "timeouts": {"connect": args.timeout, "first_byte": args.timeout * 2},
        "retries": {"attempts": 0},
    }
    # address -> (provider type, the ready-made instance that listens there, if one does)
    candidates: dict[str, tuple[str, str | None]] = {}
    for url in args.urls:
        candidates[url] = ("openai-compatible", None)
    for name in [] if args.urls else registry.instance_names():
        provider = registry.create_instance(name)
        base = getattr(provider, "base_url", None)
        provider.close()
        if isinstance(base, str) and "127.0.0.1" in base:
            candidates.setdefault(base, (registry.instance(name).provider, name))

    async def probe(base: str) -> tuple[str, Any]:
        kind, name = candidates[base]
        if name is None:
            options = {"base_url": base, **probe_options}
            provider = registry.create(kind, options, instance="discover")
        else:
            provider = registry.create_instance(name, probe_options)
        try:
            return base, await _bounded(provider.astatus(), args.timeout * 4, base)
        except Exception:  # noqa: BLE001 - whatever answers like this is not a server we know
            return base, None
        finally:
            await _close(provider)

    async def run() -> list[tuple[str, Any]]:
        return list(await asyncio.gather(*(probe(base) for base in candidates)))

    found = [(base, status) for base, status in asyncio.run(run()) if status and status.connected]
    if not found:
        where = "the addresses given" if args.urls else "the default local ports"
        out.write(f"no server answers on {where} ({len(candidates)} probed)\n")
        return OK
    named: set[str] = set()
    for base, status in found:
        # Named by what the server says it is, never by the port it answered on.
        kind = status.server_kind or "a server that does not say which it is"
        instance = _INSTANCE_NAMES.get(status.server_kind or "", status.server_kind or "local")
        if instance in named:
            instance = f"{instance}-{urlsplit(base).port}"
        named.add(instance)
        models = ", ".join(status.models[:3]) or "no models listed"
        shown = mask_url(base)  # a password given on the command line is not echoed
        out.write(f"# found {kind} at {shown} ({models})\n")
        provider_type = candidates[base][0]
        out.write(f'[providers.{instance}]\ntype = "{provider_type}"\nbase_url = "{shown}"\n')
        if status.error:
            out.write(f"# note: {status.error.splitlines()[0]}\n")
        out.write("\n")
    return OK


_INSTANCE_NAMES = {"llama.cpp": "llamacpp"}


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
