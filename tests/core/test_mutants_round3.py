"""Tests that kill the mutants ``nox -s mutate`` (dev/mutate.py) found surviving in the core rules
(issue 16, "Test strength"): each states a rule the suite had tested one step short of where a
small bug would show. The equivalent mutants (no test can tell them) are listed with the reason
in dev/mutation_equivalents.py.

- Options (``jackfield._options``): the depth limit is exact (100 levels of objects and arrays,
  however they mix, wherever they sit, in merge_patch and in layers) and names the path and
  layer; a ``None`` layer is an empty one; ``source`` walks through arrays by index; the
  explain table masks credential headers at any depth (and only those), keeps non-ASCII text
  and shows values that are not JSON; a plain mapping's issues name no layer; attribute
  docstrings are found after plain assignments and past classes with no source.
- Secrets (``jackfield._secret``): a secret's JSON form, repr, hash and coercion; secret files
  (exact messages, the size limit, a FIFO refused without waiting, the warning's place); the
  scrubber (every escape form of every character, exact escape digits, cut secrets, the longest
  secrets, bytes, keys and the depth limit, an error's chain); remembered secrets.
- The wire package (``jackfield._wire``): SSE sizes, limits and the fast path, the unterminated
  event, extra fields; NDJSON's lenient reading, line limits and snippets; error bodies (every
  shape, hint, status and header); think tags held back only as a possible tag; Limits.
"""

from __future__ import annotations

import datetime
import decimal
import itertools
import json
from pathlib import PurePosixPath
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from jackfield import ConfigError, OptionsError, Secret
from jackfield._options import MAX_DEPTH, Resolved, field_docs, merge_patch, resolve, structure
from jackfield._secret import MASK
from tests.core.strategies import json_objects

# --- the depth limit -----------------------------------------------------------------------------


def nested(levels: int, kinds: str, leaf: Any = 1) -> Any:
    """``levels`` containers one inside the other around ``leaf``: ``kinds`` is a pattern of
    ``d`` (an object ``{"k": ...}``) and ``l`` (an array ``[...]``), repeated from the outside."""
    value = leaf
    for level in reversed(range(levels)):
        value = {"k": value} if kinds[level % len(kinds)] == "d" else [value]
    return value


KINDS = ["d", "l", "dl", "ld", "ddddl"]


@pytest.mark.parametrize("kinds", KINDS)
def test_merge_patch_takes_exactly_the_deepest_allowed_patch(kinds: str) -> None:
    """``MAX_DEPTH`` containers are merged; one more is refused with a ConfigError that says so
    (objects and arrays count alike, and an array below objects keeps counting)."""
    deepest = nested(MAX_DEPTH, kinds)
    assert merge_patch({}, deepest) == deepest
    assert merge_patch(None, deepest) == deepest
    with pytest.raises(ConfigError, match=f"nested more than {MAX_DEPTH} levels deep"):
        merge_patch({}, nested(MAX_DEPTH + 1, kinds))
    with pytest.raises(ConfigError, match=f"nested more than {MAX_DEPTH} levels deep"):
        merge_patch(None, nested(MAX_DEPTH + 1, kinds))


@pytest.mark.parametrize("kinds", KINDS)
def test_merge_patch_takes_exactly_the_deepest_allowed_target(kinds: str) -> None:
    """The target is held to the same limit as the patch: it is copied into the result."""
    deepest = {"t": nested(MAX_DEPTH - 1, kinds)}
    assert merge_patch(deepest, {"p": 1}) == {**deepest, "p": 1}
    with pytest.raises(ConfigError, match=f"nested more than {MAX_DEPTH} levels deep"):
        merge_patch({"t": nested(MAX_DEPTH, kinds)}, {"p": 1})


@pytest.mark.parametrize("kinds", KINDS)
def test_a_layer_takes_exactly_the_deepest_allowed_value(kinds: str) -> None:
    """A layer (itself an object) may hold ``MAX_DEPTH - 1`` more levels, and the merged value
    stays usable for the next layer; one more level is an OptionsError naming the path where
    the limit was passed and the layer that passed it."""
    deepest = {"top": nested(MAX_DEPTH - 2, kinds)}  # the layer, "top", then 98 levels
    resolved = resolve(("call", {"x": deepest}))
    assert resolved.value == {"x": deepest}
    assert resolve(("call", {"x": deepest}), ("agent:a", {"y": 1})).value == {"x": deepest, "y": 1}
    assert resolved.with_layer("again", {}).value == {"x": deepest}

    with pytest.raises(OptionsError) as info:
        resolve(("instance:deep", {"y": 2}), ("call", {"x": {"top": nested(MAX_DEPTH - 1, kinds)}}))
    [issue] = info.value.issues
    assert issue.message == f"nested more than {MAX_DEPTH} levels deep"
    assert issue.layer == "call"
    assert info.value.target == "layer 'call'"
    # The path is where the walk through objects stopped: the object past the limit, or the
    # array whose copy went past it.
    objects = next((i for i in range(MAX_DEPTH - 1) if kinds[i % len(kinds)] == "l"), MAX_DEPTH - 2)
    assert issue.path == ("x", "top", *["k"] * objects)


def test_a_non_string_key_is_refused_naming_the_layer() -> None:
    with pytest.raises(OptionsError) as info:
        resolve(("agent:coder", {"extra_body": {1: "one"}}))
    [issue] = info.value.issues
    assert issue.path == ("extra_body",)
    assert issue.layer == "agent:coder"
    assert "option keys must be strings" in issue.message
    assert info.value.target == "layer 'agent:coder'"


# --- layers and provenance -----------------------------------------------------------------------


@given(json_objects)
def test_a_none_layer_is_an_empty_layer(value: dict[str, Any]) -> None:
    before = resolve(("instance:local", value))
    after = before.with_layer("call", None)
    assert after.value == before.value
    assert dict(after.provenance) == dict(before.provenance)
    assert after.layers == ("instance:local", "call")


@pytest.mark.parametrize("entry", [("call", {}, "extra"), ["call", {}], ("call",), (1, {})])
def test_a_layer_is_a_name_and_mapping_pair(entry: Any) -> None:
    with pytest.raises(ConfigError, match=r"a layer is a \(name, mapping\) pair"):
        resolve(entry)


def test_leaves_are_every_value_and_every_empty_object_with_its_path() -> None:
    resolved = resolve(
        ("preset:p", {"a": 1, "b": {"c": [1, {"d": 2}], "e": {}}}), ("call", {"b": {"f": None}})
    )
    assert list(resolved.leaves()) == [(("a",), 1), (("b", "c"), [1, {"d": 2}]), (("b", "e"), {})]
    assert list(Resolved().leaves()) == []


