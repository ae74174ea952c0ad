"""``jackfield status`` on an instance with ``endpoints``: a row per endpoint, each probed at
its own address."""

from __future__ import annotations

from typing import Any

from tests.cli.conftest import jackfield
from tests.support.scripted_server import Reply, serving

MODELS = Reply(
    headers={"content-type": "application/json"},
    body=[b'{"object": "list", "data": [{"id": "tiny", "object": "model"}]}'],
)


def test_each_endpoint_of_a_pool_is_a_row(write_config: Any) -> None:
    with serving([MODELS]) as up:
        config = write_config(
            f"""
[providers.farm]
type = "openai-compatible"
endpoints = ["{up.url}/v1", "http://127.0.0.1:9/v1"]
"""
        )
        result = jackfield("status", "farm", config=config)
    lines = result.out.splitlines()
    assert lines[0].startswith("farm[0]        ok ")
    assert f"               {up.url}/v1" in lines
    assert any(line.startswith("farm[1]        down ") for line in lines)
    assert "http://127.0.0.1:9/v1/models: connection refused" in result.out
    assert result.code == 1  # an endpoint of a configured instance is down
