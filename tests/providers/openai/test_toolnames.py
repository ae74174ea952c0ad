"""Tool names: valid on the wire, and always split back to (source, name)."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from jackfield import Tool
from jackfield_openai._toolnames import ToolNames

VALID = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


def test_plain_names_are_unchanged() -> None:
    names = ToolNames([Tool("get_weather"), Tool("search", source="web")])
    assert names.wire(None, "get_weather") == "get_weather"
    assert names.wire("web", "search") == "web__search"
    assert names.split("web__search") == ("web", "search")
    assert names.split("unknown_tool") == (None, "unknown_tool")


def test_odd_long_and_colliding_names() -> None:
    long_name = "x" * 80
    names = ToolNames(
        [Tool("read file", source="fs.local"), Tool(long_name), Tool("a__b"), Tool("b", source="a")]
    )
    wires = [
        names.wire("fs.local", "read file"),
        names.wire(None, long_name),
        names.wire(None, "a__b"),
        names.wire("a", "b"),
    ]
    assert wires[0] == "fs_local__read_file"
    assert len(wires[1]) == 64
    assert wires[2] == "a__b"
    assert wires[3] != "a__b"  # would collide with the tool literally named a__b
    assert len(set(wires)) == 4
    assert all(VALID.match(w) for w in wires)
    assert names.split(wires[3]) == ("a", "b")
    assert names.split(wires[2]) == (None, "a__b")


sources = st.none() | st.text(max_size=20)
tool_names = st.text(min_size=1, max_size=90)


@given(st.lists(st.tuples(sources, tool_names), max_size=12, unique=True))
def test_every_tool_round_trips_and_is_valid_on_the_wire(
    tools: list[tuple[str | None, str]],
) -> None:
    names = ToolNames([Tool(name, source=source) for source, name in tools])
    wires = [names.wire(source, name) for source, name in tools]
    assert len(set(wires)) == len(wires)
    for (source, name), wire in zip(tools, wires, strict=True):
        assert VALID.match(wire), wire
        assert names.split(wire) == (source, name)
        assert names.wire(source, name) == wire  # stable within the request
