"""The echo provider's options: an attrs class, validated by switchboard's converter."""

import attrs


@attrs.define
class EchoOptions:
    prefix: str = ""
    chunk_size: int = 4
    model: str = "echo-1"
    unreachable: bool = False  # behave like a backend that is down (for failure tests)
