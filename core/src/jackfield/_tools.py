"""Tools a run can call: Python functions, and anything else that runs a :class:`Tool`.

A :class:`Tool` (in ``_messages``) is what the model is told: a name, a description and a JSON
Schema. An *executable* tool also knows how to run a call: it has a ``tool`` and the methods
``call(arguments)`` and ``acall(arguments)`` returning a :class:`ToolOutput`
(:class:`Executable`). :class:`FunctionTool` makes one of a Python function (:func:`tool` is its
decorator); MCP servers give others (``jackfield._mcp``). A :class:`Toolbox` holds the tools of
one run and finds the one a :class:`~jackfield.ToolCall` names, by its ``source`` and ``name``.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import json
import operator
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol, TypeVar, Union, overload, runtime_checkable

import attrs

from jackfield._fragments import ToolCall
from jackfield._messages import Tool
from jackfield._schema import is_pydantic_model
from jackfield._signature import function_schema

__all__ = [
    "Executable",
    "FunctionTool",
    "ToolLike",
    "ToolOutput",
    "Toolbox",
    "function_schema",
    "load_function",
    "tool",
]

F = TypeVar("F", bound=Callable[..., Any])


@attrs.frozen
class ToolOutput:
    """What running a tool gave: the text the model reads, whether it is an error, and the
    structured value when there is one."""

    content: str
    is_error: bool = False
    data: Any = attrs.field(default=None, eq=False, hash=False)


@runtime_checkable
class Executable(Protocol):
    """A tool that can run a call: what to tell the model, and how to run it (sync and async).

    ``call`` and ``acall`` take the parsed arguments (a JSON object) and return a
    :class:`ToolOutput`; an exception they raise is the tool's failure, which a run turns into
    an error result the model reads (or re-raises, as it was told).
    """

    @property
    def tool(self) -> Tool: ...

    def call(self, arguments: Mapping[str, Any]) -> ToolOutput: ...

    async def acall(self, arguments: Mapping[str, Any]) -> ToolOutput: ...


def output_of(value: Any) -> ToolOutput:
    """The :class:`ToolOutput` of a Python function's return value: a string as it is, ``None``
    as ``""``, anything else as JSON (attrs classes and pydantic models too), kept as ``data``."""
    if isinstance(value, ToolOutput):
        return value
    if isinstance(value, str):
        return ToolOutput(value)
    if value is None:
        return ToolOutput("")
    dump = getattr(value, "model_dump", None)  # a pydantic model
    if callable(dump) and not isinstance(value, type):
        data = dump(mode="json")
    else:
        from jackfield._converter import converter

        data = converter.unstructure(value)
    return ToolOutput(json.dumps(data, ensure_ascii=False, default=str), data=data)


_TOOL_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")


class FunctionTool:
    """A Python function the model can call. Calling the object calls the function.

    The model is told the function's name (or ``name``), the first part of its docstring (or
    ``description``) and a JSON Schema of its parameters made from their type hints and the
    docstring's parameter section (:func:`function_schema`). A call's
    arguments are checked against that schema, then converted to the hinted types (attrs
    classes, enums, pydantic models) before the function runs. ``async def`` functions work in
    sync runs (each call gets an event loop of its own), sync functions in async runs (in a
    worker thread, so the loop is not blocked).
    """

    def __init__(
        self,
        function: Callable[..., Any],
        *,
        name: str | None = None,
        description: str | None = None,
        source: str | None = None,
    ) -> None:
        if not callable(function):
            raise TypeError(f"a tool is a function, got {type(function).__name__}")
        called = name or str(getattr(function, "__name__", ""))
        if not _TOOL_NAME.fullmatch(called):
            raise ValueError(
                f"{called!r} cannot be a tool's name (letters, digits, '_' and '-', at most 64 "
                "characters, as servers require): give one with name=..."
            )
        summary, parameters = function_schema(function)
        self.function = function
        self._hints, self._positional = _call_shape(function)
        self.__wrapped__ = function
        functools.update_wrapper(self, function)
        self.tool = Tool(
            called,
            summary if description is None else description,
            parameters,
            source,
        )

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.function(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<FunctionTool {self.tool.name!r}>"

    def _arguments(self, arguments: Mapping[str, Any]) -> tuple[list[Any], dict[str, Any]]:
        """The positional and keyword arguments of a call: checked against the schema, then
        structured (a positional-only parameter is passed by position)."""
        from jackfield._schema import validate

        if not isinstance(arguments, Mapping):
            raise ValueError(f"arguments must be a JSON object, got {type(arguments).__name__}")
        problems = validate(dict(arguments), self.tool.parameters)
        if problems:
            raise ValueError("invalid arguments: " + "; ".join(problems))
        hints = self._hints
        kwargs = {
            name: _structured(name, value, hints.get(name)) for name, value in arguments.items()
        }
        args: list[Any] = []
        for name, default in self._positional:
            if name in kwargs:
                args.append(kwargs.pop(name))
            elif default is not inspect.Parameter.empty:
                args.append(default)  # so that a later one can be given
            else:
                break
        return args, kwargs

    def call(self, arguments: Mapping[str, Any]) -> ToolOutput:
        """Run the function on a call's arguments (an ``async def`` one on an event loop of its
        own, in a worker thread when this thread runs an event loop already)."""
        args, kwargs = self._arguments(arguments)
        result = self.function(*args, **kwargs)
        if inspect.isawaitable(result):
            result = _wait(result)
        return output_of(result)

    async def acall(self, arguments: Mapping[str, Any]) -> ToolOutput:
        """Run the function on a call's arguments: awaited, or in a worker thread."""
        args, kwargs = self._arguments(arguments)
        if inspect.iscoroutinefunction(self.function):
            result = await self.function(*args, **kwargs)
        else:
            result = await asyncio.to_thread(self.function, *args, **kwargs)
            if inspect.isawaitable(result):  # an object whose __call__ is async
                result = await result
        return output_of(result)


