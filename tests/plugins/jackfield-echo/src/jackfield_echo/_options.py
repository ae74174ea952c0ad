"""The echo provider's options: an attrs class, validated by jackfield's converter."""

import attrs


@attrs.frozen
class EchoOptions:
    """How the echo provider answers."""

    prefix: str = ""
    """Text put before the echoed message."""
    chunk_size: int = 4
    """Characters per streamed text fragment."""
    model: str = "echo-1"
    """The model name reported in the completion."""
    unreachable: bool = False
    """Behave like a backend that is down (for failure tests)."""
