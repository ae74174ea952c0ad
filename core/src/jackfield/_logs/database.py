"""The log's file: where it lives, made private, its schema and migrations, full-text search if
SQLite has it, and transactions that several processes can share."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from jackfield._config.files import user_dir
from jackfield._errors import ConfigError
from jackfield._logs.records import prompt_text

if TYPE_CHECKING:
    import sqlite3

__all__ = [
    "BUSY_SECONDS",
    "LOG_NAME",
    "MIGRATIONS",
    "OFF_NAME",
    "VERSION",
    "default_path",
    "fts5_available",
    "has_table",
    "logging_enabled",
    "open_database",
    "set_logging",
    "transaction",
]

LOG_NAME = "logs.db"
"""The database's file name in the per-user directory."""
OFF_NAME = "logs-off"
"""The marker file whose presence turns logging off by default."""
BUSY_SECONDS = 10.0
"""How long a writer waits for another process's transaction before failing."""


def default_path() -> Path:
    """Where the conversation log lives: ``logs.db`` in the per-user directory."""
    return user_dir() / LOG_NAME


def logging_enabled() -> bool:
    """Whether conversations are logged by default: true unless ``jackfield logs off`` left
    its marker in the per-user directory."""
    return not (user_dir() / OFF_NAME).exists()


def set_logging(enabled: bool) -> None:
    """Turn default logging on (remove the marker) or off (write it)."""
    marker = user_dir() / OFF_NAME
    if enabled:
        marker.unlink(missing_ok=True)
        return
    make_directory(marker.parent)
    marker.write_text(
        "While this file exists, jackfield logs no conversation; `jackfield logs on` removes it.\n",
        encoding="utf-8",
    )


def make_directory(directory: Path) -> None:
    """``directory`` and its parents; the ones made here are private to the user (0700)."""
    if directory.is_dir():
        return
    make_directory(directory.parent)
    try:
        directory.mkdir(mode=0o700)
    except FileExistsError:
        return  # made meanwhile by another process
    os.chmod(directory, 0o700)  # whatever the umask


# --- the schema -----------------------------------------------------------------------------


def _version_1(db: sqlite3.Connection) -> None:
    """Conversations, and their turns in order."""
    db.execute(
        """CREATE TABLE conversations (
            id TEXT PRIMARY KEY,
            started TEXT NOT NULL,
            model TEXT NOT NULL,
            system TEXT
        )"""
    )
    db.execute(
        """CREATE TABLE turns (
            id INTEGER PRIMARY KEY,
            conversation_id TEXT NOT NULL REFERENCES conversations (id),
            seq INTEGER NOT NULL,
            created TEXT NOT NULL,
            model TEXT NOT NULL,
            prompt TEXT NOT NULL,
            answer TEXT NOT NULL,
            thoughts TEXT,
            tool_calls TEXT,
            finish_reason TEXT,
            usage TEXT,
            response_model TEXT,
            metrics TEXT,
            options TEXT NOT NULL,
            error TEXT,
            UNIQUE (conversation_id, seq)
        )"""
    )


def _version_2(db: sqlite3.Connection) -> None:
    """What listing and search need: each conversation's last turn (its row, the order of
    activity even within a millisecond, and its time), each prompt's text, and which turns the
    full-text index holds."""
    db.execute("ALTER TABLE conversations ADD COLUMN last_turn INTEGER NOT NULL DEFAULT 0")
    db.execute("ALTER TABLE conversations ADD COLUMN updated TEXT NOT NULL DEFAULT ''")
    db.execute(
        "UPDATE conversations SET"
        " last_turn = coalesce((SELECT max(id) FROM turns WHERE conversation_id = conversations.id),"
        " 0), updated = max(started, coalesce((SELECT max(created) FROM turns"
        " WHERE conversation_id = conversations.id), ''))"
    )
    db.execute("CREATE INDEX conversations_by_activity ON conversations (last_turn, id)")
    db.execute("ALTER TABLE turns ADD COLUMN prompt_text TEXT NOT NULL DEFAULT ''")
    db.execute("ALTER TABLE turns ADD COLUMN indexed INTEGER NOT NULL DEFAULT 0")
    db.execute("CREATE INDEX turns_to_index ON turns (id) WHERE indexed = 0")
    rows = db.execute("SELECT id, prompt FROM turns").fetchall()
    for rowid, prompt in rows:
        text = prompt_text(json.loads(prompt))
        db.execute("UPDATE turns SET prompt_text = ? WHERE id = ?", (text, rowid))


