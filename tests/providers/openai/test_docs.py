"""The provider page's preset table is the code's preset table."""

from __future__ import annotations

import re
from pathlib import Path

from jackfield_openai._presets import PRESETS

PAGE = Path(__file__).resolve().parents[3] / "docs" / "providers" / "openai-compatible.md"


def test_the_preset_table_matches_the_presets() -> None:
    rows = re.findall(r"^\| `([a-z-]+)` \| ([^|]+) \| `([^`]+)` \|", PAGE.read_text(), re.MULTILINE)
    assert [(name, server.strip(), url) for name, server, url in rows] == [
        (p.name, p.server, p.base_url) for p in PRESETS.values()
    ]
