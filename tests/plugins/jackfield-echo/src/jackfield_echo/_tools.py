"""The echo plugin's Python tool: imported only when a run first needs it."""

from __future__ import annotations

import jackfield


@jackfield.tool
def echo_reverse(text: str) -> str:
    """Reverse a text, character by character.

    Args:
        text: the text to reverse.
    """
    return text[::-1]