def test_source_walks_into_arrays_by_index() -> None:
    resolved = resolve(
        ("preset:p", {"stop": ["a", "b"]}),
        ("call", {"messages": [{"role": "user"}, {"role": "tool"}]}),
    )
    assert resolved.source(["stop", 0]) == "preset:p"
    assert resolved.source(["stop", 1]) == "preset:p"
    assert resolved.source(["messages", 0, "role"]) == "call"
    assert resolved.source(["messages", 1, "role"]) == "call"
    # Paths that are not in the value have no source (and never raise).
    assert resolved.source(["stop", 2]) is None
    assert resolved.source(["stop", -1]) is None
    assert resolved.source(["stop", "a"]) is None
    assert resolved.source(["messages", 0, "name"]) is None
    assert resolved.source(["stop", 0, "x"]) is None


# --- the explain table ---------------------------------------------------------------------------


def shown(resolved: Resolved, effective: dict[str, Any] | None = None) -> dict[str, str]:
    """``{path: value}`` of the explain table's rows."""
    rows = {}
    for line in resolved.explain(effective).splitlines():
        path, _, rest = line.partition(" = ")
        rows[path.strip()] = rest.rpartition("  <- ")[0].strip()
    return rows


@pytest.mark.parametrize("prefix", [(), ("extra",), ("a", "b")])
@pytest.mark.parametrize("header", ["Authorization", "x-api-key", "Cookie", "X-Session-Id"])
def test_explain_masks_credential_headers_at_any_depth(
    prefix: tuple[str, ...], header: str
) -> None:
    headers = {header: "hunter2-value", "Accept": "text/plain"}
    value: dict[str, Any] = {"headers": headers}
    for key in reversed(prefix):
        value = {key: value}
    rows = shown(resolve(("instance:x", value)))
    where = ".".join((*prefix, "headers"))
    assert rows[f"{where}.{header}"] == f'"{MASK}"'
    assert rows[f"{where}.Accept"] == '"text/plain"'
    assert "hunter2" not in resolve(("instance:x", value)).explain()


def test_explain_masks_only_headers_by_name() -> None:
    """Options that are not headers show their value even when named like a credential header
    (``max_tokens``, ``cache_key``); a URL's password is masked wherever it is."""
    rows = shown(
        resolve(
            (
                "call",
                {
                    "max_tokens": 64,
                    "extra_body": {"cache_key": "abc", "session": "s1", "headers": "plain"},
                    "base_url": "http://user:pw@127.0.0.1/v1",
                },
            )
        )
    )
    assert rows["max_tokens"] == "64"
    assert rows["extra_body.cache_key"] == '"abc"'
    assert rows["extra_body.session"] == '"s1"'
    assert rows["extra_body.headers"] == '"plain"'
    assert rows["base_url"] == f'"http://user:{MASK}@127.0.0.1/v1"'


def test_explain_keeps_non_ascii_text() -> None:
    rows = shown(resolve(("call", {"system": "Réponds en français 🙂"})))
    assert rows["system"] == '"Réponds en français 🙂"'


def test_explain_shows_values_that_are_not_json() -> None:
    """A secret shows its reference (or the mask), any other object its ``str``, and a value
    JSON cannot encode at all its ``repr``."""
    cyclic: list[Any] = []
    cyclic.append(cyclic)
    effective = {
        "api_key": Secret.from_env("MY_KEY"),
        "literal": Secret("sk-literal-value"),
        "when": datetime.date(2025, 1, 2),
        "amount": decimal.Decimal("1.5"),
        "where": PurePosixPath("/srv/models"),
        "loop": cyclic,
    }
    rows = shown(resolve(("call", {})), effective)
    assert rows["api_key"] == '{"env": "MY_KEY"}'
    assert rows["literal"] == f'"{MASK}"'
    assert rows["when"] == '"2025-01-02"'
    assert rows["amount"] == '"1.5"'
    assert rows["where"] == '"/srv/models"'
    assert rows["loop"] == "[[...]]"


# --- structuring ---------------------------------------------------------------------------------


@attrs.frozen
class Sub:
    need: int


@attrs.frozen
class Box:
    sub: Sub
    n: int = 0


@attrs.frozen
class Opts:
    box: Box
    temperature: float = 0.5


def test_a_missing_option_names_the_layer_of_the_deepest_object_present() -> None:
    """An issue whose path is not in the merged value (a required option missing) names the
    layer that set the deepest object on that path that is there."""
    resolved = resolve(("preset:p", {"box": {"n": 1}}), ("agent:a", {"box": {"sub": {}}}))
    with pytest.raises(OptionsError) as info:
        structure(Opts, resolved)
    [issue] = info.value.issues
    assert issue.path == ("box", "sub", "need")
    assert issue.layer == "agent:a"


def test_a_plain_mappings_issues_name_no_layer() -> None:
    with pytest.raises(OptionsError) as info:
        structure(Opts, {"box": {"sub": {"need": "many"}}, "temperature": "hot"})
    assert {issue.path for issue in info.value.issues} == {("box", "sub", "need"), ("temperature",)}
    assert all(issue.layer is None for issue in info.value.issues)
    assert "set by layer" not in str(info.value)
    assert "$.temperature: expected a number" in str(info.value)


def test_a_validator_naming_its_field_puts_the_issue_on_that_field() -> None:
    from jackfield.provider import Limits

    with pytest.raises(OptionsError) as info:
        structure(Limits, {"choices": 0})
    [issue] = info.value.issues
    assert issue.path == ("choices",)
    assert issue.message == "must be a positive number, got 0"


@attrs.frozen
class Refusing:
    low: int = 0
    high: int = 1

    def __attrs_post_init__(self) -> None:
        if self.low > self.high:
            raise ValueError("the range is upside down")


def test_a_class_that_refuses_its_values_is_named_in_the_issue() -> None:
    with pytest.raises(OptionsError) as info:
        structure(Refusing, {"low": 2})
    [issue] = info.value.issues
    assert issue.path == ()
    assert issue.message == "expected Refusing: the range is upside down"


class Odd:
    """A type with a structure hook of its own (as a provider may register) that refuses values
    in its own words."""


def refuse_odd(value: Any, kind: Any) -> Any:
    raise ValueError("not odd enough")


def test_a_hooks_own_refusal_names_the_type_expected() -> None:
    from jackfield._converter import converter

    converter.register_structure_hook(Odd, refuse_odd)
    with pytest.raises(OptionsError) as info:
        structure(Odd, {"a": 1})
    [issue] = info.value.issues
    assert issue.message == "expected Odd: not odd enough"


