"""Secrets, round 2: what an adversarial probe found printed, and the command line's own report.

- A key that cannot travel in a header (a line break, a space at an end, non-ASCII) never shows
  in a message; a variable's or file's trailing newline (a CRLF ``.env``) is stripped.
- A server echoing a secret anywhere (``X-Request-Id``, error events in 200 streams, 200 JSON or
  text bodies quoted in errors, ``\\u``-escaped bodies, Ollama's in-stream errors) never gets
  it shown: every secret of the call is scrubbed, escaped and cut-short forms included.
- Other credentials (headers named like auth, URL passwords) are masked in reprs, ``explain``,
  dry runs, errors, ``status`` and in httpx's and httpcore's log records.
- ``status`` and ``models`` bound each instance's probe and report each failure in its own row.
- What the command line writes never carries terminal control sequences from a server, never
  crashes on a lone surrogate, and ``--json`` lines are valid JSON.

Leaks are looked for after undoing escapes (``\\u``, ``\\x``, ``%XX``, HTML entities), and any 8
characters of a secret in a row count: a secret cut short in a quoted snippet is a leak too.
"""

from __future__ import annotations

import asyncio
import html
import io
import json
import logging
import re
import secrets
import threading
import time
import traceback
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import jackfield
from jackfield import ConfigError, JackfieldError, ProviderError, Secret
from jackfield._cli import main as cli
from jackfield.http import Scrubber, mask_headers
from tests.reliability.evidence import count
from tests.support.scripted_server import Pause, Received, Reply, serving, sse

fault = pytest.mark.reliability

JSON = {"content-type": "application/json"}
OK_CHAT = sse({"choices": [{"index": 0, "delta": {"content": "hi"}, "finish_reason": "stop"}]})
MODELS = json.dumps({"data": [{"id": "m"}]}).encode()


# --- looking for leaks ------------------------------------------------------------------------------


def unescaped(text: str) -> str:
    """``text`` with the escapes a secret could hide behind undone (twice: escapes of escapes)."""
    for _ in range(2):
        text = re.sub(r"\\+u([0-9a-fA-F]{4})", lambda m: chr(int(m[1], 16)), text)
        text = re.sub(r"\\+x([0-9a-fA-F]{2})", lambda m: chr(int(m[1], 16)), text)
        text = html.unescape(unquote(text))
    return text


def leaks(texts: Iterable[str], secret: str, window: int = 8) -> list[str]:
    """The texts showing ``window`` characters of ``secret`` in a row, escaped or not."""
    pieces = {secret[i : i + window] for i in range(max(1, len(secret) - window + 1))}
    return [t for t in texts if any(p in unescaped(t) for p in pieces)]


def new_key() -> str:
    return "sk-" + secrets.token_hex(16)


def shown(exc: BaseException) -> list[str]:
    """Everything an exception shows: message, repr, arguments, body, request id, and the
    traceback with every exception it was raised from."""
    texts = [str(exc), repr(exc), repr(exc.args), "".join(traceback.format_exception(exc))]
    for name in ("body", "request_id", "message"):
        texts.append(repr(getattr(exc, name, None)))
    context = exc.__context__
    while context is not None:  # reachable even when not printed
        texts += [repr(context), repr(vars(context))]
        context = context.__context__
    return texts


