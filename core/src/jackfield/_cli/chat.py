"""``jackfield chat``: one message or an interactive session, streamed, and remembered.

The chat owns its system prompt: ``-s`` when given, else the agent's own (or, continuing a
logged conversation, the one it had); ``/system`` replaces it in a session. Every turn is
recorded in the conversation log (:mod:`jackfield._logs`) unless ``--no-log`` is given or
``jackfield logs off`` turned logging off; ``-c``/``--cid`` continue a logged conversation.
The session itself (line editing, history, slash commands) is :mod:`jackfield._cli.interactive`.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, TextIO

from jackfield._cli.args import UsageError, call_options
from jackfield._cli.report import FAILED, INTERRUPTED, OK
from jackfield._cli.survey import load_host
from jackfield._cli.turns import log_turns, not_run

if TYPE_CHECKING:
    from jackfield._cli.style import Style
    from jackfield._host import Agent, Host
    from jackfield._logs import ConversationLog
    from jackfield._loop import Approve, Run
    from jackfield._messages import Message, UserMessage
    from jackfield._response import Response
    from jackfield._tools import ToolLike

__all__ = ["Chat", "cmd_chat"]


def cmd_chat(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from jackfield._cli.inputs import load_attachments, user_message
    from jackfield._cli.style import Style

    if args.cont and args.cid:
        raise UsageError("-c/--continue and --cid both name a conversation: give one")
    attach: list[str] = args.attach or []
    if "-" in attach and args.prompt is None:
        raise UsageError("-a - reads the image from stdin, so the prompt must be an argument")
    host = load_host(args)
    with host:
        log = _log(args)
        try:
            chat = _chat(host, args, log, out, err)
            images = load_attachments(attach, sys.stdin.buffer if "-" in attach else None)
            if args.dry_run:
                message = user_message(_prompt(args), images)
                request = chat.agent.dry_run(chat.sent(message), **chat.options)
                out.write(json.dumps(request, indent=2) + "\n")
                return OK
            interactive = args.prompt is None and sys.stdin.isatty() and not args.json
            if not interactive:
                return chat.ask(user_message(_prompt(args), images))
            from jackfield._cli.interactive import Session

            chat.agent.options_for(**chat.options)  # a bad -o fails now, not at the first turn
            return Session(chat, images, style=Style.of(out, no_color=args.no_color)).run()
        finally:
            if log is not None:
                log.close()


def _log(args: argparse.Namespace) -> ConversationLog | None:
    """The conversation log, when it is read (``-c``, ``--cid``) or written (by default)."""
    from jackfield._logs import ConversationLog

    if args.cont or args.cid or _recording(args):
        return ConversationLog()
    return None


def _recording(args: argparse.Namespace) -> bool:
    """Whether this chat's turns are logged: not for a dry run, ``--no-log`` or ``logs off``."""
    from jackfield._logs import logging_enabled

    return not args.dry_run and not args.no_log and logging_enabled()