def test_a_plain_mappings_bad_key_is_refused_naming_no_layer() -> None:
    with pytest.raises(OptionsError) as info:
        structure(Opts, {"box": {2: 1}})
    [issue] = info.value.issues
    assert issue.path == ("box",)
    assert "option keys must be strings" in issue.message
    # One unnamed layer, as for every other issue of a plain mapping (it said "options").
    assert issue.layer is None
    assert "set by layer" not in str(info.value)
    assert info.value.target == "Opts"


def test_options_that_are_no_mapping_are_refused_as_such() -> None:
    with pytest.raises(ConfigError) as info:
        structure(Opts, ["temperature", 1])  # type: ignore[arg-type]
    assert str(info.value) == "layer 'options': options must be a mapping, got list"


# --- attribute docstrings ------------------------------------------------------------------------


Generated = attrs.make_class("Generated", {"made": attrs.field(default=0)})


@attrs.define
class Documented(Generated):  # type: ignore[misc, valid-type]
    """A class with a base made at run time (no source) and every kind of field statement."""

    "A string statement that follows the docstring documents nothing."

    plain = attrs.field(default=1)
    """Set by a plain assignment."""

    annotated: int = attrs.field(default=2)
    """Set by an annotated assignment."""

    def method(self) -> int:
        return 3

    "A string statement after a method documents nothing."


def test_field_docs_reads_every_kind_of_field_past_a_base_without_source() -> None:
    assert field_docs(Documented) == {
        "plain": "Set by a plain assignment.",
        "annotated": "Set by an annotated assignment.",
    }


# --- secrets -------------------------------------------------------------------------------------
#
# ``jackfield._secret``: a secret's JSON form and repr, secret files (exact messages: they say
# what, where and what to do), and the scrubber: every escape form of every character, secrets
# cut short, the longest secrets, bytes, deep values, and the chain of an error.


def test_a_secrets_json_form_is_its_reference_or_the_mask() -> None:
    assert Secret.from_env("MY_KEY").unstructure() == {"env": "MY_KEY"}
    assert Secret.from_file("/run/key").unstructure() == {"file": "/run/key"}
    assert Secret("sk-literal").unstructure() == MASK
    for secret in (Secret.from_env("MY_KEY"), Secret.from_file("/run/key")):
        assert Secret.coerce(secret.unstructure()) == secret


def test_a_secrets_repr_is_its_reference_or_the_mask() -> None:
    assert repr(Secret.from_env("MY_KEY")) == "Secret('env:MY_KEY')"
    assert str(Secret.from_file("/run/key")) == "Secret('file:/run/key')"
    assert repr(Secret("sk-literal")) == f"Secret('{MASK}')"


def test_secrets_hash_by_what_they_are() -> None:
    """Equal secrets hash alike (usable as keys), and different ones spread over hash values
    rather than all colliding."""
    assert hash(Secret("a-key")) == hash(Secret("a-key"))
    assert len({hash(Secret(f"key-{i}")) for i in range(50)}) > 1
    assert len({hash(Secret.from_env(f"VAR_{i}")) for i in range(50)}) > 1


def test_a_secret_refuses_to_be_pickled_saying_so() -> None:
    import pickle

    with pytest.raises(TypeError) as info:
        pickle.dumps(Secret("sk-literal"))
    assert str(info.value) == "Secret objects cannot be pickled"


def secret_file(tmp_path: Any, data: bytes, mode: int = 0o600) -> str:
    path = tmp_path / "key"
    path.write_bytes(data)
    path.chmod(mode)
    return str(path)


def test_secret_file_messages_say_what_where_and_what_to_do(tmp_path: Any) -> None:
    import os

    from jackfield._errors import SecurityWarning

    missing = str(tmp_path / "missing")
    with pytest.raises(ConfigError) as info:
        Secret.from_file(missing).reveal()
    assert str(info.value) == f"cannot read the secret file {missing!r}: No such file or directory"

    with pytest.raises(ConfigError) as info:
        Secret.from_file(str(tmp_path)).reveal()
    assert str(info.value) == (
        f"refusing to read the secret file {str(tmp_path)!r}: it is not a regular file"
    )

    path = secret_file(tmp_path, b"\xff\xfe not text")
    with pytest.raises(ConfigError) as info:
        Secret.from_file(path).reveal()
    assert str(info.value) == f"refusing to read the secret file {path!r}: it is not UTF-8 text"

    readable = secret_file(tmp_path, b"sk-readable", mode=0o644)
    with pytest.warns(SecurityWarning) as warned, pytest.raises(ConfigError):
        Secret.from_file(readable).reveal()
    hint = f"every user of this machine can read it (mode 644); run: chmod o-r {readable}"
    assert [str(w.message) for w in warned] == [f"secret file {readable!r}: {hint}"]
    # Shown at the code that asked for the secret (stacklevel), not at the line that warns.
    where = warned[0]
    with open(where.filename, encoding="utf-8") as source:
        line = source.read().splitlines()[where.lineno - 1]
    assert "warnings.warn(" not in line, (where.filename, where.lineno, line)
    del os


def test_a_fifo_given_as_a_secret_file_is_refused_without_waiting(tmp_path: Any) -> None:
    """Opening a FIFO waits for a writer unless it is opened non-blocking: the read must be
    refused at once, not hang. Bounded: 5 s for what takes microseconds; a hung open is
    released (a writer opens the FIFO) so the test ends either way."""
    import os
    import threading

    fifo = str(tmp_path / "key")
    os.mkfifo(fifo, 0o600)
    refused: list[str] = []

    def read() -> None:
        try:
            Secret.from_file(fifo).reveal()
        except ConfigError as exc:
            refused.append(str(exc))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(5)
    if reader.is_alive():
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        reader.join(5)
        pytest.fail("opening a FIFO secret file waited for a writer")
    assert refused == [f"refusing to read the secret file {fifo!r}: it is not a regular file"]


def test_a_secret_file_may_be_exactly_the_largest_size(tmp_path: Any) -> None:
    from jackfield._secret import _MAX_FILE

    largest = "k" * _MAX_FILE
    assert Secret.from_file(secret_file(tmp_path, largest.encode())).reveal() == largest
    path = secret_file(tmp_path, largest.encode() + b"k")
    with pytest.raises(ConfigError) as info:
        Secret.from_file(path).reveal()
    assert str(info.value) == (
        f"refusing to read the secret file {path!r}: it is larger than 64 KiB "
        "(is it the right file?)"
    )


# How a body or a message may write one character (the forms the scrubber knows).
def json_u(c: str) -> str:
    return f"\\u{ord(c):04x}" if ord(c) < 0x10000 else c


def python_x(c: str) -> str:
    return f"\\x{ord(c):02x}" if ord(c) < 0x100 else c


