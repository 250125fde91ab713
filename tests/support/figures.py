"""The figures resilience tests report (printed at the end of the run by conftest's summary hook)."""

from __future__ import annotations

import collections
import threading

# figure name -> count, summed over the run; printed at the end.
FIGURES: collections.Counter[str] = collections.Counter()
_FIGURES_LOCK = threading.Lock()


def count(name: str, n: int = 1) -> None:
    with _FIGURES_LOCK:
        FIGURES[name] += n
