"""Structured output: an answer checked against a class or a JSON Schema, returned as the object.

``pipeline.complete(messages, output=City)`` asks for an answer that is a ``City``. The wanted
output (an :class:`Output`: a name, a JSON Schema, and how a JSON value becomes the object)
goes into the request the way the provider supports best, a *strategy*:

* ``"response_format"``: OpenAI's ``response_format`` of type ``json_schema``;
* ``"json_schema"``: llama.cpp's own body field ``json_schema`` (sent through ``extra_body``);
* ``"format"``: Ollama's native ``format``;
* ``"tool"``: one tool named after the output, with the schema as its parameters, forced with
  ``tool_choice``; the answer is the call's arguments;
* ``"prompt"``: no server support: the schema goes into the system prompt.

A provider lists the strategies it supports, best first
(:meth:`~jackfield.provider.Provider.output_strategies`); a call may force one with
``output_strategy=``. Whatever the server promises, the answer is parsed and checked here. One
that does not fit goes back once, with what is wrong with it (a repair round); if the second
answer does not fit either, :class:`~jackfield.OutputError` is raised with its raw text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Generator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import attrs

from jackfield._errors import ConfigError, OutputError, ValidationError, format_path
from jackfield._fragments import FinishReason, ToolCall
from jackfield._messages import (
    AssistantMessage,
    Conversation,
    Message,
    MessagesLike,
    SystemMessage,
    Tool,
    ToolMessage,
    UserMessage,
)
from jackfield._schema import class_schema, is_pydantic_model, parse_json_answer, validate

if TYPE_CHECKING:
    from jackfield._pipeline import ChatRequest, Pipeline
    from jackfield._response import Response
    from jackfield.provider import Provider

__all__ = [
    "STRATEGIES",
    "Answer",
    "Output",
    "Plan",
    "Structured",
    "default_strategies",
    "explained",
    "plan_for",
]

STRATEGIES = ("response_format", "json_schema", "format", "tool", "prompt")
"""Every way of asking for the output (see the module's docstring)."""

# Options that shape the answer's text: one of them set beside a strategy that does the same is
# a conflict (the server would get two formats). Dotted: a key inside that option.
_TEXT_FORMATS = ("response_format", "format", "extra_body.json_schema", "extra_body.grammar")
_CONFLICTS = {"tool": ("tool_choice",), "prompt": ()}


def default_strategies(fields: Collection[str], *, tools: bool = True) -> tuple[str, ...]:
    """The strategies an options class with ``fields`` supports, best first: with
    ``response_format``, it then a forced tool (when there is ``tool_choice`` and ``tools``)
    then the prompt; with ``format``, it then the prompt; else the prompt alone."""
    if "response_format" in fields:
        tool = ("tool",) if tools and "tool_choice" in fields else ()
        return ("response_format", *tool, "prompt")
    if "format" in fields:
        return ("format", "prompt")
    return ("prompt",)


# --- what is wanted ----------------------------------------------------------------------------

_WIRE_NAME = re.compile(r"[^A-Za-z0-9_-]")


def _wire_name(text: str) -> str:
    """A name servers accept for a schema or a tool: ``[A-Za-z0-9_-]``, at most 64."""
    return _WIRE_NAME.sub("_", text)[:64] or "answer"


@attrs.frozen
class Answer:
    """One answer, read: its raw ``text`` (a forced tool call's arguments for the ``tool``
    strategy), the ``value`` it stands for, what is wrong with it (``problems``, each line
    starting with a JSON path; none: the answer fits), and the tool ``call`` it came in."""

    text: str
    value: Any = None
    problems: tuple[str, ...] = ()
    parsed: bool = True
    """Whether the text was JSON at all."""
    call: ToolCall | None = None
    label: str = "the schema"

    @property
    def ok(self) -> bool:
        """Whether the answer fits."""
        return not self.problems

    @property
    def message(self) -> str:
        """What is wrong, as one sentence (empty when nothing is)."""
        if self.ok:
            return ""
        listed = "; ".join(self.problems)
        if not self.parsed:
            return listed
        return f"the answer does not match {self.label}: {listed}"


@attrs.frozen
class Output:
    """The output a call wants: a ``name`` for the wire, a ``label`` for people, its JSON
    ``schema``, and what it was made from (``kind``: ``"attrs"``, ``"pydantic"`` or
    ``"schema"``; ``target``: the class, or the schema)."""

    name: str
    label: str
    schema: Mapping[str, Any]
    kind: Literal["attrs", "pydantic", "schema"]
    target: Any = attrs.field(eq=False, repr=False)

    @classmethod
    def of(cls, output: Any) -> Output:
        """The output ``output`` describes: an attrs class (structured with jackfield's
        converter), a pydantic model class (validated by pydantic; pydantic is never imported
        here), or a JSON Schema mapping (the answer's JSON value is returned as it is)."""
        if isinstance(output, Output):
            return output
        if isinstance(output, type) and attrs.has(output):
            defs: dict[str, Any] = {}
            schema = class_schema(output, defs)
            if defs:
                schema["$defs"] = defs
            return cls(_wire_name(output.__name__), output.__name__, schema, "attrs", output)
        if is_pydantic_model(output):
            schema = dict(output.model_json_schema())
            return cls(_wire_name(output.__name__), output.__name__, schema, "pydantic", output)
        if isinstance(output, Mapping):
            title = output.get("title")
            name = _wire_name(title) if isinstance(title, str) else "answer"
            label = f"the schema {title!r}" if isinstance(title, str) else "the schema"
            return cls(name, label, dict(output), "schema", output)
        shown = output.__name__ if isinstance(output, type) else type(output).__name__
        what = "class" if isinstance(output, type) else "value"
        raise TypeError(
            f"output must be an attrs class, a pydantic model class or a JSON Schema (a "
            f"mapping); got the {what} {shown}"
        )

    @property
    def described(self) -> str:
        """``City as JSON Schema``, or ``the schema 'person'``."""
        return self.label if self.kind == "schema" else f"{self.label} as JSON Schema"

    @property
    def object_schema(self) -> bool:
        """Whether the schema's top is an object (a tool's parameters must be)."""
        kind = self.schema.get("type")
        return kind == "object" or (kind is None and "properties" in self.schema)

    def check(self, data: Any) -> tuple[Any, list[str]]:
        """The value a JSON value stands for, and what is wrong with it (``[]``: nothing)."""
        if self.kind == "pydantic":
            try:
                return self.target.model_validate(data), []
            except Exception as exc:
                errors = getattr(exc, "errors", None)
                if not callable(errors):
                    raise  # not a validation error: a bug in the model, not in the answer
                return None, [_pydantic_problem(e) for e in errors()]
        problems = validate(data, self.schema)
        if problems:
            return None, problems
        if self.kind == "schema":
            return data, []
        from jackfield._converter import structure_checked

        try:
            return structure_checked(data, self.target, self.label), []
        except ValidationError as exc:
            return None, [issue.render() for issue in exc.issues]

    def read_text(self, text: str, *, cut: bool = False, call: ToolCall | None = None) -> Answer:
        """An answer's text, parsed and checked (``cut``: the answer ran out of tokens)."""
        label = self.label if self.kind == "schema" else f"{self.label}'s schema"
        if not text.strip():
            problem = "the answer is empty"
            return Answer(text, None, (problem, *_cut(cut)), parsed=False, call=call, label=label)
        try:
            data = _json_value(text)
        except ValueError as exc:
            return Answer(text, None, (str(exc), *_cut(cut)), parsed=False, call=call, label=label)
        value, problems = self.check(data)
        return Answer(text, value, tuple(problems), call=call, label=label)


def _cut(cut: bool) -> tuple[str, ...]:
    return ("it was cut short by the token limit (max_tokens)",) if cut else ()


def _pydantic_problem(error: Mapping[str, Any]) -> str:
    loc = error.get("loc") or ()
    path = format_path([p for p in loc if isinstance(p, (str, int))])
    return f"{path}: {error.get('msg', 'invalid')}"


_FENCE = re.compile(r"```[A-Za-z]*\n(.*?)\n?```", re.DOTALL)


def _json_value(text: str) -> Any:
    """The JSON value of an answer: all of it (a code fence around it allowed), else the first
    fenced block in it that is JSON, else what lies between its first ``{`` and its last ``}``
    (for a model that wraps its JSON in a sentence). Raises ``ValueError`` saying why the whole
    is not JSON."""
    try:
        return parse_json_answer(text)
    except ValueError as whole:
        candidates = [m.group(1) for m in _FENCE.finditer(text)]
        first, last = text.find("{"), text.rfind("}")
        if 0 <= first < last:
            candidates.append(text[first : last + 1])
        for candidate in candidates:
            found = _loads(candidate)
            if found is not _NOT_JSON:
                return found
        raise whole from None


_NOT_JSON = object()


def _loads(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return _NOT_JSON


# --- how it is asked for ---------------------------------------------------------------------


@attrs.frozen
class Plan:
    """The wanted output, and the strategy chosen for it (``supported``: every strategy the
    provider offers, best first)."""

    output: Output
    strategy: str
    supported: tuple[str, ...]

    def describe(self) -> str:
        """``City as JSON Schema via response_format``."""
        return f"{self.output.described} via {self.strategy}"

    def changes(self) -> dict[str, Any]:
        """The option values the strategy sets, as plain data (``extra_body`` holds only the
        keys to add)."""
        output, strategy = self.output, self.strategy
        if strategy == "response_format":
            wanted = {"name": output.name, "schema": dict(output.schema)}
            return {"response_format": {"type": "json_schema", "json_schema": wanted}}
        if strategy == "json_schema":
            return {"extra_body": {"json_schema": dict(output.schema)}}
        if strategy == "format":
            return {"format": dict(output.schema)}
        if strategy == "tool":
            return {"tool_choice": {"type": "function", "function": {"name": output.name}}}
        return {}

    def conflicts(self, options: Any) -> list[str]:
        """The options (typed options, or a mapping of call options) already set that would
        shape the answer too."""
        found = []
        for key in _CONFLICTS.get(self.strategy, _TEXT_FORMATS):
            value: Any = options
            for part in key.split("."):
                if isinstance(value, Mapping):
                    value = value.get(part)
                else:
                    value = getattr(value, part, None)
            if value is not None:
                found.append(key)
        return found

    def tool(self) -> Tool:
        """The tool the ``tool`` strategy forces."""
        description = self.output.schema.get("description")
        text = description if isinstance(description, str) else ""
        return Tool(
            self.output.name,
            text or f"Give the answer as {self.output.label}.",
            dict(self.output.schema),
        )

    def instruction(self) -> str:
        """The system instruction of the ``prompt`` strategy."""
        schema = json.dumps(self.output.schema, ensure_ascii=False, separators=(",", ":"))
        return (
            "Answer with one JSON value that follows this JSON Schema, and nothing else: no "
            f"other text, no code fence.\n{schema}"
        )

    def apply(self, request: ChatRequest[Any], *, target: str) -> ChatRequest[Any]:
        """``request`` asking for the output; a :class:`~jackfield.ConfigError` when its
        options already shape the answer some other way."""
        options = request.options
        clash = self.conflicts(options)
        if clash:
            raise ConfigError(
                f"{target}: output= and the option {clash[0]} both shape the answer: give one "
                f"(the {self.strategy} strategy was chosen for {self.output.label})"
            )
        if self.strategy == "prompt":
            return attrs.evolve(request, conversation=_instructed(request, self.instruction()))
        tools = request.tools
        if self.strategy == "tool":
            tool = self.tool()
            if any(t.name == tool.name and t.source is None for t in tools):
                raise ConfigError(
                    f"{target}: a tool is named {tool.name!r} already, so the output cannot be "
                    "asked for as a forced call of a tool of that name: rename one, or choose "
                    "another output_strategy"
                )
            tools = (*tools, tool)
        changes = self.changes()
        if "extra_body" in changes:
            changes["extra_body"] = {**options.extra_body, **changes["extra_body"]}
        return attrs.evolve(request, tools=tools, options=attrs.evolve(options, **changes))

    def read(self, response: Response) -> Answer:
        """The answer of ``response``, parsed and checked: for the ``tool`` strategy, the
        arguments of the forced call (or the text, when the server ignored the force)."""
        completion = response.completion
        cut = completion is not None and completion.finish_reason is FinishReason.LENGTH
        if self.strategy == "tool":
            for call in response.tool_calls:
                if call.name == self.output.name and call.source is None:
                    return self.output.read_text(call.arguments, cut=cut, call=call)
        return self.output.read_text(response.text, cut=cut)

    def repair(self, answer: Answer) -> tuple[Message, ...]:
        """The messages that send ``answer`` back with what is wrong with it."""
        listed = "\n".join(f"- {problem}" for problem in answer.problems)
        if answer.call is not None:
            return (
                AssistantMessage("", tool_calls=(answer.call,)),
                ToolMessage(
                    answer.call.id,
                    f"These arguments cannot be used:\n{listed}\nCall {self.output.name} again "
                    "with arguments that follow its schema.",
                    name=self.output.name,
                ),
            )
        how = f"by calling {self.output.name}" if self.strategy == "tool" else "with only the JSON"
        return (
            AssistantMessage(answer.text),
            UserMessage(
                f"That answer cannot be used:\n{listed}\nAnswer again {how}, corrected to follow "
                "the schema."
            ),
        )


def _instructed(request: ChatRequest[Any], instruction: str) -> Conversation:
    """The conversation with ``instruction`` at the end of its system prompt (one is added
    first when there is none)."""
    messages = request.conversation.messages
    if messages and isinstance(messages[0], SystemMessage):
        first = SystemMessage(f"{messages[0].content}\n\n{instruction}")
        return Conversation((first, *messages[1:]))
    return Conversation((SystemMessage(instruction), *messages))


def plan_for(
    provider: Provider[Any],
    options: Any,
    output: Any,
    strategy: str | None = None,
    *,
    target: str,
    exclude: Collection[str] = (),
) -> Plan:
    """How ``output`` is asked of ``provider`` with typed ``options``: ``strategy`` when given
    (a :class:`~jackfield.ConfigError` when the provider does not support it), else the first
    the provider supports that suits the output (not ``exclude``)."""
    wanted = Output.of(output)
    supported = tuple(provider.output_strategies(options))
    unknown = [s for s in (strategy, *supported) if s is not None and s not in STRATEGIES]
    if unknown:
        raise ConfigError(
            f"{target}: unknown output strategy {unknown[0]!r}; the strategies are "
            f"{', '.join(STRATEGIES)}"
        )
    if strategy is not None:
        if strategy not in supported:
            raise ConfigError(
                f"{target}: output_strategy {strategy!r} is not supported here; the provider "
                f"supports {', '.join(supported) or 'none'}"
            )
        if strategy == "tool" and not wanted.object_schema:
            raise ConfigError(
                f"{target}: output_strategy 'tool' needs a schema whose top is an object (a "
                f"tool's parameters); {wanted.label} is not one: choose another strategy"
            )
        return Plan(wanted, strategy, supported)
    for choice in supported:
        if choice in exclude or (choice == "tool" and not wanted.object_schema):
            continue
        return Plan(wanted, choice, supported)
    raise ConfigError(
        f"{target}: provider {provider.name!r} offers no way to ask for structured output "
        f"(it supports {', '.join(supported) or 'none'})"
    )


# --- asking -----------------------------------------------------------------------------------


class Structured:
    """One call asking for structured output: its :class:`Plan` and first request (both made
    and checked here, before anything is sent), and how it runs (:meth:`run`, :meth:`arun`)."""

    def __init__(
        self,
        pipeline: Pipeline[Any],
        messages: MessagesLike,
        tools: Any,
        output: Any,
        strategy: str | None,
        options: Mapping[str, Any],
    ) -> None:
        provider, binding = pipeline._bound()
        request = pipeline.request(messages, tools=tools, stream=False, **options)
        self.pipeline, self.options, self.target = pipeline, options, binding.target
        self.messages = Conversation.of(messages).messages
        self.plan = plan_for(provider, request.options, output, strategy, target=self.target)
        self.request = self.plan.apply(request, target=self.target)

    def dry_run(self) -> dict[str, Any]:
        """What the first call sends, and under ``"output"`` the name the output is sent with
        and the strategy that asks for it."""
        described = self.pipeline._bound()[0].describe(self.request)
        return {
            **described,
            "output": {"name": self.plan.output.name, "strategy": self.plan.strategy},
        }

    def _rounds(self) -> Generator[tuple[ChatRequest[Any], Sequence[Message]], Response, Any]:
        """Each call: yields its request and the messages to log it with, is sent its response;
        returns the value, or raises :class:`~jackfield.OutputError`."""
        plan, first = self.plan, self.request
        answer = plan.read((yield first, self.messages))
        if answer.ok:
            return answer.value
        extra = plan.repair(answer)
        second = attrs.evolve(
            first, conversation=Conversation((*first.conversation.messages, *extra))
        )
        response = yield second, (*self.messages, *extra)
        answer = plan.read(response)
        if answer.ok:
            return answer.value
        raise OutputError(
            f"{self.target}: {answer.message} (also after a repair round; the raw answer is "
            "the error's text)",
            text=answer.text,
            problems=answer.problems,
            response=response,
            attempts=2,
        )

    def run(self) -> Any:
        """Ask (and repair once); the checked value."""
        rounds = self._rounds()
        request, sent = next(rounds)
        while True:
            response = self.pipeline._open(request, sent, self.options).collect()
            try:
                request, sent = rounds.send(response)
            except StopIteration as done:
                return done.value

    async def arun(self) -> Any:
        """The async twin of :meth:`run`."""
        rounds = self._rounds()
        request, sent = next(rounds)
        while True:
            response = await self.pipeline._aopen(request, sent, self.options).collect()
            try:
                request, sent = rounds.send(response)
            except StopIteration as done:
                return done.value


def explained(
    provider: Provider[Any], options: Any, output: Any, strategy: str | None, *, target: str
) -> str:
    """The ``output:`` line of ``explain``."""
    plan = plan_for(provider, options, output, strategy, target=target)
    return f"output: {plan.describe()} (supported here: {', '.join(plan.supported)})"