def percent(c: str) -> str:
    return "".join(f"%{b:02X}" for b in c.encode("utf-8", "surrogatepass"))


def html_decimal(c: str) -> str:
    return f"&#{ord(c)};"


def html_hex(c: str) -> str:
    return f"&#x{ord(c):x};"  # no leading zeros: "&#x9;" for a tab


def html_named(c: str) -> str:
    import html

    return html.escape(c)


FORMS = [json_u, python_x, percent, html_decimal, html_hex, html_named]
secret_texts = st.text(
    st.characters(exclude_categories=["Cs"], exclude_characters="*"), min_size=8, max_size=40
)


@given(secret=secret_texts, form=st.sampled_from(FORMS), before=st.text(max_size=10))
def test_every_character_of_a_secret_is_found_in_every_escape_form(
    secret: str, form: Any, before: str
) -> None:
    from jackfield._secret import Scrubber

    written = "".join(form(c) for c in secret)
    scrubbed = Scrubber([secret]).text(f"{before}<{written}>")
    # The secret is masked from its first character. (The rest of the escape of its last
    # character may be left after the mask: "%25" for a final "%" leaves "25".)
    assert f"<{MASK}" in scrubbed, scrubbed
    assert written not in scrubbed


def test_escape_forms_take_exactly_their_digits() -> None:
    """``\\u`` takes 4 hex digits and ``\\x`` 2: ``\\u10000`` is U+1000 then ``0`` and
    ``\\x100`` is U+0010 then ``0``, neither the character U+10000 or U+0100 of a secret."""
    from jackfield._secret import Scrubber

    for char, text in (("\U00010000", "\\u10000"), ("\u0100", "\\x100")):
        secret = f"ab{char}cdefgh"
        assert Scrubber([secret]).text(f"ab{text}cdefgh") == f"ab{text}cdefgh"
        assert Scrubber([secret]).text(secret) == MASK


def test_a_secret_with_a_lone_surrogate_is_found() -> None:
    """A secret read from the environment keeps undecodable bytes as lone surrogates."""
    from jackfield._secret import Scrubber

    secret = "sk-\udcff-value"
    assert Scrubber([secret]).text(f"key {secret}.") == f"key {MASK}."
    assert Scrubber([secret]).text("key sk-%ED%B3%BF-value.") == f"key {MASK}."


@pytest.mark.parametrize("size", [8, 9, 10, 20, 63, 64, 65, 100])
def test_a_secret_cut_short_after_four_characters_is_found_at_any_cut(size: int) -> None:
    """Cut after 4 to 64 characters (a longer cut shows at most the few past the 64th)."""
    from jackfield._secret import Scrubber

    secret = "".join("abcdefghijklmnopqrstuvwxyz0123456789"[i % 36] for i in range(size))
    for cut in range(4, min(size, 65)):
        shown = Scrubber([secret]).text(f'"{secret[:cut]}..." (truncated)')
        assert shown == f'"{MASK}..." (truncated)', (cut, shown)
        assert Scrubber([secret]).text(f"ends with {secret[:cut]}") == f"ends with {MASK}"


@pytest.mark.parametrize("size", [1, 4, 7])
def test_a_short_secret_is_found_only_whole(size: int) -> None:
    """Below 8 characters a cut secret is too little to tell from ordinary text."""
    from jackfield._secret import Scrubber

    secret = "abcdefg"[:size]
    assert Scrubber([secret]).text(f"x {secret} y") == f"x {MASK} y"
    if size > 4:
        assert Scrubber([secret]).text(f"{secret[:4]}...") == f"{secret[:4]}..."


@pytest.mark.parametrize("size", [255, 256, 257, 300])
def test_the_longest_secrets_are_found_escaped_up_to_256_characters(size: int) -> None:
    from jackfield._secret import Scrubber

    secret = ("sk-" + "0123456789abcdef" * 20)[:size]
    assert Scrubber([secret]).text(f"[{secret}]") == f"[{MASK}]"
    escaped = "".join(json_u(c) for c in secret)
    expected = f"[{MASK}]" if size <= 256 else f"[{escaped}]"
    assert Scrubber([secret]).text(f"[{escaped}]") == expected


def test_bytes_are_scrubbed_as_utf8_text() -> None:
    from jackfield._secret import Scrubber

    scrubber = Scrubber(["sk-secret-value"])
    clean = b"nothing to hide"
    assert scrubber.value(clean) is clean
    assert scrubber.value(b"key sk-secret-value") == f"key {MASK}".encode()
    assert scrubber.value(bytearray(b"key sk-secret-value!")) == f"key {MASK}!".encode()
    assert scrubber.value(b"\xff key sk-secret-value") == f"\ufffd key {MASK}".encode()


def test_values_are_scrubbed_exactly_100_levels_deep() -> None:
    from jackfield._secret import Scrubber

    scrubber = Scrubber(["sk-secret-value"])
    deepest = nested(100, "dl", leaf="sk-secret-value")
    assert scrubber.value(deepest) == nested(100, "dl", leaf=MASK)
    too_deep = nested(101, "dl", leaf="sk-secret-value")
    assert scrubber.value(too_deep) == nested(100, "dl", leaf=MASK)


def test_keys_are_scrubbed_and_counted_in_the_depth_too() -> None:
    """Keys are scrubbed like values (a tuple key is a value too) and count for the depth limit
    where they sit: a key is one level below its mapping."""
    from jackfield._secret import Scrubber

    key = "sk-secret-value"
    scrubber = Scrubber([key])
    assert scrubber.value({("k", key): [key], key: 1}) == {("k", MASK): [MASK], MASK: 1}

    def tuples(levels: int, leaf: Any) -> Any:
        value = leaf
        for _ in range(levels):
            value = (value,)
        return value

    # The key's 99 tuples sit at depths 1 to 99: all kept; a 100th is past the limit.
    assert scrubber.value({tuples(99, key): 0}) == {tuples(99, MASK): 0}
    assert scrubber.value({tuples(100, key): 0}) == {tuples(99, MASK): 0}


def test_a_secret_is_exactly_one_of_a_value_a_variable_or_a_file() -> None:
    for kwargs in ({}, {"value": "a", "env": "B"}, {"env": "B", "file": "/c"}):
        with pytest.raises(ConfigError) as info:
            Secret(**kwargs)
        assert str(info.value) == "a secret needs exactly one of a value, env or file"
    assert Secret("").reveal() == ""


