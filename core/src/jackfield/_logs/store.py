"""The conversation log: turns written, conversations listed, shown and searched."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from jackfield._errors import ConversationError
from jackfield._logs.database import default_path, has_table, open_database, transaction, unusable
from jackfield._logs.records import (
    ConversationInfo,
    LoggedTurn,
    Scrub,
    SearchHit,
    as_message,
    dump_call,
    dump_message,
    dumps,
    excerpt,
    fold,
    fts_query,
    info_from_row,
    mask_options,
    new_id,
    now,
    prompt_text,
    turn_from_row,
)
from jackfield._messages import Message, SystemMessage

if TYPE_CHECKING:
    import sqlite3

    from jackfield._response import Response

__all__ = ["ConversationLog"]

INFO = (
    "SELECT c.id, c.started, c.updated, c.model, c.system,"
    " (SELECT count(*) FROM turns t WHERE t.conversation_id = c.id),"
    " (SELECT prompt FROM turns t WHERE t.conversation_id = c.id ORDER BY seq LIMIT 1)"
    " FROM conversations c"
)
TURN = (
    "SELECT seq, created, model, prompt, answer, thoughts, tool_calls, finish_reason, usage,"
    " response_model, metrics, options, error FROM turns"
)
_INSERT_TURN = (
    "INSERT INTO turns (conversation_id, seq, created, model, prompt, answer, thoughts,"
    " tool_calls, finish_reason, usage, response_model, metrics, options, error, prompt_text,"
    " indexed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


class ConversationLog:
    """The conversation log in one SQLite file (default: ``logs.db`` in the per-user directory).

    Nothing is read or written until a method needs it; the file is made by the first write.
    Safe to share between threads, and between processes writing the same file. A
    conversation started with :meth:`start` is written with its first turn.
    """

    def __init__(self, path: Path | str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path) if path is not None else default_path()
        self._lock = threading.RLock()
        self._db: sqlite3.Connection | None = None
        self._pid = 0
        self._fts = False
        self._pending: dict[str, tuple[str, str | None, str]] = {}

    @contextlib.contextmanager
    def _database(self, *, create: bool = False) -> Iterator[sqlite3.Connection | None]:
        """The connection, with the lock held (opened on first use; ``None`` when there is no
        file and ``create`` is false); an SQLite failure becomes a ConfigError."""
        import sqlite3

        with self._lock:
            try:
                if self._db is None or self._pid != os.getpid():
                    self._db = None  # one inherited through fork() is the parent's: left alone
                    opened = open_database(self.path, create=create)
                    if opened is not None:
                        (self._db, self._fts), self._pid = opened, os.getpid()
                yield self._db
            except sqlite3.Error as exc:
                raise unusable(self.path, exc) from None

    # writing ------------------------------------------------------------------------------

    def start(self, model: str, *, system: str | None = None) -> str:
        """A new conversation's id (written with its first turn, so a conversation that never
        got one leaves nothing behind). ``system``: its system prompt, the first message of
        :meth:`history`."""
        cid = new_id()
        with self._lock:
            self._pending[cid] = (model, system or None, now())
        return cid

    def record(
        self,
        cid: str,
        *,
        model: str,
        prompt: Sequence[Message | Mapping[str, Any]],
        response: Response | None,
        options: Mapping[str, Any],
        error: str | None = None,
    ) -> None:
        """Add a turn to conversation ``cid``: ``prompt`` is the new messages sent (the
        history before them is the conversation's already), ``response`` what came back (a
        partial one when the call failed; ``None`` when nothing came), ``options`` the call's
        options (masked before they are stored), ``error`` why the turn ended early
        (``"cancelled"``, an error's message). Raises :class:`~jackfield.ConversationError`
        for an unknown ``cid``."""
        masked, secrets = mask_options(options)
        scrub = Scrub(secrets)
        stored = [scrub.value(dump_message(as_message(m, i))) for i, m in enumerate(prompt)]
        completion = response.completion if response is not None else None
        usage = completion.usage if completion is not None else None
        answer = scrub.text(response.text) if response is not None else ""
        thoughts = scrub.text(response.thoughts) if response is not None else ""
        calls = [scrub.value(dump_call(c)) for c in response.tool_calls] if response else []
        metrics = dict(completion.metrics) if completion is not None else {}
        text, created = prompt_text(stored), now()
        row = (
            created,
            model,
            dumps(stored),
            answer,
            thoughts or None,
            dumps(calls) if calls else None,
            completion.finish_reason.value if completion is not None else None,
            dumps({k: v for k, v in attrs.asdict(usage).items() if v is not None})
            if usage is not None
            else None,
            completion.model if completion is not None else None,
            dumps(metrics) if metrics else None,
            dumps(scrub.value(masked)),
            scrub.text(error) if error is not None else None,
            text,
        )
        with self._database(create=True) as db:
            assert db is not None
            self._insert(db, cid, row, text, answer)
        with self._lock:
            self._pending.pop(cid, None)

    def _insert(
        self, db: sqlite3.Connection, cid: str, row: tuple[Any, ...], text: str, answer: str
    ) -> None:
        """One turn written in one short transaction (its conversation too, on its first)."""
        created = row[0]
        with transaction(db):
            if not _exists(db, cid):
                pending = self._pending.get(cid)
                if pending is None:
                    raise self._unknown(cid)
                first_model, system, started = pending
                db.execute(
                    "INSERT INTO conversations (id, started, updated, model, system)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (cid, started, created, first_model, system),
                )
            (seq,) = db.execute(
                "SELECT coalesce(max(seq), 0) + 1 FROM turns WHERE conversation_id = ?", (cid,)
            ).fetchone()
            rowid = db.execute(_INSERT_TURN, (cid, seq, *row, int(self._fts))).lastrowid
            if self._fts:
                db.execute(
                    "INSERT INTO turns_fts (rowid, prompt, answer) VALUES (?, ?, ?)",
                    (rowid, text, answer),
                )
            db.execute(
                "UPDATE conversations SET updated = ?, last_turn = ? WHERE id = ?",
                (created, rowid, cid),
            )

    # reading ------------------------------------------------------------------------------

    def last_id(self) -> str | None:
        """The newest conversation (by its last turn), or ``None`` when none is logged."""
        with self._database() as db:
            if db is None:
                return None
            row = db.execute(
                "SELECT id FROM conversations ORDER BY last_turn DESC, id DESC LIMIT 1"
            ).fetchone()
        return row[0] if row is not None else None

    def history(self, cid: str) -> list[Message]:
        """Conversation ``cid``'s messages so far, in order and ready to send: its system
        prompt, then each turn's prompt and answer. Turns that ended in an error (cancelled
        ones too) are left out: the next prompt follows the last complete answer. Raises
        :class:`~jackfield.ConversationError` for an unknown ``cid``."""
        with self._database() as db:
            pending = self._pending.get(cid)
            row = None if db is None else _system(db, cid)
            if row is not None and db is not None:
                system, turns = row[0], _turns(db, cid)
            elif pending is not None:
                system, turns = pending[1], []
            else:
                raise self._unknown(cid)
        messages: list[Message] = [SystemMessage(system)] if system else []
        for turn in turns:
            if turn.error is None:
                messages += turn.messages()
        return messages

    def conversation(self, cid: str) -> ConversationInfo:
        """What :meth:`conversations` says of ``cid`` (a :class:`~jackfield.ConversationError`
        when there is no such conversation)."""
        with self._database() as db:
            row = None if db is None else db.execute(f"{INFO} WHERE c.id = ?", (cid,)).fetchone()
        if row is None:
            raise self._unknown(cid)
        return info_from_row(row)

    def turns(self, cid: str) -> list[LoggedTurn]:
        """Every turn of ``cid``, failed ones included, in order."""
        with self._database() as db:
            if db is None or _system(db, cid) is None:
                raise self._unknown(cid)
            return _turns(db, cid)

    def conversations(
        self, limit: int | None = 10, *, model: str | None = None
    ) -> list[ConversationInfo]:
        """The newest conversations first (by their last turn); with ``model``, only those
        where a model's name (asked, or as the server named it) contains it, case ignored."""
        where, parameters = "", []
        if model:
            where = (
                " WHERE instr(lower(c.model), ?) OR EXISTS (SELECT 1 FROM turns t WHERE"
                " t.conversation_id = c.id AND (instr(lower(t.model), ?)"
                " OR instr(lower(coalesce(t.response_model, '')), ?)))"
            )
            parameters = [model.lower()] * 3
        query = f"{INFO}{where} ORDER BY c.last_turn DESC, c.id DESC"
        if limit is not None:
            query += f" LIMIT {max(0, int(limit))}"
        with self._database() as db:
            if db is None:
                return []
            return [info_from_row(row) for row in db.execute(query, parameters).fetchall()]

    def search(self, text: str, limit: int | None = 10) -> list[SearchHit]:
        """Conversations whose prompts or answers hold every word of ``text``, newest match
        first, one hit per conversation (its newest matching turn)."""
        words = text.split()
        hits: list[SearchHit] = []
        seen: set[str] = set()
        with self._database() as db:
            if db is None or not words:
                return []
            for cid, seq, prompt, answer in self._matches(db, words):
                if cid in seen:
                    continue
                seen.add(cid)
                info = info_from_row(db.execute(f"{INFO} WHERE c.id = ?", (cid,)).fetchone())
                hits.append(SearchHit(info, seq, excerpt(f"{prompt}\n{answer}", words)))
                if limit is not None and len(hits) >= limit:
                    break
        return hits

    def _matches(self, db: sqlite3.Connection, words: Sequence[str]) -> Iterable[Sequence[Any]]:
        """Matching turns, newest first: through the full-text index when there is one, else
        a scan."""
        indexable = [w for w in words if any(c.isalnum() for c in w)]
        if self._fts and len(indexable) == len(words) and has_table(db, "turns_fts"):
            _index_missing(db)
            return db.execute(
                "SELECT t.conversation_id, t.seq, t.prompt_text, t.answer FROM turns_fts"
                " JOIN turns t ON t.id = turns_fts.rowid WHERE turns_fts MATCH ?"
                " ORDER BY turns_fts.rowid DESC",
                (fts_query(words),),
            )
        folded = [fold(w) for w in words]
        rows = db.execute(
            "SELECT conversation_id, seq, prompt_text, answer FROM turns ORDER BY id DESC"
        )
        return (row for row in rows if all(w in fold(f"{row[2]}\n{row[3]}") for w in folded))

    def resolve(self, reference: str) -> str:
        """The id ``reference`` names: an id, or ``latest`` (the newest conversation)."""
        if reference == "latest":
            cid = self.last_id()
            if cid is None:
                raise ConversationError(
                    f"no conversation is logged yet ({self.path}): `jackfield chat` logs each one"
                )
            return cid
        self.conversation(reference)  # raises for an unknown one
        return reference

    def stats(self) -> tuple[int, int]:
        """How many conversations and turns the log holds."""
        with self._database() as db:
            if db is None:
                return 0, 0
            (conversations,) = db.execute("SELECT count(*) FROM conversations").fetchone()
            (turns,) = db.execute("SELECT count(*) FROM turns").fetchone()
        return conversations, turns

    def _unknown(self, cid: str) -> ConversationError:
        return ConversationError(
            f"no conversation {cid!r} in the log {self.path}: "
            "`jackfield logs list` shows the logged conversations"
        )

    # closing ------------------------------------------------------------------------------

    def close(self) -> None:
        """Close the database (it is opened again if used again)."""
        with self._lock:
            db, self._db = self._db, None
            if db is not None and self._pid == os.getpid():
                db.close()

    def __enter__(self) -> ConversationLog:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<ConversationLog {os.fspath(self.path)!r}>"


def _exists(db: sqlite3.Connection, cid: str) -> bool:
    return db.execute("SELECT 1 FROM conversations WHERE id = ?", (cid,)).fetchone() is not None


def _system(db: sqlite3.Connection, cid: str) -> tuple[str | None] | None:
    row: tuple[str | None] | None = db.execute(
        "SELECT system FROM conversations WHERE id = ?", (cid,)
    ).fetchone()
    return row


def _turns(db: sqlite3.Connection, cid: str) -> list[LoggedTurn]:
    rows = db.execute(f"{TURN} WHERE conversation_id = ? ORDER BY seq", (cid,))
    return [turn_from_row(row) for row in rows]


def _index_missing(db: sqlite3.Connection) -> None:
    """Index the turns a process without FTS5 wrote."""
    if db.execute("SELECT 1 FROM turns WHERE indexed = 0 LIMIT 1").fetchone() is None:
        return
    with transaction(db):
        rows = db.execute("SELECT id, prompt_text, answer FROM turns WHERE indexed = 0").fetchall()
        db.executemany("INSERT INTO turns_fts (rowid, prompt, answer) VALUES (?, ?, ?)", rows)
        db.execute("UPDATE turns SET indexed = 1 WHERE indexed = 0")