def _call_shape(function: Callable[..., Any]) -> tuple[dict[str, Any], tuple[tuple[str, Any], ...]]:
    """A function's resolved type hints (none when they cannot be resolved: the JSON values go
    as they are) and its leading positional-only parameters with their defaults."""
    import typing

    try:
        hints = typing.get_type_hints(function)
    except Exception:  # noqa: BLE001 - any failure to resolve a hint
        hints = {}
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):  # no signature: everything by keyword
        return hints, ()
    positional = []
    for parameter in parameters:
        if parameter.kind is not parameter.POSITIONAL_ONLY:
            break
        positional.append((parameter.name, parameter.default))
    return hints, tuple(positional)


def _wait(awaitable: Any) -> Any:
    """The result of an awaitable, from sync code: on an event loop of its own."""

    async def wait() -> Any:
        return await awaitable

    try:
        asyncio.get_running_loop()
    except RuntimeError:  # the usual case: no loop in this thread
        return asyncio.run(wait())
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="jackfield-tool") as pool:
        return pool.submit(asyncio.run, wait()).result()


def _structured(name: str, value: Any, hint: Any) -> Any:
    """A JSON value as the hinted type, where the hint asks for more than JSON gives. A value
    that does not fit is a ``ValueError`` naming the argument ``name``."""
    import enum
    import typing

    if hint is None or hint is Any:
        return value
    if typing.get_origin(hint) is typing.Annotated:
        hint = typing.get_args(hint)[0]
    if is_pydantic_model(hint):
        return hint.model_validate(value)
    if _pydantic_inside(hint):  # list[Model], Model | None ...: pydantic structures them
        import pydantic

        return pydantic.TypeAdapter(hint).validate_python(value)
    plain = (str, int, float, bool, type(None), dict, list)
    if hint in plain or not _needs_structuring(hint):
        if hint is float and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        if hint is int and isinstance(value, float) and value.is_integer():
            return int(value)  # JSON Schema's integer: 2.0 is one
        return value
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return hint(value)
    from jackfield._converter import structure_checked

    return structure_checked(value, hint, f"argument {name!r}")


def _pydantic_inside(hint: Any) -> bool:
    import typing

    if is_pydantic_model(hint):
        return True
    return any(_pydantic_inside(arg) for arg in typing.get_args(hint) if arg is not Ellipsis)


def _needs_structuring(hint: Any) -> bool:
    import enum
    import typing

    if attrs.has(hint) or (isinstance(hint, type) and issubclass(hint, enum.Enum)):
        return True
    if typing.get_origin(hint) is tuple:
        return True
    return any(_needs_structuring(arg) for arg in typing.get_args(hint) if arg is not Ellipsis)