def test_secrets_are_coerced_from_text_or_a_reference() -> None:
    literal = Secret("sk-x")
    assert Secret.coerce(literal) is literal
    assert Secret.coerce("sk-y") == Secret("sk-y")
    assert Secret.coerce({"env": "MY_KEY"}) == Secret.from_env("MY_KEY")
    assert Secret.coerce({"file": "/run/key"}) == Secret.from_file("/run/key")
    bad = [5, None, {}, {"env": ""}, {"env": 1}, {"path": "/k"}, {"env": "A", "file": "/b"}]
    for raw in bad:
        with pytest.raises(ConfigError) as info:
            Secret.coerce(raw)
        assert str(info.value) == (
            'expected a string or a reference {"env": "VARIABLE"} / {"file": "PATH"}'
        )


def test_a_variable_secret_is_read_stripped_and_must_be_set(monkeypatch: Any) -> None:
    name = "JACKFIELD_TEST_ROUND3_KEY"
    monkeypatch.setenv(name, "  sk-from-env\r\n")
    assert Secret.from_env(name).reveal() == "sk-from-env"
    for unset in ("", "  \n"):
        monkeypatch.setenv(name, unset)
        with pytest.raises(ConfigError) as info:
            Secret.from_env(name).reveal()
        assert str(info.value) == f"environment variable {name} is not set (needed for an API key)"
    monkeypatch.delenv(name)
    with pytest.raises(ConfigError):
        Secret.from_env(name).reveal()


def test_header_names_holding_credentials() -> None:
    from jackfield._secret import SECRET_HEADER_PARTS, is_secret_header

    for part in SECRET_HEADER_PARTS:
        assert is_secret_header(f"X-{part.upper()}-Thing")
        assert is_secret_header(part)
    for plain in ("Accept", "Content-Type", "X-Trace", "User-Agent", ""):
        assert not is_secret_header(plain)


def test_url_passwords_and_tokens_are_masked() -> None:
    from jackfield._secret import mask_url

    assert mask_url("no url here") == "no url here"
    assert mask_url("mail me@example.org") == "mail me@example.org"
    assert mask_url("http://user:pw@127.0.0.1:8/v1") == f"http://user:{MASK}@127.0.0.1:8/v1"
    assert mask_url("http://user:pa:ss@h/") == f"http://user:{MASK}@h/"  # all after the first ":"
    assert mask_url("see https://tok@h/x and ftp://a:b@c") == (
        f"see https://{MASK}@h/x and ftp://a:{MASK}@c"
    )


def test_a_scrubber_reads_its_secrets_once_on_first_use_longest_first() -> None:
    from jackfield._secret import Scrubber

    calls: list[int] = []

    def source() -> list[str | None]:
        calls.append(1)
        return ["sk-abcdefgh", "sk-abcdefgh-longer", None, ""]

    scrubber = Scrubber(source)
    assert calls == []
    assert scrubber.text("a sk-abcdefgh-longer b") == f"a {MASK} b"
    assert scrubber.text("sk-abcdefgh") == MASK
    assert calls == [1]
    assert bool(scrubber)
    empty = Scrubber([None, ""])
    assert not empty
    text = "nothing sk-abcdefgh"
    assert empty.text(text) is text


def test_remembered_secrets_are_the_64_most_recent_of_4_characters_or_more(
    monkeypatch: Any,
) -> None:
    import jackfield._secret
    from jackfield._secret import known_secrets, remember

    monkeypatch.setattr(jackfield._secret, "_KNOWN", {})  # this process's own, kept apart
    monkeypatch.setattr(jackfield._secret, "_known", ())

    remember(None, "", "abc", "wxyz")
    assert known_secrets().text("x abc y") == "x abc y"  # 3 characters guard nothing
    assert known_secrets().text("x wxyz y") == f"x {MASK} y"  # 4 are enough
    secrets = [f"{i:03d}-round3-remembered" for i in range(70)]  # no two share a head
    remember(*secrets[:1])
    remember(*secrets[1:])
    remember(secrets[-1])  # already known: no second entry
    scrubber = known_secrets()
    assert [scrubber.text(s) == MASK for s in secrets] == [False] * 6 + [True] * 64
    assert scrubber.text("x wxyz y") == "x wxyz y"  # the oldest went first


class Failure(Exception):
    def __init__(self, message: str, body: Any = None, partial: Any = None) -> None:
        super().__init__(message)
        self.body = body
        self.partial = partial
        self.status = 401


def test_an_errors_chain_is_scrubbed_but_not_its_partial_answer() -> None:
    from jackfield._secret import Scrubber

    key = "sk-secret-value"
    scrubber = Scrubber([key])
    cause = Failure(f"cause {key}", body={"echo": key})
    error = Failure(f"outer {key}", body=f"body {key}".encode(), partial=f"the model said {key}")
    error.__cause__ = cause
    context = ValueError(f"context {key}")
    cause.__context__ = context
    assert scrubber.error(error) is error
    assert error.args == (f"outer {MASK}",)
    assert error.body == f"body {MASK}".encode()
    assert error.partial == f"the model said {key}"  # the model's own answer, kept
    assert error.status == 401
    assert cause.args == (f"cause {MASK}",)
    assert cause.body == {"echo": MASK}
    assert context.args == (f"context {MASK}",)

    # A suppressed context (raise ... from None) is dropped, not scrubbed and kept.
    hidden = ValueError(f"hidden {key}")
    shown = Failure(f"shown {key}")
    shown.__context__ = hidden
    shown.__suppress_context__ = True
    scrubber.error(shown)
    assert shown.__context__ is None
    assert shown.args == (f"shown {MASK}",)


def test_an_errors_chain_is_walked_eight_deep_and_cycles_end() -> None:
    from jackfield._secret import NO_SCRUB, Scrubber

    key = "sk-secret-value"
    chain = [Failure(f"level {i} {key}") for i in range(10)]
    for outer, inner in itertools.pairwise(chain):
        outer.__cause__ = inner
    Scrubber([key]).error(chain[0])
    assert [e.args[0] for e in chain] == [f"level {i} {MASK}" for i in range(8)] + [
        f"level {i} {key}" for i in range(8, 10)
    ]

    one, two = Failure(f"one {key}"), Failure(f"two {key}")
    one.__cause__, two.__cause__ = two, one
    Scrubber([key]).error(one)
    assert (one.args, two.args) == ((f"one {MASK}",), (f"two {MASK}",))

    untouched = Failure(f"none {key}")
    assert NO_SCRUB.error(untouched) is untouched
    assert untouched.args == (f"none {key}",)
    assert Scrubber([None, ""]).error(untouched).args == (f"none {key}",)


def test_a_scrubbers_repr_shows_nothing_of_its_secrets() -> None:
    from jackfield._secret import Scrubber

    assert repr(Scrubber(["sk-secret-value"])) == "<Scrubber>"


def feed_all(decoder: Any, chunks: list[bytes]) -> None:
    for chunk in chunks:
        decoder.feed(chunk)


