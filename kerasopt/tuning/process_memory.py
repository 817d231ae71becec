"""`resident_memory_mb`: this process's resident memory, for the per-trial memory log."""

from __future__ import annotations

import os


def resident_memory_mb() -> float:
    """Resident set size of this process in MiB (current, not peak, where the OS says).

    Reads `/proc/self/statm` on Linux; elsewhere falls back to `resource`'s peak RSS.

    Example:

    >>> from kerasopt.tuning.process_memory import resident_memory_mb
    >>> resident_memory_mb() > 0
    True
    """
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        import resource
        import sys

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        # ru_maxrss is in KiB on Linux and in bytes on macOS.
        return peak / 2**20 if sys.platform == "darwin" else peak / 2**10
