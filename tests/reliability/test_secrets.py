"""Secrets: random API keys are searched for in every string jackfield produces.

Reprs, str, log records at every level (jackfield's, httpx's, httpcore's), exceptions (and
their bodies), dry runs, explain tables and CLI output. Also: no key on a redirect, a warning
for keys over plain http, verified https by default, and careful secret files.
"""

from __future__ import annotations

import logging
import os
import stat
import warnings
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import jackfield
from jackfield import ConfigError, ProviderError, Secret, SecurityWarning
from tests.reliability.evidence import count
from tests.support.cli import cli_output
from tests.support.scripted_server import Reply, serving, sse

fault = pytest.mark.reliability

keys = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_", min_size=16
).map(lambda tail: f"sk-{tail}")
OK = sse({"choices": [{"index": 0, "delta": {"content": "hi"}, "finish_reason": "stop"}]})


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))
        self.lines.append(repr(record.args))


def echoing_server_script(request: Any) -> Reply:
    """A hostile server: it echoes the Authorization header back in a 401 error body."""
    if request.path.endswith("/models"):
        return Reply(headers={"content-type": "application/json"}, body=[b'{"data": []}'])
    echoed = request.headers.get("authorization", "") + request.headers.get("x-api-key", "")
    body = f'{{"error": {{"message": "invalid key {echoed}", "key": "{echoed}"}}}}'
    return Reply(status=401, headers={"content-type": "application/json"}, body=[body.encode()])


def produced_strings(url: str, options: dict[str, Any]) -> list[str]:
    """Everything a host, a provider and the CLI show while using the key in ``options``."""
    shown: list[str] = []
    capture = Capture()
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(capture)
    root.setLevel(logging.DEBUG)
    try:
        registry = jackfield.load_registry()
        provider = registry.create("openai-compatible", {"base_url": f"{url}/v1", **options})
        shown += [
            repr(provider),
            str(provider),
            repr(provider.options),
            str(provider.dry_run("hi")),
        ]
        shown.append(provider.explain())
        for call in (lambda: provider.complete("hi"), provider.list_models, provider.status):
            try:
                shown.append(repr(call()))
            except ProviderError as exc:
                shown += [str(exc), repr(exc), repr(exc.args), repr(exc.body)]
        provider.close()
    finally:
        root.removeHandler(capture)
        root.setLevel(old_level)
    return shown + capture.lines


@fault(
    "secrets",
    "random API keys (literal, env, x-api-key header) through reprs, logs at DEBUG, errors echoing the key, dry runs, explain, CLI",
    "the key appears in none of them",
)
@settings(max_examples=15, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=keys, how=st.sampled_from(["literal", "env", "x-api-key"]))
def test_a_key_never_shows(key: str, how: str, tmp_path: Path) -> None:
    count("fuzz examples: random API keys")
    options: dict[str, Any] = {"api_key": key, "retries": {"attempts": 0}}
    if how == "env":
        os.environ["SB_TEST_SECRET_KEY"] = key
        options["api_key"] = {"env": "SB_TEST_SECRET_KEY"}
    elif how == "x-api-key":
        options["api_key_header"] = "x-api-key"
    try:
        with serving(echoing_server_script) as server:
            shown = produced_strings(server.url, options)
            assert any(
                key in r.headers.get("authorization", "") + r.headers.get("x-api-key", "")
                for r in server.requests
            )  # the key was really sent
            config = tmp_path / "jackfield.toml"
            api_key = '{ env = "SB_TEST_SECRET_KEY" }' if how == "env" else f'"{key}"'
            config.write_text(
                f'[providers.s]\ntype = "openai-compatible"\nbase_url = "{server.url}/v1"\n'
                f"api_key = {api_key}\nretries = {{ attempts = 0 }}\n",
                encoding="utf-8",
            )
            for args in (["explain", "s:m"], ["chat", "-m", "s:m", "--dry-run", "hi"],
                         ["chat", "-m", "s:m", "hi"], ["status", "s"], ["models", "s"],
                         ["providers"]):  # fmt: skip
                shown.append(cli_output(config, *args))
    finally:
        os.environ.pop("SB_TEST_SECRET_KEY", None)
    leaks = [text for text in shown if key in text]
    assert not leaks, f"the key showed in: {leaks[0][:300]!r}"