# --- the wire package ----------------------------------------------------------------------------
#
# ``jackfield._wire``: SSE data-size accounting, extra fields and the unterminated event; the
# fast path after a split character; NDJSON's lenient reading and its snippets; error bodies.


def test_bare_data_lines_count_one_character_each() -> None:
    from jackfield import StreamLimitError
    from jackfield.provider import SSEDecoder

    decoder = SSEDecoder(max_event_size=3)
    [event] = decoder.feed(b"data\ndata\ndata\n\n")
    assert event.data == "\n\n"
    with pytest.raises(StreamLimitError) as info:
        SSEDecoder(max_event_size=3).feed(b"data\ndata\ndata\ndata\n\n")
    assert str(info.value) == (
        "an event's data is larger than 3 characters; "
        "raise max_event_size if this server really sends that"
    )
    # Sizes start again with each event.
    assert len(decoder.feed(b"data\ndata\ndata\n\n" * 3)) == 3


def test_extra_fields_and_the_unterminated_event_carry_the_retry_in_effect() -> None:
    from jackfield.provider import ServerSentEvent, SSEDecoder

    decoder = SSEDecoder(extra_fields=("error",))
    assert decoder.feed(b"retry: 5\nid: 7\nerror: boom\n\n") == [
        ServerSentEvent("boom", "error", "7", 5)
    ]
    assert decoder.feed(b"event: partial\ndata: one\ndata: two") == []
    assert decoder.close() == []
    assert decoder.unterminated == ServerSentEvent("one\ntwo", "partial", "7", 5)

    one_line = SSEDecoder()
    one_line.feed(b"data: only")
    one_line.close()
    assert one_line.unterminated == ServerSentEvent("only", "message", "", None)


def test_the_fast_path_is_back_once_a_split_character_is_whole() -> None:
    from jackfield.provider import SSEDecoder

    decoder = SSEDecoder()
    assert decoder.feed(b"data: caf\xc3") == []
    assert [e.data for e in decoder.feed(b"\xa9\n\n")] == ["café"]
    assert decoder.single_data(b"data: next\n\n") == b"next"
    # A character still arriving (its first byte fed) leaves the fast path off: the chunk after
    # it is not a whole event of its own.
    waiting = SSEDecoder()
    assert [e.data for e in waiting.feed(b"data: a\n\n\xc3")] == ["a"]
    assert waiting.single_data(b"data: x\n\n") is None
    assert waiting.feed(b"data: x\n\n") == []


def test_lenient_loads_keeps_what_it_can() -> None:
    from jackfield.provider import NDJSONDecoder

    lenient = NDJSONDecoder.lenient_loads
    assert lenient(b'{"a": "\xff"}') == {"a": "\ufffd"}
    assert lenient(bytearray(b'["\xfe"]')) == ["\ufffd"]
    assert lenient('"\\ud800"') == "\ufffd"
    assert lenient("NaN") is None
    assert lenient("1e999") is None
    assert lenient("1.5") == 1.5
    assert lenient('"plain"') == "plain"
    with pytest.raises(ValueError, match="nested") as info:
        lenient("[" * 100_000 + "]" * 100_000)
    assert str(info.value) == "JSON nested too deeply to read"


@pytest.mark.parametrize("size", [119, 120, 121, 200])
def test_a_bad_lines_snippet_is_at_most_120_characters(size: int) -> None:
    from jackfield import MalformedStreamError, TruncatedStreamError
    from jackfield.provider import NDJSONDecoder

    line = ("x" * size).encode()
    shown = line.decode() if size <= 120 else "x" * 117 + "..."
    with pytest.raises(MalformedStreamError) as info:
        NDJSONDecoder().feed(line + b"\n")
    assert str(info.value) == f"line 1 of the stream is not valid JSON: {shown!r}"
    decoder = NDJSONDecoder()
    decoder.feed(b"{}\n" + line)
    with pytest.raises(TruncatedStreamError) as truncated:
        decoder.close()
    assert str(truncated.value) == f"the stream ended inside line 2: {shown!r}"


def test_a_bad_lines_snippet_shows_invalid_utf8_as_replacement_characters() -> None:
    from jackfield import MalformedStreamError
    from jackfield.provider import NDJSONDecoder

    with pytest.raises(MalformedStreamError) as info:
        NDJSONDecoder().feed(b"\xff{oops\n")
    assert str(info.value) == "line 1 of the stream is not valid JSON: '\ufffd{oops'"


def error_400(body: Any, status: int = 400) -> Any:
    from jackfield.provider import error_for_response

    return error_for_response(
        status, {}, json.dumps(body).encode(), label="srv", url="http://127.0.0.1:1/v1"
    )


def test_fastapi_validation_details_read_as_path_and_message() -> None:
    detail = [
        {"loc": ["body", "messages", 0, "content"], "msg": "field required", "type": "missing"},
        {"msg": "no location"},
        {"loc": ["body"], "msg": "body itself"},
        {"loc": ["query", "n"], "type": "int_parsing"},
        "a plain string",
        3,
    ]
    error = error_400({"detail": detail})
    assert str(error) == (
        "srv: messages.0.content: field required; no location; body itself; "
        "query.n: {'loc': ['query', 'n'], 'type': 'int_parsing'}; a plain string; 3 (HTTP 400)"
    )


@pytest.mark.parametrize(
    ("kind", "cls"),
    [("invalid_request_error", "BadRequestError"), ("NotFoundError", "NotFoundError"),
     ("Validation_Error", "BadRequestError"), (None, "ServerError")],
)  # fmt: skip
def test_a_server_error_naming_a_client_error_kind_is_that_error(
    kind: str | None, cls: str
) -> None:
    error = error_400({"error": {"message": "it went wrong", "type": kind}}, status=503)
    assert type(error).__name__ == cls


def test_context_sizes_are_integers_from_the_body_or_the_message() -> None:
    from jackfield import ContextLengthError

    error = error_400(
        {
            "error": {
                "message": "context length exceeded",
                "type": "exceed_context_size_error",
                "n_prompt_tokens": 9000,
                "n_ctx": 4096,
            }
        }
    )
    assert isinstance(error, ContextLengthError)
    assert (error.prompt_tokens, error.context_length) == (9000, 4096)
    # Not integers (a string, a bool): read from the message instead, or unknown.
    error = error_400(
        {
            "error": {
                "message": "the prompt is 12 tokens, more than n_ctx: 8",
                "type": "exceed_context_size_error",
                "n_prompt_tokens": "12",
                "n_ctx": True,
            }
        }
    )
    assert (error.prompt_tokens, error.context_length) == (12, 8)
    error = error_400(
        {
            "error": {
                "message": "too long",
                "type": "exceed_context_size_error",
                "n_prompt_tokens": "many",
                "n_ctx": False,
            }
        }
    )
    assert (error.prompt_tokens, error.context_length) == (None, None)


