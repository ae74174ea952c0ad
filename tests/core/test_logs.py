"""The conversation log: ids, the stored format, masking, schema versions and migrations, two
processes writing at once, search with and without FTS5, and a host's agents logging."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import stat
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import jackfield
from jackfield import (
    AssistantMessage,
    ConfigError,
    ConversationError,
    Host,
    ImagePart,
    ServerError,
    SystemMessage,
    TextPart,
    ToolMessage,
    UserMessage,
)
from jackfield._fragments import TextDelta, ToolCall
from jackfield._logs import (
    MIGRATIONS,
    VERSION,
    ConversationLog,
    dump_message,
    load_message,
    logging_enabled,
    mask_options,
    new_id,
    set_logging,
)
from jackfield._logs import database as log_database
from jackfield._response import Response
from jackfield._secret import MASK, Secret
from jackfield.testing import plugin, reply_fragments
from tests.support.scripted_server import Reply, serving, sse

REGISTRY = jackfield.load_registry(autoload=False, plugins=[plugin])
CONFIG = {
    "providers": {"local": {"type": "scripted", "reply": "Paris.", "model": "tiny-q4"}},
    "agents": {"geo": {"model": "local:tiny", "system_prompt": "Be brief."}},
}


def answer(text: str, **kwargs: Any) -> Response:
    return Response.fold(reply_fragments(text, **kwargs))


def user(text: str) -> dict[str, str]:
    return {"role": "user", "content": text}


# --- pure rules ---------------------------------------------------------------------------------

MILLIS = st.integers(0, 32**9 - 1)
RANDOM = st.integers(0, 2**32 - 1)


@given(MILLIS, MILLIS, RANDOM, RANDOM)
def test_ids_are_short_and_sort_by_time(a: int, b: int, r1: int, r2: int) -> None:
    first, second = new_id(a, r1), new_id(b, r2)
    assert len(first) == len(second) == 14
    assert set(first) <= set("0123456789abcdefghjkmnpqrstvwxyz")
    if a < b:
        assert first < second
    assert (new_id(a, r1) == new_id(b, r2)) == (a == b and r1 % 32**5 == r2 % 32**5)


def test_new_ids_differ_and_follow_the_clock() -> None:
    ids = [new_id() for _ in range(200)]
    assert len(set(ids)) == len(ids)
    assert sorted(i[:9] for i in ids) == [i[:9] for i in ids]


texts = st.text(max_size=20)
calls = st.builds(
    ToolCall,
    st.text(min_size=1, max_size=6),
    st.text(min_size=1, max_size=6),
    texts,
    source=st.none() | st.text(min_size=1, max_size=5),
    index=st.integers(0, 3),
)
parts = st.builds(TextPart, texts) | st.builds(
    ImagePart.from_bytes, st.binary(min_size=1, max_size=8), st.just("image/png")
)
messages = st.one_of(
    st.builds(SystemMessage, texts),
    st.builds(UserMessage, texts | st.lists(parts, min_size=1, max_size=3).map(tuple)),
    st.builds(
        AssistantMessage,
        texts,
        st.lists(calls, max_size=2).map(tuple),
        st.none() | st.text(min_size=1, max_size=8),
    ),
    st.builds(ToolMessage, st.text(min_size=1, max_size=6), texts, st.none() | texts),
)


@given(messages)
def test_messages_are_stored_as_json_and_read_back_equal(message: Any) -> None:
    stored = dump_message(message)
    assert load_message(json.loads(json.dumps(stored))) == message


CREDENTIAL_KEYS = st.sampled_from(["api_key", "Authorization", "x-api-key", "token", "Cookie"])
SECRETS = st.text("abcdefghijklmnopqrstuvwxyz0123456789-", min_size=12, max_size=24).map(
    lambda s: f"s3cr3t-{s}"
)


@given(st.data(), SECRETS, CREDENTIAL_KEYS, st.integers(0, 3))
def test_masked_options_hold_no_secret_whatever_its_depth(
    data: st.DataObject, secret: str, key: str, depth: int
) -> None:
    value: Any = {key: secret}
    for _ in range(depth):
        value = {data.draw(st.sampled_from(["extra_body", "headers", "a"])): value}
    options = {"temperature": 0.5, "max_tokens": 100, **value, "note": f"echo {secret}"}
    masked, found = mask_options(options)
    assert secret in found
    text = json.dumps(masked)
    assert (masked["temperature"], masked["max_tokens"]) == (0.5, 100)
    assert MASK in text
    # the second copy (under an innocent key) is masked by the log's scrubber, not by the walk
    assert text.count(secret) == 1


def test_mask_options_shows_references_urls_without_passwords_and_types_only() -> None:
    masked, found = mask_options(
        {
            "api_key": Secret.from_env("MY_KEY"),
            "extra": Secret("literal-secret-1"),
            "base_url": "http://user:hunter22@host/v1",
            "headers": {"Authorization": "Bearer tok-123456", "Accept": "text/plain"},
            "max_tokens": 5,
            "thing": object(),
        }
    )
    assert masked == {
        "api_key": {"env": "MY_KEY"},
        "extra": MASK,
        "base_url": f"http://user:{MASK}@host/v1",
        "headers": {"Authorization": MASK, "Accept": "text/plain"},
        "max_tokens": 5,
        "thing": "<object>",
    }
    assert {"literal-secret-1", "Bearer tok-123456", "tok-123456"} <= set(found)


# --- writing and reading ------------------------------------------------------------------------


def test_a_conversation_is_written_with_its_first_turn_into_a_private_file(tmp_path: Path) -> None:
    path = tmp_path / "new" / "dir" / "logs.db"
    log = ConversationLog(path)
    cid = log.start("geo", system="Be brief.")
    assert not path.exists()  # nothing yet: a conversation without turns leaves nothing
    assert log.history(cid) == [SystemMessage("Be brief.")]
    assert log.last_id() is None
    log.record(
        cid,
        model="geo",
        prompt=[UserMessage("Capital of France?")],
        response=answer("Paris.", thoughts="Easy.", model="tiny-q4"),
        options={"temperature": 0},
    )
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    for journal in path.parent.glob("logs.db-*"):
        assert stat.S_IMODE(journal.stat().st_mode) == 0o600, journal
    log.record(
        cid, model="geo", prompt=[user("And Spain?")], response=answer("Madrid."), options={}
    )
    assert log.last_id() == cid
    assert log.history(cid) == [
        SystemMessage("Be brief."),
        UserMessage("Capital of France?"),
        AssistantMessage("Paris.", thoughts="Easy."),
        UserMessage("And Spain?"),
        AssistantMessage("Madrid."),
    ]
    first, second = log.turns(cid)
    assert (first.seq, second.seq) == (1, 2)
    assert (first.answer, first.thoughts, first.finish_reason) == ("Paris.", "Easy.", "stop")
    assert (first.response_model, first.usage) == (
        "tiny-q4",
        {
            "prompt_tokens": 1,
            "completion_tokens": 1,
            "total_tokens": 2,
        },
    )
    assert first.options == {"temperature": 0}
    [info] = log.conversations()
    assert (info.id, info.model, info.system, info.turn_count) == (cid, "geo", "Be brief.", 2)
    assert info.preview == "Capital of France?"
    log.close()
    # another process (a new log object) sees the same
    assert ConversationLog(path).history(cid)[-1] == AssistantMessage("Madrid.")


def test_failed_and_cancelled_turns_are_kept_but_not_sent_again(tmp_path: Path) -> None:
    log = ConversationLog(tmp_path / "logs.db")
    cid = log.start("geo")
    log.record(cid, model="geo", prompt=[user("one")], response=answer("1"), options={})
    log.record(
        cid, model="geo", prompt=[user("two")], response=answer("tw"), options={}, error="cancelled"
    )
    log.record(
        cid,
        model="geo",
        prompt=[user("three")],
        response=None,
        options={},
        error="ServerError: boom",
    )
    assert [t.error for t in log.turns(cid)] == [None, "cancelled", "ServerError: boom"]
    assert log.history(cid) == [UserMessage("one"), AssistantMessage("1")]


def test_tool_calls_and_images_round_trip(tmp_path: Path) -> None:
    log = ConversationLog(tmp_path / "logs.db")
    cid = log.start("geo")
    call = ToolCall("c1", "lookup", '{"q": "x"}', source="web", index=0)
    picture = ImagePart.from_bytes(b"\x89PNG", "image/png")
    reply = Response.fold([call, *reply_fragments("")])
    log.record(
        cid,
        model="geo",
        prompt=[UserMessage((TextPart("see"), picture))],
        response=reply,
        options={},
    )
    log.record(
        cid,
        model="geo",
        prompt=[ToolMessage("c1", "found", "lookup")],
        response=answer("done"),
        options={},
    )
    assert log.history(cid) == [
        UserMessage((TextPart("see"), picture)),
        AssistantMessage("", (call,)),
        ToolMessage("c1", "found", "lookup"),
        AssistantMessage("done"),
    ]


def test_an_unknown_conversation_says_so_and_where_to_look(tmp_path: Path) -> None:
    log = ConversationLog(tmp_path / "logs.db")
    for attempt in (
        lambda: log.history("nope"),
        lambda: log.turns("nope"),
        lambda: log.conversation("nope"),
        lambda: log.record("nope", model="m", prompt=[], response=None, options={}),
    ):
        with pytest.raises(ConversationError, match=r"no conversation 'nope'.*jackfield logs list"):
            attempt()
    with pytest.raises(ConversationError, match="no conversation is logged yet"):
        log.resolve("latest")


def test_listing_is_newest_activity_first_and_filters_by_model(tmp_path: Path) -> None:
    log = ConversationLog(tmp_path / "logs.db")
    old = log.start("ollama:qwen3:8b")
    log.record(old, model="ollama:qwen3:8b", prompt=[user("old")], response=answer("a"), options={})
    new = log.start("geo")
    log.record(
        new, model="geo", prompt=[user("new")], response=answer("b", model="gemma-3"), options={}
    )
    assert [c.id for c in log.conversations()] == [new, old]
    assert [c.id for c in log.conversations(1)] == [new]
    assert [c.id for c in log.conversations(model="QWEN")] == [old]
    assert [c.id for c in log.conversations(model="gemma")] == [new]  # as the server named it
    log.record(
        old, model="ollama:qwen3:8b", prompt=[user("again")], response=answer("c"), options={}
    )
    assert [c.id for c in log.conversations()] == [old, new]
    assert log.last_id() == log.resolve("latest") == old
    assert log.stats() == (2, 3)


# --- search, with FTS5 and without --------------------------------------------------------------


@pytest.fixture(params=["fts5", "scan"])
def search_log(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: Any) -> Any:
    if request.param == "fts5":
        assert log_database.fts5_available(), "this Python's SQLite has no FTS5"
    else:
        monkeypatch.setattr(log_database, "fts5_available", lambda: False)
    log = ConversationLog(tmp_path / "logs.db")
    for prompt, reply in [
        ("What is the capital of France?", "Paris."),
        ("Un café, s'il vous plaît", "Voilà votre CAFÉ."),
        ("What about Spain?", "Madrid is the capital of Spain."),
        ("Price in $$$?", "Twelve."),
    ]:
        cid = log.start("geo")
        log.record(cid, model="geo", prompt=[user(prompt)], response=answer(reply), options={})
    return log


def test_search_needs_every_word_in_prompt_or_answer(search_log: ConversationLog) -> None:
    def found(text: str) -> list[str]:
        return [hit.conversation.preview for hit in search_log.search(text)]

    assert found("capital") == ["What about Spain?", "What is the capital of France?"]
    assert found("capital paris") == ["What is the capital of France?"]  # one in each
    assert found("CAPITAL madrid") == ["What about Spain?"]
    assert found("capit") == found("capital")  # the start of a word is enough
    assert found("cafe") == ["Un café, s'il vous plaît"]  # accents ignored
    assert found("$$$") == ["Price in $$$?"]
    assert found("capital berlin") == []
    assert found("   ") == []
    [hit] = search_log.search("madrid")
    assert hit.turn == 1
    assert "Madrid is the capital of Spain." in hit.excerpt
    assert len(search_log.search("capital", limit=1)) == 1


def test_turns_written_without_fts5_are_indexed_when_a_process_with_it_searches(
    tmp_path: Path, monkeypatch: Any
) -> None:
    path = tmp_path / "logs.db"
    with monkeypatch.context() as patched:
        patched.setattr(log_database, "fts5_available", lambda: False)
        old = ConversationLog(path)
        cid = old.start("geo")
        old.record(
            cid,
            model="geo",
            prompt=[user("written without FTS5")],
            response=answer("ok"),
            options={},
        )
        old.close()
    assert log_database.fts5_available()
    log = ConversationLog(path)
    cid2 = log.start("geo")
    log.record(
        cid2, model="geo", prompt=[user("written with FTS5")], response=answer("ok"), options={}
    )
    assert [h.conversation.id for h in log.search("written")] == [cid2, cid]
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT count(*) FROM turns WHERE indexed = 0").fetchone() == (0,)
        assert db.execute("SELECT count(*) FROM turns_fts").fetchone() == (2,)


WORD = st.text(alphabet=st.sampled_from("abcXYZ019éÉçñ\"'*()-:^.+"), min_size=1, max_size=6).filter(
    lambda w: any(c.isalnum() for c in w)
)


@given(st.lists(WORD, min_size=1, max_size=4), st.sampled_from(["", "AND ", "NEAR "]))
def test_any_words_make_a_valid_fts5_query_that_finds_the_text_they_came_from(
    words: list[str], filler: str
) -> None:
    from jackfield._logs.records import fold, fts_query

    text = filler + " zz ".join(words)
    db = sqlite3.connect(":memory:")
    try:
        db.execute(log_database.FTS)
        db.execute("INSERT INTO turns_fts (rowid, prompt, answer) VALUES (1, ?, '')", (text,))
        found = db.execute(
            "SELECT rowid FROM turns_fts WHERE turns_fts MATCH ?", (fts_query(words),)
        )
        assert found.fetchall() == [(1,)]
    finally:
        db.close()
    assert all(fold(w) in fold(text) for w in words)  # the scan finds it too


# --- versions and migrations --------------------------------------------------------------------

VERSION_1 = """
CREATE TABLE conversations (
    id TEXT PRIMARY KEY, started TEXT NOT NULL, model TEXT NOT NULL, system TEXT);
