"""The conversation log: chat turns kept in one SQLite database in the per-user directory.

``jackfield chat`` records every turn here and ``jackfield logs`` reads them back; a library
host records its agents' calls when asked to (``Host(log=True)``). The database is
``logs.db`` in :func:`~jackfield._config.user_dir`, made on the first write (mode 0600, and its
directory 0700 when jackfield makes it). ``jackfield logs off`` leaves a marker file there that
:func:`logging_enabled` reads.

A turn keeps the prompt's new messages, the answer (text, reasoning, tool calls, finish
reason, usage, the model as the server named it, the server's timings), the call's options and
the error that ended it, if any. Secrets are never stored: options named like a credential
(``api_key``, ``Authorization`` ...) are masked, so are URL passwords everywhere, and any of
those values, or a key this process sent to a server, is masked wherever else it appears
(:mod:`~jackfield._logs.records`).

The schema's version is ``PRAGMA user_version``; :data:`MIGRATIONS` bring a database from any
earlier version to :data:`VERSION` in one transaction, and a database written by a newer
jackfield is refused untouched. Several processes may write at once: the journal is WAL, a
writer waits up to :data:`BUSY_SECONDS` for another, and each turn is one short transaction
(:mod:`~jackfield._logs.database`). Search uses SQLite's FTS5 where this Python's SQLite has
it, else a scan; either way every word must appear, as a word's start (FTS5) or anywhere (the
scan), case and accents ignored (:mod:`~jackfield._logs.store`).

A host's agents record through :class:`~jackfield._logs.calls.LoggedCall`: once per call, when
the answer ends, fails or is abandoned; nothing per fragment.

This package is imported only when a log is used; :mod:`sqlite3` only when a database is opened.
"""

from jackfield._logs.calls import LoggedCall, LogSetting, open_setting
from jackfield._logs.database import (
    BUSY_SECONDS,
    LOG_NAME,
    MIGRATIONS,
    OFF_NAME,
    VERSION,
    default_path,
    fts5_available,
    logging_enabled,
    set_logging,
)
from jackfield._logs.records import (
    ConversationInfo,
    LoggedTurn,
    SearchHit,
    dump_message,
    load_message,
    mask_options,
    new_id,
)
from jackfield._logs.store import ConversationLog

__all__ = [
    "BUSY_SECONDS",
    "LOG_NAME",
    "MIGRATIONS",
    "OFF_NAME",
    "VERSION",
    "ConversationInfo",
    "ConversationLog",
    "LogSetting",
    "LoggedCall",
    "LoggedTurn",
    "SearchHit",
    "default_path",
    "dump_message",
    "fts5_available",
    "load_message",
    "logging_enabled",
    "mask_options",
    "new_id",
    "open_setting",
    "set_logging",
]