def test_an_error_inside_a_stream_keeps_its_object_as_the_body() -> None:
    from jackfield.provider import error_from_payload

    payload = {"message": "model crashed", "type": "server_error", "code": 500}
    error = error_from_payload(payload, "srv")
    assert error.body == payload
    assert str(error) == "srv: model crashed"


def test_an_unterminated_line_split_over_chunks_is_kept_whole() -> None:
    from jackfield.provider import SSEDecoder

    decoder = SSEDecoder()
    for piece in (b"data: a", b"b", b"c"):
        assert decoder.feed(piece) == []
    decoder.close()
    assert decoder.unterminated is not None
    assert decoder.unterminated.data == "abc"


def test_ndjson_line_sizes_are_exact_and_errors_say_what_to_do() -> None:
    from jackfield import MalformedStreamError, StreamLimitError
    from jackfield.provider import NDJSONDecoder

    decoder = NDJSONDecoder(max_line_size=5)
    assert decoder.feed(b"[1") == []
    assert decoder.feed(b",2]") == []  # 5 bytes so far: not over
    assert decoder.feed(b"\n[333]\n") == [[1, 2], [333]]
    for chunks in ([b"[1,22]"], [b"[1", b",22]"], [b"[1,22]\n"]):
        decoder = NDJSONDecoder(max_line_size=5)
        with pytest.raises(StreamLimitError) as info:
            feed_all(decoder, chunks)
        assert str(info.value) == (
            "a stream line is longer than 5 bytes; "
            "raise max_line_size if this server really sends that"
        )
    decoder = NDJSONDecoder()
    decoder.close()
    with pytest.raises(MalformedStreamError) as closed:
        decoder.feed(b"{}\n")
    assert str(closed.value) == "NDJSONDecoder.feed() called after close()"


def test_reasoning_streams_out_as_it_comes_holding_only_a_possible_tag() -> None:
    from jackfield.provider import ThinkSplitter

    splitter = ThinkSplitter("open")
    assert splitter.feed("thinking") == [(True, "thinking")]
    assert splitter.feed(" more</th") == [(True, " more")]
    assert splitter.feed("ink> answer") == [(False, "answer")]


def error_for(status: int, body: bytes | str, headers: Any = None, secret: Any = None) -> Any:
    from jackfield.provider import error_for_response

    data = body.encode() if isinstance(body, str) else body
    return error_for_response(
        status, headers or {}, data, label="srv", url="http://127.0.0.1:1/v1", secret=secret
    )


def test_error_objects_without_a_message_show_what_they_have() -> None:
    assert error_for(400, '{"error": {"msg": "bad thing"}}').message == "srv: bad thing"
    assert error_for(400, '{"error": {"message": "M", "detail": "D"}}').message == "srv: M"
    odd = {"error": {"code": "é" * 600}}
    assert (
        error_for(400, json.dumps(odd)).message
        == "srv: " + json.dumps(odd["error"], ensure_ascii=False)[:500]
    )
    assert (
        error_for(400, json.dumps(["é", 1] * 200)).message
        == "srv: " + json.dumps(["é", 1] * 200, ensure_ascii=False)[:500]
    )


def test_text_and_html_error_bodies_read_as_their_text() -> None:
    page = "<html><body><h1>Bad&nbsp;Gateway</h1><p>nginx</p></body></html>"
    assert error_for(502, page).message == "srv: Bad Gateway nginx"
    assert error_for(502, b"\xff upstream gone").message == "srv: \ufffd upstream gone"
    assert error_for(502, "y" * 400).message == "srv: " + "y" * 300
    assert (
        error_for(503, b"").message
        == "srv: HTTP 503 from http://127.0.0.1:1/v1 with no explanation"
    )
    assert error_for(500, b"").message == (
        "srv: HTTP 500: the server failed on this request without saying why (its log says "
        "more); the same request would fail again, so it was not retried"
    )


def test_hints_are_added_only_where_they_help() -> None:
    def message(status: int, text: str) -> str:
        return error_for(status, json.dumps({"error": {"message": text}})).message

    hint_404 = " (list the server's models with list_models())"
    assert message(404, "model 'x' not found") == "srv: model 'x' not found" + hint_404
    assert message(503, "model overloaded") == "srv: model overloaded"
    assert message(404, "no route") == "srv: no route"
    assert message(400, "Model is Required") == "srv: Model is Required (set the model option)"
    assert message(400, "model is bad") == "srv: model is bad"
    assert message(400, "temperature is required") == "srv: temperature is required"
    assert message(422, "model is required") == "srv: model is required"
    assert message(401, "model required") == "srv: model required (check the api_key option)"


@pytest.mark.parametrize("status", [300, 301, 308, 399])
def test_a_redirect_says_where_to_and_what_to_set(status: int) -> None:
    to = "http://127.0.0.1:2/v2"
    assert error_for(status, b"", {"location": to}).message == (
        f"srv: HTTP {status}: http://127.0.0.1:1/v1 redirects to {to}; redirects are not "
        "followed (credentials stay with the server you named), so set base_url to where the "
        "API now lives"
    )
    assert error_for(status, b"").message == (
        f"srv: HTTP {status}: http://127.0.0.1:1/v1 redirects; redirects are not followed "
        "(credentials stay with the server you named), so set base_url to where the API now "
        "lives"
    )


def test_the_request_id_is_kept_from_either_header() -> None:
    assert error_for(500, b"x", {"x-request-id": "r-1"}).request_id == "r-1"
    assert error_for(500, b"x", {"request-id": "r-2"}).request_id == "r-2"
    assert error_for(500, b"x").request_id is None


def test_the_error_code_types_the_error() -> None:
    from jackfield import AuthenticationError, ContextLengthError

    body = {"error": {"message": "no", "code": "invalid_api_key"}}
    assert isinstance(error_for(400, json.dumps(body)), AuthenticationError)
    body = {"error": {"message": "too big", "code": "context_length_exceeded"}}
    assert isinstance(error_for(400, json.dumps(body)), ContextLengthError)


def test_a_key_given_as_text_is_masked_in_the_error() -> None:
    key = "sk-secret-value-1234"
    error = error_for(401, f'{{"error": {{"message": "bad key {key}"}}}}', secret=key)
    assert key not in str(error)
    assert MASK in str(error)
    # A character JSON escapes as a surrogate pair is only whole once the body is parsed.
    emoji_key = "sk-\U0001f600-secret-value"
    escaped = json.dumps({"error": {"message": f"bad key {emoji_key}"}})  # ensure_ascii
    assert "\\ud83d\\ude00" in escaped
    error = error_for(401, escaped, secret=emoji_key)
    assert emoji_key not in str(error)
    assert emoji_key not in json.dumps(error.body, ensure_ascii=False)
    assert MASK in error.body["error"]["message"]