def _chat(
    host: Host, args: argparse.Namespace, log: ConversationLog | None, out: TextIO, err: TextIO
) -> Chat:
    """The chat the command line asks for: a new conversation, or a logged one continued."""
    import attrs

    from jackfield._cli.defaults import default_model
    from jackfield._cli.inputs import load_schema
    from jackfield._cli.style import Style
    from jackfield._cli.tools import approve_on_terminal, tools_for
    from jackfield._host import Agent
    from jackfield._messages import SystemMessage

    cid: str | None = None
    history: list[Message] = []
    model = args.model
    if log is not None and (args.cont or args.cid):
        cid = log.resolve(args.cid) if args.cid else log.last_id()
        if cid is None:
            raise UsageError(
                f"-c: no conversation is logged yet ({log.path}): `jackfield chat` logs each one"
            )
        history = log.history(cid)
        model = model or log.conversation(cid).model
    model = model or default_model(host)
    configured = host.agent(model)
    # The chat sends the system prompt itself (so /system can replace it), not the agent.
    config = attrs.evolve(configured.config, system_prompt=None)
    agent = Agent(host, configured.name, configured.instance, config, tools=not args.no_tools)
    # A new conversation has the agent's system prompt; a logged one, the last it was given.
    system = configured.system_prompt if cid is None else _logged_system(history)
    if args.system is not None:
        system = args.system or None
    messages = [m for m in history if not isinstance(m, SystemMessage)]
    options = call_options(args)
    schema = load_schema(args.schema) if args.schema is not None else None
    if schema is not None:
        system = _schema_options(agent, schema, options, system)
    recording = log is not None and _recording(args)
    if args.no_tools and args.tools:
        raise UsageError("--no-tools and -T/--tool contradict each other: give one")
    tools = tools_for(host, args.tools or ())
    chat = Chat(
        agent,
        model,
        options,
        out=out,
        err=err,
        system=system,
        messages=messages,
        log=log if recording else None,
        cid=cid,
        style=Style.of(err, no_color=args.no_color),
        json_lines=args.json,
        thoughts=not args.no_thoughts,
        schema=schema,
        tools=tools,
        approve=approve_on_terminal(err) if args.approve else None,
    )
    if cid is not None and args.system is not None and system != _logged_system(history):
        chat.system_changed = True  # the next turn records the new system prompt
    return chat


def _logged_system(history: Sequence[Message]) -> str | None:
    from jackfield._messages import SystemMessage

    systems = [m.content for m in history if isinstance(m, SystemMessage)]
    return systems[-1] if systems else None


def _schema_options(
    agent: Agent, schema: Mapping[str, Any], options: dict[str, Any], system: str | None
) -> str | None:
    """Ask for answers that follow ``schema`` the best way the agent's provider supports (see
    :mod:`jackfield._output`; never a forced tool call, since the chat reads the answer's
    text): the options that do so are added to ``options``, and the system prompt is
    returned, with the schema in it when the provider has no other way."""
    from jackfield._output import plan_for

    target = f"agent {agent.name!r}"
    plan = plan_for(agent.provider, agent.options_for(), schema, target=target, exclude=["tool"])
    clash = plan.conflicts(options)
    if clash:
        raise UsageError(f"--schema and -o {clash[0]}=... both set the answer's format: give one")
    for key, value in plan.changes().items():
        if key == "extra_body":
            options.setdefault("extra_body", {}).update(value)
        else:
            options[key] = value
    if plan.strategy == "prompt":
        return f"{system}\n\n{plan.instruction()}" if system else plan.instruction()
    return system


def _prompt(args: argparse.Namespace) -> str:
    prompt = args.prompt if args.prompt is not None else sys.stdin.read()
    if not prompt.strip():
        raise UsageError("the prompt is empty: pass it as an argument or on stdin")
    return str(prompt)