MIGRATIONS: tuple[Callable[[sqlite3.Connection], None], ...] = (_version_1, _version_2)
"""Step ``i`` brings a database from version ``i`` to ``i + 1``; a new database runs them all."""
VERSION = len(MIGRATIONS)
"""The schema version this code reads and writes."""

FTS = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS turns_fts USING fts5"
    "(prompt, answer, tokenize = 'unicode61 remove_diacritics 2')"
)
"""The full-text index of prompts and answers (rowid: the turn's), made where FTS5 exists."""


@lru_cache(maxsize=1)
def fts5_available() -> bool:
    """Whether this Python's SQLite has FTS5 (full-text search)."""
    import sqlite3

    try:
        memory = sqlite3.connect(":memory:")
        try:
            memory.execute(FTS)
        finally:
            memory.close()
    except sqlite3.Error:
        return False
    return True


def has_table(db: sqlite3.Connection, name: str | None) -> bool:
    """Whether the database has table ``name`` (any table, for ``None``)."""
    if name is None:
        row = db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' LIMIT 1").fetchone()
    else:
        row = db.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)
        ).fetchone()
    return row is not None


class transaction:
    """``BEGIN IMMEDIATE`` ... ``COMMIT`` (``ROLLBACK`` on any error): a writer takes the
    write lock at once, waiting for another process's transaction up to the busy timeout."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: type[BaseException] | None, *rest: object) -> None:
        self.db.execute("COMMIT" if exc_type is None else "ROLLBACK")


# --- opening --------------------------------------------------------------------------------


def open_database(path: Path, *, create: bool) -> tuple[sqlite3.Connection, bool] | None:
    """The log at ``path``, its schema brought up to date, and whether it has the full-text
    index; ``None`` when there is no file and ``create`` is false. A new file is made private
    (0600; SQLite gives its journal files the same mode). Raises
    :class:`~jackfield.ConfigError` for a file that is no log, or a newer jackfield's."""
    if not path.exists():
        if not create:
            return None
        try:
            make_directory(path.parent)
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        except OSError as exc:
            raise unusable(path, exc) from None
    import sqlite3

    try:
        db = sqlite3.connect(
            path, timeout=BUSY_SECONDS, isolation_level=None, check_same_thread=False
        )
    except sqlite3.Error as exc:
        raise unusable(path, exc) from None
    try:
        return db, _prepare(db, path)
    except BaseException as exc:
        db.close()
        if isinstance(exc, sqlite3.Error):
            raise unusable(path, exc) from None
        raise


def _prepare(db: sqlite3.Connection, path: Path) -> bool:
    """Check the version (before writing anything), set the journal, migrate; whether the
    full-text index is there."""
    version = db.execute("PRAGMA user_version").fetchone()[0]
    _check_version(path, version)
    if version == 0 and has_table(db, None):
        raise not_a_log(path, "it holds other tables")
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = NORMAL")
    db.execute("PRAGMA foreign_keys = ON")
    fts = fts5_available()
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version < VERSION or (fts and not has_table(db, "turns_fts")):
        with transaction(db):
            version = db.execute("PRAGMA user_version").fetchone()[0]  # another may have begun
            _check_version(path, version)
            if version == 0 and has_table(db, None):
                raise not_a_log(path, "it holds other tables")
            for step in MIGRATIONS[version:]:
                step(db)
            db.execute(f"PRAGMA user_version = {VERSION}")
            if fts:
                db.execute(FTS)
    return fts


def _check_version(path: Path, version: int) -> None:
    if version > VERSION:
        raise ConfigError(
            f"the conversation log {path} was written by a newer jackfield (schema version "
            f"{version}; this one knows up to {VERSION}): it was left untouched; upgrade "
            "jackfield to use it, or log elsewhere (Host(log=PATH))"
        )


def not_a_log(path: Path, why: str) -> ConfigError:
    return ConfigError(f"{path} is not a jackfield conversation log: {why}")


def unusable(path: Path, exc: Exception) -> ConfigError:
    """The error of an SQLite failure on the log at ``path``."""
    import sqlite3

    if isinstance(exc, sqlite3.DatabaseError) and "not a database" in str(exc):
        return not_a_log(path, "it is not an SQLite database")
    return ConfigError(f"cannot use the conversation log {path}: {exc}")
