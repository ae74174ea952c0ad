"""Tests that kill mutants which survived the first suite (issue 16, "Test strength").

A mutation audit applied small realistic bugs to the core rules one at a time; these three
survived because the tests looked at too little: a Retry-After date was honoured only in a
unit test (the wait itself was never timed), leak tests looked for whole keys only (a repr
showing the first four characters of a key passed), and only ``Authorization`` was checked
among the masked headers. Each test here fails with its mutant applied (see the issue's
report for the list).
"""

from __future__ import annotations

import email.utils
import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import jackfield
from jackfield import ProviderError, Secret
from jackfield.http import HTTPRequest
from tests.support.cli import cli_output
from tests.support.scripted_server import Reply, serving, sse

fault = pytest.mark.reliability

CHUNKS = sse(
    {"choices": [{"index": 0, "delta": {"content": "Hel"}}]},
    {"choices": [{"index": 0, "delta": {"content": "lo"}}]},
    {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
)


@pytest.fixture
def providers() -> Iterator[list[jackfield.Provider[Any]]]:
    made: list[jackfield.Provider[Any]] = []
    yield made
    for provider in made:
        provider.close()


def create(made: list[jackfield.Provider[Any]], url: str, **options: Any) -> Any:
    provider = jackfield.load_registry().create(
        "openai-compatible", {"base_url": f"{url}/v1", **options}, instance="live"
    )
    made.append(provider)
    return provider


def pieces(secret: str, size: int = 4) -> set[str]:
    """Every run of ``size`` characters of ``secret``: a mask that keeps any of them (the
    first four, the last four) still gives part of the secret away."""
    return {secret[i : i + size] for i in range(len(secret) - size + 1)}


def shown_pieces(secret: str, texts: list[str]) -> list[tuple[str, str]]:
    """``(piece, text)`` for each 4-character piece of ``secret`` found in one of ``texts``."""
    return [
        (piece, text[:200]) for text in texts for piece in sorted(pieces(secret)) if piece in text
    ]


# A key whose every 4-character piece mixes lower case, upper case and digits, so that no
# piece can turn up by chance in what jackfield prints (words, ports, hex ids, JSON).
KEY = "sk-q7Rm2Xv9Kp4Tz6Wd8Hn3Jb5"


# --- Retry-After as an HTTP-date ----------------------------------------------------------------


@fault(
    "retries",
    "429 with Retry-After as an HTTP-date 3 s ahead, backoff 10 ms (the wait is timed)",
    "waits until that date (over 1.5 s, against 10 ms without it), then the answer",
)
def test_a_retry_after_date_is_waited_for(providers: list[Any]) -> None:
    # HTTP-dates have whole seconds, so "3 s ahead" is between 2 and 3 s from now: the lower
    # bound 1.5 s cannot flake, and without the date the retry would come after the 10 ms
    # backoff. The upper bound is generous (the total deadline is 20 s).
    when = email.utils.formatdate(time.time() + 3, usegmt=True)
    with serving([Reply(status=429, headers={"retry-after": when}), Reply(body=CHUNKS)]) as server:
        provider = create(
            providers,
            server.url,
            retries={"attempts": 1, "backoff": 0.01, "max_backoff": 0.01},
            timeouts={"connect": 2, "first_byte": 3, "idle": 3, "total": 20},
        )
        started = time.monotonic()
        assert provider.complete("hi").text == "Hello"
        waited = time.monotonic() - started
    assert len(server.requests) == 2
    assert 1.5 <= waited < 15, waited


# --- a literal key, looked for in pieces -------------------------------------------------------


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines += [self.format(record), repr(record.args)]


def refusing(request: Any) -> Reply:
    """A server that refuses every key (without echoing it: what jackfield itself prints is
    what is looked at here)."""
    body = b'{"error": {"message": "invalid API key", "code": 401}}'
    return Reply(status=401, headers={"content-type": "application/json"}, body=[body])


@fault(
    "secrets",
    "a literal key looked for in every 4-character piece: Secret repr/str/JSON, provider and "
    "options reprs, explain, dry run, a refused call, DEBUG logs, the CLI",
    "no piece of the key appears anywhere",
)
def test_no_piece_of_a_literal_key_shows(providers: list[Any], tmp_path: Path) -> None:
    secret = Secret(KEY)
    shown = [repr(secret), str(secret), json.dumps(secret.unstructure()), repr([secret])]
    capture = Capture()
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(capture)
    root.setLevel(logging.DEBUG)
    try:
        with serving(refusing) as server:
            provider = create(providers, server.url, api_key=KEY, retries={"attempts": 0})
            shown += [repr(provider), str(provider), repr(provider.options)]
            shown += [provider.explain(), str(provider.dry_run("hi"))]
            with pytest.raises(ProviderError) as info:
                provider.complete("hi")
            shown += [str(info.value), repr(info.value), repr(info.value.body)]
            assert any(KEY in r.headers.get("authorization", "") for r in server.requests)
            config = tmp_path / "jackfield.toml"
            config.write_text(
                f'[providers.s]\ntype = "openai-compatible"\nbase_url = "{server.url}/v1"\n'
                f'api_key = "{KEY}"\nretries = {{ attempts = 0 }}\n',
                encoding="utf-8",
            )
            for args in (["explain", "s:m"], ["chat", "-m", "s:m", "--dry-run", "hi"],
                         ["chat", "-m", "s:m", "hi"]):  # fmt: skip
                shown.append(cli_output(config, *args))
    finally:
        root.removeHandler(capture)
        root.setLevel(old_level)
    shown += capture.lines
    assert not shown_pieces(KEY, shown)


# --- every masked header name -------------------------------------------------------------------

# What must be masked, listed here rather than read from the code (a name dropped from the
# code's list must fail this test): the name holds authorization, key, token, secret, cookie or
# password, in any case.
CREDENTIAL_HEADERS = {
    "Authorization": "Bearer q7Rm2Xv9Kp4T",
    "Proxy-Authorization": "Basic Zq4Wd8Hn3Jb5",
    "Cookie": "session=Vx3Kq8Tm5Rz2",
    "cookie2": "id=Hb7Jn4Wd9Pq2",
    "X-Api-Key": "Lm6Nb3Vc8Xz1",
    "api-key": "Qw2Er5Ty8Ui4",
    "X-Goog-Api-Key": "Jk9Hg6Fd3Sa7",
    "X-Auth-Token": "Pl1Ok4Ij7Uh3",
    "X-Client-Secret": "Yg5Tf2Rd9Es6",
    "X-Password": "Bn8Mv4Cx1Zl7",
    "SECRET-KEY": "Rt3Yu6Io9Pa2",
}
PLAIN_HEADERS = {"X-Request-Tag": "Gh4Jk7Lm2Nb8", "Accept-Language": "en"}


@fault(
    "secrets",
    "every credential-like header (Authorization, Proxy-Authorization, Cookie, X-Api-Key, "
    "api-key, tokens, secrets, passwords, any case) in a dry run and a request's repr",
    "each value masked (a Bearer scheme kept), other headers shown as they are",
)
def test_every_credential_header_is_masked(providers: list[Any]) -> None:
    headers = {**CREDENTIAL_HEADERS, **PLAIN_HEADERS}
    provider = create(providers, "http://127.0.0.1:9", headers=headers)
    dry = provider.dry_run("hi")["headers"]
    request = repr(HTTPRequest("POST", "http://127.0.0.1:9/v1/chat/completions", headers))
    for name, value in CREDENTIAL_HEADERS.items():
        secret = value.partition(" ")[2] or value
        assert name in dry, name
        assert not shown_pieces(secret, [dry[name], request]), name
        assert "********" in dry[name], name
    assert dry["Authorization"] == "Bearer ********"
    for name, value in PLAIN_HEADERS.items():
        assert dry[name] == value
        assert value in request
