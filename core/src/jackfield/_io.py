"""What a chat call's I/O looks like to the pipeline: an :class:`Exchange` (re-exported by
:mod:`jackfield.provider`, where providers find it)."""

from __future__ import annotations

import abc
from collections.abc import AsyncIterator, Iterable, Iterator

from jackfield._fragments import Fragment

__all__ = ["Exchange"]


class Exchange(abc.ABC):
    """One chat call's I/O. Iterate it (sync) *or* async-iterate it, once, for fragment batches.

    A batch is whatever the transport delivered at once (one network chunk, one callback),
    already assembled into fragments. ``close``/``aclose`` must release the connection and
    make the backend stop generating; they are always called, also after errors.
    """

    request_id: str | None = None
    """The id the call was sent with, once it was (an HTTP provider's ``X-Request-Id``): each
    :class:`~jackfield.Completion` of the stream carries it."""

    @abc.abstractmethod
    def __iter__(self) -> Iterator[Iterable[Fragment]]:
        """Run the call synchronously."""

    @abc.abstractmethod
    def __aiter__(self) -> AsyncIterator[Iterable[Fragment]]:
        """Run the call asynchronously."""

    def close(self) -> None:  # noqa: B027 - a no-op default is the right default
        """Release what the synchronous run holds."""

    async def aclose(self) -> None:  # noqa: B027
        """Release what the asynchronous run holds."""
