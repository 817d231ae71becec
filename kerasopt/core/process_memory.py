"""This process's memory: the current resident set (per trial) and its peak (per run)."""

from __future__ import annotations

import os
import resource
import sys


def resident_memory_mb() -> float:
    """Resident set size of this process in MiB (current, not peak, where the OS says).

    Reads `/proc/self/statm` on Linux; elsewhere falls back to `peak_resident_memory_mb`.

    Example:

    >>> from kerasopt.core.process_memory import resident_memory_mb
    >>> resident_memory_mb() > 0
    True
    """
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return peak_resident_memory_mb()


def peak_resident_memory_mb() -> float:
    """The largest resident set size this process has had so far, in MiB.

    Example:

    >>> from kerasopt.core.process_memory import peak_resident_memory_mb
    >>> peak_resident_memory_mb() >= resident_memory_mb() * 0.99
    True
    """
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # ru_maxrss is in KiB on Linux and in bytes on macOS.
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10
