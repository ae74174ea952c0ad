"""The commands that look without chatting: providers, models, status, discover, explain, schema."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any, TextIO, TypeVar
from urllib.parse import urlsplit

from jackfield._cli.args import call_options
from jackfield._cli.report import FAILED, OK
from jackfield._secret import mask_url

if TYPE_CHECKING:
    from jackfield._host import Host

T = TypeVar("T")

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


def _probe(host: Host, name: str, seconds: float) -> Any:
    """A provider for one quick look: short timeouts (``seconds`` in all) and no retries when
    it has them."""
    import attrs

    options_class = host.registry.options_class(host.instance(name).provider)
    fields = {field.name for field in attrs.fields(options_class)}
    probe: dict[str, Any] = {
        "timeouts": {
            "connect": min(1.0, seconds),
            "first_byte": min(5.0, seconds),
            "total": seconds,
        },
        "retries": {"attempts": 0},
    }
    return host.create(name, {k: v for k, v in probe.items() if k in fields})


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


def _probes(host: Host, args: argparse.Namespace) -> dict[str, Any]:
    """A probe provider (or the exception that stopped its making) per instance asked: those
    named, else all. A named instance that cannot be made (an unknown name, a malformed
    option) is the command's usage error, before anything is asked; among all instances, it
    is a failure of its own."""
    from jackfield._errors import JackfieldError

    def made(name: str) -> Any:
        try:
            return _probe(host, name, args.timeout)
        except Exception as exc:
            if args.instances and isinstance(exc, JackfieldError):
                raise
            return exc

    probes: dict[str, Any] = {}
    try:
        for name in args.instances or host.instance_names():
            probes[name] = made(name)
    except BaseException:
        for provider in probes.values():
            if not isinstance(provider, BaseException):
                provider.close()
        raise
    return probes


async def _close(provider: Any) -> None:
    with contextlib.suppress(Exception):  # closing never costs an instance its row
        await provider.aclose()


def _failure(name: str, exc: Exception) -> str:
    """One line saying why an instance could not be asked (a plugin's bug included)."""
    from jackfield._errors import JackfieldError

    if isinstance(exc, JackfieldError):
        return str(exc)
    return f"{name}: unexpected {type(exc).__name__}: {exc} (a bug in its provider?)"


def cmd_models(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    import asyncio

    host = load_host(args)
    named = bool(args.instances)
    probes = _probes(host, args)

    async def one(name: str, provider: Any) -> tuple[str, Any]:
        # Each instance fails alone, in its own line: never the whole report.
        if isinstance(provider, Exception):
            return name, provider
        try:
            return name, await _bounded(provider.alist_models(), args.timeout, name)
        except Exception as exc:  # noqa: BLE001
            return name, exc
        finally:
            await _close(provider)

    async def run() -> list[tuple[str, Any]]:
        return list(await asyncio.gather(*(one(*probe) for probe in probes.items())))

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
        for name, failure in failures:
            err.write(f"jackfield: {_failure(name, failure)}\n")
        return FAILED
    if not named and not rows:
        err.write("no instance answered; `jackfield status` says why\n")
    return OK


def _failed_status(name: str, exc: Exception) -> Any:
    """The status row of an instance whose probe raised instead of answering."""
    from jackfield._errors import ConfigError, ServiceConnectionError, ServiceTimeoutError
    from jackfield._info import Status

    if isinstance(exc, ConfigError):
        failed = "configuration"
    elif isinstance(exc, ServiceTimeoutError):
        failed = "timeout"
    else:
        failed = "error"
    connected = not isinstance(exc, (ConfigError, ServiceConnectionError))
    if isinstance(exc, ServiceTimeoutError) and exc.phase == "connect":
        connected = False
    return Status(connected=connected, error=_failure(name, exc), details={"failed": failed})


def _advice(status: Any, key: str) -> str:
    failed = status.details.get("failed") if isinstance(status.details, dict) else None
    if failed == "configuration":
        return "fix this instance's options (the error above says which)"
    if failed == "timeout":
        return "the server did not finish answering in time: is it overloaded, or another kind of server?"
    if not status.connected:
        return "nothing answers there: start the server, or set base_url for this instance"
    if key.startswith("missing (env:"):  # the key is configured, its variable is not set
        variable = key.removeprefix("missing (env:").removesuffix(")")
        return f"export {variable} (the key's variable), or change api_key"
    error = (status.error or "").lower()
    if "api key" in error or "401" in error or "unauthorized" in error:
        return 'the server wants an API key: set api_key, e.g. api_key = { env = "MY_KEY" }'
    if "loading" in error or "not ready" in error:
        return "the server is loading its model: try again shortly"
    if status.error:
        return "see the error above"
    if not status.models:
        return "the server answers but lists no model"
    if status.loaded_models == ():
        return "no model is in memory yet: the first chat loads one"
    return ""


def cmd_status(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    import asyncio

    host = load_host(args)
    probes = _probes(host, args)
    configured = set(host.config.instances) | set(args.instances)

    async def one(name: str, provider: Any) -> tuple[str, Any, str]:
        # Each instance fails alone, in its own row: never the whole report.
        if isinstance(provider, Exception):
            return name, _failed_status(name, provider), "-"
        try:
            status = await _bounded(provider.astatus(), args.timeout, name)
        except Exception as exc:  # noqa: BLE001
            status = _failed_status(name, exc)
        finally:
            await _close(provider)
        return name, status, _key_state(provider)

    async def run() -> list[tuple[str, Any, str]]:
        return list(await asyncio.gather(*(one(*probe) for probe in probes.items())))

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
        kind = status.server_kind or ("unknown" if status.connected else "-")
        details = status.details if isinstance(status.details, dict) else {}
        if status.loaded_models is None:
            loaded = "not reported" if status.connected else "-"
        else:
            loaded = ", ".join(status.loaded_models) or "none"
        out.write(f"{name:<14} {state:<6} {kind:<14} key: {key:<12} loaded: {loaded}\n")
        if details.get("base_url"):
            out.write(f"{'':<14} {details['base_url']}\n")
        for where, what in (details.get("learned") or {}).items():
            out.write(f"{'':<14} learned from {where}: {'; '.join(what)}\n")
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