CREATE TABLE turns (
    id INTEGER PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations (id),
    seq INTEGER NOT NULL, created TEXT NOT NULL, model TEXT NOT NULL, prompt TEXT NOT NULL,
    answer TEXT NOT NULL, thoughts TEXT, tool_calls TEXT, finish_reason TEXT, usage TEXT,
    response_model TEXT, metrics TEXT, options TEXT NOT NULL, error TEXT,
    UNIQUE (conversation_id, seq));
INSERT INTO conversations VALUES
    ('0000000001aaaa', '2025-01-01T10:00:00.000+00:00', 'geo', 'Be brief.'),
    ('0000000002bbbb', '2025-01-02T10:00:00.000+00:00', 'other', NULL);
INSERT INTO turns VALUES
    (1, '0000000002bbbb', 1, '2025-01-02T10:00:01.000+00:00', 'other',
     '[{"role": "user", "content": "Hello"}]', 'Hi.', NULL, NULL, 'stop', NULL, NULL, NULL,
     '{}', NULL),
    (2, '0000000001aaaa', 1, '2025-01-03T10:00:00.000+00:00', 'geo',
     '[{"role": "user", "content": "Capital of France?"}]', 'Paris.', NULL, NULL, 'stop',
     '{"prompt_tokens": 3}', 'tiny', '{"prompt_ms": 1.5}', '{"temperature": 0}', NULL);