class Capture(logging.Handler):
    """Every log record, formatted and with its arguments."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines += [self.format(record), repr(record.args), repr(record.msg)]


class logs_captured:
    """Capture every record at DEBUG (jackfield's, httpx's, httpcore's) while inside."""

    def __enter__(self) -> Capture:
        self.capture, root = Capture(), logging.getLogger()
        self.level = root.level
        root.addHandler(self.capture)
        root.setLevel(logging.DEBUG)
        return self.capture

    def __exit__(self, *exc: object) -> None:
        root = logging.getLogger()
        root.removeHandler(self.capture)
        root.setLevel(self.level)


def cli_output(config: Path, *args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli(["--config", str(config), *args], out, err)
    return code, out.getvalue(), err.getvalue()


def everything_shown(
    provider_type: str, url: str, options: dict[str, Any], *, calls: bool = True
) -> list[str]:
    """Reprs, explain, dry run and every call's outcome of a provider (logs are captured
    separately)."""
    registry = jackfield.load_registry()
    try:
        provider = registry.create(provider_type, {"base_url": url, **options})
    except JackfieldError as exc:
        return shown(exc)
    texts = [repr(provider), str(provider), repr(provider.options), provider.explain()]
    attempts: list[Callable[[], Any]] = [
        lambda: provider.dry_run("hi"),
        # The request as built for sending (the target: the URL without its password).
        lambda: provider.http_request("GET", provider.target.base_url + "/models"),
    ]
    if calls:
        attempts += [
            lambda: provider.complete("hi"),
            lambda: list(provider.stream("hi")),
            provider.list_models,
            provider.status,
            provider.validate,
        ]
    for attempt in attempts:
        try:
            texts.append(repr(attempt()))
        except Exception as exc:
            texts += shown(exc)
    provider.close()
    return texts


def ok_server(request: Received) -> Reply:
    if request.path.endswith("/models"):
        return Reply(headers=JSON, body=[MODELS])
    return Reply(body=OK_CHAT)


# --- 3. a key that cannot travel ---------------------------------------------------------------------

UNSENDABLE = {
    "a line break inside": "{key}\nrest",
    "a space at the end": "{key} ",
    "a space at the start": " {key}",
    "a tab inside": "{key}\tx",
    "a non-ASCII letter": "{key}\u00e9",
    "a carriage return inside": "{key}\rrest",
}


@fault(
    "secrets",
    "a key with a line break, a space at either end, a tab or non-ASCII (literal, x-api-key, "
    "headers option) through every call, dry runs, explain, logs and the CLI",
    "ConfigError naming the header, never the value; the key shows nowhere",
)
@pytest.mark.parametrize("shape", sorted(UNSENDABLE))
def test_a_key_that_cannot_travel_never_shows(shape: str, tmp_path: Path) -> None:
    key = new_key()
    raw = UNSENDABLE[shape].format(key=key)
    texts: list[str] = []
    with serving(ok_server) as server, logs_captured() as logs:
        for how in ({"api_key": raw}, {"api_key": raw, "api_key_header": "x-api-key"},
                    {"headers": {"X-Custom-Auth": raw}}):  # fmt: skip
            options = {**how, "retries": {"attempts": 0}}
            texts += everything_shown("openai-compatible", f"{server.url}/v1", options)
            texts += everything_shown("ollama", server.url, options)
        config = tmp_path / "jackfield.toml"
        config.write_text(
            f'[providers.s]\ntype = "openai-compatible"\nbase_url = "{server.url}/v1"\n'
            f"api_key = {json.dumps(raw)}\nretries = {{ attempts = 0 }}\n",
            encoding="utf-8",
        )
        for args in (["explain", "s:m"], ["chat", "-m", "s:m", "--dry-run", "hi"],
                     ["chat", "-m", "s:m", "hi"], ["status", "s"], ["models", "s"],
                     ["chat", "-m", "s:m", "--json", "hi"]):  # fmt: skip
            texts += cli_output(config, *args)[1:]
        # Nothing unsendable went out.
        assert all(key not in "".join(r.headers.values()) for r in server.requests)
    assert any("cannot be sent" in text for text in texts)  # the reason was given
    found = leaks([*texts, *logs.lines], key)
    assert not found, f"the key showed in: {found[0][:300]!r}"


@fault(
    "secrets",
    "a key read from a variable or a file with a trailing newline (LF, CRLF, a CRLF .env)",
    "stripped: the call succeeds with the key alone",
)
@pytest.mark.parametrize("where", ["env", "file"])
@pytest.mark.parametrize("ending", ["\n", "\r\n", "\r", " \n"])
def test_a_key_with_a_trailing_newline_is_stripped(
    where: str, ending: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = new_key()
    if where == "env":
        monkeypatch.setenv("JACKFIELD_TEST_ROUND2_KEY", key + ending)
        reference: dict[str, str] = {"env": "JACKFIELD_TEST_ROUND2_KEY"}
    else:
        path = tmp_path / "key"
        path.write_bytes((key + ending).encode())
        path.chmod(0o600)
        reference = {"file": str(path)}
    with serving(ok_server) as server:
        registry = jackfield.load_registry()
        with registry.create(
            "openai-compatible", {"base_url": f"{server.url}/v1", "api_key": reference}
        ) as provider:
            assert provider.complete("hi").text == "hi"
        assert server.requests[0].headers["authorization"] == f"Bearer {key}"
    assert Secret.coerce(reference).reveal() == key


# --- 5. secrets echoed by a server ---------------------------------------------------------------


def _escaped(text: str) -> str:
    return "".join(f"\\u{ord(c):04x}" for c in text)


def _entities(text: str) -> str:
    return "".join(f"&#{ord(c)};" for c in text)


def _echoed(request: Received) -> str:
    """What the client sent as credentials, as a hostile server would echo it."""
    auth = request.headers.get("authorization", "")
    return auth.removeprefix("Bearer ") or request.headers.get("x-api-key", "")


def _sse_reply(body: bytes | list[bytes], **headers: str) -> Reply:
    pieces = body if isinstance(body, list) else [body]
    return Reply(headers={"content-type": "text/event-stream", **headers}, body=pieces)


ECHOES: dict[str, Callable[[str], Reply]] = {
    "401 with the key in X-Request-Id": lambda k: Reply(
        401, {**JSON, "x-request-id": f"req-{k}"}, [b'{"error": {"message": "no"}}']
    ),
    "an error event inside a 200 stream": lambda k: _sse_reply(
        sse({"error": {"message": f"bad key {k}", "key": k}})
    ),
    "an 'event: error' inside a 200 stream": lambda k: _sse_reply(
        f"event: error\ndata: wrong key {k}\n\n".encode()
    ),
    "a non-JSON event quoted in the error": lambda k: _sse_reply(f"data: oops {k}\n\n".encode()),
    "a 200 JSON error body": lambda k: Reply(
        200, JSON, [json.dumps({"error": {"message": f"k={k}", "k": [k]}}).encode()]
    ),
    "a malformed 200 JSON body quoted": lambda k: Reply(200, JSON, [f'{{"x": "{k}"'.encode()]),
    "a 200 JSON body that is no chat": lambda k: Reply(200, JSON, [f'{{"x": "{k}"}}'.encode()]),
    "a 200 HTML page quoted": lambda k: Reply(
        200, {"content-type": "text/html"}, [f"<p>{k}</p>".encode()]
    ),
    "a \\u-escaped 401 body (exc.body parsed)": lambda k: Reply(
        401, JSON, [f'{{"error": {{"message": "k={_escaped(k)}", "k": "{_escaped(k)}"}}}}'.encode()]
    ),
    "a \\u-escaped error event in a 200 stream": lambda k: _sse_reply(
        f'data: {{"error": {{"message": "k={_escaped(k)}"}}}}\n\n'.encode()
    ),
    "a \\u-escaped malformed event, cut in the key": lambda k: _sse_reply(
        f'data: {{"error": {{"message": "{_escaped(k)}"\n\n'.encode()
    ),
    "a 401 HTML page with the key as entities": lambda k: Reply(
        401, {"content-type": "text/html"}, [f"<p>{_entities(k)}</p>".encode()]
    ),
    "a 500 text body with the key percent-encoded": lambda k: Reply(
        500, {"content-type": "text/plain"}, ["".join(f"%{b:02X}" for b in k.encode()).encode()]
    ),
    "a malformed event cut short after 10 characters of the key": lambda k: _sse_reply(
        f"data: {'x' * 103}{k}\n\n".encode()
    ),
}


@fault(
    "secrets",
    "a server echoing the key in X-Request-Id, error events and malformed events of 200 "
    "streams, 200 JSON/HTML bodies, \\u-escaped, entity- and percent-encoded bodies, cut short",
    "every error scrubbed (message, body, request id, causes), sync and async",
)
@pytest.mark.parametrize("case", sorted(ECHOES))
def test_a_key_echoed_by_the_server_is_scrubbed(case: str) -> None:
    key = new_key()

    def script(request: Received) -> Reply:
        return ECHOES[case](_echoed(request))

    texts: list[str] = []
    with serving(script) as server, logs_captured() as logs:
        registry = jackfield.load_registry()
        options = {"base_url": f"{server.url}/v1", "api_key": key, "retries": {"attempts": 0}}
        provider = registry.create("openai-compatible", options)
        for call in (lambda: provider.complete("hi"), lambda: list(provider.stream("hi"))):
            with pytest.raises(ProviderError) as info:
                call()
            texts += shown(info.value)

        async def in_async() -> None:
            try:
                async with provider.astream("hi") as stream:
                    async for _ in stream:
                        pass
            except ProviderError as exc:
                texts.extend(shown(exc))
            else:
                texts.append("no error")
            await provider.aclose()

        asyncio.run(in_async())
        provider.close()
        assert all(key in _echoed(r) for r in server.requests)  # the key was really sent
    assert "no error" not in texts
    count("echo cases: errors inspected", 3)
    found = leaks([*texts, *logs.lines], key)
    assert not found, f"the key showed in: {found[0][:300]!r}"


OLLAMA_ECHOES: dict[str, Callable[[str], list[bytes]]] = {
    "an in-stream error": lambda k: [json.dumps({"error": f"unauthorized: {k}"}).encode() + b"\n"],
    "an in-stream error object": lambda k: [
        json.dumps({"error": {"message": f"bad {k}", "key": k}}).encode() + b"\n"
    ],
    "a malformed line quoted": lambda k: [f'{{"message": "{k}"\n'.encode()],
    "an escaped in-stream error": lambda k: [f'{{"error": "{_escaped(k)}"}}\n'.encode()],
}


@fault(
    "secrets",
    "Ollama's in-stream error (plain, object, escaped) and a malformed NDJSON line echoing the key",
    "scrubbed: the key shows nowhere",
)
@pytest.mark.parametrize("case", sorted(OLLAMA_ECHOES))
def test_a_key_in_an_ollama_in_stream_error_is_scrubbed(case: str) -> None:
    key = new_key()

    def script(request: Received) -> Reply:
        body = OLLAMA_ECHOES[case](_echoed(request))
        return Reply(headers={"content-type": "application/x-ndjson"}, body=body)

    texts: list[str] = []
    with serving(script) as server:
        options = {"base_url": server.url, "api_key": key, "retries": {"attempts": 0}, "model": "m"}
        with jackfield.load_registry().create("ollama", options) as provider:
            for call in (lambda: provider.complete("hi"), lambda: list(provider.stream("hi"))):
                with pytest.raises(ProviderError) as info:
                    call()
                texts += shown(info.value)
        assert all(key in _echoed(r) for r in server.requests)
    found = leaks(texts, key)
    assert not found, f"the key showed in: {found[0][:300]!r}"


ENCODINGS: dict[str, Callable[[str], str]] = {
    "plain": lambda s: s,
    "json \\u": _escaped,
    "json \\u in a repr": lambda s: repr(_escaped(s)),
    "json.dumps": lambda s: json.dumps(s),
    "percent": lambda s: "".join(f"%{b:02x}" for b in s.encode()),
    "html entities": _entities,
    "html hex entities": lambda s: "".join(f"&#x{ord(c):X};" for c in s),
    "html.escape": html.escape,
    "mixed": lambda s: "".join(c if i % 2 else f"\\u{ord(c):04X}" for i, c in enumerate(s)),
}


@fault(
    "secrets",
    "random printable secrets inside random text, written plain, \\u-escaped (also in a repr), "
    "percent-encoded, as HTML entities or mixed, whole or cut short before '...'",
    "Scrubber leaves no 8 characters of the secret in a row",
)
@settings(max_examples=300, deadline=None)
@given(
    secret=st.text(  # printable ASCII, as a header value must be; "*" is the mask's own
        st.characters(min_codepoint=33, max_codepoint=126, exclude_characters="*"),
        min_size=8,
        max_size=64,
    ),
    before=st.text(max_size=40),
    after=st.text(max_size=40),
    encoding=st.sampled_from(sorted(ENCODINGS)),
    cut=st.one_of(st.none(), st.integers(min_value=8, max_value=64)),
)
def test_the_scrubber_finds_a_secret_however_written(
    secret: str, before: str, after: str, encoding: str, cut: int | None
) -> None:
    count("fuzz examples: scrubbed secrets")
    written_secret = ENCODINGS[encoding](secret)
    if cut is not None:  # a snippet cut short inside the secret, as bodies are quoted
        written_secret = written_secret[:cut] + "..."
        after = ""
    text = before + written_secret + after
    scrubbed = Scrubber([secret]).text(text)
    assert not leaks([scrubbed], secret), (text, scrubbed)


@fault(
    "secrets",
    "two keys sharing their first 11 characters, one echoed whole or cut short; a key ending "
    "in '%' or '&' echoed as %25 or &amp;",
    "masked whole: no end of a key, and no piece of an escape, is left beside the mask",
)
def test_keys_sharing_a_start_and_escaped_last_characters_are_masked_whole() -> None:
    a, b = "sk-abcdefgh12345678", "sk-abcdefgh87654321"
    both = Scrubber([a, b])
    assert both.text(f"key: {b}") == "key: ********"  # 87654321 showed: a's cut form won
    assert both.text(f"key: {a}, then {b}.") == "key: ********, then ********."
    assert both.text("quoted: sk-abcdefgh8765...") == "quoted: ********..."
    assert Scrubber(["0000000%"]).text("%30" * 7 + "%25") == "********"  # "25" was left
    assert Scrubber(["abcdefg&"]).text("k=abcdefg&amp;") == "k=********"  # "amp;" was left


@fault(
    "secrets",
    "a 64 KiB error body of backslashes, '%', '&#' or near-misses of the key",
    "scrubbed in linear time (well under a second each; a quadratic pattern took ~20 s)",
)
def test_scrubbing_a_hostile_body_takes_linear_time() -> None:
    key = new_key()
    scrubber = Scrubber([key, "hunter2-password"])
    bodies = ["\\" * 65536, "%" * 65536, "&#" * 32768, key[:-1] * (65536 // len(key)),
              "\\u0073" * 10000, (key[:12] + "..") * 4000]  # fmt: skip
    started = time.monotonic()
    for body in bodies:
        scrubber.text(body)
    # Linear: about 10 ms each here; 5 s for all is a ceiling for a slow, loaded machine.
    assert time.monotonic() - started < 5


# --- 10. other credentials: headers named like auth, URL passwords, log records --------------------

SECRET_HEADERS = [
    "Authorization",
    "Proxy-Authorization",
    "api-key",
    "X-API-Key",
    "Cookie",
    "X-Auth-Token",
    "X-Custom-Auth",
    "X-Client-Secret",
    "X-Session-Id",
]


@fault(
    "secrets",
    "credential-like header names (Authorization, Proxy-Authorization, api-key, X-API-Key, "
    "Cookie, *token*, *auth*, *secret*, *session*)",
    "masked by mask_headers; other headers shown",
)
@pytest.mark.parametrize("name", SECRET_HEADERS)
def test_headers_named_like_a_credential_are_masked(name: str) -> None:
    value = new_key()
    masked = mask_headers({name: value, "X-Trace": "visible", "Accept": "text/plain"})
    assert value not in repr(masked)
    assert masked["X-Trace"] == "visible"
    assert masked["Accept"] == "text/plain"
    scheme = mask_headers({name: f"Bearer {value}"})[name]
    assert scheme == ("Bearer ********" if "authorization" in name.lower() else "********")


@fault(
    "secrets",
    "a literal key's repr, str and JSON form",
    "no character of the key: not even its first 4",
)
def test_a_literal_key_shows_no_part_of_itself() -> None:
    key = new_key()
    secret = Secret(key)
    for text in (repr(secret), str(secret), json.dumps(secret.unstructure())):
        assert key[:4] not in text
        assert key[-4:] not in text


@fault(
    "secrets",
    "URLs with user:password@, a token as user name, percent-encoded passwords",
    "mask_url shows the user, masks the password (or the lone token)",
)
def test_mask_url() -> None:
    from jackfield.http import mask_url

    assert mask_url("http://u:p%40ss@h:1/v1") == "http://u:********@h:1/v1"
    assert (
        mask_url("see https://TOKEN@h/x and http://h/y")
        == "see https://********@h/x and http://h/y"
    )
    assert mask_url("http://h/a@b") == "http://h/a@b"  # an @ in the path is no password
    assert mask_url("mail me@example.com") == "mail me@example.com"


@fault(
    "secrets",
    "an Azure api-key header, a custom auth header, a header of any name given as a secret "
    "file reference, and a user:password@ base URL through reprs, "
    "explain, dry runs, errors (401 echoing them, refused connection), status, models, the CLI "
    "and httpx/httpcore log records at DEBUG",
    "masked everywhere; the password still sent, as Authorization: Basic",
)
@pytest.mark.parametrize("answer", ["refuses", "echoes 401", "answers"])
def test_header_values_and_url_passwords_never_show(answer: str, tmp_path: Path) -> None:
    password, api_key, custom, gateway = f"pw-{new_key()}", new_key(), new_key(), new_key()
    gateway_file = tmp_path / "gateway-token"
    gateway_file.write_text(gateway + "\n", encoding="utf-8")
    gateway_file.chmod(0o600)

    def script(request: Received) -> Reply:
        echoed = " ".join(
            request.headers.get(h, "")
            for h in ("authorization", "api-key", "x-custom-auth", "x-gateway")
        )
        if answer == "echoes 401":
            body = json.dumps({"error": {"message": f"denied {echoed}"}}).encode()
            return Reply(401, {**JSON, "x-request-id": echoed}, [body])
        if request.path.endswith("/models"):
            return Reply(headers={**JSON, "x-request-id": echoed}, body=[MODELS])
        return Reply(
            headers={"content-type": "text/event-stream", "x-request-id": echoed}, body=OK_CHAT
        )

    with serving(script) as server, logs_captured() as logs:
        port = server.port if answer != "refuses" else 9  # the discard port: nothing listens
        url = f"http://user:{password}@127.0.0.1:{port}/v1"
        # X-Gateway is named like nothing secret: being a secret reference is what masks it.
        headers = {
            "api-key": api_key,
            "X-Custom-Auth": custom,
            "X-Gateway": {"file": str(gateway_file)},
        }
        options = {"headers": headers, "retries": {"attempts": 0}, "timeouts": {"connect": 2}}
        texts = everything_shown("openai-compatible", url, options)
        texts += everything_shown("ollama", url.removesuffix("/v1"), options)
        config = tmp_path / "jackfield.toml"
        config.write_text(
            f'[providers.s]\ntype = "openai-compatible"\nbase_url = "{url}"\n'
            f'headers = {{ api-key = "{api_key}", X-Custom-Auth = "{custom}", '
            f'X-Gateway = {{ file = "{gateway_file}" }} }}\n'
            "retries = { attempts = 0 }\n",
            encoding="utf-8",
        )
        for args in (["explain", "s:m"], ["chat", "-m", "s:m", "--dry-run", "hi"],
                     ["chat", "-m", "s:m", "hi"], ["status", "s"], ["status", "--json", "s"],
                     ["models", "s"]):  # fmt: skip
            texts += cli_output(config, *args)[1:]
        if answer != "refuses":
            import base64

            basic = "Basic " + base64.b64encode(f"user:{password}".encode()).decode()
            assert all(r.headers.get("authorization") == basic for r in server.requests)
            assert all(r.headers.get("api-key") == api_key for r in server.requests)
            assert all(r.headers.get("x-gateway") == gateway for r in server.requests)
    assert any("user:********@127.0.0.1" in text for text in texts)  # explain shows whose
    log_lines = logs.lines
    assert any("HTTP Request" in line for line in log_lines) or answer == "refuses"
    for secret in (password, api_key, custom, gateway):
        found = leaks([*texts, *log_lines], secret)
        assert not found, f"a secret showed in: {found[0][:300]!r}"


@fault(
    "secrets",
    "a user:password@ in base_url (openai-compatible, Ollama at .../api), with and without a key",
    "sent as Authorization: Basic (winning over a Bearer key, as before); x-api-key still sent",
)
@pytest.mark.parametrize("provider_type", ["openai-compatible", "ollama"])
@pytest.mark.parametrize("key_header", [None, "authorization", "x-api-key"])
def test_a_url_password_is_sent_as_basic_auth(provider_type: str, key_header: str | None) -> None:
    import base64

    key = new_key()

    def script(request: Received) -> Reply:
        if request.path == "/api/tags":
            return Reply(headers=JSON, body=[b'{"models": []}'])
        if request.path == "/api/chat":
            done = {"message": {"role": "assistant", "content": "hi"}, "done": True}
            return Reply(
                headers={"content-type": "application/x-ndjson"},
                body=[json.dumps(done).encode() + b"\n"],
            )
        return ok_server(request)

    with serving(script) as server:
        path = "/v1" if provider_type == "openai-compatible" else "/api"
        options: dict[str, Any] = {"base_url": server.url.replace("//", "//u%40x:p%3Aw@") + path}
        if provider_type == "ollama":
            options["model"] = "m"  # Ollama needs one (refused before sending otherwise)
        if key_header is not None:
            options |= {"api_key": key, "api_key_header": key_header}
        with jackfield.load_registry().create(provider_type, options) as provider:
            assert "p%3Aw" not in repr(provider)
            assert "p:w" not in repr(provider)
            provider.list_models()
            provider.complete("hi")
        basic = "Basic " + base64.b64encode(b"u@x:p:w").decode()
        for request in server.requests:
            assert request.headers.get("authorization") == basic
            assert request.headers.get("x-api-key") == (key if key_header == "x-api-key" else None)
            assert "@" not in request.path


@fault(
    "secrets",
    "httpx and httpcore log records at DEBUG (caplog) while a server echoes the key in headers",
    "no record carries the key",
)
def test_http_library_log_records_carry_no_key(caplog: pytest.LogCaptureFixture) -> None:
    key = new_key()

    def script(request: Received) -> Reply:
        headers = {"x-request-id": _echoed(request), "set-cookie": f"k={_echoed(request)}"}
        if request.path.endswith("/models"):
            return Reply(headers={**JSON, **headers}, body=[MODELS])
        return Reply(headers={"content-type": "text/event-stream", **headers}, body=OK_CHAT)

    caplog.set_level(logging.DEBUG)
    with serving(script) as server:
        options = {"base_url": f"{server.url}/v1", "api_key": key}
        with jackfield.load_registry().create("openai-compatible", options) as provider:
            provider.complete("hi")
            provider.list_models()
    names = {record.name for record in caplog.records}
    assert {"httpx", "httpcore.http11"} <= names  # the libraries did log, at DEBUG
    messages = [record.getMessage() for record in caplog.records] + [caplog.text]
    found = leaks(messages, key)
    assert not found, f"the key showed in a log record: {found[0][:300]!r}"


# --- 13. status and models: each instance bounded, each failure its own row ------------------------


def trickle(request: Received) -> Reply:
    """One byte every half second, for a minute: every per-read deadline stays happy."""
    return Reply(headers=JSON, body=[piece for _ in range(120) for piece in (b" ", Pause(0.5))])


def html_page(request: Received) -> Reply:
    return Reply(headers={"content-type": "text/html"}, body=[b"<html>login</html>"])


def run_cli(args: list[str], limit: float = 30.0) -> tuple[int | None, str, str, float]:
    """Run the command line in a thread; ``None`` as the code if it did not end in ``limit``."""
    out, err = io.StringIO(), io.StringIO()
    result: list[int] = []
    started = time.monotonic()
    worker = threading.Thread(target=lambda: result.append(cli(args, out, err)), daemon=True)
    worker.start()
    worker.join(limit)
    return (
        (result[0] if result else None),
        out.getvalue(),
        err.getvalue(),
        time.monotonic() - started,
    )


@fault(
    "cli",
    "status/models over a trickling server (a byte every 0.5 s), an HTML page and a working "
    "server at once, --timeout 1",
    "ends in about the timeout; each failure in its own row, the working server reported ok",
)
@pytest.mark.parametrize("command", ["status", "models"])
def test_status_and_models_bound_each_instance(command: str, tmp_path: Path) -> None:
    with serving(trickle) as slow, serving(html_page) as page, serving(ok_server) as good:
        config = tmp_path / "jackfield.toml"
        config.write_text(
            "".join(
                f'[providers.{name}]\ntype = "openai-compatible"\nbase_url = "{server.url}/v1"\n'
                for name, server in (("slow", slow), ("page", page), ("good", good))
            ),
            encoding="utf-8",
        )
        args = ["--config", str(config), command, "slow", "page", "good", "--timeout", "1"]
        code, out, err, took = run_cli(args)
        if code is None:  # still hanging: let the servers go, then fail
            pytest.fail(f"{command} still running after {took:.0f} s")
    # Bounded by --timeout (1 s, the instances asked at once): 30 s is a generous ceiling for
    # a loaded machine; unbounded, the trickle alone holds it for a minute.
    assert took < 30
    assert code == 1
    if command == "status":
        rows = {line.split()[0]: line for line in out.splitlines() if not line.startswith(" ")}
        assert set(rows) == {"slow", "page", "good"}, out
        assert rows["good"].split()[1] == "ok"
        assert rows["slow"].split()[1] != "ok"
        assert rows["page"].split()[1] != "ok"
        # Said by the command line's bound, or by the library's total deadline if it ends first.
        assert "within 1 s" in out or "total" in out
    else:
        assert out.split() == ["good", "m", "context", "?", "chat"]
        failures = dict(
            line.removeprefix("jackfield: ").split(": ", 1) for line in err.splitlines()
        )
        assert set(failures) == {"slow", "page"}, err
        assert "within 1 s" in failures["slow"] or "total" in failures["slow"]


# --- 14. what the command line writes ------------------------------------------------------------------

HOSTILE = "\x1b]0;owned\x07\x1b[31mred\x1b[0m\x9b2J\rback\x08\u202eevil\x00"
NICE = "h\u00e9llo \U0001f389 \u4e2d\u6587\n\tindented"
UNSAFE_CHARS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def real_streams() -> tuple[io.TextIOWrapper, io.TextIOWrapper]:
    """Streams that encode like a terminal's (UTF-8, strict), not StringIO's anything-goes."""
    return (
        io.TextIOWrapper(io.BytesIO(), encoding="utf-8", write_through=True),
        io.TextIOWrapper(io.BytesIO(), encoding="utf-8", write_through=True),
    )


def written(stream: io.TextIOWrapper) -> str:
    raw = stream.buffer
    assert isinstance(raw, io.BytesIO)
    return raw.getvalue().decode("utf-8")


@fault(
    "cli",
    "terminal control sequences (OSC, CSI, BEL, 8-bit CSI, bidi override, NUL) in a streamed "
    "answer and in error messages; chat, chat --json, status",
    "shown escaped; normal Unicode, newlines and tabs unchanged; --json lines valid JSON",
)
def test_terminal_control_sequences_never_reach_the_terminal(tmp_path: Path) -> None:
    def script(request: Received) -> Reply:
        if request.path.endswith("/models"):
            body = json.dumps({"error": {"message": f"down {HOSTILE}"}}).encode()
            return Reply(500, JSON, [body])
        delta = {"choices": [{"index": 0, "delta": {"content": HOSTILE + NICE}}]}
        return Reply(
            body=sse(delta, {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
        )

    with serving(script) as server:
        config = tmp_path / "jackfield.toml"
        config.write_text(
            f'[providers.s]\ntype = "openai-compatible"\nbase_url = "{server.url}/v1"\n'
            "retries = { attempts = 0 }\n",
            encoding="utf-8",
        )
        outputs = {}
        for args in (["chat", "-m", "s:m", "hi"], ["chat", "-m", "s:m", "--json", "hi"],
                     ["status", "s"], ["status", "--json", "s"]):  # fmt: skip
            out, err = real_streams()
            code = cli(["--config", str(config), *args], out, err)
            outputs[" ".join(args)] = (code, written(out), written(err))
    for name, (_, out, err) in outputs.items():
        assert not UNSAFE_CHARS.search(out + err), f"{name}: {out + err!r}"
    chat = outputs["chat -m s:m hi"][1]
    assert NICE in chat  # normal text untouched
    assert "\\u001b]0;owned\\u0007" in chat
    assert "\\u009b2J" in chat
    assert "\\u202e" in chat
    for line in outputs["chat -m s:m --json hi"][1].splitlines():
        json.loads(line)
    texts = [
        json.loads(line).get("text") for line in outputs["chat -m s:m --json hi"][1].splitlines()
    ]
    assert HOSTILE + NICE in texts  # JSON escapes decode back to what the server sent
    status_out = outputs["status s"][1]
    assert "down \\u001b]0;owned" in status_out
    json.loads(outputs["status --json s"][1])


@fault(
    "cli",
    "a lone surrogate in an error message (chat --json, status) and in a streamed answer, "
    "written to a strict UTF-8 stream",
    "no crash: escaped, every --json line valid JSON",
)
def test_a_lone_surrogate_never_crashes_the_cli(tmp_path: Path) -> None:
    def script(request: Received) -> Reply:
        body = b'{"error": {"message": "broken \\udc80 and \\ud83d here"}}'
        if (
            request.path.endswith("/chat/completions")
            and request.body.count(b"stream")
            and b"ok" in request.body
        ):
            delta = b'{"choices": [{"index": 0, "delta": {"content": "a\\udc80b"}, "finish_reason": "stop"}]}'
            return Reply(body=[b"data: " + delta + b"\n\n", b"data: [DONE]\n\n"])
        return Reply(500, JSON, [body])

    with serving(script) as server:
        config = tmp_path / "jackfield.toml"
        config.write_text(
            f'[providers.s]\ntype = "openai-compatible"\nbase_url = "{server.url}/v1"\n'
            "retries = { attempts = 0 }\n",
            encoding="utf-8",
        )
        results = {}
        for args in (["chat", "-m", "s:m", "--json", "hi"], ["chat", "-m", "s:m", "hi"],
                     ["status", "s"], ["status", "--json", "s"],
                     ["chat", "-m", "s:m", "--json", "ok"], ["chat", "-m", "s:m", "ok"]):  # fmt: skip
            out, err = real_streams()
            code = cli(["--config", str(config), *args], out, err)
            results[" ".join(args)] = (code, written(out), written(err))
    for name, (_, out, err) in results.items():
        assert "UnicodeEncodeError" not in err, f"{name}: {err}"
        assert "unexpected" not in err, f"{name}: {err}"
        if "--json" in name:
            for line in out.splitlines():
                json.loads(line)
    code, out, err = results["chat -m s:m --json hi"]
    assert code == 1
    error = json.loads(out.splitlines()[-1])
    assert error["type"] == "error"
    assert "broken \udc80 and \ud83d here" in error["message"]
    assert "broken \\udc80 and \\ud83d here" in results["status s"][1]
    assert results["chat -m s:m ok"][0] == 0


def test_what_the_command_line_writes_keeps_text_and_escapes_controls() -> None:
    from jackfield._cli.terminal import safe

    assert safe(NICE) == NICE
    assert safe("a\r\nb") == "a\nb"
    assert safe("a\rb\x1b[2J") == "a\\u000db\\u001b[2J"
    assert safe("\ud800") == "\\ud800"
    assert json.loads(safe(json.dumps({"t": "\x9b\u2066"}, ensure_ascii=False))) == {
        "t": "\x9b\u2066"
    }


def test_unreadable_secrets_are_refused_without_showing_them(tmp_path: Path) -> None:
    path = tmp_path / "key"
    path.write_bytes(b"\xff\xfe" + new_key().encode())
    path.chmod(0o600)
    with pytest.raises(ConfigError, match="not UTF-8") as info:
        Secret.from_file(str(path)).reveal()
    assert "sk-" not in str(info.value)
