"""What this process holds open: file descriptors, sockets, memory (Linux /proc)."""

from __future__ import annotations

import contextlib
import os


def open_fds() -> dict[str, str]:
    """Open file descriptors and what each points at (``socket:[...]``, a path ...)."""
    found = {}
    for name in os.listdir("/proc/self/fd"):
        # OSError: the descriptor listdir itself used, closed by now
        with contextlib.suppress(OSError):
            found[name] = os.readlink(f"/proc/self/fd/{name}")
    return found


def sockets() -> int:
    return sum(target.startswith("socket:") for target in open_fds().values())


def rss_mb() -> float:
    """Resident memory now, in MB."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS in /proc/self/status")  # pragma: no cover
