"""``jackfield chat``: one message or an interactive session, streamed."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any, TextIO

from jackfield._cli.args import UsageError, call_options
from jackfield._cli.report import FAILED, INTERRUPTED, OK
from jackfield._cli.survey import load_host
from jackfield._cli.terminal import raw

if TYPE_CHECKING:
    from jackfield._host import Agent

__all__ = ["cmd_chat"]


def cmd_chat(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    host = load_host(args)
    with host:
        agent = host.agent(args.model)
        options = call_options(args)
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
    from jackfield._fragments import Completion, TextDelta, ThoughtDelta, ToolCall

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
                    raw(err, "\x1b[2m[thinking] " if dim else "[thinking] ")
                    in_thought = True
                err.write(fragment.text)
                err.flush()
            elif isinstance(fragment, TextDelta):
                if in_thought:
                    raw(err, "\x1b[0m\n" if dim else "\n")
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
                    raw(err, "\x1b[0m\n" if dim else "\n")
                    in_thought = False
                out.write("\n")
                err.write(_summary(fragment, started, first) + "\n")
    except KeyboardInterrupt:
        stream.close()
        if in_thought and dim:
            raw(err, "\x1b[0m")
        err.write("\n[interrupted: generation stopped]\n")
        return INTERRUPTED, None
    except ProviderError as exc:
        stream.close()
        if in_thought and dim:
            raw(err, "\x1b[0m")
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