def load_function(path: str, where: str = "", *, name: str | None = None) -> FunctionTool:
    """The tool ``"module:function"`` names (``module`` imported; a dotted attribute path after
    the colon works), made a :class:`FunctionTool` unless it is one; ``name`` renames it.
    Errors are a :class:`~jackfield.ConfigError` saying ``where`` and why."""
    import importlib

    from jackfield._errors import ConfigError

    prefix = f"{where}: " if where else ""
    module_name, _, attribute = path.partition(":")
    if not module_name or not attribute:
        raise ConfigError(f"{prefix}write a tool as 'module:function', got {path!r}")
    try:
        found: Any = importlib.import_module(module_name)
    except Exception as exc:  # noqa: BLE001 - any failure to import is the tool's
        raise ConfigError(
            f"{prefix}cannot import module {module_name!r}: {type(exc).__name__}: {exc}"
        ) from None
    try:
        found = operator.attrgetter(attribute)(found)
    except AttributeError:
        raise ConfigError(f"{prefix}module {module_name!r} has no {attribute!r}") from None
    if isinstance(found, FunctionTool):
        if name is None or name == found.tool.name:
            return found
        return FunctionTool(
            found.function, name=name, description=found.tool.description, source=found.tool.source
        )
    if not callable(found):
        raise ConfigError(f"{prefix}{path!r} is a {type(found).__name__}, not a function")
    return FunctionTool(found, name=name)


@overload
def tool(function: F, /) -> FunctionTool: ...


@overload
def tool(
    *, name: str | None = None, description: str | None = None, source: str | None = None
) -> Callable[[F], FunctionTool]: ...


def tool(
    function: Callable[..., Any] | None = None,
    /,
    *,
    name: str | None = None,
    description: str | None = None,
    source: str | None = None,
) -> FunctionTool | Callable[[Callable[..., Any]], FunctionTool]:
    """Make a Python function a tool: ``@jackfield.tool`` or ``@jackfield.tool(name=...)``.

    ::

        @jackfield.tool
        def word_count(text: str) -> int:
            '''Count the words of a text.

            Args:
                text: the text to count.
            '''
            return len(text.split())

    The result is a :class:`FunctionTool`, still callable as the function.
    """

    def make(function: Callable[..., Any]) -> FunctionTool:
        return FunctionTool(function, name=name, description=description, source=source)

    return make if function is None else make(function)


ToolLike = Union[Tool, Executable, Callable[..., Any]]
"""What a run takes as a tool: a :class:`Tool` (described only: the host runs its calls), an
:class:`Executable` (a :class:`FunctionTool`, an MCP server's tool), or a plain function (made a
:class:`FunctionTool`)."""


class Toolbox:
    """The tools of one run, found by the ``(source, name)`` a call names.

    A later tool of the same source and name replaces an earlier one, so a call's tools can
    override an agent's.
    """

    __slots__ = ("_by_key",)

    def __init__(self, tools: Iterable[ToolLike] = ()) -> None:
        self._by_key: dict[tuple[str | None, str], Tool | Executable] = {}
        for item in tools:
            self.add(item)

    def add(self, item: ToolLike) -> None:
        """Add a tool (a plain function is made a :class:`FunctionTool`)."""
        entry: Tool | Executable
        if isinstance(item, Tool):
            entry = item
        elif isinstance(getattr(item, "tool", None), Tool) and callable(
            getattr(item, "call", None)
        ):
            entry = item  # type: ignore[assignment]
        elif callable(item):
            entry = FunctionTool(item)
        else:
            raise TypeError(
                f"not a tool: {item!r} (give a function, a jackfield.Tool, or an object with "
                "'tool', 'call' and 'acall')"
            )
        spec = entry if isinstance(entry, Tool) else entry.tool
        self._by_key[(spec.source, spec.name)] = entry

    @property
    def tools(self) -> tuple[Tool, ...]:
        """What the model is told, in the order the tools were added."""
        return tuple(e if isinstance(e, Tool) else e.tool for e in self._by_key.values())

    def __len__(self) -> int:
        return len(self._by_key)

    def find(self, call: ToolCall) -> Tool | Executable | None:
        """The tool a call names: by source and name; ``None`` if there is none."""
        return self._by_key.get((call.source, call.name))

    def names(self) -> list[str]:
        """Each tool's name as the model sees it (``source__name``), for messages."""
        return [f"{s}__{n}" if s else n for s, n in self._by_key]