def test_event_data_sizes_are_exact_from_the_first_event_on() -> None:
    """An event's size is its data lines' lengths plus one per line (the joining newlines and
    the final one); at most ``max_event_size``."""
    from jackfield import StreamLimitError
    from jackfield.provider import SSEDecoder

    decoder = SSEDecoder(max_event_size=3)
    assert [e.data for e in decoder.feed(b"data: ab\n\ndata: cd\n\ndata: a\ndata:\n\n")] == [
        "ab", "cd", "a\n"
    ]  # fmt: skip
    for body in (b"data: abc\n\n", b"data: a\ndata: b\n\n", b"data: ab\ndata\n\n"):
        with pytest.raises(StreamLimitError):
            SSEDecoder(max_event_size=3).feed(body)


def test_lines_too_long_say_how_long() -> None:
    from jackfield import StreamLimitError
    from jackfield.provider import SSEDecoder

    for chunks, size in (([b"data: 0123456789"], 16), ([b"data: 0123", b"456789\n\n"], 16)):
        decoder = SSEDecoder(max_line_size=10)
        with pytest.raises(StreamLimitError) as info:
            feed_all(decoder, chunks)
        assert str(info.value) == (
            f"an event-stream line is longer than 10 characters (got at least {size}); "
            "raise max_line_size if this server really sends that"
        )


def test_feeding_after_close_is_refused_and_leaves_the_fast_path_off() -> None:
    from jackfield import MalformedStreamError, StreamLimitError
    from jackfield.provider import SSEDecoder

    decoder = SSEDecoder()
    decoder.feed(b"data: a\n\n")
    decoder.close()
    with pytest.raises(MalformedStreamError) as info:
        decoder.feed(b"data: b\n\n")
    assert str(info.value) == "SSEDecoder.feed() called after close()"
    assert decoder.single_data(b"data: b\n\n") is None

    broken = SSEDecoder(max_event_size=3)
    with pytest.raises(StreamLimitError):
        broken.feed(b"data: abcd\n")
    assert broken.single_data(b"data: b\n\n") is None


def test_the_fast_path_takes_exactly_what_feed_would_take() -> None:
    from jackfield.provider import SSEDecoder

    def idle(**limits: int) -> SSEDecoder:
        decoder = SSEDecoder(**limits)
        decoder.feed(b":\n\n")
        return decoder

    assert idle().single_data(b"data: a\rb\n\n") is None  # CR ends a line too
    assert [e.data for e in idle().feed(b"data: a\rb\n\n")] == ["a"]
    # The largest event and line feed() takes are taken here too; one more is left to feed().
    assert idle(max_event_size=3).single_data(b"data: ab\n\n") == b"ab"
    assert idle(max_event_size=3).single_data(b"data: abc\n\n") is None
    assert idle(max_line_size=8).single_data(b"data: ab\n\n") == b"ab"
    assert idle(max_line_size=8).single_data(b"data: abc\n\n") is None


def test_extra_fields_dispatch_one_event_each_time() -> None:
    from jackfield.provider import SSEDecoder

    decoder = SSEDecoder(extra_fields=("error",))
    events = decoder.feed(b"error: a\n\nerror: b\n\ndata: c\n\n")
    assert [(e.event, e.data) for e in events] == [("error", "a"), ("error", "b"), ("message", "c")]


def test_comments_are_never_fields() -> None:
    from jackfield.provider import SSEDecoder

    decoder = SSEDecoder(extra_fields=("",))
    assert [e.data for e in decoder.feed(b": a comment\ndata: x\n\n")] == ["x"]


def test_errors_inside_a_stream_are_typed_by_their_code_and_message() -> None:
    from jackfield import (
        BadRequestError,
        ContextLengthError,
        NotFoundError,
        ServerError,
        ServiceTimeoutError,
    )
    from jackfield.provider import error_from_payload

    overflow = {"message": "the context length is exceeded", "code": "too_long"}
    assert isinstance(error_from_payload(overflow, "srv"), ContextLengthError)
    assert isinstance(error_from_payload({**overflow, "code": 400}, "srv"), ContextLengthError)
    assert isinstance(error_from_payload({**overflow, "code": 500}, "srv"), ServerError)
    assert isinstance(error_from_payload({"message": "x", "code": 404}, "srv"), NotFoundError)
    assert isinstance(error_from_payload({"message": "x", "code": "404"}, "srv"), ServerError)
    assert type(error_from_payload({"message": "x", "code": 400}, "srv")) is BadRequestError
    timeout = error_from_payload({"message": "took too long", "code": 408}, "srv")
    assert isinstance(timeout, ServiceTimeoutError)
    assert timeout.phase == "server"
    assert timeout.message == "srv: took too long"


@pytest.mark.parametrize("status", [400, 413, 422])
def test_a_context_overflow_is_read_from_client_error_statuses(status: int) -> None:
    from jackfield import ContextLengthError

    body = json.dumps({"error": {"message": "maximum context length is 10 tokens"}})
    error = error_for(status, body)
    assert isinstance(error, ContextLengthError)
    assert error.context_length == 10
    assert error.status == status
    assert not isinstance(error_for(414, body), ContextLengthError)
    assert not isinstance(error_for(423, body), ContextLengthError)


def test_a_server_timeout_status_is_a_service_timeout() -> None:
    from jackfield import ServiceTimeoutError

    error = error_for(408, b"request timeout", {"x-request-id": "r-9"})
    assert type(error) is ServiceTimeoutError
    assert (error.phase, error.status, error.request_id) == ("server", 408, "r-9")
    assert error.message == "srv: request timeout"
    assert not isinstance(error_for(409, b"conflict"), ServiceTimeoutError)


def test_flushing_twice_gives_nothing_more() -> None:
    from jackfield.provider import ThinkSplitter

    splitter = ThinkSplitter("auto")
    assert splitter.feed("  <thi") == []
    assert splitter.flush() == [(False, "  <thi")]
    assert splitter.flush() == []


def test_limits_are_positive_numbers() -> None:
    from jackfield.provider import Limits

    assert Limits(choices=1, tool_calls=1).choices == 1
    for bad in (0, -1):
        with pytest.raises(ValueError, match="positive") as info:
            Limits(event_bytes=bad)
        assert str(info.value) == f"event_bytes must be a positive number, got {bad}"
