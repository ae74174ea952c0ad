"""A host's log: what ``Host(log=...)`` takes, and an agent call recorded as one turn when its
answer ends (nothing is done per fragment but one delegating generator)."""

from __future__ import annotations

import os
import warnings
from collections.abc import AsyncGenerator, Generator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

from jackfield._errors import ConfigError
from jackfield._fragments import Fragment
from jackfield._logs.database import logging_enabled
from jackfield._logs.store import ConversationLog
from jackfield._messages import AssistantMessage, Conversation, MessagesLike, SystemMessage

if TYPE_CHECKING:
    from jackfield._response import Response
    from jackfield._stream import AsyncFragmentStream, FragmentStream

__all__ = ["LogSetting", "LoggedCall", "open_setting"]

LogSetting = Union[bool, str, "os.PathLike[str]", ConversationLog, None]
"""What ``Host(log=...)`` takes: ``True`` for the user's log (unless ``jackfield logs off``),
a path for a log file of your own, a :class:`ConversationLog`, or ``False``/``None``: none."""


def open_setting(setting: LogSetting) -> tuple[ConversationLog | None, bool]:
    """The log a host setting asks for, and whether the host owns (and closes) it."""
    if setting is None or setting is False:
        return None, False
    if isinstance(setting, ConversationLog):
        return setting, False
    if setting is True:
        return (ConversationLog(), True) if logging_enabled() else (None, False)
    if isinstance(setting, (str, os.PathLike)):
        return ConversationLog(Path(setting)), True
    raise ConfigError(
        f"log must be True, False, a path or a ConversationLog, not {type(setting).__name__}"
    )


class LoggedCall:
    """One agent call being logged: its conversation (``conversation``, else a new one whose
    system prompt is the call's first message if that is one) and the messages that are new
    to it (those after the logged history, when the call repeats it)."""

    __slots__ = ("cid", "log", "model", "options", "prompt")

    def __init__(
        self,
        log: ConversationLog,
        model: str,
        conversation: str | None,
        messages: MessagesLike,
        options: Mapping[str, Any],
    ) -> None:
        sent = list(Conversation.of(messages).messages)
        self.log, self.model, self.options = log, model, options
        if conversation is None:
            system = sent[0].content if sent and isinstance(sent[0], SystemMessage) else None
            self.cid = log.start(model, system=system)
            self.prompt = sent[1:] if system is not None else sent
            return
        self.cid = conversation
        known = log.history(conversation)  # an unknown id fails here, before anything is sent
        if sent[: len(known)] == known:
            self.prompt = sent[len(known) :]
        else:  # not the logged history: what follows the last answer is new
            answers = [i for i, m in enumerate(sent) if isinstance(m, AssistantMessage)]
            self.prompt = sent[answers[-1] + 1 if answers else 0 :]

    def finish(self, response: Response | None, error: str | None) -> None:
        """Record the turn; a log that cannot is a warning, never the call's failure."""
        try:
            self.log.record(
                self.cid,
                model=self.model,
                prompt=self.prompt,
                response=response,
                options=self.options,
                error=error,
            )
        except Exception as exc:  # noqa: BLE001 - the answer arrived: never lose it to the log
            warnings.warn(
                f"jackfield: the conversation log could not record a call: {exc}",
                RuntimeWarning,
                stacklevel=3,
            )

    def follow(self, stream: FragmentStream) -> FragmentStream:
        """``stream``, recording the turn once it ends, fails, or is closed early."""
        stream._iterator = self._recording(stream._iterator, stream.response)
        return stream

    def afollow(self, stream: AsyncFragmentStream) -> AsyncFragmentStream:
        """The async twin of :meth:`follow`."""
        stream._iterator = self._arecording(stream._iterator, stream.response)
        return stream

    def _recording(
        self, fragments: Generator[Fragment, None, None], response: Response
    ) -> Generator[Fragment, None, None]:
        error: str | None = None
        try:
            yield from fragments
        except BaseException as exc:
            error = _error_of(exc, response)
            raise
        finally:
            self.finish(response, error)

    async def _arecording(
        self, fragments: AsyncGenerator[Fragment, None], response: Response
    ) -> AsyncGenerator[Fragment, None]:
        error: str | None = None
        try:
            async for fragment in fragments:
                yield fragment
        except BaseException as exc:
            error = _error_of(exc, response)
            raise
        finally:
            try:
                await fragments.aclose()
            finally:
                self.finish(response, error)


def _error_of(exc: BaseException, response: Response) -> str | None:
    """What the log says of a stream that ended with ``exc``: nothing when the stream was only
    closed after its answer was complete; "cancelled" when it was closed, interrupted or
    cancelled before; else the error."""
    import asyncio

    if isinstance(exc, GeneratorExit):
        return None if response.done else "cancelled"
    if isinstance(exc, (KeyboardInterrupt, asyncio.CancelledError)):
        return "cancelled"
    return f"{type(exc).__name__}: {exc}"