@fault(
    "security",
    "an API key over plain http to another machine",
    "SecurityWarning; silenced by warn_insecure_key = false",
)
def test_a_key_over_plain_http_to_another_machine_warns() -> None:
    registry = jackfield.load_registry()
    with pytest.warns(SecurityWarning, match="plain http to http://10.0.0.2:8000/v1"):
        registry.create(
            "openai-compatible", {"base_url": "http://10.0.0.2:8000/v1", "api_key": "k"}
        )
    registry.create("openai-compatible", {"base_url": "http://127.0.0.1:8000/v1", "api_key": "k"})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        registry.create(
            "openai-compatible",
            {"base_url": "http://10.0.0.2:8000/v1", "api_key": "k", "warn_insecure_key": False},
        )


@fault(
    "security",
    "https with the default settings, and with a CA bundle",
    "certificates verified by default; verify = PATH uses that bundle",
)
def test_https_is_verified_by_default(tmp_path: Path) -> None:
    from jackfield.http import Clients

    default = Clients(https=True)._options()["verify"]
    assert default.verify_mode == 2  # ssl.CERT_REQUIRED
    assert default.check_hostname
    registry = jackfield.load_registry()
    assert registry.create("openai-compatible", {"base_url": "https://x.invalid/v1"}).options.verify
    missing = tmp_path / "no-such-bundle.pem"
    with pytest.raises(FileNotFoundError):  # the bundle is really read
        Clients(https=True, verify=str(missing))._options()


def secret_file(tmp_path: Path, mode: int, text: str = "sk-from-file\n") -> Path:
    path = tmp_path / "key"
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


@fault(
    "security",
    "a secret file readable by every user",
    "refused: SecurityWarning and ConfigError saying chmod",
)
def test_a_world_readable_secret_file_is_refused(tmp_path: Path) -> None:
    path = secret_file(tmp_path, 0o644)
    with pytest.warns(SecurityWarning), pytest.raises(ConfigError, match="chmod o-r"):
        Secret.from_file(str(path)).reveal()
    path.chmod(0o600)
    assert Secret.from_file(str(path)).reveal() == "sk-from-file"


@fault(
    "security",
    "a secret file that is a link out of its directory, a FIFO, a directory, huge",
    "refused with a ConfigError saying why; nothing hangs",
)
def test_secret_files_are_read_only_where_named(tmp_path: Path) -> None:
    outside = secret_file(tmp_path, 0o600)
    inside = tmp_path / "keys"
    inside.mkdir()
    (inside / "key").symlink_to(outside)
    with pytest.raises(ConfigError, match="outside"):
        Secret.from_file(str(inside / "key")).reveal()
    (inside / "data").mkdir()
    real = secret_file(inside / "data", 0o600, "sk-inside")
    (inside / "linked").symlink_to(real)  # a link within the directory (as Kubernetes does)
    assert Secret.from_file(str(inside / "linked")).reveal() == "sk-inside"
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo, 0o600)
    with pytest.raises(ConfigError, match="not a regular file"):
        Secret.from_file(str(fifo)).reveal()
    with pytest.raises(ConfigError, match="not a regular file"):
        Secret.from_file(str(inside)).reveal()
    huge = secret_file(tmp_path, 0o600, "x" * 100_000)
    with pytest.raises(ConfigError, match="larger than 64 KiB"):
        Secret.from_file(str(huge)).reveal()
    assert stat.S_IMODE(os.stat(real).st_mode) == 0o600


@fault("security", "a secret file named with ~", "~ expands to the home directory")
def test_a_secret_file_under_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    secret_file(tmp_path, 0o600)
    assert Secret.from_file("~/key").reveal() == "sk-from-file"
