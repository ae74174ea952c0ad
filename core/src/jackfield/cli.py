"""The ``jackfield`` command line.

Building the parser imports nothing but argparse, so ``jackfield --help`` is instant and
never loads httpx or a provider; each command imports what it needs when it runs.

Exit codes: 0 success, 1 a provider or server failed, 2 usage or configuration errors, 130
interrupted, 141 the output pipe closed (``| head``). Expected failures print one clear message
(``--verbose`` adds the traceback).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from jackfield.host import Agent, Host

__all__ = ["main"]

OK, FAILED, USAGE, INTERRUPTED, PIPE_CLOSED = 0, 1, 2, 130, 141


class UsageError(Exception):
    """A command line that cannot be carried out as written."""


# --- parsing ------------------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jackfield",
        description="Talk to any LLM chat backend: providers, models, status, chat.",
        epilog="Configuration: --config FILE, else $JACKFIELD_CONFIG, else the per-user file; "
        "no file is fine (preset instances such as llamacpp, ollama, lmstudio always exist).",
    )
    parser.add_argument("--config", metavar="FILE", help="configuration file (TOML)")
    parser.add_argument("--verbose", "-v", action="store_true", help="show tracebacks")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    commands.add_parser("providers", help="installed provider plugins and load problems")

    models = commands.add_parser("models", help="models of some or all reachable instances")
    models.add_argument("instances", nargs="*", help="instances (default: all that answer)")
    models.add_argument("--json", action="store_true", help="JSON output")

    for name in ("status", "doctor"):
        status = commands.add_parser(name, help="is each instance reachable? (no tokens spent)")
        status.add_argument("instances", nargs="*", help="instances (default: all)")
        status.add_argument("--json", action="store_true", help="JSON output")

    discover = commands.add_parser("discover", help="find servers on the default local ports")
    discover.add_argument("--timeout", type=float, default=1.5, help="seconds per probe")

    chat = commands.add_parser("chat", help="chat with a model or an agent, streamed")
    chat.add_argument("-m", "--model", required=True, help="agent name, or <instance>:<model>")
    chat.add_argument("prompt", nargs="?", help="the message (default: stdin, or interactive)")
    chat.add_argument("-s", "--system", help="a system prompt")
    _option_arguments(chat)
    chat.add_argument("--json", action="store_true", help="one JSON fragment per line")
    chat.add_argument("--dry-run", action="store_true", help="print the request, send nothing")
    chat.add_argument("--no-thoughts", action="store_true", help="do not show reasoning")

    explain = commands.add_parser(
        "explain", help="an agent's effective options, and where each came from"
    )
    explain.add_argument("agent", help="agent name, or <instance>:<model>")
    _option_arguments(explain)

    commands.add_parser("schema", help="print the JSON Schema of the configuration file")

    demo = commands.add_parser("demo", help="a real chat with llama.cpp on this machine")
    demo.add_argument("question", nargs="?", help="what to ask")
    return parser


def _option_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-o",
        "--option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a call option, e.g. -o temperature=0.2 (dotted keys nest, values are JSON or text)",
    )
    parser.add_argument(
        "--extra",
        action="append",
        default=[],
        metavar="KEY=JSON",
        help="a vendor extra merged into the request body, e.g. --extra cache_prompt=true",
    )


def _assignments(items: Sequence[str], flag: str) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for item in items:
        key, equals, raw = item.partition("=")
        if not equals or not key:
            raise UsageError(f"{flag} expects KEY=VALUE, got {item!r}")
        try:
            value = json.loads(raw)
        except ValueError:
            value = raw
        target = result
        *parents, leaf = key.split(".")
        for part in parents:
            target = target.setdefault(part, {})
            if not isinstance(target, dict):
                raise UsageError(f"{flag} {item!r}: {part!r} is already set to a value")
        target[leaf] = value
    return result


def _call_options(args: argparse.Namespace) -> dict[str, Any]:
    options = _assignments(args.option, "-o")
    extras = _assignments(args.extra, "--extra")
    if extras:
        options.setdefault("extra_body", {}).update(extras)
    return options


# --- commands -----------------------------------------------------------------------------------


def _host(args: argparse.Namespace) -> Host:
    from jackfield.host import Host

    return Host.load(args.config)


def cmd_providers(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from jackfield._errors import JackfieldError
    from jackfield.registry import load_registry

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

    host = _host(args)
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

    host = _host(args)
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

    from jackfield.registry import load_registry

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


def cmd_chat(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    host = _host(args)
    with host:
        agent = host.agent(args.model)
        options = _call_options(args)
        if args.dry_run:
            messages = _first_messages(args, interactive=False)
            out.write(json.dumps(agent.dry_run(messages, **options), indent=2) + "\n")
            return OK
        interactive = args.prompt is None and sys.stdin.isatty() and not args.json
        messages = _first_messages(args, interactive=interactive)
        if not interactive:
            return _turn(agent, messages, options, args, out, err)[0]
        conversation: list[Any] = list(messages)
        while True:
            status, reply = _turn(agent, conversation, options, args, out, err)
            if status != OK:
                return status
            conversation.append(reply)
            try:
                line = input("\nyou> ")
            except EOFError:
                out.write("\n")
                return OK
            if not line.strip():
                return OK
            conversation.append({"role": "user", "content": line})


def _first_messages(args: argparse.Namespace, *, interactive: bool) -> list[dict[str, str]]:
    messages = [{"role": "system", "content": args.system}] if args.system else []
    if args.prompt is not None:
        prompt = args.prompt
    elif interactive:
        try:
            prompt = input("you> ")
        except EOFError:
            raise UsageError("no prompt given") from None
    else:
        prompt = sys.stdin.read()
    if not prompt.strip():
        raise UsageError("the prompt is empty: pass it as an argument or on stdin")
    return [*messages, {"role": "user", "content": prompt}]


def _turn(
    agent: Agent,
    messages: list[Any],
    options: dict[str, Any],
    args: argparse.Namespace,
    out: TextIO,
    err: TextIO,
) -> tuple[int, Any]:
    import time

    from jackfield._converter import dump_fragment
    from jackfield._errors import ProviderError
    from jackfield.fragments import Completion, TextDelta, ThoughtDelta, ToolCall

    dim = err.isatty()
    stream = agent.stream(messages, **options)
    started = time.perf_counter()
    first: float | None = None
    in_thought = False
    try:
        for fragment in stream:
            if args.json:
                out.write(json.dumps(dump_fragment(fragment), ensure_ascii=False) + "\n")
                out.flush()
                continue
            if isinstance(fragment, ThoughtDelta):
                if args.no_thoughts:
                    continue
                if not in_thought:
                    err.write("\x1b[2m[thinking] " if dim else "[thinking] ")
                    in_thought = True
                err.write(fragment.text)
                err.flush()
            elif isinstance(fragment, TextDelta):
                if in_thought:
                    err.write("\x1b[0m\n" if dim else "\n")
                    in_thought = False
                if first is None:
                    first = time.perf_counter()
                out.write(fragment.text)
                out.flush()
            elif isinstance(fragment, ToolCall):
                source = f"{fragment.source}/" if fragment.source else ""
                err.write(
                    f"\n[tool call {fragment.id}] {source}{fragment.name}({fragment.arguments})\n"
                )
            elif isinstance(fragment, Completion) and fragment.choice == 0:
                if in_thought:
                    err.write("\x1b[0m\n" if dim else "\n")
                    in_thought = False
                out.write("\n")
                err.write(_summary(fragment, started, first) + "\n")
    except KeyboardInterrupt:
        stream.close()
        err.write("\n[interrupted: generation stopped]\n")
        return INTERRUPTED, None
    except ProviderError as exc:
        stream.close()
        if args.json:
            line = {"type": "error", "error": type(exc).__name__, "message": str(exc)}
            out.write(json.dumps(line, ensure_ascii=False) + "\n")
        err.write(f"\njackfield: {exc}\n")
        return FAILED, None
    return OK, stream.response.to_message()


def _summary(completion: Any, started: float, first: float | None) -> str:
    import time

    total = time.perf_counter() - started
    parts = [f"finish: {completion.finish_reason.value}"]
    usage = completion.usage
    if usage is not None and usage.completion_tokens is not None:
        parts.append(f"{usage.prompt_tokens} prompt + {usage.completion_tokens} completion tokens")
        speed = completion.metrics.get("predicted_per_second")  # the server's own measure
        elapsed = time.perf_counter() - first if first is not None else 0.0
        if not isinstance(speed, (int, float)) and elapsed >= 0.2:
            speed = usage.completion_tokens / elapsed
        if isinstance(speed, (int, float)):
            parts.append(f"{speed:.1f} tokens/s")
    parts.append(f"{total:.2f} s")
    return "[" + " | ".join(parts) + "]"


def cmd_explain(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    host = _host(args)
    agent = host.agent(args.agent)
    provider = host.instance(agent.instance).provider
    out.write(f"# agent {agent.name!r} on instance {agent.instance!r} (provider {provider})\n")
    out.write(agent.explain(**_call_options(args)) + "\n")
    host.close()
    return OK


def cmd_schema(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from jackfield.config import json_schema
    from jackfield.registry import load_registry

    out.write(json.dumps(json_schema(load_registry()), indent=2) + "\n")
    return OK


def cmd_demo(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from jackfield.demo import DEFAULT_QUESTION, run

    return run(args.question or DEFAULT_QUESTION, out)


COMMANDS = {
    "providers": cmd_providers,
    "models": cmd_models,
    "status": cmd_status,
    "doctor": cmd_status,
    "discover": cmd_discover,
    "chat": cmd_chat,
    "explain": cmd_explain,
    "schema": cmd_schema,
    "demo": cmd_demo,
}


def main(
    argv: Sequence[str] | None = None, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    """Run the command line; returns the exit status."""
    out = out or sys.stdout
    err = err or sys.stderr
    args = _parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args, out, err)
    except KeyboardInterrupt:
        err.write("\n[interrupted]\n")
        return INTERRUPTED
    except BrokenPipeError:  # the reader went away (`| head`): stop quietly, like cat does
        _silence(out)
        return PIPE_CLOSED
    except Exception as exc:  # noqa: BLE001 - every failure ends in one clear message
        return _report(exc, args.verbose, err)


def _silence(out: TextIO) -> None:
    """Point ``out`` at /dev/null, so the interpreter's final flush cannot fail again."""
    import os

    try:
        fd = out.fileno()
    except (AttributeError, OSError, ValueError):
        return  # not a real file: nothing will be flushed to a closed pipe
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)


def _report(exc: Exception, verbose: bool, err: TextIO) -> int:
    import traceback

    from jackfield._errors import ConfigError, ConversationError, ProviderError, RegistryError

    if verbose:
        traceback.print_exception(type(exc), exc, exc.__traceback__, file=err)
    if isinstance(exc, (UsageError, ConfigError, ConversationError, RegistryError)):
        err.write(f"jackfield: {exc}\n")
        return USAGE
    if isinstance(exc, ProviderError):
        err.write(f"jackfield: {exc}\n")
        return FAILED
    if not verbose:
        err.write(
            f"jackfield: unexpected {type(exc).__name__}: {exc} (run with --verbose for details)\n"
        )
    return FAILED


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