class Chat:
    """One conversation with an agent: its system prompt, its messages so far, the options of
    every call, and where its turns are logged. :meth:`ask` streams one turn to ``out``."""

    def __init__(
        self,
        agent: Agent,
        model: str,
        options: dict[str, Any],
        *,
        out: TextIO,
        err: TextIO,
        system: str | None = None,
        messages: Sequence[Message] = (),
        log: ConversationLog | None = None,
        cid: str | None = None,
        style: Style | None = None,
        json_lines: bool = False,
        thoughts: bool = True,
        schema: Mapping[str, Any] | None = None,
        tools: Sequence[ToolLike] = (),
        approve: Approve | None = None,
    ) -> None:
        from jackfield._cli.style import Style

        self.agent, self.model, self.options = agent, model, options
        self.out, self.err = out, err
        self.system = system
        self.messages: list[Message] = list(messages)
        self.log = log
        self.style = style if style is not None else Style(enabled=False)
        self.json_lines, self.thoughts, self.schema = json_lines, thoughts, schema
        self.tools, self.approve = list(tools), approve
        self.system_changed = False
        """Whether the system prompt changed since the log last recorded it."""
        self.cid = cid
        self.continued = cid is not None
        if log is not None and cid is None:
            self.cid = log.start(model, system=system)
        self._recorded = cid is not None  # whether the conversation is in the log already
        self._session = _session_key()

    @property
    def label(self) -> str:
        """The agent, and its model reference when that is something else."""
        name, model = self.agent.name, self.agent.config.model
        return name if name == model else f"{name} ({model})"

    def sent(self, message: UserMessage) -> list[Message]:
        """What a turn asking ``message`` sends: the system prompt, the conversation (the calls
        of its last answer that never ran answered as such), it."""
        from jackfield._messages import SystemMessage

        system = [SystemMessage(self.system)] if self.system else []
        return [*system, *self.messages, *not_run(self.messages), message]

    # the conversation ------------------------------------------------------------------------

    def set_system(self, text: str | None) -> None:
        """Set or replace the system prompt (``None``: none) for the turns to come."""
        self.system = text or None
        if self.log is not None and not self._recorded:
            self.cid = self.log.start(self.model, system=self.system)  # nothing logged yet
        else:
            self.system_changed = True

    def reset(self) -> None:
        """A new conversation (a new id in the log), with the same system prompt."""
        self.messages.clear()
        self.system_changed = False
        self.continued = False
        self._session = _session_key()
        if self.log is not None:
            self.cid = self.log.start(self.model, system=self.system)
            self._recorded = False

    # one turn --------------------------------------------------------------------------------

    def ask(self, message: UserMessage) -> int:
        """Stream the answer to ``message``; the exit status. An answer that arrived whole
        joins the conversation; one cut short (Ctrl-C) or failed is left out of it (and
        logged with its error), so the next turn follows the last complete answer."""
        from jackfield._messages import SystemMessage
        from jackfield._options import own_affinity

        sent = self.sent(message)
        options = self.options
        if own_affinity(self.agent, options):  # every turn on one server of a pool or router
            options = {**options, "affinity": self.cid or self._session}
        run = self.agent.run(sent, tools=self.tools, approve=self.approve, **options)
        status, error = self._show(run)
        unanswered = not_run(self.messages)
        new: list[Message] = [*unanswered, message]
        if self.system_changed and self.system:
            new.insert(len(unanswered), SystemMessage(self.system))
        if error is None:  # a turn of the log per model call, its tool results the next's
            turns = log_turns(new, run.messages[len(sent) :], run.responses)
        else:  # left out of the conversation: one failed turn
            turns = [(new, run.response)]
        self._record(turns, error)
        if error is None:  # the answer, and the tool turns before it
            self.messages += [*unanswered, message, *run.messages[len(sent) :]]
            if run.stop_reason != "answer" and not self.json_lines:
                self._stopped(run)
        return status

    def _stopped(self, run: Run) -> None:
        """Say why a run ended without an answer."""
        names = ", ".join(c.name for c in run.pending)
        if run.stop_reason == "max_steps":
            why = f"stopped after {run.steps} model calls (the agent's max_steps)"
        else:
            why = "the model called tools that only a host can run"
        self.style.write(self.err, f"[{why}; not run: {names}]\n", "yellow")

    def _record(
        self, turns: list[tuple[list[Message], Response | None]], error: str | None
    ) -> None:
        """Log ``turns`` (each a prompt and what answered it), the last ending in ``error``."""
        if self.log is None or self.cid is None:
            return
        try:
            for number, (prompt, response) in enumerate(turns, 1):
                self.log.record(
                    self.cid,
                    model=self.model,
                    prompt=prompt,
                    response=response,
                    options=self.options,
                    error=error if number == len(turns) else None,
                )
        except Exception as exc:  # noqa: BLE001 - the answer arrived: never lose it to the log
            self.err.write(f"jackfield: warning: the turn could not be logged ({exc}); ")
            self.err.write("logging is off for the rest of this chat\n")
            self.log = None
            return
        self._recorded = True
        if any(m.role == "system" for m in turns[0][0]):
            self.system_changed = False

    def _show(self, stream: Run) -> tuple[int, str | None]:
        """Write the stream as it arrives; the exit status and the error that ended the
        turn early (``"cancelled"`` for Ctrl-C), if one did."""
        import time

        from jackfield._cli.style import Waiting, summary
        from jackfield._cli.tools import show_call, show_result
        from jackfield._converter import dump_fragment
        from jackfield._errors import ProviderError, ToolError
        from jackfield._fragments import Completion, TextDelta, ThoughtDelta, ToolCall, ToolResult

        out, err, style = self.out, self.err, self.style
        waiting = Waiting(err, f"waiting for {self.agent.name}…", enabled=style.enabled)
        started = time.perf_counter()
        first: float | None = None
        in_thought = False

        def end_thought() -> None:
            nonlocal in_thought
            if in_thought:
                err.write("\n")
                in_thought = False

        try:
            waiting.start()
            for fragment in stream:
                hidden = (self.schema is not None and isinstance(fragment, TextDelta)) or (
                    not self.thoughts and isinstance(fragment, ThoughtDelta)
                )
                if not hidden:
                    waiting.stop()  # whatever is shown now replaces the indicator
                if self.json_lines:
                    out.write(json.dumps(dump_fragment(fragment), ensure_ascii=False) + "\n")
                    out.flush()
                elif isinstance(fragment, ThoughtDelta):
                    if not self.thoughts:
                        continue
                    if not in_thought:
                        style.write(err, "[thinking] ", "dim")
                        in_thought = True
                    style.write(err, fragment.text, "dim")
                    err.flush()
                elif isinstance(fragment, TextDelta):
                    end_thought()
                    if first is None:
                        first = time.perf_counter() - started
                    if not self.schema:
                        out.write(fragment.text)
                        out.flush()
                elif isinstance(fragment, ToolCall):
                    end_thought()
                    if stream.response.text and not self.schema:
                        out.write("\n")
                    show_call(err, style, fragment)
                elif isinstance(fragment, ToolResult):
                    show_result(err, style, fragment)
                    waiting.start()  # the model is asked again
                elif isinstance(fragment, Completion) and fragment.choice == 0:
                    end_thought()
                    if fragment.finish_reason == "tool_calls":
                        continue  # a step that called tools: its results follow
                    if not self.schema:
                        out.write("\n")
                        out.flush()
                    line = summary(fragment, total=time.perf_counter() - started, first_token=first)
                    style.write(err, f"[{line}]", "dim")
                    err.write("\n")
        except KeyboardInterrupt:
            waiting.stop()
            stream.close()
            end_thought()
            style.write(err, "\n[interrupted: generation stopped]\n", "yellow")
            return INTERRUPTED, "cancelled"
        except (ProviderError, ToolError) as exc:
            waiting.stop()
            stream.close()
            end_thought()
            if self.json_lines:
                error = {"type": "error", "error": type(exc).__name__, "message": str(exc)}
                out.write(json.dumps(error, ensure_ascii=False) + "\n")
            style.write(err, f"\njackfield: {exc}\n", "red")
            return FAILED, str(exc)
        except BaseException:
            stream.close()  # a broken pipe, a bug: the connection is not left to the collector
            raise
        finally:
            waiting.stop()
        if self.schema is not None:
            return self._checked(stream.response.text), None
        return OK, None

    def _checked(self, text: str) -> int:
        """Print the answer's JSON if it matches the schema; else say why, with the answer."""
        from jackfield._output import Output

        assert self.schema is not None
        answer = Output.of(self.schema).read_text(text)
        if not answer.ok:
            if self.json_lines:
                line = {"type": "error", "error": "OutputError", "message": answer.message}
                self.out.write(json.dumps(line, ensure_ascii=False) + "\n")
            self.style.write(self.err, f"jackfield: {answer.message}\n", "red")
            if not self.json_lines:
                self.err.write(f"the answer was:\n{text}\n")
            return FAILED
        if not self.json_lines:
            self.out.write(json.dumps(answer.value, indent=2, ensure_ascii=False) + "\n")
        return OK


def _session_key() -> str:
    """The affinity key of a conversation the log does not name (logs off)."""
    import uuid

    return f"session-{uuid.uuid4().hex}"