PRAGMA user_version = 1;
"""


def test_a_version_1_database_is_migrated_with_its_data(tmp_path: Path) -> None:
    path = tmp_path / "logs.db"
    with sqlite3.connect(path) as db:
        db.executescript(VERSION_1)
    db.close()
    log = ConversationLog(path)
    # version 1 had no activity order: the migration takes each conversation's last turn
    newest, oldest = log.conversations()
    assert (newest.id, oldest.id) == ("0000000001aaaa", "0000000002bbbb")
    assert (newest.started, newest.updated) == (
        "2025-01-01T10:00:00.000+00:00",
        "2025-01-03T10:00:00.000+00:00",
    )
    assert (newest.turn_count, newest.preview) == (1, "Capital of France?")
    assert log.history("0000000001aaaa") == [
        SystemMessage("Be brief."),
        UserMessage("Capital of France?"),
        AssistantMessage("Paris."),
    ]
    [turn] = log.turns("0000000001aaaa")
    assert (turn.usage, turn.metrics, turn.options) == (
        {"prompt_tokens": 3},
        {"prompt_ms": 1.5},
        {"temperature": 0},
    )
    assert [h.conversation.id for h in log.search("france")] == ["0000000001aaaa"]  # backfilled
    log.record(
        "0000000002bbbb", model="other", prompt=[user("Again")], response=answer("Hi."), options={}
    )
    log.close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone() == (VERSION,)
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert db.execute("SELECT count(*) FROM turns").fetchone() == (3,)
    db.close()


def test_every_migration_step_runs_in_order_on_a_new_database(tmp_path: Path) -> None:
    assert len(MIGRATIONS) == VERSION >= 2
    log = ConversationLog(tmp_path / "logs.db")
    log.record(log.start("m"), model="m", prompt=[user("x")], response=None, options={})
    log.close()
    with sqlite3.connect(tmp_path / "logs.db") as db:
        columns = {row[1] for row in db.execute("PRAGMA table_info(turns)")}
        mode = db.execute("PRAGMA journal_mode").fetchone()
    db.close()
    assert {"prompt_text", "indexed", "answer", "options"} <= columns
    assert mode == ("wal",)


def test_a_newer_database_is_refused_and_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "logs.db"
    log = ConversationLog(path)
    log.record(log.start("m"), model="m", prompt=[user("x")], response=None, options={})
    log.close()
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE from_the_future (x)")
        db.execute(f"PRAGMA user_version = {VERSION + 1}")
    db.close()
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    later = ConversationLog(path)
    for attempt in (
        later.last_id,
        lambda: later.record(later.start("m"), model="m", prompt=[], response=None, options={}),
    ):
        with pytest.raises(ConfigError, match=rf"newer jackfield \(schema version {VERSION + 1};"):
            attempt()
    later.close()
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_files_that_are_no_log_are_refused_and_left_untouched(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_bytes(b"my notes, not a database " * 100)
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE mine (x)")
    db.close()
    for path, why in ((text, "not an SQLite database"), (other, "it holds other tables")):
        before = path.read_bytes()
        log = ConversationLog(path)
        with pytest.raises(ConfigError, match=f"is not a jackfield conversation log: .*{why}"):
            log.record(log.start("m"), model="m", prompt=[], response=None, options={})
        assert path.read_bytes() == before


# --- several processes at once ------------------------------------------------------------------

WRITER = textwrap.dedent(
    """
    import os, sys, time
    from jackfield._logs import ConversationLog
    from jackfield._response import Response
    from jackfield.testing import reply_fragments

    path, shared, go, count, me = sys.argv[1:6]
    deadline = time.monotonic() + 30
    while not os.path.exists(go):
        assert time.monotonic() < deadline, "never told to go"
        time.sleep(0.005)
    log = ConversationLog(path)
    own = log.start("writer-" + me)
    for i in range(int(count)):
        cid = shared if shared != "-" and i % 2 else own
        log.record(
            cid,
            model="writer-" + me,
            prompt=[{"role": "user", "content": f"{me} says {i}"}],
            response=Response.fold(reply_fragments(f"answer {me} {i}")),
            options={"i": i},
        )
    log.close()
    print("done")
    """
)


def _run_writers(tmp_path: Path, path: Path, shared: str, writers: int, turns: int) -> None:
    go = tmp_path / "go"
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path), shared, str(go), str(turns), str(n)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(writers)
    ]
    go.touch()
    for process in processes:
        out, err = process.communicate(timeout=120)
        assert (process.returncode, out) == (0, "done\n"), err


def test_processes_writing_at_once_lose_nothing(tmp_path: Path) -> None:
    writers, turns = 4, 40
    path = tmp_path / "logs.db"
    log = ConversationLog(path)
    shared = log.start("shared")
    log.record(shared, model="shared", prompt=[user("start")], response=answer("ok"), options={})
    log.close()
    _run_writers(tmp_path, path, shared, writers, turns)
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert db.execute("SELECT count(*) FROM turns").fetchone() == (1 + writers * turns,)
        seqs = [
            s for (s,) in db.execute("SELECT seq FROM turns WHERE conversation_id = ?", (shared,))
        ]
        prompts = {p for (p,) in db.execute("SELECT prompt_text FROM turns")}
    db.close()
    assert sorted(seqs) == list(range(1, 2 + writers * turns // 2))  # no turn lost, none twice
    assert {f"{n} says {i}" for n in range(writers) for i in range(turns)} <= prompts
    log = ConversationLog(path)
    assert log.stats() == (1 + writers, 1 + writers * turns)
    assert len(log.search("says")) == 1 + writers


def test_processes_making_the_file_at_once_share_one_schema(tmp_path: Path) -> None:
    path = tmp_path / "fresh" / "logs.db"
    _run_writers(tmp_path, path, "-", writers=4, turns=5)
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert db.execute("PRAGMA user_version").fetchone() == (VERSION,)
        assert db.execute("SELECT count(*) FROM turns").fetchone() == (20,)
    db.close()


# --- secrets ------------------------------------------------------------------------------------

CONFIG_KEY = "sk-config-0123456789abcdef"
CALL_KEY = "sk-call-fedcba9876543210"
HEADER_SECRET = "hdr-secret-5a5a5a5a5a"
URL_PASSWORD = "url-pass-7b7b7b7b7b"


def test_secrets_never_reach_the_database(tmp_path: Path) -> None:
    def echo(*texts: str) -> Reply:
        deltas = [{"choices": [{"index": 0, "delta": {"content": t}}]} for t in texts]
        return Reply(
            body=sse(*deltas, {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
        )

    replies = [echo("You sent ", CONFIG_KEY, "."), echo(f"You sent {CALL_KEY} and {URL_PASSWORD}.")]
    path = tmp_path / "log" / "logs.db"
    with serving(replies) as server:
        config = {
            "providers": {
                "local": {
                    "type": "openai-compatible",
                    "base_url": f"{server.url}/v1",
                    "api_key": CONFIG_KEY,
                    "retries": {"attempts": 0},
                }
            }
        }
        with Host.from_mapping(config, log=path) as host:
            agent = host.agent("local:tiny")
            agent.complete(f"my key is {CONFIG_KEY}, see https://me:{URL_PASSWORD}@example.com")
            agent.complete(
                "again",
                api_key=CALL_KEY,
                headers={"X-Custom-Auth": HEADER_SECRET},
                base_url=f"http://me:{URL_PASSWORD}@{server.url.removeprefix('http://')}/v1",
                extra_body={"note": f"{CALL_KEY} in a body"},
            )
            assert host.log is not None
            options = host.log.turns(host.log.resolve("latest"))[0].options
        assert len(server.requests) == 2
    assert options["api_key"] == options["headers"]["X-Custom-Auth"] == MASK
    assert options["base_url"].startswith(f"http://me:{MASK}@")
    assert options["extra_body"] == {"note": f"{MASK} in a body"}
    stored = b"".join(p.read_bytes() for p in path.parent.iterdir())
    assert b"You sent" in stored  # the answer is there ...
    for secret in (CONFIG_KEY, CALL_KEY, HEADER_SECRET, URL_PASSWORD):
        assert secret.encode() not in stored, secret  # ... its secrets are not


# --- a host's agents ----------------------------------------------------------------------------


def test_a_host_without_log_never_imports_the_log_or_sqlite() -> None:
    code = (
        "import sys, jackfield\nfrom jackfield.testing import plugin\n"
        "r = jackfield.load_registry(autoload=False, plugins=[plugin])\n"
        "h = jackfield.Host.from_mapping({'providers': {'l': {'type': 'scripted'}}}, registry=r)\n"
        "print(h.agent('l:m').complete('hi').text, h.log)\n"
        "print(sorted(m for m in sys.modules if m == 'sqlite3' or m.startswith('jackfield._logs')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.stdout == "Hello from the scripted provider. None\n[]\n", result.stderr


def test_each_call_of_an_agent_is_a_conversation_of_its_own(tmp_path: Path) -> None:
    with Host.from_mapping(CONFIG, registry=REGISTRY, log=tmp_path / "logs.db") as host:
        agent = host.agent("geo")
        assert agent.complete("Capital of France?", temperature=0).text == "Paris."
        assert "".join(f.text for f in agent.stream([user("Capital of Spain?")])) == "Paris."
        log = host.log
        assert log is not None
        newest, oldest = log.conversations()
        assert (oldest.preview, newest.preview) == ("Capital of France?", "Capital of Spain?")
        [turn] = log.turns(oldest.id)
        assert (turn.model, turn.response_model, turn.options) == (
            "geo",
            "tiny",
            {"temperature": 0},
        )
        assert turn.error is None
        # the agent's system prompt is the agent's, not the conversation's
        assert log.history(oldest.id) == [
            UserMessage("Capital of France?"),
            AssistantMessage("Paris."),
        ]
    assert log._db is None  # the host closed the log it opened


def test_a_system_message_first_is_the_conversations_system_prompt(tmp_path: Path) -> None:
    with Host.from_mapping(CONFIG, registry=REGISTRY, log=tmp_path / "logs.db") as host:
        host.agent("local:tiny").complete([{"role": "system", "content": "Terse."}, user("Hi")])
        assert host.log is not None
        [info] = host.log.conversations()
        assert info.system == "Terse."
        assert host.log.history(info.id)[:2] == [SystemMessage("Terse."), UserMessage("Hi")]


def test_an_agent_on_a_conversation_adds_only_the_new_messages(tmp_path: Path) -> None:
    log = ConversationLog(tmp_path / "logs.db")
    with Host.from_mapping(CONFIG, registry=REGISTRY, log=log) as host:
        cid = log.start("geo")
        agent = host.agent("geo", conversation=cid)
        assert agent.conversation == cid
        history: list[Any] = [UserMessage("Capital of France?")]
        history.append(agent.complete(history).to_message())
        history.append(UserMessage("And Spain?"))
        agent.complete(history)
        agent.complete([UserMessage("A fresh start")])  # not the logged history: all new
        assert [t.prompt for t in log.turns(cid)] == [
            (user("Capital of France?"),),
            (user("And Spain?"),),
            (user("A fresh start"),),
        ]
        assert len(log.conversations()) == 1
        with pytest.raises(ConversationError, match="jackfield logs list"):
            host.agent("geo", conversation="unknown").complete("Hi")
        provider: Any = host.provider("local")
        assert len(provider.requests) == 3  # nothing sent for the unknown one
    assert log._db is not None  # a log the caller gave is the caller's to close
    log.close()


def test_streams_record_once_at_the_end_cancelled_or_failed(tmp_path: Path) -> None:
    with Host.from_mapping(CONFIG, registry=REGISTRY, log=tmp_path / "logs.db") as host:
        log = host.log
        assert log is not None
        provider: Any = host.provider("local")
        stream = host.agent("geo").stream("Tell me a story")
        next(iter(stream))
        assert log.stats() == (0, 0)  # nothing while the answer streams
        stream.close()
        provider.script = [TextDelta("Par"), ServerError("boom", status=500)]
        with pytest.raises(ServerError):
            host.agent("geo").complete("Capital?")
        never = host.agent("geo").stream("never read")
        del never  # never iterated: nothing was sent, nothing is logged
        failed, cancelled = (log.turns(c.id)[0] for c in log.conversations())
    assert (cancelled.error, cancelled.answer) == ("cancelled", "Paris.")
    assert str(failed.error).startswith("ServerError: boom")
    assert failed.answer == "Par"
    assert log.stats() == (2, 2)


def test_async_calls_are_logged_too(tmp_path: Path) -> None:
    async def main() -> None:
        async with Host.from_mapping(CONFIG, registry=REGISTRY, log=tmp_path / "l.db") as host:
            agent = host.agent("geo")
            assert (await agent.acomplete("one")).text == "Paris."
            async with agent.astream("two") as stream:
                assert "".join([f.text async for f in stream]) == "Paris."
            stream = agent.astream("three")
            await stream.__anext__()
            await stream.aclose()
            assert host.log is not None
            turns = [host.log.turns(c.id)[0] for c in reversed(host.log.conversations())]
            assert [(t.prompt[0]["content"], t.error) for t in turns] == [
                ("one", None),
                ("two", None),
                ("three", "cancelled"),
            ]

    asyncio.run(main())


def test_log_true_is_the_users_log_unless_turned_off(tmp_path: Path) -> None:
    assert logging_enabled()
    with Host.from_mapping(CONFIG, registry=REGISTRY, log=True) as host:
        assert host.log is not None
        assert host.log.path == Path(os.environ["JACKFIELD_HOME"]) / "logs.db"
    set_logging(False)
    assert not logging_enabled()
    with Host.from_mapping(CONFIG, registry=REGISTRY, log=True) as host:
        assert host.log is None
    with Host.from_mapping(CONFIG, registry=REGISTRY, log=tmp_path / "mine.db") as host:
        assert host.log is not None  # a log of your own is always kept
    set_logging(True)
    assert logging_enabled()
    with pytest.raises(ConfigError, match="log must be True, False, a path or a ConversationLog"):
        Host.from_mapping(CONFIG, registry=REGISTRY, log=3)  # type: ignore[arg-type]


def test_a_log_that_cannot_record_warns_and_the_answer_stands(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with (
        Host.from_mapping(CONFIG, registry=REGISTRY, log=blocker / "logs.db") as host,
        warnings.catch_warnings(record=True) as caught,
    ):
        warnings.simplefilter("always")
        assert host.agent("geo").complete("Hi").text == "Paris."
    [warning] = caught
    assert warning.category is RuntimeWarning
    assert "the conversation log could not record a call: cannot use the conversation log" in str(
        warning.message
    )
